//! The planner's decisions: actions, reasons, unknown propagation, targets, lifecycle, order —
//! on specs loaded through `spec::load` (see `fixture.rs`), changed by editing their text.

use pedestal::plan::{Action, PlanError, PlanMode, PlanOptions, Reason, plan};
use pedestal::resource::Value;
use pedestal::state::{State, Status};

use super::fixture::{self, Endpoint, Spec, addr};

fn fraud() -> Endpoint {
    Endpoint::new("fraud")
}

fn action_of(p: &pedestal::plan::Plan, a: &str) -> Action {
    p.changes
        .iter()
        .find(|c| c.address.as_str() == a)
        .unwrap_or_else(|| panic!("{a} not in plan"))
        .action
}

#[test]
fn create_all_in_dependency_order() {
    let config = fixture::config(&[fraud()]);
    let p = plan(
        &config,
        &State::new(fixture::STACK, fixture::ENV),
        &PlanOptions::default(),
    )
    .unwrap();
    assert!(p.changes.iter().all(|c| c.action == Action::Create));
    let order: Vec<&str> = p.changes.iter().map(|c| c.address.as_str()).collect();
    let pos = |a: &str| order.iter().position(|x| *x == a).unwrap();
    assert!(pos("storage.models.bucket") < pos("artifact.fraud_model.object"));
    assert!(pos("artifact.fraud_model.object") < pos("endpoint.fraud.task_definition"));
    assert!(pos("endpoint.fraud.task_definition") < pos("endpoint.fraud.service"));
    assert!(pos("endpoint.fraud.service") < pos("endpoint.fraud.scaling"));
    // The fixture names an execution role; the task role reading the artifact is made here.
    assert!(pos("endpoint.fraud.task_role") < pos("endpoint.fraud.task_definition"));
    assert!(!order.contains(&"endpoint.fraud.execution_role"));
    let svc = &p.changes[pos("endpoint.fraud.service")];
    let after = svc.after.as_ref().unwrap();
    assert!(after["task_definition"].is_unknown());
    assert!(
        after["arn"].is_unknown(),
        "computed attributes are unknown on create"
    );
    assert_eq!(p.prior_state.lineage, None, "no persisted state yet");
    let s = p.summary();
    // bucket, cluster, object, log group, task role, task definition, service, scaling.
    assert_eq!((s.add, s.change, s.destroy), (8, 0, 0));
    assert_eq!(p.releases.len(), 1);
    assert_eq!(p.releases[0].version_before, None);
    assert_eq!(p.releases[0].version_after.as_deref(), Some("1.3.0"));
}

#[test]
fn unchanged_spec_plans_no_ops_with_references_resolved() {
    let config = fixture::config(&[fraud()]);
    let state = fixture::applied(&config, 3);
    let p = plan(&config, &state, &PlanOptions::default()).unwrap();
    for c in &p.changes {
        assert_eq!(c.action, Action::NoOp, "{} should be a no-op", c.address);
    }
    assert!(!p.has_changes());
    assert_eq!(p.prior_state.serial, 7);
    assert_eq!(
        p.prior_state.lineage.as_deref(),
        Some(state.lineage.as_str())
    );
    let svc = p
        .changes
        .iter()
        .find(|c| c.address.as_str() == "endpoint.fraud.service")
        .unwrap();
    assert_eq!(
        svc.after.as_ref().unwrap()["task_definition"],
        state.resources[&addr("endpoint.fraud.task_definition")].attrs["arn"],
        "a reference to an unchanged resource resolves from state"
    );
}

