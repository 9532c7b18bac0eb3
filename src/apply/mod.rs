//! The applier: walks a plan's changes in dependency order with bounded parallelism, calls the
//! [`Provider`] for each, and persists state after every resource. It never reads the spec.
//!
//! 1. The plan's changes become steps: `up` (create or update) and `down` (delete) per address;
//!    replacements get both, ordered by the plan's action (`-/+` down first, `+/-` up first).
//! 2. [`walk`] starts each step as soon as the steps it waits for are done, at most
//!    `parallelism` at a time; a failed step skips only what waits for it.
//! 3. Each `up` substitutes [`crate::resource::Value::Ref`]/`Template` values from the state of
//!    resources already applied, records an [`Intent`] before a create, adopts a resource a
//!    previous crashed run left behind (tagged with this stack/env/address, or named by a
//!    recorded intent that names an untagged resource) and refuses one that belongs to someone
//!    else.
//! 0. Before any of that, the ownership tags of every recorded resource the plan updates,
//!    replaces or deletes are read (batched); when one belongs to another stack or env, the
//!    state does not describe this stack's resources and the whole apply is refused.
//! 4. After every step the state goes to [`Persist::resource_done`]; at the end to
//!    [`Persist::finish`]. Cancellation starts nothing new and lets in-flight steps finish.

mod adopt;
pub mod observer;
use adopt::create_or_adopt;
mod ownership;
mod persist;
mod prune;
mod release;
pub mod walk;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::addr::Address;
use crate::plan::{Action, Plan, PlanMode, ResourceChange};
use crate::provider::{
    Applied, ApplyResource, ErrorKind, LeftBehind, Owner, Provider, ProviderError,
};
use crate::resource::schema::{self, ecs_service as svc};
use crate::resource::{Attrs, Ref, Value};
use crate::state::{Intent, ResourceState, State, Status};

pub use observer::{ApplyObserver, NullObserver, OpKind, RecordingObserver, TextObserver};
use ownership::{refusal, verify_ownership};
use persist::Writer;
pub use persist::{NoPersist, Persist, StorePersist};
use prune::prune;
pub use release::release_record;
use release::{finish_release, release_start, until_interrupted};
use walk::{Step, StepOutcome};

/// Tunables.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Steps in flight at once (`--parallelism`, default 10).
    pub parallelism: usize,
    /// Interval of the `Still creating...` lines.
    pub still_interval: Duration,
    /// Becomes `true` on the first Ctrl-C: start nothing new.
    pub cancel: Option<watch::Receiver<bool>>,
    /// Becomes `true` on the second Ctrl-C: abort the operations in flight (a create's intent is
    /// already recorded, so the next apply adopts what it may have made).
    pub abandon: Option<watch::Receiver<bool>>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            still_interval: Duration::from_secs(10),
            cancel: None,
            abandon: None,
        }
    }
}

/// One resource that failed.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// The resource whose step failed.
    pub address: Address,
    /// What went wrong, prefixed with the address.
    pub message: String,
}

/// The outcome of an apply or destroy.
#[derive(Clone, Debug)]
pub struct ApplyReport {
    /// The state after the apply, as persisted.
    pub state: State,
    /// Whether this was an apply or a destroy.
    pub mode: PlanMode,
    /// Resources created (a replacement's create step counts here).
    pub added: usize,
    /// Resources updated in place.
    pub changed: usize,
    /// Resources deleted (a replacement's delete step counts here).
    pub destroyed: usize,
    /// Steps that failed, in the order they finished.
    pub failures: Vec<Failure>,
    /// Addresses skipped because something they depend on failed.
    pub skipped: Vec<Address>,
    /// Addresses never started because of an interrupt.
    pub not_started: Vec<Address>,
    /// Addresses whose operation was abandoned in flight (second interrupt).
    pub abandoned: Vec<Address>,
    /// Whether a Ctrl-C stopped the apply.
    pub interrupted: bool,
    /// Time spent persisting state.
    pub persist_time: Duration,
    /// Errors persisting state (the apply stops starting new work after the first).
    pub persist_errors: Vec<String>,
}

