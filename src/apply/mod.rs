//! The applier: walks a plan's graph, calls the provider for each change, persists state after
//! every resource. It never reads the spec.
