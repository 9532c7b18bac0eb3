//! `pedestal plan` as a workflow, reusable by `apply` without a plan file.
//!
//! Outline of [`run`]:
//! 1. load the spec (`spec::load`) for the requested environment and variables;
//! 2. open the state store the spec's `[backend]` names and lock it for the whole operation;
//! 3. read recorded state (snapshot + journal; the snapshot is read ahead while the spec loads,
//!    see `ops/open.rs`);
//! 4. refresh it from the cloud unless `--no-refresh` (or the state is empty), collecting drift;
//! 5. run the pure planner;
//! 6. save the plan with `--out`, with the variable values it was made with (secrets as
//!    digests);
//! 7. release the lock (the guard drops) and hand back plan, config and prior state.
//!
//! [`plan_locked`] is steps 3–6 for a caller (like `apply`) that already holds the lock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::OpsError;
use super::refresh::{self, Refresher};
use crate::plan::{self, Plan, PlanMode, PlanOptions};
use crate::spec::Config;
use crate::state::{State, StateStore};

/// What to plan.
#[derive(Clone, Debug, Default)]
pub struct PlanRequest {
    /// `--env` (reads `env/<name>.toml`).
    pub env: String,
    /// `--var K=V`, in order given (later wins).
    pub vars: BTreeMap<String, String>,
    /// A normal plan or `--destroy`.
    pub mode: PlanMode,
    /// `--target` addresses.
    pub targets: Vec<String>,
    /// `--replace` addresses.
    pub replace: Vec<String>,
    /// Read live resources before planning (the default; `--no-refresh` turns it off).
    pub refresh: bool,
    /// `--out FILE`.
    pub out: Option<PathBuf>,
    /// `--lock-timeout`.
    pub lock_timeout: Duration,
}

/// What planning produced.
#[derive(Debug)]
pub struct PlanOutcome {
    /// The plan made.
    pub plan: Plan,
    /// The spec it was made from.
    pub config: Config,
    /// Recorded state as read (before refresh); `None` when there was none.
    pub prior: Option<State>,
    /// Where `--out` saved the plan.
    pub saved: Option<PathBuf>,
}

/// Loads, locks, refreshes (with `refresher`, or the stack's own when `req.refresh` is set and
/// the state has resources), plans and saves.
pub async fn run(
    dir: &Path,
    req: &PlanRequest,
    refresher: Option<&dyn Refresher>,
) -> Result<PlanOutcome, OpsError> {
    let operation = match req.mode {
        PlanMode::Normal => "plan",
        PlanMode::Destroy => "plan --destroy",
    };
    let opened = super::open::open_locked(dir, &req.env, operation, req.lock_timeout, || {
        super::load_config(dir, &req.env, &req.vars)
    })
    .await?;
    let _guard = opened.lock;
    plan_read(opened.config, opened.prior, req, refresher).await
}

/// Steps 3–6 of [`run`] for a caller that already holds the state lock.
pub async fn plan_locked(
    config: Config,
    store: Arc<dyn StateStore>,
    req: &PlanRequest,
    refresher: Option<&dyn Refresher>,
) -> Result<PlanOutcome, OpsError> {
    let started = Instant::now();
    let prior = super::read_store(&store).await?;
    super::open::log_read(store.as_ref(), prior.as_ref(), started);
    plan_read(config, prior, req, refresher).await
}

/// Steps 4–6 of [`run`]: refresh, plan and save, from the recorded state `prior` read under
/// the lock the caller holds.
pub(crate) async fn plan_read(
    config: Config,
    prior: Option<State>,
    req: &PlanRequest,
    refresher: Option<&dyn Refresher>,
) -> Result<PlanOutcome, OpsError> {
    let empty;
    let recorded: &State = match &prior {
        Some(s) => s,
        None => {
            empty = State::new(&config.stack, &config.env);
            &empty
        }
    };
    let git = plan::file::GitCommit::start(&config.root);
    let mut drift = Vec::new();
    let refreshed_state;
    let mut current = recorded;
    if req.refresh && !recorded.resources.is_empty() {
        let own;
        let r: &dyn Refresher = match refresher {
            Some(r) => r,
            None => {
                own = refresh::for_config(&config);
                &own
            }
        };
        let started = Instant::now();
        let refreshed = r.refresh(recorded).await?;
        tracing::info!(
            "refreshed {} resources in {:.0?}: {} drifted",
            recorded.resources.len(),
            started.elapsed(),
            refreshed.drift.len()
        );
        refreshed_state = refreshed.state;
        current = &refreshed_state;
        drift = refreshed.drift;
    }
    let opts = PlanOptions {
        mode: req.mode,
        targets: req.targets.clone(),
        replace: req.replace.clone(),
        drift,
    };
    let started = Instant::now();
    let mut plan = plan::plan(&config, current, &opts)?;
    plan.git_commit = git.finish();
    let sum = plan.summary();
    tracing::info!(
        "planned {} resources in {:.0?}: {} to add, {} to change, {} to destroy",
        plan.changes.len(),
        started.elapsed(),
        sum.add,
        sum.change,
        sum.destroy
    );
    let saved = match &req.out {
        Some(path) => {
            plan::file::write(path, &plan, &config.variables)?;
            tracing::info!("saved the plan to {}", path.display());
            Some(path.clone())
        }
        None => None,
    };
    Ok(PlanOutcome {
        plan,
        config,
        prior,
        saved,
    })
}