impl ApplyReport {
    /// Whether everything planned was done: no failure, skip, abandon, interrupt or persist error.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
            && self.skipped.is_empty()
            && self.abandoned.is_empty()
            && !self.interrupted
            && self.persist_errors.is_empty()
    }

    /// `Apply complete! Resources: X added, Y changed, Z destroyed.` or
    /// `Destroy complete! Resources: N destroyed.`
    pub fn summary(&self) -> String {
        let head = if self.ok() {
            "complete!"
        } else {
            "incomplete."
        };
        match self.mode {
            PlanMode::Destroy => format!("Destroy {head} Resources: {} destroyed.", self.destroyed),
            PlanMode::Normal => format!(
                "Apply {head} Resources: {} added, {} changed, {} destroyed.",
                self.added, self.changed, self.destroyed
            ),
        }
    }
}

struct Shared {
    state: Mutex<State>,
    /// Where each step's changes go (see [`Writer`]).
    writer: Writer,
    persist_time: Arc<Mutex<Duration>>,
    persist_errors: Mutex<Vec<String>>,
    provider: Arc<dyn Provider>,
    observer: Arc<dyn ApplyObserver>,
    still_interval: Duration,
    stack: String,
    env: String,
    /// The first Ctrl-C: a release wait stops at once (the deployment goes on in ECS).
    cancel: Option<watch::Receiver<bool>>,
    /// Spec digest, git commit and user recorded with each release.
    release_meta: ReleaseMeta,
}

