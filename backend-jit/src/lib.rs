//! backend-jit (placeholder)
