//! The release wait through apply, against scripted ECS responses (moto never completes or
//! rolls back a rollout): a release that completes, one that ECS's circuit breaker rolls back
//! to the old revision, one that times out and one interrupted while waiting — each checked
//! for the apply's result (what the CLI turns into its exit code), the message, and the
//! release recorded in state. Also what UpdateService and CreateService are asked to set.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ecs::operation::create_service::CreateServiceOutput;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::update_service::UpdateServiceOutput;
use aws_sdk_ecs::types::{Deployment, DeploymentConfiguration, DeploymentRolloutState, Service};
use aws_smithy_mocks::{Rule, mock};
use pedestal::addr::Address;
use pedestal::apply::{self, ApplyOptions, ApplyReport, NoPersist, RecordingObserver};
use pedestal::provider::aws::AwsProvider;
use pedestal::resource::{Attrs, ResourceKind, Value};
use pedestal::state::{Release, ResourceState, State, Status};

use super::ctx::scripted_provider;
use super::stack::{self, Desired, EndpointOpts, Names};

const OLD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/rel-fraud:6";
const NEW: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/rel-fraud:7";
const SERVICE_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service/rel-serving/fraud";
const REASON: &str = "ECS deployment circuit breaker: tasks failed to start.";

/// The AWS provider with a scripted ECS client (the other services answer nothing) and the
/// product's own retry configuration.
fn provider(ecs_rules: &[&Rule]) -> Arc<AwsProvider> {
    Arc::new(scripted_provider(ecs_rules, &[], Duration::from_millis(5)))
}

fn deployment(td: &str, status: &str, state: DeploymentRolloutState, running: i32) -> Deployment {
    let reason = if state == DeploymentRolloutState::Failed {
        REASON
    } else {
        ""
    };
    Deployment::builder()
        .status(status)
        .task_definition(td)
        .rollout_state(state)
        .rollout_state_reason(reason)
        .running_count(running)
        .desired_count(1)
        .build()
}

/// DescribeServices: the service on `td` with these deployments.
fn described(td: &str, deployments: Vec<Deployment>) -> DescribeServicesOutput {
    DescribeServicesOutput::builder()
        .services(
            Service::builder()
                .service_name("fraud")
                .service_arn(SERVICE_ARN)
                .status("ACTIVE")
                .task_definition(td)
                .running_count(1)
                .desired_count(1)
                .set_deployments(Some(deployments))
                .build(),
        )
        .build()
}

fn rolling_out() -> DescribeServicesOutput {
    described(
        NEW,
        vec![
            deployment(NEW, "PRIMARY", DeploymentRolloutState::InProgress, 0),
            deployment(OLD, "ACTIVE", DeploymentRolloutState::Completed, 1),
        ],
    )
}

/// Captures the deployment configuration of each UpdateService request.
fn update_rule(seen: Arc<Mutex<Vec<DeploymentConfiguration>>>) -> Rule {
    mock!(aws_sdk_ecs::Client::update_service).then_compute_output(move |req| {
        if let Some(dc) = req.deployment_configuration() {
            seen.lock().unwrap().push(dc.clone());
        }
        UpdateServiceOutput::builder().build()
    })
}

/// The endpoint's task definition and service as the fraud stack desires them, with the
/// service waiting `timeout_seconds` for its rollout.
fn desired(dir: &std::path::Path, timeout_seconds: i64) -> (Names, Vec<Desired>) {
    let n = Names::new("rel");
    let mut all = stack::endpoint_stack(
        &n,
        dir,
        &EndpointOpts {
            version: "1.4.0",
            wait: true,
            subnets: vec!["subnet-1".into()],
            security_group: "sg-1".into(),
            force_destroy: false,
        },
    );
    all.retain(|d| {
        matches!(
            d.address.as_str(),
            "endpoint.fraud.task_definition" | "endpoint.fraud.service"
        )
    });
    for d in &mut all {
        d.deps.clear();
        if d.kind == ResourceKind::EcsTaskDefinition {
            // Resolved already (the artifact and log group are not part of this stack).
            let Some(Value::Map(c)) = d.attrs.get_mut("container") else {
                panic!("no container")
            };
            c.insert("log_group".into(), Value::str(&n.log_group));
            let Some(Value::Map(m)) = d.attrs.get_mut("model") else {
                panic!("no model")
            };
            m.insert(
                "artifact".into(),
                Value::str("s3://rel-models/fraud_model/fraud.onnx"),
            );
        }
        if d.kind == ResourceKind::EcsService {
            d.attrs.insert("cluster".into(), Value::str(&n.cluster));
            let Some(Value::Map(dep)) = d.attrs.get_mut("deployment") else {
                panic!("no deployment")
            };
            dep.insert("timeout_seconds".into(), Value::Int(timeout_seconds));
        }
    }
    (n, all)
}

