//! A release ECS rolls back because a deployment alarm fired, with scripted SDK responses
//! (aws-smithy-mocks): the apply fails naming the alarm (found in ECS's own words, or else by
//! asking CloudWatch which alarm is in ALARM), the error carries the alarm's name as data, and
//! the release is recorded as rolled back.

use std::sync::Arc;

use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue};
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::update_service::UpdateServiceOutput;
use aws_sdk_ecs::types::{Deployment, DeploymentRolloutState, Service, ServiceEvent};
use aws_smithy_mocks::{Rule, mock};
use pedestal::addr::Address;
use pedestal::apply::{self, ApplyOptions, NoPersist, RecordingObserver};
use pedestal::plan::{Action, Plan, PlanMode, ResourceChange, StateRef};
use pedestal::provider::aws::AwsProvider;
use pedestal::provider::{ApplyResource, ErrorKind, Provider};
use pedestal::resource::{Attrs, ResourceKind, Value};
use pedestal::state::{ResourceState, State, Status};

use super::ctx::scripted_provider;

const OLD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/al-dev-fraud:6";
const NEW: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/al-dev-fraud:7";
const SVC: &str = "arn:aws:ecs:us-east-1:123456789012:service/al-dev-serving/al-dev-fraud";
const CPU: &str = "al-dev-fraud-cpu-high";
const MEM: &str = "al-dev-fraud-memory-high";

fn provider(ecs: &[&Rule], cw: &[&Rule]) -> AwsProvider {
    scripted_provider(ecs, cw, std::time::Duration::from_millis(2))
}

/// The service after ECS gave up on revision 7: PRIMARY is back on 6, ours FAILED.
fn rolled_back(reason: &'static str, events: &'static [&'static str]) -> DescribeServicesOutput {
    let dep = |td: &str, status: &str, state: DeploymentRolloutState, running: i32, why: &str| {
        Deployment::builder()
            .status(status)
            .task_definition(td)
            .rollout_state(state)
            .rollout_state_reason(why)
            .running_count(running)
            .desired_count(1)
            .build()
    };
    DescribeServicesOutput::builder()
        .services(
            Service::builder()
                .service_name("al-dev-fraud")
                .service_arn(SVC)
                .status("ACTIVE")
                .task_definition(OLD)
                .running_count(1)
                .desired_count(1)
                .deployments(dep(
                    OLD,
                    "PRIMARY",
                    DeploymentRolloutState::Completed,
                    1,
                    "",
                ))
                .deployments(dep(
                    NEW,
                    "ACTIVE",
                    DeploymentRolloutState::Failed,
                    0,
                    reason,
                ))
                .set_events(Some(
                    events
                        .iter()
                        .map(|m| ServiceEvent::builder().message(*m).build())
                        .collect(),
                ))
                .build(),
        )
        .build()
}

fn alarm(name: &str, state: StateValue) -> MetricAlarm {
    MetricAlarm::builder()
        .alarm_name(name)
        .alarm_arn(format!(
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
        ))
        .state_value(state)
        .build()
}

fn service_attrs(td: &str) -> Attrs {
    let mut a = Attrs::new();
    let s = |x: &str| Value::str(x);
    a.insert("name".into(), s("al-dev-fraud"));
    a.insert("cluster".into(), s("al-dev-serving"));
    a.insert("launch_type".into(), s("FARGATE"));
    a.insert("task_definition".into(), s(td));
    a.insert("desired_count".into(), Value::Int(1));
    a.insert(
        "alarms".into(),
        Value::Map(
            [
                (
                    pedestal::resource::Key::from("names"),
                    Value::List(vec![s(CPU), s(MEM)]),
                ),
                (pedestal::resource::Key::from("rollback"), Value::Bool(true)),
            ]
            .into_iter()
            .collect(),
        ),
    );
    a
}

/// State with revisions 6 (running) and 7 (registered) and the service on 6; the plan moves
/// the service to 7.
fn release() -> (Plan, State) {
    let mut st = State::new("al", "dev");
    for (td, version) in [(OLD, "1.3.0"), (NEW, "1.4.0")] {
        let mut a = Attrs::new();
        a.insert(
            "model".into(),
            Value::Map(
                [(
                    pedestal::resource::Key::from("version"),
                    Value::str(version),
                )]
                .into_iter()
                .collect(),
            ),
        );
        a.insert("arn".into(), Value::str(td));
        let addr = if td == NEW {
            "endpoint.fraud.task_definition"
        } else {
            "endpoint.fraud.task_definition_previous"
        };
        st.resources.insert(
            Address::new(addr),
            ResourceState {
                kind: ResourceKind::EcsTaskDefinition,
                id: td.to_string(),
                attrs: a,
                dependencies: Default::default(),
                status: Status::Ok,
            },
        );
    }
    let before = service_attrs(OLD);
    st.resources.insert(
        Address::new("endpoint.fraud.service"),
        ResourceState {
            kind: ResourceKind::EcsService,
            id: SVC.to_string(),
            attrs: before.clone(),
            dependencies: Default::default(),
            status: Status::Ok,
        },
    );
    let plan = Plan {
        format_version: pedestal::plan::FORMAT_VERSION.into(),
        stack: "al".into(),
        env: "dev".into(),
        mode: PlanMode::Normal,
        prior_state: StateRef::default(),
        spec_digest: "sha256:test".into(),
        git_commit: None,
        provider: Default::default(),
        changes: vec![ResourceChange {
            address: Address::new("endpoint.fraud.service"),
            kind: ResourceKind::EcsService,
            action: Action::Update,
            reason: None,
            before: Some(before),
            after: Some(service_attrs(NEW)),
            replace_paths: vec![],
            id: Some(SVC.to_string()),
            depends_on: Default::default(),
            lifecycle: Default::default(),
        }],
        drift: vec![],
        releases: vec![],
        prunes: vec![],
        outputs: Default::default(),
        targets: vec![],
        cost: Default::default(),
    };
    (plan, st)
}

#[tokio::test]
async fn an_alarm_rollback_fails_the_apply_naming_the_alarm() {
    let update = mock!(aws_sdk_ecs::Client::update_service)
        .then_output(|| UpdateServiceOutput::builder().build());
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| {
            rolled_back(
                "ECS deployment ecs-svc/5 rolled back: deployment failed, alarm detected.",
                &["(service al-dev-fraud) rolling back to deployment ecs-svc/4."],
            )
        })
        .repeatedly()
        .build();
    let alarms = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(|| {
        DescribeAlarmsOutput::builder()
            .metric_alarms(alarm(CPU, StateValue::Alarm))
            .metric_alarms(alarm(MEM, StateValue::Ok))
            .build()
    });
    let p = Arc::new(provider(&[&update, &describe], &[&alarms]));
    let (plan, state) = release();
    let report = apply::apply(
        &plan,
        state,
        p.clone(),
        Arc::new(NoPersist),
        Arc::new(RecordingObserver::default()),
        ApplyOptions::default(),
    )
    .await;

    // The apply fails (the CLI exits 1: not ok, not interrupted), naming the alarm.
    assert!(!report.ok());
    assert!(!report.interrupted);
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    let msg = &report.failures[0].message;
    assert!(
        msg.starts_with("endpoint.fraud: ECS rolled back release 1.4.0 to "),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("alarm {CPU} went to ALARM")),
        "the message names the alarm that fired: {msg}"
    );
    assert!(!msg.contains(MEM), "the quiet alarm is not blamed: {msg}");
    assert_eq!(
        alarms.num_calls(),
        1,
        "CloudWatch was asked which alarm fired"
    );
    let history = &report.state.releases["endpoint.fraud"];
    assert_eq!(history.last().unwrap().version, "1.4.0");
    let last = history.last().unwrap();
    assert_eq!(
        last.outcome,
        pedestal::state::Outcome::RolledBackByEcs,
        "{history:?}"
    );
    assert_eq!(
        last.alarm.as_deref(),
        Some(CPU),
        "the record names the alarm: {last:?}"
    );
}

