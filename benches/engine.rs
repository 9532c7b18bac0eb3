//! Apply engine overhead: apply, destroy and refresh of many resources through the real
//! applier (`apply::apply`) and refresh (`ops::refresh::refresh_with`) against the in-memory
//! fake provider and the in-memory state store, at zero latency and with a fixed latency per
//! API call. Each row prints the wall time measured, and, with latency, the bound no scheduler
//! can beat and the ratio measured / bound:
//!
//! - apply and destroy: max(critical path × calls per step × latency, calls × latency /
//!   parallelism), where the critical path is the longest chain of steps in the walk's own
//!   graph (`walk::critical_path` over `walk::steps_for`) and the calls are the fake's counters
//!   (a create is a find and a create: 2 calls; a delete 1); plus, before the walk, the
//!   ownership check's reads × latency / parallelism (a destroy reads every resource's tags);
//! - refresh: describe calls × latency / read concurrency, the calls being the batches the fake
//!   answered (DescribeServices by 10, DescribeClusters and DescribeAlarms by 100, as the AWS
//!   provider batches them) and the concurrency refresh's own (`refresh::READ_CONCURRENCY`).
//!
//! Shapes: `chain` is a dependency web whose every resource depends on the one before it and
//! on the one at half its index (a chain of N steps: the bound is all latency, so it runs at
//! zero latency only); `layers` is release-shaped: one cluster, a tenth of the resources
//! depending on it, the rest each depending on the cluster and on one of that tenth (3 deep);
//! `flat` has no edges. Refresh reads a release-shaped state: 100 clusters,
//! services spread over them, one alarm per ten services.
//!
//! Run through `scripts/bench-engine`, or `cargo bench --bench engine`. Environment:
//! `PEDESTAL_BENCH_SIZE` (default 10000), `PEDESTAL_BENCH_LATENCY_MS` (default 20),
//! `PEDESTAL_BENCH_PARALLELISM` (parallelism of the latency runs, default `100`; the zero
//! latency runs use the default, 10), `PEDESTAL_BENCH_SMALL` (size of an extra latency run at
//! the default parallelism, default 1000; 0 skips it).

// A benchmark reports on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/plans.rs"]
mod plans;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pedestal::addr::Address;
use pedestal::apply::walk::{critical_path, steps_for};
use pedestal::apply::{self, ApplyOptions, NullObserver, StorePersist};
use pedestal::ops::refresh::{READ_CONCURRENCY, refresh_with};
use pedestal::plan::{Action, Plan, PlanMode, ResourceChange};
use pedestal::provider::Provider;
use pedestal::provider::fake::{FakeProvider, Op};
use pedestal::resource::schema::{cloudwatch_alarm, ecs_cluster, ecs_service, log_group};
use pedestal::resource::{Attrs, Lifecycle, ResourceKind, Value};
use pedestal::state::{MemoryStore, ResourceState, State, StateStore, Status};

/// The parallelism `pedestal apply` uses unless told otherwise.
const DEFAULT_PARALLELISM: usize = 10;

fn env_usize(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

fn address(i: usize) -> Address {
    Address::new(format!("endpoint.e{i:05}.log_group"))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    Chain,
    Layers,
    Flat,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Chain => "chain",
            Shape::Layers => "layers",
            Shape::Flat => "flat",
        }
    }

    fn deps(self, i: usize, n: usize) -> BTreeSet<Address> {
        let idx: Vec<usize> = match (self, i) {
            (_, 0) | (Shape::Flat, _) => vec![],
            (Shape::Chain, _) => vec![i - 1, i / 2],
            (Shape::Layers, _) if i <= n / 10 => vec![0],
            (Shape::Layers, _) => vec![0, 1 + i % (n / 10).max(1)],
        };
        idx.into_iter().filter(|&d| d != i).map(address).collect()
    }
}

/// Creates of `n` log groups in `shape`.
fn create_plan(n: usize, shape: Shape) -> Plan {
    let changes = (0..n)
        .map(|i| {
            let mut attrs = Attrs::new();
            attrs.insert(
                log_group::Attr::Name.into(),
                Value::str(format!("/bench/engine/{i:05}")),
            );
            ResourceChange {
                address: address(i),
                kind: ResourceKind::LogGroup,
                action: Action::Create,
                reason: None,
                before: None,
                after: Some(attrs),
                replace_paths: vec![],
                id: None,
                depends_on: shape.deps(i, n).into(),
                lifecycle: Lifecycle::default(),
            }
        })
        .collect();
    plans::wrap("engine", changes, PlanMode::Normal)
}

