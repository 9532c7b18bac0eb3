//! Integration tests for state, the planner, saved plans, the renderers and the plan-side CLI.

mod cli;
mod cost;
mod file;
mod fixture;
mod ops;
mod planner;
mod prematch;
mod properties;
mod recorded;
mod render;
mod render_edges;
mod replacements;
mod state;
mod world;
