//! The one integration-test binary: each module exercises one workflow through the public API or
//! the built `pedestal` binary.

mod common;
mod spec;
mod plan;
mod apply;
