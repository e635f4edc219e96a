//! accel-tcg (placeholder)