/// One measured row.
struct Row {
    shape: &'static str,
    n: usize,
    parallelism: usize,
    latency: Duration,
    phase: &'static str,
    calls: u64,
    /// Steps on the critical path (`None`: not a walk).
    critical: Option<usize>,
    bound: Duration,
    wall: Duration,
}

impl Row {
    fn print(&self) {
        let secs = |d: Duration| format!("{:.3} s", d.as_secs_f64());
        let (bound, ratio) = if self.latency.is_zero() {
            ("—".to_string(), "—".to_string())
        } else {
            (
                secs(self.bound),
                format!("{:.2}×", self.wall.as_secs_f64() / self.bound.as_secs_f64()),
            )
        };
        println!(
            "| {} | {} | {} | {} ms | {} | {} | {} | {} | {} | {} |",
            self.shape,
            self.n,
            self.parallelism,
            self.latency.as_millis(),
            self.phase,
            self.calls,
            self.critical.map_or("—".into(), |c| c.to_string()),
            bound,
            secs(self.wall),
            ratio
        );
    }
}

/// The least time a walk of `steps` steps, `critical` of them in a chain, making `calls`
/// calls of `latency` each (spread evenly over the steps), can take at `parallelism`.
fn walk_bound(
    steps: usize,
    critical: usize,
    calls: u64,
    latency: Duration,
    parallelism: usize,
) -> Duration {
    let per_step = calls as f64 / steps.max(1) as f64;
    let chain = latency.as_secs_f64() * per_step * critical as f64;
    let width = latency.as_secs_f64() * calls as f64 / parallelism.max(1) as f64;
    Duration::from_secs_f64(chain.max(width))
}

/// What one run of the applier did.
struct Walked {
    state: State,
    wall: Duration,
    /// Provider calls, reads of the ownership check included.
    calls: u64,
    /// Reads of the ownership check (before the walk).
    reads: u64,
    steps: usize,
    critical: usize,
}

impl Walked {
    /// The least time the run could take: the ownership check's reads over the parallelism,
    /// then the walk's bound.
    fn bound(&self, latency: Duration, parallelism: usize) -> Duration {
        let reads = latency.as_secs_f64() * self.reads as f64 / parallelism.max(1) as f64;
        Duration::from_secs_f64(reads)
            + walk_bound(
                self.steps,
                self.critical,
                self.calls - self.reads,
                latency,
                parallelism,
            )
    }
}

/// Applies `plan` to `state` through the applier.
async fn walk(
    plan: &Plan,
    state: State,
    store: &MemoryStore,
    fake: &Arc<FakeProvider>,
    parallelism: usize,
) -> Walked {
    let changes: BTreeMap<Address, ResourceChange> = plan
        .changes
        .iter()
        .map(|c| (c.address.clone(), c.clone()))
        .collect();
    let steps = steps_for(&changes, &state);
    let critical = critical_path(&steps);
    let (calls0, reads0) = (fake.api_calls(), fake.count(Op::Read));
    let t = Instant::now();
    let report = apply::apply(
        plan,
        state,
        fake.clone(),
        Arc::new(StorePersist {
            store: Arc::new(store.clone()),
        }),
        Arc::new(NullObserver),
        ApplyOptions {
            parallelism,
            still_interval: Duration::from_secs(3600),
            cancel: None,
            abandon: None,
        },
    )
    .await;
    let wall = t.elapsed();
    assert!(report.ok(), "walk failed: {:?}", report.failures.first());
    Walked {
        state: report.state,
        wall,
        calls: fake.api_calls() - calls0,
        reads: fake.count(Op::Read) - reads0,
        steps: steps.len(),
        critical,
    }
}

/// Applies then destroys `n` resources of `shape`; one row per phase.
async fn apply_destroy(shape: Shape, n: usize, parallelism: usize, latency: Duration) -> [Row; 2] {
    let store = MemoryStore::new("engine", "bench");
    store
        .write(&State::new("engine", "bench"))
        .expect("initial state");
    let state = store.read().expect("read").expect("state");
    let fake = Arc::new(FakeProvider::new().with_delay(latency));
    let row = |phase, w: &Walked| Row {
        shape: shape.name(),
        n,
        parallelism,
        latency,
        phase,
        calls: w.calls,
        critical: Some(w.critical),
        bound: w.bound(latency, parallelism),
        wall: w.wall,
    };
    let applied = walk(&create_plan(n, shape), state, &store, &fake, parallelism).await;
    assert_eq!(applied.state.resources.len(), n);
    let destroy = plans::destroy_plan("engine", &applied.state);
    let apply_row = row("apply", &applied);
    let destroyed = walk(&destroy, applied.state, &store, &fake, parallelism).await;
    assert!(destroyed.state.resources.is_empty() && fake.objects().is_empty());
    [apply_row, row("destroy", &destroyed)]
}