/// What every release record of one apply shares.
#[derive(Clone, Debug, Default)]
struct ReleaseMeta {
    spec_digest: Option<String>,
    git_commit: Option<String>,
    who: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Why a resource's attributes could not be resolved before applying it.
#[derive(Debug, thiserror::Error)]
enum Unresolved {
    #[error("attribute `{attr}` is not known")]
    Unknown { attr: String },
    #[error("attribute `{attr}` depends on {refs} which is not known")]
    DependsOn { attr: String, refs: String },
}

impl Shared {
    /// Resolves references from resources already in state.
    fn resolve(&self, change: &ResourceChange) -> Result<Attrs, Unresolved> {
        let after = change.after.clone().unwrap_or_default();
        let st = lock(&self.state);
        let lookup = |r: &Ref| -> Option<Value> {
            let rs = st.resources.get(&r.address)?;
            if r.attr == schema::ID {
                return Some(Value::str(&rs.id));
            }
            rs.attrs.get(&r.attr).cloned()
        };
        let computed = change.kind.schema().computed;
        let mut out = Attrs::new();
        for (k, v) in &after {
            if computed.contains(&k.as_str()) && v.is_unknown() {
                continue;
            }
            let v = v.substitute(&lookup);
            if v.is_unknown() {
                let refs: Vec<String> = v
                    .refs()
                    .iter()
                    .map(|r| format!("{}.{}", r.address, r.attr))
                    .collect();
                return Err(if refs.is_empty() {
                    Unresolved::Unknown {
                        attr: k.to_string(),
                    }
                } else {
                    Unresolved::DependsOn {
                        attr: k.to_string(),
                        refs: refs.join(", "),
                    }
                });
            }
            out.insert(k.clone(), v);
        }
        Ok(out)
    }
}

/// Applies `plan` to `state`. Always returns a report; failures are inside it.
pub async fn apply(
    plan: &Plan,
    state: State,
    provider: Arc<dyn Provider>,
    persist: Arc<dyn Persist>,
    observer: Arc<dyn ApplyObserver>,
    opts: ApplyOptions,
) -> ApplyReport {
    let changes: BTreeMap<Address, ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.clone(), c.clone()))
        .collect();
    let par = opts.parallelism.max(1);
    let refused = verify_ownership(plan, &changes, &state, provider.as_ref(), par).await;
    if !refused.is_empty() {
        return refusal(plan, state, &changes, refused, observer.as_ref());
    }
    let steps = walk::steps_for(&changes, &state);
    let persist_time = Arc::new(Mutex::new(Duration::ZERO));
    let writer = Writer::start(persist, &state, persist_time.clone());
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        writer,
        persist_time,
        persist_errors: Mutex::new(Vec::new()),
        provider,
        observer,
        still_interval: opts.still_interval,
        stack: plan.stack.clone(),
        env: plan.env.clone(),
        cancel: opts.cancel.clone(),
        release_meta: ReleaseMeta {
            spec_digest: Some(plan.spec_digest.clone()).filter(|d| !d.is_empty()),
            git_commit: plan.git_commit.clone(),
            who: crate::state::who(),
        },
    });
    let changes = Arc::new(changes);
    let runner = {
        let shared = shared.clone();
        let changes = changes.clone();
        move |step: Step| {
            let shared = shared.clone();
            let changes = changes.clone();
            async move {
                let Some(change) = changes.get(&step.address) else {
                    return StepOutcome::Failed(format!("{}: not in the plan", step.address));
                };
                run_step(&shared, change, step.down).await
            }
        }
    };
    let persist_failed = {
        let shared = shared.clone();
        move || !lock(&shared.persist_errors).is_empty()
    };
    let result = walk::walk(
        steps,
        par,
        opts.cancel.clone(),
        opts.abandon.clone(),
        runner,
        persist_failed,
    )
    .await;

    for (addr, because) in &result.skipped {
        shared.observer.skipped(addr, because);
    }
    let (added, changed, destroyed) = count_done(&result.done, &changes);
    let mut failures: Vec<Failure> = result
        .failed
        .iter()
        .map(|(s, m)| Failure {
            address: s.address.clone(),
            message: m.clone(),
        })
        .collect();
    // Old artifact objects go only once every release of the apply completed.
    if plan.mode == PlanMode::Normal
        && failures.is_empty()
        && result.skipped.is_empty()
        && !result.interrupted
    {
        failures.extend(prune(&shared, &plan.prunes).await);
    }

    let mut final_state = lock(&shared.state).clone();
    settle_outputs(
        plan,
        &mut final_state,
        failures.is_empty() && !result.interrupted,
    );
    let mut persist_errors = lock(&shared.persist_errors).clone();
    if let Err(e) = shared.write_final(final_state.clone()).await {
        persist_errors.push(format!("writing final state: {e}"));
    }
    let persist_time = *lock(&shared.persist_time);
    ApplyReport {
        state: final_state,
        mode: plan.mode,
        added,
        changed,
        destroyed,
        failures,
        skipped: result.skipped.into_iter().map(|(a, _)| a).collect(),
        not_started: result.not_started,
        abandoned: result.abandoned,
        interrupted: result.interrupted,
        persist_time,
        persist_errors,
    }
}

/// Resources added, changed and destroyed by the steps that finished (a replacement counts
/// its delete step as destroyed and its create step as added).
fn count_done(
    done: &[(Step, ())],
    changes: &BTreeMap<Address, ResourceChange>,
) -> (usize, usize, usize) {
    let (mut added, mut changed, mut destroyed) = (0, 0, 0);
    for (step, _) in done {
        let Some(c) = changes.get(&step.address) else {
            continue;
        };
        match (c.action, step.down) {
            (Action::Create, _) => added += 1,
            (Action::Update, _) => changed += 1,
            (Action::Delete, _) => destroyed += 1,
            (Action::DeleteThenCreate | Action::CreateThenDelete, true) => destroyed += 1,
            (Action::DeleteThenCreate | Action::CreateThenDelete, false) => added += 1,
            (Action::NoOp, _) => {}
        }
    }
    (added, changed, destroyed)
}

