//! Randomly drawn stacks for the planner's property tests: buckets, artifacts in them, clusters
//! and endpoints (with a model version, replicas, autoscaling, alarms and log retention drawn at
//! random), written as `pedestal.toml` text and loaded through `spec::load`, then planned and
//! applied against the in-memory fake provider.

use std::sync::Arc;

use pedestal::apply::observer::NullObserver;
use pedestal::apply::{ApplyOptions, NoPersist, apply};
use pedestal::graph::Dag;
use pedestal::plan::{Action, Plan, PlanOptions, plan};
use pedestal::provider::fake::FakeProvider;
use pedestal::spec::{self, Config, LoadOptions};
use pedestal::state::State;
use proptest::prelude::*;

/// One endpoint of a [`World`].
#[derive(Clone, Debug, Default)]
pub struct Endpoint {
    /// Its compute block (an index into `clusters`, taken modulo its length).
    pub compute: usize,
    /// Its artifact, if any (an index into `artifacts`, taken modulo its length).
    pub artifact: Option<usize>,
    /// The model version's minor number.
    pub version: u8,
    /// Replicas (`0` writes none: the default).
    pub replicas: u8,
    /// Autoscaling between 1 and 3 tasks.
    pub autoscaling: bool,
    /// A CPU alarm at this threshold.
    pub alarm: Option<u8>,
    /// Log retention in days, when set.
    pub retention: Option<u16>,
}

/// One randomly drawn stack: block index → settings.
#[derive(Clone, Debug)]
pub struct World {
    /// Each storage block's bucket name variant.
    pub buckets: Vec<u8>,
    /// Each artifact's storage block (an index into `buckets`, taken modulo its length).
    pub artifacts: Vec<usize>,
    /// Each compute block's cluster name variant.
    pub clusters: Vec<u8>,
    /// The endpoints.
    pub endpoints: Vec<Endpoint>,
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    (
        (0usize..2, prop::option::of(0usize..3)),
        (0u8..3, 0u8..3, any::<bool>()),
        (
            prop::option::of(50u8..95),
            prop::option::of(prop::sample::select(vec![1u16, 7, 30])),
        ),
    )
        .prop_map(
            |((compute, artifact), (version, replicas, autoscaling), (alarm, retention))| {
                Endpoint {
                    compute,
                    artifact,
                    version,
                    replicas,
                    autoscaling,
                    alarm,
                    retention,
                }
            },
        )
}

/// A random [`World`]: one to three buckets, up to three artifacts, one or two clusters, up to
/// two endpoints.
pub fn world() -> impl Strategy<Value = World> {
    (
        prop::collection::vec(0u8..3, 1..=3),
        prop::collection::vec(0usize..3, 0..=3),
        prop::collection::vec(0u8..3, 1..=2),
        prop::collection::vec(endpoint(), 0..=2),
    )
        .prop_map(|(buckets, artifacts, clusters, endpoints)| World {
            buckets,
            artifacts,
            clusters,
            endpoints,
        })
}

impl Endpoint {
    fn block(&self, i: usize, w: &World) -> String {
        let c = self.compute % w.clusters.len();
        let artifact = match self.artifact {
            Some(a) if !w.artifacts.is_empty() => {
                format!(
                    ", artifact = \"${{artifact.a{}.uri}}\"",
                    a % w.artifacts.len()
                )
            }
            _ => String::new(),
        };
        let mut t = format!(
            "\n[endpoint.e{i}]\ncompute = \"c{c}\"\nimage = \"repo/e:1\"\nmodel = {{ version = \"1.{}.0\"{artifact} }}\n",
            self.version
        );
        if self.replicas > 0 {
            t.push_str(&format!("replicas = {}\n", self.replicas));
        }
        if self.autoscaling {
            t.push_str("autoscaling = { min = 1, max = 3, target_cpu = 60 }\n");
        }
        if let Some(cpu) = self.alarm {
            t.push_str(&format!("alarms = {{ cpu_high = {cpu} }}\n"));
        }
        if let Some(days) = self.retention {
            t.push_str(&format!("logs = {{ retention_days = {days} }}\n"));
        }
        t
    }
}

impl World {
    /// The stack as `pedestal.toml` text.
    pub fn spec(&self) -> String {
        let mut t = String::from(
            "[stack]\nname = \"pp\"\n\n[provider.aws]\nnetwork = { subnets = [\"subnet-1\"], security_groups = [\"sg-1\"] }\n",
        );
        for (i, v) in self.buckets.iter().enumerate() {
            t.push_str(&format!(
                "\n[storage.s{i}]\nbucket = \"pp-s{i}-v{v}\"\nforce_destroy = true\n"
            ));
        }
        for (i, s) in self.artifacts.iter().enumerate() {
            let s = s % self.buckets.len();
            t.push_str(&format!(
                "\n[artifact.a{i}]\nstorage = \"s{s}\"\nsource = \"model.bin\"\n"
            ));
        }
        for (i, v) in self.clusters.iter().enumerate() {
            t.push_str(&format!("\n[compute.c{i}]\nname = \"pp-c{i}-v{v}\"\n"));
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            t.push_str(&e.block(i, self));
        }
        t
    }

    /// Writes the spec into `dir` and loads it.
    pub fn load(&self, dir: &std::path::Path) -> Result<Config, TestCaseError> {
        std::fs::write(dir.join("pedestal.toml"), self.spec()).unwrap();
        spec::load(dir, &LoadOptions::env("dev"))
            .map_err(|d| TestCaseError::fail(format!("{}\n{}", d.render(false, 100), self.spec())))
    }
}

/// Plans `config` against `state` with `opts`, asserting the plan's steps are acyclic.
pub fn plan_checked(
    config: &Config,
    state: &State,
    opts: &PlanOptions,
) -> Result<Plan, TestCaseError> {
    let p: Plan =
        plan(config, state, opts).map_err(|e| TestCaseError::fail(format!("plan refused: {e}")))?;
    let changes = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.clone(), c.clone()))
        .collect();
    let steps = pedestal::apply::walk::steps_for(&changes, state);
    let dag = Dag::from_deps(steps.iter());
    prop_assert!(
        dag.try_order().is_ok(),
        "the steps of this plan have a cycle: {:?}",
        dag.cycle_members()
    );
    Ok(p)
}

/// Applies `p` to `state` against `fake`, asserting the apply succeeds.
pub fn apply_plan(
    rt: &tokio::runtime::Runtime,
    p: &Plan,
    state: State,
    fake: &Arc<FakeProvider>,
) -> Result<State, TestCaseError> {
    let report = rt.block_on(apply(
        p,
        state,
        fake.clone(),
        Arc::new(NoPersist),
        Arc::new(NullObserver),
        ApplyOptions::default(),
    ));
    prop_assert!(report.ok(), "apply failed: {:?}", report.failures);
    Ok(report.state)
}

/// Plans `w` against `state` (asserting its steps are acyclic) and applies it to `fake`.
pub fn plan_and_apply(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    w: &World,
    state: State,
    fake: &Arc<FakeProvider>,
) -> Result<State, TestCaseError> {
    let config = w.load(dir)?;
    let p = plan_checked(&config, &state, &PlanOptions::default())
        .map_err(|e| TestCaseError::fail(format!("{e}\n{}", w.spec())))?;
    apply_plan(rt, &p, state, fake).map_err(|e| TestCaseError::fail(format!("{e}\n{}", w.spec())))
}

/// A current-thread runtime and a scratch directory holding the artifact `model.bin`.
pub fn scratch() -> (tokio::runtime::Runtime, tempfile::TempDir) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.bin"), "weights").unwrap();
    (rt, dir)
}
