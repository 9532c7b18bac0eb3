//! pedestal: infrastructure as code for machine-learning model releases.
//!
//! Data flow, one module per noun:
//! 1. [`spec`] reads `pedestal.toml`, environment files and modules, and resolves them into a
//!    validated [`spec::Config`] of provider [`resource::Resource`]s;
//! 2. [`graph`] builds the dependency DAG over those resources;
//! 3. [`plan`] diffs the config against recorded [`state`] into a serialisable [`plan::Plan`];
//! 4. [`render`] shows a plan to a person, a machine or a pull request, reading only the plan;
//! 5. [`apply`] walks the plan's graph and calls the [`provider`], persisting state as it goes.
//!
//! [`ops`] holds one function per workflow; the `pedestal` binary's `cli` module is a thin layer
//! over it.
#![forbid(unsafe_code)]

pub mod addr;
pub mod apply;
pub mod cost;
pub mod graph;
pub mod ops;
mod par;
pub mod plan;
pub mod provider;
pub mod render;
pub mod resource;
pub mod spec;
pub mod state;
