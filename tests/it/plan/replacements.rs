//! Property: every plan the planner emits can be walked and applied. Random stacks of buckets,
//! artifacts in them, clusters and endpoints are planned from empty and applied against the
//! in-memory fake provider, then changed at random (buckets and clusters renamed, artifacts
//! moved between buckets, endpoints moved between clusters or given other artifacts, blocks
//! added and removed) and planned and applied again: the plan's step graph has no cycle and
//! the apply succeeds.

use std::sync::Arc;

use pedestal::plan::{Action, PlanOptions, plan};
use pedestal::provider::fake::FakeProvider;
use pedestal::spec::{self, LoadOptions};
use pedestal::state::State;
use proptest::prelude::*;

use super::world::{Endpoint, World, plan_and_apply, scratch, world};

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_plan_is_acyclic_and_applies(before in world(), after in world()) {
        let (rt, dir) = scratch();
        let fake = Arc::new(FakeProvider::new());
        let state = plan_and_apply(&rt, dir.path(), &before, State::new("pp", "dev"), &fake)?;
        plan_and_apply(&rt, dir.path(), &after, state, &fake)?;
    }
}

/// The case that used to end in "dependency cycle in the plan": a renamed bucket holding an
/// artifact the endpoint serves.
#[test]
fn renaming_the_bucket_of_an_artifact_plans_creates_first() {
    let (rt, dir) = scratch();
    let fake = Arc::new(FakeProvider::new());
    let w = World {
        buckets: vec![0],
        artifacts: vec![0],
        clusters: vec![0],
        endpoints: vec![Endpoint {
            compute: 0,
            artifact: Some(0),
            ..Endpoint::default()
        }],
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

/// Found by the property above: a bucket renamed while the artifact in it moves to a new bucket
/// and another artifact takes its place, served by the endpoint.
#[test]
fn an_artifact_moved_out_of_a_renamed_bucket_while_another_moves_in_plans_and_applies() {
    let (rt, dir) = scratch();
    let fake = Arc::new(FakeProvider::new());
    let endpoint = |artifact| Endpoint {
        compute: 0,
        artifact: Some(artifact),
        ..Endpoint::default()
    };
    let before = World {
        buckets: vec![0],
        artifacts: vec![0],
        clusters: vec![0],
        endpoints: vec![endpoint(0)],
    };
    let after = World {
        buckets: vec![1, 0],
        artifacts: vec![1, 0, 0],
        clusters: vec![0],
        endpoints: vec![endpoint(1)],
    };
    let state = plan_and_apply(&rt, dir.path(), &before, State::new("pp", "dev"), &fake).unwrap();
    plan_and_apply(&rt, dir.path(), &after, state, &fake).unwrap();
}

/// An artifact moved out of a renamed bucket (or removed) while the endpoint that served it
/// moves to a new artifact in that bucket: the old object is deleted only after the endpoint
/// moved on, which needs the bucket's new copy, so the bucket is replaced create-first.
#[test]
fn an_artifact_leaving_a_renamed_bucket_plans_the_bucket_create_first() {
    let serving = |artifact| Endpoint {
        compute: 0,
        artifact,
        ..Endpoint::default()
    };
    let before = World {
        buckets: vec![0, 0],
        artifacts: vec![1],
        clusters: vec![0],
        endpoints: vec![serving(None), serving(Some(0))],
    };
    // a0 moves to s0 / a0 is removed (the new a0 lives in s1); s1 is renamed; e1 serves the
    // artifact now in s1.
    for (artifacts, served) in [(vec![2, 1], 1), (vec![1], 0)] {
        let (rt, dir) = scratch();
        let fake = Arc::new(FakeProvider::new());
        let state =
            plan_and_apply(&rt, dir.path(), &before, State::new("pp", "dev"), &fake).unwrap();
        let after = World {
            buckets: vec![0, 1],
            artifacts,
            clusters: vec![0],
            endpoints: vec![serving(None), serving(Some(served))],
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
