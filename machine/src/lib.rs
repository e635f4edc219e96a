//! machine (placeholder)