/// State as left by an earlier apply: the new revision 7 registered (release 1.4.0), the
/// service still on revision 6 (release 1.3.0, completed).
fn recorded(n: &Names, desired: &[Desired]) -> State {
    let mut st = State::new(&n.stack, "dev");
    for d in desired {
        let mut attrs: Attrs = d.attrs.clone();
        let id = match d.kind {
            ResourceKind::EcsTaskDefinition => {
                attrs.insert("arn".into(), Value::str(NEW));
                attrs.insert("revision".into(), Value::Int(7));
                NEW.to_string()
            }
            _ => {
                attrs.insert("arn".into(), Value::str(SERVICE_ARN));
                attrs.insert("task_definition".into(), Value::str(OLD));
                SERVICE_ARN.to_string()
            }
        };
        st.resources.insert(
            d.address.clone(),
            ResourceState {
                kind: d.kind,
                id,
                attrs,
                dependencies: d.deps.clone().into(),
                status: Status::Ok,
            },
        );
    }
    st.releases.insert(
        "endpoint.fraud".into(),
        vec![Release {
            version: "1.3.0".into(),
            task_definition_arn: OLD.into(),
            artifact_sha256: None,
            image: "fraud-serve:2.4.1".into(),
            started_at: "2026-11-01T00:00:00Z".into(),
            outcome: pedestal::state::Outcome::Completed,
            ..Default::default()
        }],
    );
    st
}

/// Plans the release (pedestal's planner: the service moves to revision 7) and applies it.
async fn release(
    rules: &[&Rule],
    timeout_seconds: i64,
    opts: ApplyOptions,
) -> (ApplyReport, Arc<RecordingObserver>) {
    let dir = tempfile::tempdir().unwrap();
    let (n, desired) = desired(dir.path(), timeout_seconds);
    let state = recorded(&n, &desired);
    let plan = stack::plan(&n.stack, &desired, &state, false);
    assert_eq!(
        stack::actions(&plan),
        [(
            "endpoint.fraud.service".to_string(),
            pedestal::plan::Action::Update
        )]
        .into_iter()
        .collect(),
        "the release is one service update"
    );
    let obs = Arc::new(RecordingObserver::default());
    let report = apply::apply(
        &plan,
        state,
        provider(rules),
        Arc::new(NoPersist),
        obs.clone(),
        opts,
    )
    .await;
    (report, obs)
}

fn last_release(r: &ApplyReport) -> &Release {
    let list = &r.state.releases["endpoint.fraud"];
    assert_eq!(list.len(), 2, "{list:?}");
    &list[1]
}

fn service_td(r: &ApplyReport) -> &str {
    r.state.resources[&Address::new("endpoint.fraud.service")].attrs["task_definition"]
        .as_str()
        .unwrap()
}

#[tokio::test]
async fn a_release_completes_when_the_primary_deployment_runs_the_new_revision() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let update = update_rule(seen.clone());
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(rolling_out)
        .times(3)
        .output(|| {
            described(
                NEW,
                vec![deployment(
                    NEW,
                    "PRIMARY",
                    DeploymentRolloutState::Completed,
                    1,
                )],
            )
        })
        .build();
    let (report, _) = release(&[&update, &describe], 60, ApplyOptions::default()).await;
    assert!(report.ok(), "{:?}", report.failures);
    assert_eq!(
        report.summary(),
        "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
    );
    assert_eq!(describe.num_calls(), 4, "polled until COMPLETED");
    let rel = last_release(&report);
    assert_eq!(
        (
            rel.version.as_str(),
            rel.outcome.as_str(),
            rel.task_definition_arn.as_str()
        ),
        ("1.4.0", "completed", NEW)
    );
    assert_eq!(service_td(&report), NEW);
    // UpdateService asked for the circuit breaker with rollback and the spec's percentages.
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let cb = seen[0].deployment_circuit_breaker().unwrap();
    assert!(cb.enable() && cb.rollback(), "{cb:?}");
    assert_eq!(
        (seen[0].minimum_healthy_percent(), seen[0].maximum_percent()),
        (Some(100), Some(200))
    );
}

#[tokio::test]
async fn a_circuit_breaker_rollback_fails_the_apply_and_is_recorded() {
    let update = update_rule(Arc::default());
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(rolling_out)
        .output(|| {
            // Stable again, on the old revision: the services-stable waiter calls this success.
            described(
                OLD,
                vec![
                    deployment(OLD, "PRIMARY", DeploymentRolloutState::Completed, 1),
                    deployment(NEW, "ACTIVE", DeploymentRolloutState::Failed, 0),
                ],
            )
        })
        .repeatedly()
        .build();
    let (report, _) = release(&[&update, &describe], 60, ApplyOptions::default()).await;
    assert!(!report.ok() && !report.interrupted);
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert_eq!(
        report.failures[0].message,
        format!("endpoint.fraud: ECS rolled back release 1.4.0 to {OLD}: {REASON}")
    );
    let rel = last_release(&report);
    assert_eq!(
        (
            rel.version.as_str(),
            rel.outcome.as_str(),
            rel.task_definition_arn.as_str()
        ),
        ("1.4.0", "rolled_back_by_ecs", NEW)
    );
    assert_eq!(rel.reason.as_deref(), Some(REASON));
    assert!(rel.finished_at.is_some());
    assert_eq!(
        service_td(&report),
        OLD,
        "state keeps the revision ECS runs"
    );
}

