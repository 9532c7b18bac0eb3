//! `pedestal apply` and `pedestal destroy` orchestration.
//!
//! [`prepare`] (under the state lock, which the returned [`Prepared`] holds):
//! 1. load the spec; open and lock the state store;
//! 2. with a plan file: read it, load the spec with the variable values it recorded (sensitive
//!    ones from the usual sources, checked against their recorded digests), and refuse it when
//!    a secret, the state or the spec moved on ([`crate::plan::file::check_secrets`],
//!    [`crate::plan::file::verify`]); without: plan now ([`super::plan::plan_read`]).
//!
//! The caller shows the plan and asks for approval, then [`run`]:
//! 3. connect the provider the plan names (region, endpoint; path-style S3 with an endpoint);
//! 4. install the Ctrl-C handler: the first interrupt starts nothing new and lets in-flight
//!    calls finish (a release wait stops at once: ECS carries on), a second one abandons them;
//! 5. run [`crate::apply::apply`], appending to the state journal after every resource and
//!    writing the full state at the end;
//! 6. hand back the [`ApplyReport`]; dropping [`Prepared`] releases the lock.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::OpsError;
use super::open::open_locked;
use super::plan::{PlanRequest, plan_read};
use crate::apply::observer::Interrupt;
use crate::apply::{self, ApplyObserver, ApplyOptions, ApplyReport, Persist, StorePersist};
use crate::plan::Plan;
use crate::provider::Provider;
use crate::provider::aws::AwsProvider;
use crate::spec::{Config, LoadOptions};
use crate::state::{Existing, JournalEntry, State, StateError, write_private};
use crate::state::{LockGuard, StateStore};

/// What the caller chooses.
#[derive(Clone, Debug)]
pub struct ExecuteOptions {
    /// Resource operations in flight at once (`--parallelism`).
    pub parallelism: usize,
    /// Interval of the `Still creating...` lines.
    pub still_interval: Duration,
    /// The stack directory (artifact sources are relative to it).
    pub root: PathBuf,
    /// Install a Ctrl-C handler (the CLI does; tests do not).
    pub handle_interrupts: bool,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            parallelism: 10,
            still_interval: Duration::from_secs(10),
            root: PathBuf::from("."),
            handle_interrupts: true,
        }
    }
}

/// The AWS provider for the region and endpoint recorded in the plan.
pub async fn provider_for(plan: &Plan, root: &Path) -> AwsProvider {
    super::connect(&plan.provider, root).await
}

/// Ctrl-C handling: the first receiver turns `true` on the first interrupt (start nothing
/// new), the second on the next one (abandon what is in flight). Either way the apply returns,
/// state is persisted and the caller releases the lock. Each interrupt is reported to
/// `observer` (the CLI tells the user on stderr).
pub fn interrupt_channel(
    observer: Arc<dyn ApplyObserver>,
) -> (watch::Receiver<bool>, watch::Receiver<bool>) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (abandon_tx, abandon_rx) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            observer.interrupted(Interrupt::Stop);
            let _ = stop_tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                observer.interrupted(Interrupt::Abandon);
                let _ = abandon_tx.send(true);
            }
        }
    });
    (stop_rx, abandon_rx)
}

/// Applies an approved plan.
pub async fn execute(
    plan: &Plan,
    state: State,
    provider: Arc<dyn Provider>,
    persist: Arc<dyn Persist>,
    observer: Arc<dyn ApplyObserver>,
    opts: &ExecuteOptions,
) -> ApplyReport {
    let (cancel, abandon) = if opts.handle_interrupts {
        let (c, a) = interrupt_channel(observer.clone());
        (Some(c), Some(a))
    } else {
        (None, None)
    };
    apply::apply(
        plan,
        state,
        provider,
        persist,
        observer,
        ApplyOptions {
            parallelism: opts.parallelism.max(1),
            still_interval: opts.still_interval,
            cancel,
            abandon,
        },
    )
    .await
}

/// A plan ready to apply, with the state lock held.
pub struct Prepared {
    /// The plan to apply.
    pub plan: Plan,
    /// The spec it was made from.
    pub config: Config,
    /// Recorded state the plan will be applied to (`None`: nothing recorded yet; a fresh state
    /// is written only once the apply starts).
    pub state: Option<State>,
    /// The state store, locked.
    pub store: Arc<dyn StateStore>,
    /// The state lock, released when dropped (or taken out and dropped early, e.g. when the
    /// user cancels at the confirmation prompt).
    pub lock: Arc<std::sync::Mutex<Option<LockGuard>>>,
}

impl Prepared {
    /// Releases the state lock now (idempotent).
    pub fn release(&self) {
        // Taken out first: the lock file is removed with the mutex released.
        let held = self.lock.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(held);
    }
}

impl Drop for Prepared {
    /// The lock goes with the plan, whoever else still holds the shared slot.
    fn drop(&mut self) {
        self.release();
    }
}

/// Where the plan comes from.
#[derive(Clone, Debug)]
pub enum PlanSource {
    /// `apply PLANFILE`: a saved plan (`--var` may give the sensitive values; the others come
    /// from the file).
    File {
        /// The plan file.
        path: PathBuf,
        /// `--var` values for the plan's sensitive variables.
        vars: std::collections::BTreeMap<String, String>,
        /// `--lock-timeout`.
        lock_timeout: Duration,
    },
    /// Plan now.
    Now(PlanRequest),
}

