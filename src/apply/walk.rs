//! The concurrent walk: turns a plan's changes into steps with "waits for" edges, then runs
//! each step as soon as everything it waits for is done, at most `parallelism` at a time. A
//! failed step skips (transitively) only the steps waiting for it; a cancel starts nothing new;
//! an abandon aborts the steps in flight (what they recorded before — intents — stays).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::watch;

use crate::addr::Address;
use crate::graph::Dag;
use crate::plan::{Action, ResourceChange};
use crate::state::State;

/// One unit of work: `up` (create/update) or `down` (delete) of an address.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Step {
    /// The resource the step works on.
    pub address: Address,
    /// `true` for the delete step, `false` for create or update.
    pub down: bool,
}

impl Step {
    fn up(a: &Address) -> Step {
        Step {
            address: a.clone(),
            down: false,
        }
    }
    fn down(a: &Address) -> Step {
        Step {
            address: a.clone(),
            down: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
/// How one step ended.
pub enum StepOutcome {
    /// The step finished; what waits for it may start.
    Done,
    /// The step failed with this message; what waits for it is skipped.
    Failed(String),
}

/// Every step and the steps it waits for.
pub type Steps = BTreeMap<Step, BTreeSet<Step>>;

fn has_up(a: Action) -> bool {
    matches!(
        a,
        Action::Create | Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete
    )
}

fn has_down(a: Action) -> bool {
    matches!(
        a,
        Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete
    )
}

/// Builds the steps of a plan: creates/updates follow their dependencies; deletes follow the
/// deletes of everything that depended on them (reverse edges), and the updates that move
/// dependents away from them. Linear in changes plus dependencies: the reverse edges are
/// indexed once, not searched per pair.
pub fn steps_for<C: std::borrow::Borrow<ResourceChange>>(
    changes: &BTreeMap<Address, C>,
    state: &State,
) -> Steps {
    // Who depended on each address before this apply (recorded dependencies, plus a
    // delete's own dependencies), each dependent once and in address order.
    let mut old_dependents: HashMap<&Address, BTreeSet<&Address>> = HashMap::new();
    for (addr, c) in changes {
        let c: &ResourceChange = std::borrow::Borrow::borrow(c);
        let recorded = state.resources.get(addr).map(|r| &r.dependencies);
        let own = (c.action == Action::Delete).then_some(&c.depends_on);
        for d in recorded.into_iter().chain(own).flatten() {
            if d != addr {
                old_dependents.entry(d).or_default().insert(addr);
            }
        }
    }
    let mut steps: Steps = BTreeMap::new();
    for (addr, c) in changes {
        let c: &ResourceChange = std::borrow::Borrow::borrow(c);
        if has_up(c.action) {
            let mut waits = BTreeSet::new();
            for d in &c.depends_on {
                if changes
                    .get(d)
                    .is_some_and(|dc| has_up(std::borrow::Borrow::borrow(dc).action))
                {
                    waits.insert(Step::up(d));
                }
            }
            if c.action == Action::DeleteThenCreate {
                waits.insert(Step::down(addr));
            }
            steps.insert(Step::up(addr), waits);
        }
        if has_down(c.action) {
            let mut waits = BTreeSet::new();
            if c.action == Action::CreateThenDelete {
                waits.insert(Step::up(addr));
            }
            for other in old_dependents.get(addr).into_iter().flatten() {
                let Some(oc) = changes.get(*other).map(std::borrow::Borrow::borrow) else {
                    continue;
                };
                if has_down(oc.action) {
                    waits.insert(Step::down(other));
                } else if has_up(oc.action) && c.action != Action::DeleteThenCreate {
                    waits.insert(Step::up(other));
                }
            }
            steps.insert(Step::down(addr), waits);
        }
    }
    steps
}

/// The most steps any chain of "waits for" edges holds: how many steps must run one after
/// another however wide the walk. With every step costing the same, the walk cannot finish
/// sooner than this many steps' time, nor sooner than all steps' time over the parallelism.
/// Steps in a cycle (which never run) count for nothing; waits on steps that do not exist are
/// ignored, as the walk ignores them.
pub fn critical_path(steps: &Steps) -> usize {
    let Ok(order) = Dag::from_deps(steps.iter()).try_order() else {
        return 0;
    };
    let mut depth: HashMap<&Step, usize> = HashMap::with_capacity(order.len());
    let mut longest = 0;
    for step in &order {
        let Some((step, waits)) = steps.get_key_value(step) else {
            continue;
        };
        let d = 1 + waits
            .iter()
            .filter_map(|w| depth.get(w))
            .max()
            .copied()
            .unwrap_or(0);
        depth.insert(step, d);
        longest = longest.max(d);
    }
    longest
}

/// What happened to every step.
#[derive(Debug, Default)]
pub struct WalkResult {
    /// Steps that finished.
    pub done: Vec<(Step, ())>,
    /// Steps that failed, with their messages.
    pub failed: Vec<(Step, String)>,
    /// (skipped address, the failed address it waited for).
    pub skipped: Vec<(Address, Address)>,
    /// Addresses never started because of an interrupt.
    pub not_started: Vec<Address>,
    /// Steps aborted in flight by an abandon.
    pub abandoned: Vec<Address>,
    /// Whether the walk was cancelled (first Ctrl-C) before every step started.
    pub interrupted: bool,
}

/// Resolves once the flag is `true` (never, if its sender is gone while `false`).
async fn until_true(rx: &mut watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// A step's future with a panic in it caught and told as its message, as a spawned task's
/// would be: a panicking step fails alone, and the walk stops cleanly.
struct Caught<F>(Pin<Box<F>>);

impl<F: Future> Future for Caught<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic_message(panic.as_ref()))),
        }
    }
}