#[tokio::test]
async fn a_rollout_that_outlasts_its_timeout_fails_and_is_recorded() {
    let update = update_rule(Arc::default());
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(rolling_out)
        .repeatedly()
        .build();
    let (report, _) = release(&[&update, &describe], 1, ApplyOptions::default()).await;
    assert!(!report.ok() && !report.interrupted);
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    let msg = &report.failures[0].message;
    assert!(
        msg.starts_with("endpoint.fraud: release 1.4.0: ") && msg.contains("IN_PROGRESS"),
        "{msg}"
    );
    assert!(describe.num_calls() >= 2);
    let rel = last_release(&report);
    assert_eq!(
        (rel.version.as_str(), rel.outcome.as_str()),
        ("1.4.0", "failed")
    );
    assert!(
        rel.reason.as_deref().unwrap_or("").contains("IN_PROGRESS"),
        "{rel:?}"
    );
}

#[tokio::test]
async fn the_first_interrupt_stops_the_wait_at_once_and_records_interrupted() {
    let update = update_rule(Arc::default());
    let (first_poll, polled) = tokio::sync::oneshot::channel::<()>();
    let first_poll = Mutex::new(Some(first_poll));
    let describe = mock!(aws_sdk_ecs::Client::describe_services).then_compute_output(move |_| {
        if let Some(tx) = first_poll.lock().unwrap().take() {
            let _ = tx.send(());
        }
        rolling_out()
    });
    let (cancel_tx, cancel) = tokio::sync::watch::channel(false);
    let opts = ApplyOptions {
        cancel: Some(cancel),
        ..ApplyOptions::default()
    };
    let applying = tokio::spawn(async move {
        let rules = [&update, &describe];
        release(&rules, 600, opts).await
    });
    // The wait has begun (DescribeServices answered once): one Ctrl-C.
    polled.await.unwrap();
    let interrupted_at = std::time::Instant::now();
    cancel_tx.send(true).unwrap();
    let (report, _) = applying.await.unwrap();
    assert!(
        interrupted_at.elapsed() < Duration::from_secs(2),
        "the wait stops at once, not after the 600 s timeout: {:?}",
        interrupted_at.elapsed()
    );
    assert!(report.interrupted && !report.ok());
    assert!(report.abandoned.is_empty(), "{report:?}");
    let rel = last_release(&report);
    assert_eq!(
        (
            rel.version.as_str(),
            rel.outcome.as_str(),
            rel.task_definition_arn.as_str()
        ),
        ("1.4.0", "interrupted", NEW)
    );
    assert!(rel.finished_at.is_some() && rel.started_at <= *rel.finished_at.as_ref().unwrap());
    assert_eq!(
        service_td(&report),
        NEW,
        "the service was pointed at the release; ECS carries on with it"
    );
    assert!(
        report.failures[0].message.contains("goes on in ECS"),
        "{:?}",
        report.failures
    );
}

#[tokio::test]
async fn create_service_asks_for_the_circuit_breaker_and_the_spec_percentages() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let created = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let create = {
        let (seen, created) = (seen.clone(), created.clone());
        mock!(aws_sdk_ecs::Client::create_service).then_compute_output(move |req| {
            seen.lock()
                .unwrap()
                .push(req.deployment_configuration().cloned());
            created.store(true, std::sync::atomic::Ordering::SeqCst);
            CreateServiceOutput::builder()
                .service(Service::builder().service_arn(SERVICE_ARN).build())
                .build()
        })
    };
    // Nothing there before the create (the adoption checks), then the rollout completes.
    let describe = mock!(aws_sdk_ecs::Client::describe_services).then_compute_output(move |_| {
        if created.load(std::sync::atomic::Ordering::SeqCst) {
            described(
                NEW,
                vec![deployment(
                    NEW,
                    "PRIMARY",
                    DeploymentRolloutState::Completed,
                    1,
                )],
            )
        } else {
            DescribeServicesOutput::builder().build()
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let (n, desired) = desired(dir.path(), 60);
    let mut state = recorded(&n, &desired);
    state
        .resources
        .remove(&Address::new("endpoint.fraud.service"));
    let plan = stack::plan(&n.stack, &desired, &state, false);
    let report = apply::apply(
        &plan,
        state,
        provider(&[&create, &describe]),
        Arc::new(NoPersist),
        Arc::new(RecordingObserver::default()),
        ApplyOptions::default(),
    )
    .await;
    assert!(report.ok(), "{:?}", report.failures);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let dc = seen[0].as_ref().expect("a deployment configuration");
    let cb = dc.deployment_circuit_breaker().unwrap();
    assert!(cb.enable() && cb.rollback(), "{cb:?}");
    assert_eq!(
        (dc.minimum_healthy_percent(), dc.maximum_percent()),
        (Some(100), Some(200))
    );
}
