//! One function per workflow (validate, plan, apply, destroy, ...): load, lock, compute, persist.
//! The CLI calls these and only renders their results. Workflows that talk to the cloud are
//! `async fn`s and run on the caller's runtime (the CLI builds the only one).
pub mod apply;
mod error;
pub mod fmt;
pub mod graph;
pub mod import;
pub mod plan;
pub mod refresh;
pub mod releases;
pub mod state;
pub mod status;
pub mod validate;

use std::collections::BTreeMap;
use std::path::Path;

pub use error::OpsError;

use crate::provider::aws::{AwsOptions, AwsProvider};
use crate::spec::digest_cache::HashObserver;
use crate::spec::{Config, LoadOptions, ProviderConfig};

/// Told while large artifacts are hashed; set once per process (by the CLI, on a terminal).
static HASH_OBSERVER: std::sync::OnceLock<std::sync::Arc<dyn HashObserver>> =
    std::sync::OnceLock::new();

/// Reports the hashing of large artifacts to `observer` for the rest of the process.
pub fn set_hash_observer(observer: std::sync::Arc<dyn HashObserver>) {
    let _ = HASH_OBSERVER.set(observer);
}

/// Loads the spec of the stack in `dir` for `env` with `--var` overrides and the
/// `PEDESTAL_VAR_*` environment.
pub fn load_config(
    dir: &Path,
    env: &str,
    vars: &BTreeMap<String, String>,
) -> Result<Config, OpsError> {
    let started = std::time::Instant::now();
    let mut opts = LoadOptions::with_inputs(env, vars);
    opts.hash_observer = HASH_OBSERVER.get().cloned();
    let config = crate::spec::load(dir, &opts)?;
    tracing::info!(
        "loaded the spec of stack `{}` env `{env}`: {} resources, {} outputs in {:.0?}",
        config.stack,
        config.resources.len(),
        config.outputs.len(),
        started.elapsed()
    );
    Ok(config)
}

/// The provider settings to connect with: `[provider.aws]`, in the stack's region when the
/// provider block names none.
pub fn provider_settings(provider: &ProviderConfig, stack_region: &str) -> ProviderConfig {
    let mut settings = provider.clone();
    if settings.region.is_empty() {
        settings.region = stack_region.to_string();
    }
    settings
}

/// Connects the AWS provider; relative artifact sources are read from `root`.
pub async fn connect(provider: &ProviderConfig, root: &Path) -> AwsProvider {
    AwsProvider::connect(
        provider,
        AwsOptions {
            root: root.to_path_buf(),
            ..AwsOptions::default()
        },
    )
    .await
}
