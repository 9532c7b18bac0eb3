//! One function per workflow (validate, plan, apply, destroy, ...): load, lock, compute, persist.
//! The CLI calls these and only renders their results.
pub mod apply;
mod error;
pub mod fmt;
pub mod graph;
pub mod plan;
pub mod refresh;
pub mod state;
pub mod validate;

use std::collections::BTreeMap;
use std::path::Path;

pub use error::OpsError;

use crate::spec::Config;

/// Loads the spec of the stack in `dir` for `env` with `--var` overrides.
pub fn load_config(
    dir: &Path,
    env: &str,
    vars: &BTreeMap<String, String>,
) -> Result<Config, OpsError> {
    let env_vars = std::env::vars()
        .filter_map(|(k, v)| {
            k.strip_prefix("PEDESTAL_VAR_")
                .filter(|n| !n.is_empty())
                .map(|n| (n.to_string(), v))
        })
        .collect();
    let opts = crate::spec::LoadOptions {
        env: env.to_string(),
        vars: vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        env_vars,
    };
    crate::spec::load(dir, &opts).map_err(|d| OpsError::Spec(d.render(false, 100)))
}
pub mod import;
