//! backend-interp (placeholder)
