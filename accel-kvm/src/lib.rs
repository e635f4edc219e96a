//! accel-kvm (placeholder)