/// Steps 1–2: lock, then read and verify a saved plan or make a new one.
pub async fn prepare(
    dir: &Path,
    source: &PlanSource,
    operation: &str,
) -> Result<Prepared, OpsError> {
    match source {
        PlanSource::File {
            path,
            vars,
            lock_timeout,
        } => {
            let saved = crate::plan::file::read_saved(path)?;
            let opts = LoadOptions {
                pinned: saved.pinned(),
                // Files that recorded their variables name a missing secret themselves.
                sensitive_placeholders: !saved.variables.is_empty(),
                ..LoadOptions::with_inputs(&saved.plan.env, vars)
            };
            let load = || {
                let config = crate::spec::load(dir, &opts)?;
                crate::resource::secret_key::use_stack(&config.stack);
                crate::plan::file::check_secrets(&saved, &config)?;
                Ok(config)
            };
            let env = saved.plan.env.clone();
            let opened = open_locked(dir, &env, operation, *lock_timeout, load).await?;
            let (config, store, lock, recorded) =
                (opened.config, opened.store, opened.lock, opened.prior);
            let mut plan = saved.plan;
            crate::plan::file::verify(&plan, &config, recorded.as_ref())?;
            crate::plan::file::restore_secrets(&mut plan, &config);
            let state = recorded;
            Ok(Prepared {
                plan,
                config,
                state,
                store,
                lock: Arc::new(std::sync::Mutex::new(Some(lock))),
            })
        }
        PlanSource::Now(req) => {
            let load = || super::load_config(dir, &req.env, &req.vars);
            let opened = open_locked(dir, &req.env, operation, req.lock_timeout, load).await?;
            let outcome = plan_read(opened.config, opened.prior, req, None).await?;
            let state = outcome.prior;
            Ok(Prepared {
                plan: outcome.plan,
                config: outcome.config,
                state,
                store: opened.store,
                lock: Arc::new(std::sync::Mutex::new(Some(opened.lock))),
            })
        }
    }
}

/// The recorded state, or a fresh one written first so the journal extends a snapshot of the
/// same lineage.
async fn initial_state(
    store: &Arc<dyn StateStore>,
    recorded: Option<State>,
    config: &Config,
) -> Result<State, OpsError> {
    if let Some(s) = recorded {
        return Ok(s);
    }
    let fresh = State::new(&config.stack, &config.env);
    let store = store.clone();
    let written = super::blocking(move || {
        store.write(&fresh)?;
        Ok::<_, StateError>(store.read()?.unwrap_or(fresh))
    })
    .await?;
    Ok(written)
}

/// Steps 3–6: apply the prepared plan, journaling state through its store.
pub async fn run(
    prepared: &Prepared,
    observer: Arc<dyn ApplyObserver>,
    opts: &ExecuteOptions,
) -> Result<ApplyReport, OpsError> {
    let mut plan = prepared.plan.clone();
    plan.provider = super::provider_settings(&plan.provider, &prepared.config.region);
    let root = prepared.config.root.clone();
    let persist: Arc<dyn Persist> = Arc::new(StorePersist {
        store: prepared.store.clone(),
    });
    let state = initial_state(&prepared.store, prepared.state.clone(), &prepared.config).await?;
    let opts = ExecuteOptions {
        root: root.clone(),
        ..opts.clone()
    };
    let provider: Arc<dyn Provider> = Arc::new(provider_for(&plan, &root).await);
    tracing::info!(
        "applying {} changes in region {} (at most {} at once)",
        plan.changes
            .iter()
            .filter(|c| c.action != crate::plan::Action::NoOp)
            .count(),
        plan.provider.region,
        opts.parallelism.max(1)
    );
    let started = std::time::Instant::now();
    let report = execute(&plan, state, provider, persist, observer, &opts).await;
    tracing::info!(
        "{} in {:.0?} (persisting state took {:.0?})",
        report.summary(),
        started.elapsed(),
        report.persist_time
    );
    Ok(report)
}

/// Persists state as a JSON file: every write replaces the whole file atomically (temporary
/// file, fsync, rename, directory fsync; mode 0600), so a crash leaves the previous or the new
/// state, never half of one.
#[derive(Debug, Clone)]
pub struct FilePersist {
    /// The state file.
    pub path: PathBuf,
}

impl FilePersist {
    /// Persists to the state file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FilePersist { path: path.into() }
    }

    fn write(&self, state: &State) -> Result<(), StateError> {
        let io = |action, source| StateError::Io {
            action,
            path: self.path.clone(),
            source,
        };
        let json = serde_json::to_vec_pretty(state).map_err(|e| io("serialise", e.into()))?;
        write_private(&self.path, &json, Existing::Replace).map_err(|e| io("write", e))
    }
}

impl Persist for FilePersist {
    fn record(&self, state: &State, _entries: &[JournalEntry]) -> Result<(), StateError> {
        self.write(state)
    }

    fn finish(&self, state: &State) -> Result<(), StateError> {
        self.write(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_persist_writes_private_atomic_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/dev.json");
        let p = FilePersist::new(&path);
        let st = State::new("s", "dev");
        p.finish(&st).unwrap();
        let back: State = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back, st);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
    }
}
