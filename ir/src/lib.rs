//! ir (placeholder)
