//! One function per workflow (validate, plan, apply, destroy, ...): load, lock, compute, persist.
//! The CLI calls these and only renders their results. Workflows that talk to the cloud are
//! `async fn`s and run on the caller's runtime (the CLI builds the only one).
pub mod apply;
mod error;
pub mod fmt;
pub mod graph;
pub mod import;
mod open;
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

/// Reports the hashing of large artifacts to `observer`, and asks it whether to stop, in every
/// load of the rest of the process that names no observer of its own (set once, by the CLI).
pub fn set_hash_observer(observer: std::sync::Arc<dyn HashObserver>) {
    crate::spec::digest_cache::set_process_observer(observer);
}

/// Runs blocking work (state file reads and writes with their fsyncs, waiting for the state
/// lock) on tokio's blocking pool, so the async workers never stall on it. A panic inside `f`
/// resumes in the caller.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only when the runtime shuts down under the workflow, which then never resumes.
        Err(e) => panic!("blocking state task did not finish: {e}"),
    }
}

/// Runs blocking work that nothing else waits on meanwhile (opening a stack: its lock, its
/// first read) on the calling thread, out of the runtime's context, instead of on a thread of
/// the blocking pool: on the thread that runs the CLI's `block_on`, starting that thread costs
/// more than the work (fresh memory for its allocator, on a 1,000-resource plan). On a worker
/// thread, tokio hands the worker's other tasks to a new thread first; a single-threaded
/// runtime (tests) cannot block in place, so there it is [`blocking`].
pub(crate) async fn blocking_here<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        tokio::task::block_in_place(f)
    } else {
        blocking(f).await
    }
}

/// Takes the state lock of `store` for `operation`, waiting up to `timeout` (`--lock-timeout`),
/// on this thread ([`blocking_here`]): nothing else runs while a workflow waits for its lock.
pub(crate) async fn lock_store(
    store: &std::sync::Arc<dyn crate::state::StateStore>,
    operation: &str,
    timeout: std::time::Duration,
) -> Result<crate::state::LockGuard, crate::state::StateError> {
    let (store, operation) = (store.clone(), operation.to_string());
    blocking_here(move || store.lock(&operation, timeout)).await
}

/// Writes `state` through `store` (atomic, with its fsyncs) on the blocking pool.
pub(crate) async fn write_store(
    store: &std::sync::Arc<dyn crate::state::StateStore>,
    state: &crate::state::State,
) -> Result<(), crate::state::StateError> {
    let (store, state) = (store.clone(), state.clone());
    blocking(move || store.write(&state)).await
}

/// Reads the recorded state of `store` on the blocking pool.
pub(crate) async fn read_store(
    store: &std::sync::Arc<dyn crate::state::StateStore>,
) -> Result<Option<crate::state::State>, crate::state::StateError> {
    let store = store.clone();
    blocking(move || store.read()).await
}

/// Loads the spec of the stack in `dir` for `env` with `--var` overrides and the
/// `PEDESTAL_VAR_*` environment.
pub fn load_config(
    dir: &Path,
    env: &str,
    vars: &BTreeMap<String, String>,
) -> Result<Config, OpsError> {
    let started = std::time::Instant::now();
    let opts = LoadOptions::with_inputs(env, vars);
    let config = crate::spec::load(dir, &opts)?;
    // Secrets in the plans and state of this stack are digested under its key.
    crate::resource::secret_key::use_stack(&config.stack);
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