/// Outputs in the final state: cleared once a destroy removed everything; otherwise, when
/// every step succeeded (`complete`), whatever the plan says with references resolved from
/// the final state; left as recorded after a failure or an interrupt.
fn settle_outputs(plan: &Plan, final_state: &mut State, complete: bool) {
    if plan.mode == PlanMode::Destroy && final_state.resources.is_empty() {
        final_state.outputs.clear();
        return;
    }
    if !complete {
        return;
    }
    for (name, oc) in &plan.outputs {
        match &oc.after {
            Some(v) => {
                let st = &*final_state;
                let resolved = v.substitute(&|r: &Ref| {
                    let rs = st.resources.get(&r.address)?;
                    if r.attr == schema::ID {
                        Some(Value::str(&rs.id))
                    } else {
                        rs.attrs.get(&r.attr).cloned()
                    }
                });
                let resolved = if oc.sensitive && !resolved.is_sensitive() {
                    Value::Sensitive(Box::new(resolved))
                } else {
                    resolved
                };
                final_state.outputs.insert(name.clone(), resolved);
            }
            None => {
                final_state.outputs.remove(name);
            }
        }
    }
}

/// Runs a provider future, reporting `Still creating...` every interval.
async fn with_ticker<T>(
    shared: &Shared,
    addr: &Address,
    op: OpKind,
    fut: impl std::future::Future<Output = T>,
) -> T {
    let started = Instant::now();
    tokio::pin!(fut);
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + shared.still_interval,
        shared.still_interval,
    );
    loop {
        tokio::select! {
            out = &mut fut => return out,
            _ = tick.tick() => shared.observer.still(addr, op, started.elapsed()),
        }
    }
}

async fn run_step(shared: &Shared, change: &ResourceChange, down: bool) -> StepOutcome {
    let addr = &change.address;
    if down {
        return run_delete(shared, change).await;
    }
    let op = if change.action == Action::Update {
        OpKind::Update
    } else {
        OpKind::Create
    };
    let attrs = match shared.resolve(change) {
        Ok(a) => a,
        Err(e) => {
            let msg = format!("{addr}: {e}");
            shared.observer.failed(addr, op, &msg);
            return StepOutcome::Failed(msg);
        }
    };
    let res = ApplyResource {
        address: addr.clone(),
        kind: change.kind,
        attrs,
    };
    shared.observer.started(addr, op);
    let started = Instant::now();
    // A service starting a new revision (or one whose last release did not finish) is a
    // release: recorded as in progress now, finished below.
    let release = release_start(shared, change, &res).await;
    let result = if op == OpKind::Update {
        run_update(shared, change, &res, release.is_some()).await
    } else {
        let call = with_ticker(shared, addr, op, create_or_adopt(shared, &res));
        until_interrupted(shared, release.is_some(), call).await
    };
    match result {
        Ok((applied, adopted)) => {
            if adopted {
                shared.observer.adopted(addr, &applied.id);
            }
            record_applied(shared, change, release.as_ref(), &applied).await;
            shared
                .observer
                .finished(addr, op, started.elapsed(), Some(&applied.id));
            StepOutcome::Done
        }
        Err(err) => {
            let message = record_failed(shared, change, op, release.as_ref(), &err).await;
            shared.observer.failed(addr, op, &message);
            StepOutcome::Failed(message)
        }
    }
}

/// The provider update for an `up` step of an existing resource, against what state holds
/// for it. An interrupted release wait leaves the service recorded as pointed at the release.
async fn run_update(
    shared: &Shared,
    change: &ResourceChange,
    res: &ApplyResource,
    release: bool,
) -> Result<(Applied, bool), ProviderError> {
    let addr = &change.address;
    let (id, mut before) = {
        let st = lock(&shared.state);
        match st.resources.get(addr) {
            Some(rs) => (rs.id.clone(), rs.attrs.clone()),
            None => (
                change.id.clone().unwrap_or_default(),
                change.before.clone().unwrap_or_default(),
            ),
        }
    };
    if release {
        // Whatever the service runs now, this release is to be rolled out and waited for.
        before.remove(svc::Attr::TaskDefinition.as_str());
    }
    let call = with_ticker(
        shared,
        addr,
        OpKind::Update,
        shared.provider.update(&id, &before, res),
    );
    let mut pointed = before.clone();
    pointed.extend(res.attrs.clone());
    until_interrupted(shared, release, call)
        .await
        .map(|a| (a, false))
        .map_err(|e| match e.kind {
            ErrorKind::Interrupted => e.leaving(LeftBehind::Resource(Applied {
                id: id.clone(),
                attrs: pointed,
            })),
            _ => e,
        })
}

