//! The dependency graph over provider resources (petgraph): build, cycle detection, deterministic
//! order, and the concurrent walk the applier uses.