#[test]
fn model_release_registers_a_new_revision_and_updates_the_service() {
    let old = fixture::config(&[fraud()]);
    let state = fixture::applied(&old, 3);
    let mut e = fraud();
    e.version = "1.4.0".into();
    e.artifact = "1.4.0".into();
    e.image_tag = "2.5.0".into();
    let config = fixture::config(&[e]);
    let p = plan(&config, &state, &PlanOptions::default()).unwrap();

    let td = p
        .changes
        .iter()
        .find(|c| c.address.as_str() == "endpoint.fraud.task_definition")
        .unwrap();
    assert_eq!(td.action, Action::Update);
    assert_eq!(td.reason, Some(Reason::NewRevision));
    assert!(td.after.as_ref().unwrap()["arn"].is_unknown());
    // A new artifact is a new object beside the old one (kept for rollback), not a replacement.
    assert_eq!(action_of(&p, "artifact.fraud_model.object"), Action::Update);
    let svc = p
        .changes
        .iter()
        .find(|c| c.address.as_str() == "endpoint.fraud.service")
        .unwrap();
    assert_eq!(svc.action, Action::Update);
    assert!(svc.after.as_ref().unwrap()["task_definition"].is_unknown());
    assert_eq!(action_of(&p, "endpoint.fraud.scaling"), Action::NoOp);
    assert_eq!(action_of(&p, "compute.serving.cluster"), Action::NoOp);

    let r = &p.releases[0];
    assert_eq!(r.endpoint, "endpoint.fraud");
    assert_eq!(r.version_before.as_deref(), Some("1.3.0"));
    assert_eq!(r.version_after.as_deref(), Some("1.4.0"));
    assert_ne!(r.artifact_sha256_before, r.artifact_sha256_after);
    assert!(r.image_after.as_deref().unwrap().ends_with(":2.5.0"));
}

/// The storage block's S3 lifecycle rules in the fixture; a storage block's `lifecycle` is
/// either those rules or the lifecycle meta-argument table.
const BUCKET_RULES: &str = "lifecycle = [{ noncurrent_days = 30 }]";

/// The bucket renamed in the spec, with `lifecycle` (a meta-argument table) when given.
fn renamed_bucket(lifecycle: Option<&str>) -> pedestal::spec::Config {
    let spec = Spec::new(&[fraud()]).replace(
        "[storage.models]\n",
        "[storage.models]\nbucket = \"fraud-detection-prod-models-v2\"\n",
    );
    match lifecycle {
        Some(table) => spec.replace(BUCKET_RULES, &format!("lifecycle = {table}")),
        None => spec,
    }
    .load()
}

#[test]
fn force_new_attribute_replaces_in_the_kind_order() {
    let state = fixture::applied(&fixture::config(&[fraud()]), 3);
    let config = renamed_bucket(None);
    let p = plan(&config, &state, &PlanOptions::default()).unwrap();
    let c = p
        .changes
        .iter()
        .find(|c| c.address.as_str() == "storage.models.bucket")
        .unwrap();
    // Renamed, and under a create-first artifact replacement: the new bucket is made first.
    assert_eq!(c.action, Action::CreateThenDelete);
    assert_eq!(c.replace_paths, vec!["bucket".to_string()]);
    assert_eq!(
        c.reason,
        Some(Reason::ForcedBy {
            attrs: vec!["bucket".into()]
        })
    );

    // The artifact lives in the bucket: a new object in the new bucket, and a new revision
    // serving it.
    assert!(action_of(&p, "artifact.fraud_model.object").is_replace());
    assert_eq!(
        action_of(&p, "endpoint.fraud.task_definition"),
        Action::Update
    );

    // A renamed cluster is destroyed first; create_before_destroy flips the order.
    let renamed_cluster = |lifecycle: &str| {
        Spec::new(&[fraud()])
            .replace(
                "[compute.serving]\n",
                &format!(
                    "[compute.serving]\nname = \"fraud-detection-prod-serving-v2\"\n{lifecycle}"
                ),
            )
            .load()
    };
    let p = plan(&renamed_cluster(""), &state, &PlanOptions::default()).unwrap();
    assert_eq!(
        action_of(&p, "compute.serving.cluster"),
        Action::DeleteThenCreate
    );
    let p = plan(
        &renamed_cluster("lifecycle = { create_before_destroy = true }\n"),
        &state,
        &PlanOptions::default(),
    )
    .unwrap();
    assert_eq!(
        action_of(&p, "compute.serving.cluster"),
        Action::CreateThenDelete
    );
}