/// The message a panic was raised with, when it has one.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => format!("a step panicked: {s}"),
        (_, Some(s)) => format!("a step panicked: {s}"),
        _ => "a step panicked".to_string(),
    }
}

/// Runs `steps` with `run`, at most `parallelism` at once. `stop` is polled before each start
/// (e.g. state can no longer be persisted).
///
/// The steps in flight are polled here, in the walk's own task, not spawned: a step that
/// finishes hands its dependents over without waking a task on another thread (a chain of
/// 10,000 steps spent most of its time in those hand-overs). A step's slow work (hashing an
/// artifact, writing state that may block) runs on the blocking pool, and the HTTP
/// connections are driven by the runtime, so one task polling them holds nothing up.
pub async fn walk<F, Fut, S>(
    steps: Steps,
    parallelism: usize,
    cancel: Option<watch::Receiver<bool>>,
    abandon: Option<watch::Receiver<bool>>,
    run: F,
    stop: S,
) -> WalkResult
where
    F: Fn(Step) -> Fut,
    Fut: Future<Output = StepOutcome>,
    S: Fn() -> bool,
{
    // Waits on steps that do not exist would never clear: the graph drops them.
    let dag = Dag::from_deps(steps.iter());
    drop(steps);
    let mut schedule = dag.schedule();
    let mut result = WalkResult::default();
    let mut skipped: HashSet<&Address> = HashSet::new();
    let mut set = FuturesUnordered::new();
    let mut in_flight: BTreeSet<Step> = BTreeSet::new();
    let mut abandon = abandon;
    let cancelled = |c: &Option<watch::Receiver<bool>>| c.as_ref().is_some_and(|r| *r.borrow());
    loop {
        let halted = cancelled(&cancel) || stop();
        if halted {
            result.interrupted = result.interrupted || cancelled(&cancel);
        }
        while !halted && set.len() < parallelism {
            let Some(step) = schedule.pop_ready().cloned() else {
                break;
            };
            // Boxed: the set then holds a pointer, not the whole step future.
            let fut = Caught(Box::pin(run(step.clone())));
            in_flight.insert(step.clone());
            set.push(async move { (step, fut.await) });
        }
        let joined = match abandon.as_mut() {
            Some(a) if !set.is_empty() => {
                tokio::select! {
                    j = set.next() => j,
                    _ = until_true(a) => {
                        // The steps in flight are dropped where they stand.
                        set.clear();
                        for step in std::mem::take(&mut in_flight) {
                            schedule.remove(&step);
                            result.abandoned.push(step.address);
                        }
                        result.interrupted = true;
                        abandon = None;
                        continue;
                    }
                }
            }
            _ => set.next().await,
        };
        let Some((step, outcome)) = joined else {
            break;
        };
        in_flight.remove(&step);
        let outcome = outcome.unwrap_or_else(|panic| {
            StepOutcome::Failed(format!("{}: internal error: {panic}", step.address))
        });
        match outcome {
            StepOutcome::Done => {
                schedule.finish(&step);
                result.done.push((step, ()));
            }
            StepOutcome::Failed(msg) => {
                schedule.remove(&step);
                for d in schedule.skip_dependents(&step) {
                    if skipped.insert(&d.address) {
                        result
                            .skipped
                            .push((d.address.clone(), step.address.clone()));
                    }
                }
                result.failed.push((step, msg));
            }
        }
    }
    if cancelled(&cancel) {
        result.interrupted = true;
    }
    let halted = result.interrupted || stop();
    let mut not_started: BTreeSet<&Address> = BTreeSet::new();
    for s in schedule.pending() {
        if halted {
            if not_started.insert(&s.address) {
                result.not_started.push(s.address.clone());
            }
        } else {
            result.failed.push((
                s.clone(),
                format!("{}: dependency cycle in the plan", s.address),
            ));
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::ResourceKind;
    use crate::state::ResourceState;

    fn change(addr: &str, action: Action, deps: &[&str]) -> (Address, ResourceChange) {
        let address = Address::new(addr);
        let c = ResourceChange {
            address: address.clone(),
            kind: ResourceKind::LogGroup,
            action,
            reason: None,
            before: None,
            after: None,
            replace_paths: vec![],
            id: None,
            depends_on: deps.iter().map(|d| Address::new(*d)).collect(),
            lifecycle: Default::default(),
        };
        (address, c)
    }

    fn recorded(state: &mut State, addr: &str, deps: &[&str]) {
        state.resources.insert(
            Address::new(addr),
            ResourceState {
                kind: ResourceKind::LogGroup,
                id: addr.to_string(),
                attrs: Default::default(),
                dependencies: deps.iter().map(|d| Address::new(*d)).collect(),
                status: Default::default(),
            },
        );
    }

    #[test]
    fn deletes_wait_for_what_depended_on_them() {
        let mut state = State::new("s", "e");
        recorded(&mut state, "a", &[]);
        recorded(&mut state, "b", &["a"]);
        recorded(&mut state, "c", &["a"]);
        recorded(&mut state, "r", &["a"]);
        let changes: BTreeMap<Address, ResourceChange> = [
            change("a", Action::Delete, &[]),
            change("b", Action::Delete, &["a"]),
            // Moves away from `a`: its update goes first.
            change("c", Action::Update, &[]),
            // Replaced delete-first: its new copy waits for its own delete only.
            change("r", Action::DeleteThenCreate, &[]),
            change("n", Action::Create, &["c"]),
        ]
        .into_iter()
        .collect();
        let steps = steps_for(&changes, &state);
        let a = Address::new("a");
        let waits: Vec<Step> = steps[&Step::down(&a)].iter().cloned().collect();
        assert_eq!(
            waits,
            vec![
                Step::down(&Address::new("b")),
                Step::up(&Address::new("c")),
                Step::down(&Address::new("r")),
            ]
        );
        assert_eq!(
            steps[&Step::up(&Address::new("r"))],
            BTreeSet::from([Step::down(&Address::new("r"))])
        );
        assert_eq!(
            steps[&Step::up(&Address::new("n"))],
            BTreeSet::from([Step::up(&Address::new("c"))])
        );
        assert!(steps[&Step::down(&Address::new("b"))].is_empty());
    }

    #[test]
    fn the_critical_path_counts_the_longest_chain_of_steps() {
        let mut state = State::new("s", "e");
        for (a, deps) in [("a", &[][..]), ("b", &["a"][..]), ("c", &["b", "a"][..])] {
            recorded(&mut state, a, deps);
        }
        // Creates: d waits for c waits for b waits for a; e stands alone.
        let creates: BTreeMap<Address, ResourceChange> = [
            change("a", Action::Create, &[]),
            change("b", Action::Create, &["a"]),
            change("c", Action::Create, &["b", "a"]),
            change("d", Action::Create, &["c"]),
            change("e", Action::Create, &[]),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            critical_path(&steps_for(&creates, &State::new("s", "e"))),
            4
        );
        // Deletes follow the reverse edges: c, then b, then a.
        let deletes: BTreeMap<Address, ResourceChange> = [
            change("a", Action::Delete, &[]),
            change("b", Action::Delete, &["a"]),
            change("c", Action::Delete, &["b", "a"]),
        ]
        .into_iter()
        .collect();
        assert_eq!(critical_path(&steps_for(&deletes, &state)), 3);
        // A replacement's delete and create are two steps of one chain.
        let replace: BTreeMap<Address, ResourceChange> =
            [change("a", Action::DeleteThenCreate, &[])]
                .into_iter()
                .collect();
        assert_eq!(critical_path(&steps_for(&replace, &state)), 2);
        assert_eq!(critical_path(&Steps::new()), 0);
    }

    #[tokio::test]
    async fn a_panicking_step_fails_alone_and_skips_what_waits_for_it() {
        let step = |a: &str| Step::up(&Address::new(a));
        let (a, b, c) = (
            step("x.a.log_group"),
            step("x.b.log_group"),
            step("x.c.log_group"),
        );
        let steps: Steps = [
            (a.clone(), BTreeSet::new()),
            (b.clone(), BTreeSet::from([a.clone()])),
            (c.clone(), BTreeSet::new()),
        ]
        .into_iter()
        .collect();
        let result = walk(
            steps,
            10,
            None,
            None,
            |s: Step| async move {
                if s.address.as_str() == "x.a.log_group" {
                    panic!("boom");
                }
                StepOutcome::Done
            },
            || false,
        )
        .await;
        assert_eq!(result.done.iter().map(|(s, _)| s).collect::<Vec<_>>(), [&c]);
        assert_eq!(
            result.failed,
            [(
                a.clone(),
                "x.a.log_group: internal error: a step panicked: boom".to_string()
            )]
        );
        assert_eq!(result.skipped, [(b.address.clone(), a.address.clone())]);
        assert!(result.not_started.is_empty() && result.abandoned.is_empty());
    }

    #[tokio::test]
    async fn a_chain_runs_in_order_with_at_most_parallelism_in_flight() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};
        let steps: Steps = (0..200)
            .map(|i| {
                let me = Step::up(&Address::new(format!("x.s{i:03}.log_group")));
                let before =
                    (i > 0).then(|| Step::up(&Address::new(format!("x.s{:03}.log_group", i - 1))));
                (me, before.into_iter().collect())
            })
            .chain((0..50).map(|i| {
                (
                    Step::up(&Address::new(format!("y.f{i:03}.log_group"))),
                    BTreeSet::new(),
                )
            }))
            .collect();
        let order = Arc::new(Mutex::new(Vec::new()));
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let result = walk(
            steps,
            4,
            None,
            None,
            |s: Step| {
                let (order, now, most) = (order.clone(), now.clone(), most.clone());
                async move {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    order.lock().unwrap().push(s.address);
                    now.fetch_sub(1, Ordering::SeqCst);
                    StepOutcome::Done
                }
            },
            || false,
        )
        .await;
        assert_eq!(result.done.len(), 250);
        assert!(result.failed.is_empty() && result.skipped.is_empty());
        assert!(most.load(Ordering::SeqCst) <= 4);
        assert!(most.load(Ordering::SeqCst) > 1, "nothing ran concurrently");
        let chain: Vec<String> = order
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.as_str().starts_with("x."))
            .map(|a| a.to_string())
            .collect();
        let mut sorted = chain.clone();
        sorted.sort();
        assert_eq!(chain.len(), 200);
        assert_eq!(chain, sorted, "the chain ran out of order");
    }
}
