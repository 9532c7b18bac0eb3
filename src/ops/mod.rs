//! One function per workflow (validate, plan, apply, destroy, ...): load, lock, compute, persist.
//! The CLI calls these and only renders their results.
pub mod fmt;
pub mod refresh;