#[test]
fn orphans_are_deleted_with_recorded_dependencies() {
    let both = fixture::config(&[fraud(), Endpoint::new("churn")]);
    let state = fixture::applied(&both, 1);
    let config = fixture::config(&[fraud()]);
    let p = plan(&config, &state, &PlanOptions::default()).unwrap();
    let gone: Vec<&str> = p
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.address.as_str())
        .collect();
    // The churn endpoint's object, log group, task role, task definition, service, scaling.
    assert_eq!(gone.len(), 6, "{gone:?}");
    for c in p.changes.iter().filter(|c| c.action == Action::Delete) {
        assert_eq!(c.reason, Some(Reason::NotInSpec));
    }
    let svc = p
        .changes
        .iter()
        .find(|c| c.address.as_str() == "endpoint.churn.service")
        .unwrap();
    assert!(
        svc.depends_on
            .contains(&addr("endpoint.churn.task_definition"))
    );
    assert_eq!(p.outputs["churn_service"].after, None);
}

#[test]
fn destroy_deletes_everything_in_reverse_order() {
    let config = fixture::config(&[fraud()]);
    let state = fixture::applied(&config, 1);
    let opts = PlanOptions {
        mode: PlanMode::Destroy,
        ..Default::default()
    };
    let p = plan(&config, &state, &opts).unwrap();
    assert_eq!(p.changes.len(), 8);
    assert!(
        p.changes
            .iter()
            .all(|c| c.action == Action::Delete && c.reason == Some(Reason::DestroyRequested))
    );
    let order: Vec<&str> = p.changes.iter().map(|c| c.address.as_str()).collect();
    let pos = |a: &str| order.iter().position(|x| *x == a).unwrap();
    assert!(pos("endpoint.fraud.scaling") < pos("endpoint.fraud.service"));
    assert!(pos("endpoint.fraud.service") < pos("compute.serving.cluster"));
    assert!(pos("artifact.fraud_model.object") < pos("storage.models.bucket"));
}

#[test]
fn prevent_destroy_fails_the_plan_naming_the_resource() {
    let config = Spec::new(&[fraud()])
        .replace(BUCKET_RULES, "lifecycle = { prevent_destroy = true }")
        .load();
    let state = fixture::applied(&config, 1);
    let opts = PlanOptions {
        mode: PlanMode::Destroy,
        ..Default::default()
    };
    let err = plan(&config, &state, &opts).unwrap_err();
    assert!(matches!(err, PlanError::PreventDestroy { .. }));
    assert!(err.to_string().contains("storage.models.bucket"), "{err}");
    let opts = PlanOptions {
        replace: vec!["storage.models.bucket".into()],
        ..Default::default()
    };
    assert!(plan(&config, &state, &opts).is_err());
}

#[test]
fn ignore_changes_keeps_the_recorded_value() {
    let config = fixture::config(&[fraud()]);
    let state = fixture::applied(&config, 1);
    let mut e = fraud();
    e.max = 20;
    let changed = Spec::new(&[e]);
    let p = plan(&changed.clone().load(), &state, &PlanOptions::default()).unwrap();
    assert_eq!(action_of(&p, "endpoint.fraud.scaling"), Action::Update);
    let ignoring = changed
        .replace(
            "autoscaling = {",
            "lifecycle = { ignore_changes = [\"autoscaling\"] }\nautoscaling = {",
        )
        .load();
    let p = plan(&ignoring, &state, &PlanOptions::default()).unwrap();
    assert_eq!(action_of(&p, "endpoint.fraud.scaling"), Action::NoOp);
    assert!(!p.has_changes());
}

