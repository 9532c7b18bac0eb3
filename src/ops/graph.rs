//! `graph`: load the stack and render its resource dependency graph.
//!
//! 1. load and validate the spec (see `ops::validate`);
//! 2. build the graph over the lowered resources;
//! 3. render it as Graphviz DOT or a Mermaid flowchart (edges point from a resource to what it
//!    depends on).

use std::path::Path;

use crate::graph;
use crate::spec::{self, Diagnostics, LoadOptions};

/// Output format of `pedestal graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GraphFormat {
    #[default]
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
}

/// Loads the stack in `dir` and renders its dependency graph (sensitive variables need no
/// value, as for `validate`).
pub fn graph(dir: &Path, opts: &LoadOptions, format: GraphFormat) -> Result<String, Diagnostics> {
    let config = spec::load(dir, &super::validate::without_secrets(opts))?;
    Ok(match format {
        GraphFormat::Dot => graph::to_dot(&config),
        GraphFormat::Mermaid => graph::to_mermaid(&config),
    })
}
