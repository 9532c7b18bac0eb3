//! `validate`: load the stack for one environment — parse, type-check, resolve references,
//! lower every block and check the dependency graph — and report every error found.
//!
//! 1. read `pedestal.toml`, the environment file and module files;
//! 2. resolve variables (default < env file < `PEDESTAL_VAR_*` < `--var`); a sensitive
//!    variable with no value is a placeholder, not an error;
//! 3. resolve references and lower blocks into resources;
//! 4. check the resource graph for cycles.

use std::path::Path;

use crate::spec::{self, Config, Diagnostics, LoadOptions};

/// What a successful validation found.
#[derive(Debug)]
pub struct ValidateReport {
    /// The loaded spec.
    pub config: Config,
    /// Number of provider resources the spec lowers to.
    pub resources: usize,
    /// Number of user blocks (distinct `kind.name` prefixes, modules included).
    pub blocks: usize,
}

/// Validates the stack in `dir`. A sensitive variable needs no value here: without one it is a
/// placeholder known only when planned (checks on pull requests run without secrets).
pub fn validate(dir: &Path, opts: &LoadOptions) -> Result<ValidateReport, Diagnostics> {
    let config = spec::load(dir, &without_secrets(opts))?;
    let blocks: std::collections::BTreeSet<&str> =
        config.resources.keys().map(|a| a.block()).collect();
    Ok(ValidateReport {
        resources: config.resources.len(),
        blocks: blocks.len(),
        config,
    })
}

/// `opts` for a load that never needs a secret (`validate`, `graph`).
pub fn without_secrets(opts: &LoadOptions) -> LoadOptions {
    LoadOptions {
        sensitive_placeholders: true,
        ..opts.clone()
    }
}