#[test]
fn tainted_and_requested_replacements() {
    let config = fixture::config(&[fraud()]);
    let mut state = fixture::applied(&config, 1);
    state
        .resources
        .get_mut(&addr("compute.serving.cluster"))
        .unwrap()
        .status = Status::Tainted;
    let p = plan(&config, &state, &PlanOptions::default()).unwrap();
    let c = p
        .changes
        .iter()
        .find(|c| c.address.as_str() == "compute.serving.cluster")
        .unwrap();
    assert_eq!(
        (c.action, c.reason.clone()),
        (Action::DeleteThenCreate, Some(Reason::Tainted))
    );
    // The service's cluster names the replaced cluster: it is replaced too (ECS deletes no
    // cluster with services in it).
    let svc = p
        .changes
        .iter()
        .find(|c| c.address.as_str() == "endpoint.fraud.service")
        .unwrap();
    assert_eq!(
        (svc.action, svc.reason.clone()),
        (
            Action::DeleteThenCreate,
            Some(Reason::DependencyReplaced {
                address: addr("compute.serving.cluster"),
                attrs: vec!["cluster".into()]
            })
        )
    );

    let state = fixture::applied(&config, 1);
    let opts = PlanOptions {
        replace: vec!["endpoint.fraud.log_group".into()],
        ..Default::default()
    };
    let p = plan(&config, &state, &opts).unwrap();
    let c = p
        .changes
        .iter()
        .find(|c| c.address.as_str() == "endpoint.fraud.log_group")
        .unwrap();
    assert_eq!(c.reason, Some(Reason::ReplaceRequested));
    let opts = PlanOptions {
        replace: vec!["endpoint.frud.log_group".into()],
        ..Default::default()
    };
    let err = plan(&config, &state, &opts).unwrap_err();
    assert!(
        err.to_string()
            .contains("did you mean `endpoint.fraud.log_group`"),
        "{err}"
    );
}

