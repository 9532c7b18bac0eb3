//! Property: every plan the planner emits can be walked and applied. Random stacks of buckets,
//! artifacts in them, clusters and endpoints are planned from empty and applied against the
//! in-memory fake provider, then changed at random (buckets and clusters renamed, artifacts
//! moved between buckets, endpoints moved between clusters or given other artifacts, blocks
//! added and removed) and planned and applied again: the plan's step graph has no cycle and
//! the apply succeeds.

use std::sync::Arc;

use pedestal::apply::observer::NullObserver;
use pedestal::apply::{ApplyOptions, NoPersist, apply};
use pedestal::graph::Dag;
use pedestal::plan::{Action, Plan, PlanOptions, plan};
use pedestal::provider::fake::FakeProvider;
use pedestal::spec::{self, LoadOptions};
use pedestal::state::State;
use proptest::prelude::*;

/// One randomly drawn stack: block index → settings.
#[derive(Clone, Debug)]
struct World {
    /// Each storage block's bucket name variant.
    buckets: Vec<u8>,
    /// Each artifact's storage block (an index into `buckets`, taken modulo its length).
    artifacts: Vec<usize>,
    /// Each compute block's cluster name variant.
    clusters: Vec<u8>,
    /// Each endpoint's compute block and artifact, if any (indices taken modulo).
    endpoints: Vec<(usize, Option<usize>)>,
}

fn world() -> impl Strategy<Value = World> {
    (
        prop::collection::vec(0u8..3, 1..=3),
        prop::collection::vec(0usize..3, 0..=3),
        prop::collection::vec(0u8..3, 1..=2),
        prop::collection::vec((0usize..2, prop::option::of(0usize..3)), 0..=2),
    )
        .prop_map(|(buckets, artifacts, clusters, endpoints)| World {
            buckets,
            artifacts,
            clusters,
            endpoints,
        })
}

impl World {
    fn spec(&self) -> String {
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
        for (i, (c, a)) in self.endpoints.iter().enumerate() {
            let c = c % self.clusters.len();
            let artifact = match a {
                Some(a) if !self.artifacts.is_empty() => {
                    format!(
                        ", artifact = \"${{artifact.a{}.uri}}\"",
                        a % self.artifacts.len()
                    )
                }
                _ => String::new(),
            };
            t.push_str(&format!(
                "\n[endpoint.e{i}]\ncompute = \"c{c}\"\nimage = \"repo/e:1\"\nmodel = {{ version = \"1.0.0\"{artifact} }}\n"
            ));
        }
        t
    }
}

/// Plans `w` against `state` (asserting its steps are acyclic) and applies it to `fake`.
fn plan_and_apply(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    w: &World,
    state: State,
    fake: &Arc<FakeProvider>,
) -> Result<State, TestCaseError> {
    std::fs::write(dir.join("pedestal.toml"), w.spec()).unwrap();
    let config = spec::load(dir, &LoadOptions::env("dev"))
        .map_err(|d| TestCaseError::fail(d.render(false, 100)))?;
    let p: Plan = plan(&config, &state, &PlanOptions::default())
        .map_err(|e| TestCaseError::fail(format!("plan refused: {e}\n{}", w.spec())))?;
    let changes = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.clone(), c.clone()))
        .collect();
    let steps = pedestal::apply::walk::steps_for(&changes, &state);
    let dag = Dag::from_deps(steps.iter());
    prop_assert!(
        dag.try_order().is_ok(),
        "the steps of this plan have a cycle: {:?}\n{}",
        dag.cycle_members(),
        w.spec()
    );
    let report = rt.block_on(apply(
        &p,
        state,
        fake.clone(),
        Arc::new(NoPersist),
        Arc::new(NullObserver),
        ApplyOptions::default(),
    ));
    prop_assert!(
        report.ok(),
        "apply failed: {:?}\n{}",
        report.failures,
        w.spec()
    );
    Ok(report.state)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_plan_is_acyclic_and_applies(before in world(), after in world()) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model.bin"), "weights").unwrap();
        let fake = Arc::new(FakeProvider::new());
        let state = plan_and_apply(&rt, dir.path(), &before, State::new("pp", "dev"), &fake)?;
        plan_and_apply(&rt, dir.path(), &after, state, &fake)?;
    }
}

/// The case that used to end in "dependency cycle in the plan": a renamed bucket holding an
/// artifact the endpoint serves.
#[test]
fn renaming_the_bucket_of_an_artifact_plans_creates_first() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.bin"), "weights").unwrap();
    let fake = Arc::new(FakeProvider::new());
    let w = World {
        buckets: vec![0],
        artifacts: vec![0],
        clusters: vec![0],
        endpoints: vec![(0, Some(0))],
    };
    let state = plan_and_apply(&rt, dir.path(), &w, State::new("pp", "dev"), &fake).unwrap();
    let renamed = World {
        buckets: vec![1],
        ..w
    };
    std::fs::write(dir.path().join("pedestal.toml"), renamed.spec()).unwrap();
    let config = spec::load(dir.path(), &LoadOptions::env("dev")).unwrap();
    let p = plan(&config, &state, &PlanOptions::default()).unwrap();
    let action = |a: &str| {
        p.changes
            .iter()
            .find(|c| c.address.as_str() == a)
            .map(|c| c.action)
    };
    assert_eq!(action("storage.s0.bucket"), Some(Action::CreateThenDelete));
    assert_eq!(action("artifact.a0.object"), Some(Action::CreateThenDelete));
    plan_and_apply(&rt, dir.path(), &renamed, state, &fake).unwrap();
}

/// An artifact moved out of a renamed bucket (or removed) while the endpoint that served it
/// moves to a new artifact in that bucket: the old object is deleted only after the endpoint
/// moved on, which needs the bucket's new copy, so the bucket is replaced create-first.
#[test]
fn an_artifact_leaving_a_renamed_bucket_plans_the_bucket_create_first() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let before = World {
        buckets: vec![0, 0],
        artifacts: vec![1],
        clusters: vec![0],
        endpoints: vec![(0, None), (0, Some(0))],
    };
    // a0 moves to s0 / a0 is removed (the new a0 lives in s1); s1 is renamed; e1 serves the
    // artifact now in s1.
    for (artifacts, served) in [(vec![2, 1], 1), (vec![1], 0)] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model.bin"), "weights").unwrap();
        let fake = Arc::new(FakeProvider::new());
        let state =
            plan_and_apply(&rt, dir.path(), &before, State::new("pp", "dev"), &fake).unwrap();
        let after = World {
            buckets: vec![0, 1],
            artifacts,
            clusters: vec![0],
            endpoints: vec![(0, None), (0, Some(served))],
        };
        std::fs::write(dir.path().join("pedestal.toml"), after.spec()).unwrap();
        let config = spec::load(dir.path(), &LoadOptions::env("dev")).unwrap();
        let p = plan(&config, &state, &PlanOptions::default()).unwrap();
        let bucket = p
            .changes
            .iter()
            .find(|c| c.address.as_str() == "storage.s1.bucket")
            .map(|c| c.action);
        assert_eq!(bucket, Some(Action::CreateThenDelete), "{after:?}");
        plan_and_apply(&rt, dir.path(), &after, state, &fake).unwrap();
    }
}
