//! The one integration-test binary: each module exercises one workflow through the public API or
//! the built `pedestal` binary.

mod apply;
mod common;
mod fmt;
mod plan;
mod request_metrics;
mod spec;
mod state_s3;