#[tokio::test]
async fn an_alarm_ecs_names_is_taken_from_its_words_and_carried_as_data() {
    let update = mock!(aws_sdk_ecs::Client::update_service)
        .then_output(|| UpdateServiceOutput::builder().build());
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| {
            rolled_back(
                "ECS deployment ecs-svc/5 failed: alarm al-dev-fraud-memory-high is in ALARM state.",
                &[],
            )
        })
        .repeatedly()
        .build();
    let alarms = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .then_output(|| DescribeAlarmsOutput::builder().build());
    let p = provider(&[&update, &describe], &[&alarms]);
    let after = ApplyResource {
        address: Address::new("endpoint.fraud.service"),
        kind: ResourceKind::EcsService,
        attrs: service_attrs(NEW),
    };
    let err = p
        .update(SVC, &service_attrs(OLD), &after)
        .await
        .expect_err("the release was rolled back");
    match &err.kind {
        ErrorKind::RolledBack {
            alarms: named,
            reason,
            ..
        } => {
            assert_eq!(named, &[MEM.to_string()]);
            assert!(
                reason.starts_with(&format!("alarm {MEM} went to ALARM (")),
                "{reason}"
            );
        }
        other => panic!("a rollback, not {other:?}"),
    }
    assert!(
        err.message.starts_with(&format!(
            "ECS rolled back to {OLD}: alarm {MEM} went to ALARM"
        )),
        "{}",
        err.message
    );
    assert_eq!(
        alarms.num_calls(),
        0,
        "ECS named it: no need to ask CloudWatch"
    );
}

#[tokio::test]
async fn a_circuit_breaker_rollback_blames_no_alarm() {
    let update = mock!(aws_sdk_ecs::Client::update_service)
        .then_output(|| UpdateServiceOutput::builder().build());
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| {
            rolled_back(
                "ECS deployment circuit breaker: tasks failed to start.",
                &[],
            )
        })
        .repeatedly()
        .build();
    let alarms = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(|| {
        DescribeAlarmsOutput::builder()
            .metric_alarms(alarm(CPU, StateValue::Alarm))
            .build()
    });
    let p = provider(&[&update, &describe], &[&alarms]);
    let after = ApplyResource {
        address: Address::new("endpoint.fraud.service"),
        kind: ResourceKind::EcsService,
        attrs: service_attrs(NEW),
    };
    let err = p
        .update(SVC, &service_attrs(OLD), &after)
        .await
        .expect_err("the release was rolled back");
    match &err.kind {
        ErrorKind::RolledBack { alarms: named, .. } => assert!(named.is_empty()),
        other => panic!("a rollback, not {other:?}"),
    }
    assert!(err.message.contains("circuit breaker"), "{}", err.message);
    assert_eq!(alarms.num_calls(), 0);
}