/// `--replace` of the cluster a real spec declares: the cluster and every service that runs in
/// it are replaced; nothing else is.
#[test]
fn replacing_a_real_cluster_replaces_the_services_in_it() {
    let config = fixture::config(&[fraud(), Endpoint::new("churn")]);
    let state = fixture::applied(&config, 1);
    let p = plan(
        &config,
        &state,
        &PlanOptions {
            replace: vec!["compute.serving.cluster".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let mut replaced: Vec<(&str, Option<Reason>)> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| {
            assert_eq!(c.action, Action::DeleteThenCreate, "{}", c.address);
            (c.address.as_str(), c.reason.clone())
        })
        .collect();
    replaced.sort_by(|a, b| a.0.cmp(b.0));
    let by = |a: &str, attrs: &[&str]| {
        Some(Reason::DependencyReplaced {
            address: addr(a),
            attrs: attrs.iter().map(|s| s.to_string()).collect(),
        })
    };
    // Scaling targets are found by resource id (`service/CLUSTER/NAME`), which the new
    // services keep: they stay.
    assert_eq!(
        replaced,
        vec![
            ("compute.serving.cluster", Some(Reason::ReplaceRequested)),
            (
                "endpoint.churn.service",
                by("compute.serving.cluster", &["cluster"])
            ),
            (
                "endpoint.fraud.service",
                by("compute.serving.cluster", &["cluster"])
            ),
        ]
    );
    // Services go before their cluster is deleted: they follow it in the plan, and the
    // applier destroys a replacement's dependents first.
    let pos = |a: &str| {
        p.changes
            .iter()
            .position(|c| c.address.as_str() == a)
            .unwrap()
    };
    assert!(pos("compute.serving.cluster") < pos("endpoint.fraud.service"));
    let text = pedestal::render::human(&p, &Default::default());
    assert!(
        text.contains("# (because compute.serving.cluster is replaced, and cluster names it)"),
        "{text}"
    );
}

#[test]
fn targets_limit_the_plan_to_the_target_and_its_dependencies() {
    let config = fixture::config(&[fraud(), Endpoint::new("churn")]);
    let p = plan(
        &config,
        &State::new(fixture::STACK, fixture::ENV),
        &PlanOptions {
            targets: vec!["endpoint.fraud.service".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let mut got: Vec<&str> = p.changes.iter().map(|c| c.address.as_str()).collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            "artifact.fraud_model.object",
            "compute.serving.cluster",
            "endpoint.fraud.log_group",
            "endpoint.fraud.service",
            "endpoint.fraud.task_definition",
            "endpoint.fraud.task_role",
            "storage.models.bucket",
        ]
    );
    // A block address selects all its resources.
    let p = plan(
        &config,
        &State::new(fixture::STACK, fixture::ENV),
        &PlanOptions {
            targets: vec!["endpoint.churn".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        p.changes
            .iter()
            .any(|c| c.address.as_str() == "endpoint.churn.scaling")
    );
    assert!(
        !p.changes
            .iter()
            .any(|c| c.address.block() == "endpoint.fraud")
    );
    let err = plan(
        &config,
        &State::new(fixture::STACK, fixture::ENV),
        &PlanOptions {
            targets: vec!["endpoint.nope".into()],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::UnknownTarget { .. }));
}

#[test]
fn destroy_target_takes_its_dependents() {
    let config = fixture::config(&[fraud()]);
    let state = fixture::applied(&config, 1);
    let opts = PlanOptions {
        mode: PlanMode::Destroy,
        targets: vec!["endpoint.fraud.task_definition".into()],
        ..Default::default()
    };
    let p = plan(&config, &state, &opts).unwrap();
    let got: Vec<&str> = p.changes.iter().map(|c| c.address.as_str()).collect();
    assert_eq!(
        got,
        vec![
            "endpoint.fraud.scaling",
            "endpoint.fraud.service",
            "endpoint.fraud.task_definition"
        ]
    );
}

#[test]
fn secrets_compare_by_digest() {
    // A sensitive variable in the endpoint's secrets: a parameter pedestal makes.
    let with_token = |token: &str| {
        Spec::new(&[fraud()])
            .replace(
                "[storage.models]\n",
                &format!(
                    "[variables.token]\ntype = \"string\"\nsensitive = true\ndefault = \"{token}\"\n\n[storage.models]\n"
                ),
            )
            .replace("secrets = { ", "secrets = { TOKEN = \"${var.token}\", ")
            .load()
    };
    let config = with_token("hunter2");
    let mut state = fixture::applied(&config, 1);
    // State holds only the digest, as after a round trip through the file.
    let json = serde_json::to_string(&state).unwrap();
    assert!(!json.contains("hunter2"));
    state = serde_json::from_str(&json).unwrap();
    let p = plan(&config, &state, &PlanOptions::default()).unwrap();
    assert!(!p.has_changes());
    let p = plan(&with_token("hunter3"), &state, &PlanOptions::default()).unwrap();
    assert_eq!(action_of(&p, "endpoint.fraud.secret.TOKEN"), Action::Update);
    let json = serde_json::to_string(&p).unwrap();
    assert!(!json.contains("hunter2") && !json.contains("hunter3"));
}

#[test]
fn plans_are_deterministic_and_foreign_state_is_refused() {
    let config = fixture::config(&[fraud(), Endpoint::new("churn")]);
    let state = fixture::applied(&config, 1);
    let a =
        serde_json::to_string(&plan(&config, &state, &PlanOptions::default()).unwrap()).unwrap();
    let b =
        serde_json::to_string(&plan(&config, &state, &PlanOptions::default()).unwrap()).unwrap();
    assert_eq!(a, b);
    let err = plan(
        &config,
        &State::new("other", "prod"),
        &PlanOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::ForeignState { .. }));
}

/// A stack of a thousand resources, unchanged, plans as one no-op per resource.
/// How fast plans of 10,000 and more are is measured by `scripts/bench-plan` and
/// `scripts/bench-vs-terraform` (release build), not here.
#[test]
fn a_thousand_unchanged_resources_plan_as_no_ops() {
    let endpoints: Vec<Endpoint> = (0..200)
        .map(|i| Endpoint::new(&format!("m{i:04}")))
        .collect();
    let config = fixture::config(&endpoints);
    assert!(config.resources.len() >= 1_000);
    let state = fixture::applied(&config, 1);
    let p = plan(&config, &state, &PlanOptions::default()).unwrap();
    assert_eq!(p.changes.len(), config.resources.len());
    assert!(p.changes.iter().all(|c| c.action == Action::NoOp));
    let planned: std::collections::BTreeSet<_> = p.changes.iter().map(|c| &c.address).collect();
    assert!(planned.into_iter().eq(config.resources.keys()));
}

#[test]
fn a_resource_deleted_outside_is_recreated_because_it_drifted() {
    let config = fixture::config(&[fraud()]);
    let recorded = fixture::applied(&config, 1);
    let mut refreshed = recorded.clone();
    let lg = addr("endpoint.fraud.log_group");
    let before = refreshed.resources.remove(&lg).unwrap().attrs;
    let opts = PlanOptions {
        drift: vec![pedestal::plan::Drift {
            address: lg.clone(),
            kind: pedestal::resource::ResourceKind::LogGroup,
            before,
            after: None,
        }],
        ..Default::default()
    };
    let p = plan(&config, &refreshed, &opts).unwrap();
    let c = p.changes.iter().find(|c| c.address == lg).unwrap();
    assert_eq!(
        (c.action, c.reason.clone()),
        (Action::Create, Some(Reason::Drifted))
    );
    let text = pedestal::render::human(&p, &Default::default());
    assert!(
        text.contains("# endpoint.fraud.log_group has been deleted"),
        "{text}"
    );
}

/// The loader refuses cycles (see the invalid-spec corpus); the planner still names the
/// members of one it is handed, so this Config is edited by hand.
#[test]
fn cycles_are_reported_with_their_members() {
    let mut config = fixture::config(&[fraud()]);
    config
        .resources
        .get_mut(&addr("endpoint.fraud.log_group"))
        .unwrap()
        .depends_on
        .insert(addr("endpoint.fraud.scaling"));
    let err = plan(
        &config,
        &State::new(fixture::STACK, fixture::ENV),
        &PlanOptions::default(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("dependency cycle between"), "{msg}");
    assert_eq!(
        msg,
        "dependency cycle between endpoint.fraud.log_group, endpoint.fraud.scaling, \
         endpoint.fraud.service, endpoint.fraud.task_definition"
    );
}

/// Changing only `deployment.timeout_seconds` in the spec is "changed in the spec", even when
/// refresh found drift on another attribute of the same service.
#[test]
fn a_spec_only_change_is_changed_in_the_spec_not_drift() {
    use pedestal::resource::schema::ecs_service::Attr as S;
    let recorded = fixture::applied(&fixture::config(&[fraud()]), 1);
    let config = Spec::new(&[fraud()])
        .replace(
            "autoscaling = {",
            "deployment = { timeout = \"20m\" }\nautoscaling = {",
        )
        .load();
    let svc = addr("endpoint.fraud.service");
    let before = recorded.resources[&svc].attrs.clone();
    let mut live = before.clone();
    live.insert(S::HealthCheckGracePeriod.into(), Value::Int(999));
    let opts = PlanOptions {
        drift: vec![pedestal::plan::Drift {
            address: svc.clone(),
            kind: pedestal::resource::ResourceKind::EcsService,
            before,
            after: Some(live),
        }],
        ..Default::default()
    };
    let p = plan(&config, &recorded, &opts).unwrap();
    let c = p.changes.iter().find(|c| c.address == svc).unwrap();
    assert_eq!(c.action, Action::Update);
    assert_eq!(
        c.reason,
        Some(Reason::SpecChanged {
            attrs: vec![S::Deployment.as_str().to_string()]
        })
    );
    let text = pedestal::render::human(&p, &Default::default());
    assert!(text.contains("deployment changed in the spec"), "{text}");
    assert!(!text.contains("changed outside pedestal"), "{text}");
}

/// An interrupted last release makes the endpoint's service an update with that reason, and
/// the plan is never "No changes".
#[test]
fn an_interrupted_release_is_still_to_be_done() {
    use pedestal::state::{Outcome, Release};
    let config = fixture::config(&[fraud()]);
    let mut state = fixture::applied(&config, 1);
    let td = state.resources[&addr("endpoint.fraud.task_definition")]
        .id
        .clone();
    state.releases.insert(
        "endpoint.fraud".into(),
        vec![Release {
            version: "1.3.0".into(),
            task_definition_arn: td,
            outcome: Outcome::Interrupted,
            ..Default::default()
        }],
    );
    let p = plan(&config, &state, &PlanOptions::default()).unwrap();
    assert!(p.has_changes());
    let c = p
        .changes
        .iter()
        .find(|c| c.address.as_str() == "endpoint.fraud.service")
        .unwrap();
    assert_eq!(c.action, Action::Update);
    assert!(matches!(
        c.reason,
        Some(Reason::ReleaseUnfinished {
            outcome: Outcome::Interrupted,
            ..
        })
    ));
    let text = pedestal::render::human(&p, &Default::default());
    assert!(text.contains("release 1.3.0 was interrupted"), "{text}");
    assert!(!text.contains("No changes"), "{text}");
}
