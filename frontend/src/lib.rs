//! frontend (placeholder)
