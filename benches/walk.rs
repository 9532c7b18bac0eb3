//! Walk benchmark against the in-memory fake provider (zero latency) and the in-memory state
//! store: N log groups in a dependency web (each depends on its predecessor and on the one at
//! half its index, so E ≈ 2N) applied, then destroyed, through `apply::apply`. Reports the
//! time to build the steps (`steps_for`, where deletes follow reverse edges), the time to
//! order them alone through `graph::Dag`, and the wall time of the whole apply and destroy,
//! with the cost per resource so growth shows whether the walk stays linear.
//!
//! Run with `cargo bench --bench walk` (bench profile) or `cargo bench --profile dev --bench
//! walk` (no optimised build needed). `PEDESTAL_BENCH_SIZES` (default `1000,10000`) and
//! `PEDESTAL_BENCH_PARALLELISM` (default `10`) pick the grid.

// A benchmark reports on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/plans.rs"]
mod plans;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pedestal::addr::Address;
use pedestal::apply::walk::steps_for;
use pedestal::apply::{self, ApplyOptions, NullObserver, StorePersist};
use pedestal::graph::Dag;
use pedestal::plan::{Action, Plan, PlanMode, ResourceChange};
use pedestal::provider::fake::FakeProvider;
use pedestal::resource::schema::log_group;
use pedestal::resource::{Attrs, Lifecycle, ResourceKind, Value};
use pedestal::state::{MemoryStore, State, StateStore};

fn list(var: &str, default: &str) -> Vec<usize> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn address(i: usize) -> Address {
    Address::new(format!("endpoint.e{i:05}.log_group"))
}

/// Creates of `n` log groups, resource i depending on i-1 and i/2.
fn create_plan(n: usize) -> Plan {
    let changes = (0..n)
        .map(|i| {
            let mut attrs = Attrs::new();
            attrs.insert(
                log_group::Attr::Name.into(),
                Value::str(format!("/bench/walk/{i:05}")),
            );
            let depends_on: BTreeSet<Address> = if i == 0 {
                BTreeSet::new()
            } else {
                [address(i - 1), address(i / 2)].into_iter().collect()
            };
            ResourceChange {
                address: address(i),
                kind: ResourceKind::LogGroup,
                action: Action::Create,
                reason: None,
                before: None,
                after: Some(attrs),
                replace_paths: vec![],
                id: None,
                depends_on: depends_on.into(),
                lifecycle: Lifecycle::default(),
            }
        })
        .collect();
    plans::wrap("walk", changes, PlanMode::Normal)
}

/// Time to build the steps and to order them through the graph, and the step count.
fn ordering(plan: &Plan, state: &State) -> (Duration, Duration, usize) {
    let changes: BTreeMap<Address, ResourceChange> = plan
        .changes
        .iter()
        .map(|c| (c.address.clone(), c.clone()))
        .collect();
    let t = Instant::now();
    let steps = steps_for(&changes, state);
    let build = t.elapsed();
    let t = Instant::now();
    let order = Dag::from_deps(steps.iter()).try_order();
    let order_time = t.elapsed();
    let ordered = order.map(|o| o.len()).unwrap_or(0);
    assert_eq!(ordered, steps.len(), "the steps form no cycle");
    (build, order_time, ordered)
}

async fn run(plan: &Plan, state: State, store: &MemoryStore, par: usize) -> (State, Duration) {
    let provider = Arc::new(FakeProvider::new());
    let t = Instant::now();
    let report = apply::apply(
        plan,
        state,
        provider,
        Arc::new(StorePersist {
            store: Arc::new(store.clone()),
        }),
        Arc::new(NullObserver),
        ApplyOptions {
            parallelism: par,
            still_interval: Duration::from_secs(3600),
            cancel: None,
            abandon: None,
        },
    )
    .await;
    let wall = t.elapsed();
    assert!(report.ok(), "walk failed: {:?}", report.failures.first());
    (report.state, wall)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn per(d: Duration, n: usize) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6 / n.max(1) as f64)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    println!(
        "| resources | edges | parallelism | phase | steps_for | Dag order | wall | wall per resource |"
    );
    println!("|---:|---:|---:|---|---:|---:|---:|---:|");
    for n in list("PEDESTAL_BENCH_SIZES", "1000,10000") {
        for par in list("PEDESTAL_BENCH_PARALLELISM", "10") {
            let store = MemoryStore::new("walk", "bench");
            let empty = State::new("walk", "bench");
            store.write(&empty).expect("initial state");
            let state = store.read().expect("read").expect("state");
            let create = create_plan(n);
            let edges: usize = create.changes.iter().map(|c| c.depends_on.len()).sum();
            let (build, order, _) = ordering(&create, &state);
            let (state, wall) = run(&create, state, &store, par).await;
            assert_eq!(state.resources.len(), n);
            println!(
                "| {n} | {edges} | {par} | apply | {} | {} | {} | {} |",
                ms(build),
                ms(order),
                ms(wall),
                per(wall, n)
            );
            let destroy = plans::destroy_plan("walk", &state);
            let (build, order, _) = ordering(&destroy, &state);
            let (state, wall) = run(&destroy, state, &store, par).await;
            assert!(state.resources.is_empty());
            println!(
                "| {n} | {edges} | {par} | destroy | {} | {} | {} | {} |",
                ms(build),
                ms(order),
                ms(wall),
                per(wall, n)
            );
        }
    }
}