/// Records a successful `up` step: the resource in state, its intent gone, its release done.
async fn record_applied(
    shared: &Shared,
    change: &ResourceChange,
    release: Option<&release::ReleaseStarted>,
    applied: &Applied,
) {
    let addr = &change.address;
    shared
        .commit(addr, |st| {
            st.intents.remove(addr);
            finish_release(st, release, Ok(()));
            st.resources.insert(
                addr.clone(),
                ResourceState {
                    kind: change.kind,
                    id: applied.id.clone(),
                    attrs: applied.attrs.clone(),
                    dependencies: change.depends_on.clone(),
                    status: Status::Ok,
                },
            );
        })
        .await;
}

/// Records a failed `up` step: what the provider left behind (a tainted create, a service
/// pointed at the release) and the release's outcome. Returns the message to report.
async fn record_failed(
    shared: &Shared,
    change: &ResourceChange,
    op: OpKind,
    release: Option<&release::ReleaseStarted>,
    err: &ProviderError,
) -> String {
    let addr = &change.address;
    let mut message = format!("{addr}: {}", err.message);
    shared
        .commit(addr, |st| {
            if let Some(m) = finish_release(st, release, Err(err)) {
                message = m;
            }
            let left = |a: &Applied, status| ResourceState {
                kind: change.kind,
                id: a.id.clone(),
                attrs: a.attrs.clone(),
                dependencies: change.depends_on.clone(),
                status,
            };
            match (&err.left_behind, op) {
                (LeftBehind::Resource(a), OpKind::Create) => {
                    st.intents.remove(addr);
                    st.resources.insert(addr.clone(), left(a, Status::Tainted));
                }
                // The service was pointed at the release before the wait stopped.
                (LeftBehind::Resource(a), OpKind::Update) => {
                    st.resources.insert(addr.clone(), left(a, Status::Ok));
                }
                // The call may have taken effect: keep the intent so the next run adopts.
                (LeftBehind::Unknown, _) => {}
                (_, OpKind::Create) => {
                    st.intents.remove(addr);
                }
                _ => {}
            }
        })
        .await;
    message
}

async fn run_delete(shared: &Shared, change: &ResourceChange) -> StepOutcome {
    let addr = &change.address;
    let op = OpKind::Delete;
    // `+/-`: state already holds the replacement; the old object is the plan's `before`.
    let (id, attrs, keep_entry) = {
        let st = lock(&shared.state);
        match (change.action, st.resources.get(addr)) {
            (Action::CreateThenDelete, _) | (_, None) => (
                change.id.clone().unwrap_or_default(),
                change.before.clone().unwrap_or_default(),
                change.action == Action::CreateThenDelete,
            ),
            (_, Some(rs)) => (rs.id.clone(), rs.attrs.clone(), false),
        }
    };
    shared.observer.started(addr, op);
    let started = Instant::now();
    let result = with_ticker(
        shared,
        addr,
        op,
        shared.provider.delete(change.kind, &id, &attrs),
    )
    .await;
    match result {
        Ok(()) => {
            if !keep_entry {
                shared
                    .commit(addr, |st| {
                        st.resources.remove(addr);
                        st.intents.remove(addr);
                    })
                    .await;
            }
            shared.observer.finished(addr, op, started.elapsed(), None);
            StepOutcome::Done
        }
        Err(err) => {
            let message = format!("{addr}: {}", err.message);
            shared.observer.failed(addr, op, &message);
            StepOutcome::Failed(message)
        }
    }
}

/// The addresses a plan touches (for `--target` filtering by the caller and for reports).
pub fn touched(plan: &Plan) -> BTreeSet<Address> {
    plan.changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| c.address.clone())
        .collect()
}

#[cfg(test)]
mod tests;
