//! linux-user (placeholder)