/// A release-shaped recorded state of `n` resources, and the same objects in the fake: 100
/// clusters, one alarm per ten services, the rest services spread over the clusters.
fn release_state(n: usize, fake: &FakeProvider) -> State {
    let clusters = 100.min(n);
    let alarms = (n - clusters) / 11;
    let mut state = State::new("engine", "bench");
    let mut record = |i: usize, kind: ResourceKind, attrs: Attrs| {
        let name = attrs[kind.schema().name_attr]
            .as_str()
            .expect("a name")
            .to_string();
        let id = fake.insert(kind, &name, attrs.clone());
        state.resources.insert(
            Address::new(format!("endpoint.e{i:05}.{kind}")),
            ResourceState {
                kind,
                id,
                attrs,
                dependencies: Default::default(),
                status: Status::Ok,
            },
        );
    };
    let named = |attr: &str, name: String| -> Attrs {
        [(pedestal::resource::Key::intern(attr), Value::str(name))].into()
    };
    for i in 0..n {
        if i < clusters {
            let attrs = named(ecs_cluster::Attr::Name.as_str(), format!("c{i:03}"));
            record(i, ResourceKind::EcsCluster, attrs);
        } else if i < clusters + alarms {
            let attrs = named(
                cloudwatch_alarm::Attr::Name.as_str(),
                format!("alarm{i:05}"),
            );
            record(i, ResourceKind::CloudwatchAlarm, attrs);
        } else {
            let mut attrs = named(ecs_service::Attr::Name.as_str(), format!("svc{i:05}"));
            attrs.insert(
                ecs_service::Attr::Cluster.into(),
                Value::str(format!("c{:03}", i % clusters.max(1))),
            );
            record(i, ResourceKind::EcsService, attrs);
        }
    }
    state
}

/// Refreshes a release-shaped state of `n` resources.
async fn refresh(n: usize, latency: Duration) -> Row {
    let fake = FakeProvider::new().with_delay(latency);
    let state = release_state(n, &fake);
    let reads0 = fake.count(Op::Read);
    let t = Instant::now();
    let refreshed = refresh_with(&fake, &state).await.expect("refresh");
    let wall = t.elapsed();
    assert!(
        refreshed.drift.is_empty(),
        "nothing changed behind its back"
    );
    let calls = fake.count(Op::Read) - reads0;
    assert_eq!(calls, fake.api_calls(), "refresh only reads");
    Row {
        shape: "release",
        n,
        parallelism: READ_CONCURRENCY,
        latency,
        phase: "refresh",
        calls,
        critical: None,
        bound: Duration::from_secs_f64(
            latency.as_secs_f64() * calls as f64 / READ_CONCURRENCY as f64,
        ),
        wall,
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n = env_usize("PEDESTAL_BENCH_SIZE", 10_000);
    let latency = Duration::from_millis(env_usize("PEDESTAL_BENCH_LATENCY_MS", 20) as u64);
    let parallelism = env_usize("PEDESTAL_BENCH_PARALLELISM", 100);
    let small = env_usize("PEDESTAL_BENCH_SMALL", 1_000);
    println!(
        "| shape | resources | parallelism | latency | phase | API calls | critical path (steps) | bound | measured | measured / bound |"
    );
    println!("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|");
    let mut runs = vec![
        (Shape::Chain, n, DEFAULT_PARALLELISM, Duration::ZERO),
        (Shape::Flat, n, DEFAULT_PARALLELISM, Duration::ZERO),
    ];
    if !latency.is_zero() {
        runs.push((Shape::Layers, n, parallelism, latency));
        runs.push((Shape::Flat, n, parallelism, latency));
        if small > 0 {
            runs.push((Shape::Layers, small, DEFAULT_PARALLELISM, latency));
        }
    }
    for (shape, n, par, latency) in runs {
        for row in apply_destroy(shape, n, par, latency).await {
            row.print();
        }
    }
    refresh(n, Duration::ZERO).await.print();
    if !latency.is_zero() {
        refresh(n, latency).await.print();
    }
}
