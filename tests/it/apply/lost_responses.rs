//! Lost answers and hung calls, injected by the conformance proxy (`conformance.rs`): a create
//! whose answer is lost after AWS acted on it (the SDK retries and meets "already exists" or a
//! failed precondition) adopts its own resource; a task definition registered twice for one lost
//! answer leaves one ACTIVE revision, the one state records; a call that never answers ends in a
//! timeout error within `[provider.aws] operation_timeout`, state keeps the create's intent, and
//! the next apply completes (an upload too: its limits grow only with its body's size).

use std::sync::Arc;
use std::time::{Duration, Instant};

use pedestal::addr::Address;
use pedestal::apply::{self, ApplyOptions, NoPersist, RecordingObserver};
use pedestal::provider::aws::{AwsOptions, AwsProvider};
use pedestal::spec::ProviderConfig;
use pedestal::state::State;

use super::conformance::{self, Fault, FaultAction, Seen};
use super::ctx::{Ctx, assert_ok};
use super::{moto, stack};

fn drop_once(operation: &str, marker: &str) {
    conformance::inject(Fault {
        operation: operation.into(),
        marker: marker.into(),
        action: FaultAction::DropResponse,
        times: 1,
    });
}

/// The `operation` requests the test owning `marker` sent, in order.
fn sent(operation: &str, marker: &str) -> Vec<Seen> {
    conformance::seen(marker)
        .into_iter()
        .filter(|s| s.operation.as_deref() == Some(operation))
        .collect()
}

fn only(all: Vec<stack::Desired>, addrs: &[&str]) -> Vec<stack::Desired> {
    all.into_iter()
        .filter(|d| addrs.contains(&d.address.as_str()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_log_group_answer_adopts_the_group() {
    let c = Ctx::new("lostlg").await;
    let n = &c.names;
    let desired = only(
        stack::endpoint_stack(n, c.dir.path(), &c.opts("1.0.0", false, true)),
        &["endpoint.fraud.log_group"],
    );
    drop_once("CreateLogGroup", &n.stack);
    let empty = State::new(&n.stack, "dev");
    let (report, obs) = c
        .apply(&stack::plan(&n.stack, &desired, &empty, false), empty)
        .await;
    assert_ok(&report);
    let creates = sent("CreateLogGroup", &n.stack);
    assert_eq!(
        creates.len(),
        2,
        "the lost call and the SDK's retry: {creates:?}"
    );
    assert_eq!(creates[0].fault, Some(FaultAction::DropResponse));
    assert!(
        obs.lines()
            .iter()
            .any(|l| l.starts_with("endpoint.fraud.log_group: Adopted existing resource")),
        "{:?}",
        obs.lines()
    );
    let rs = &report.state.resources[&Address::new("endpoint.fraud.log_group")];
    assert_eq!(rs.id, n.log_group);
    assert!(report.state.intents.is_empty());
    let groups = c
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(&n.log_group)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups().len(), 1);
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_put_object_answer_is_a_successful_upload() {
    let c = Ctx::new("lostobj").await;
    let n = &c.names;
    let desired = only(
        stack::endpoint_stack(n, c.dir.path(), &c.opts("1.0.0", false, true)),
        &["storage.models.bucket", "artifact.fraud_model.object"],
    );
    drop_once("PutObject", &n.bucket);
    let empty = State::new(&n.stack, "dev");
    let (report, _) = c
        .apply(&stack::plan(&n.stack, &desired, &empty, false), empty)
        .await;
    assert_ok(&report);
    let puts = sent("PutObject", &n.stack);
    assert_eq!(puts.len(), 2, "the lost call and the SDK's retry: {puts:?}");
    assert_eq!(puts[0].fault, Some(FaultAction::DropResponse));
    let rs = &report.state.resources[&Address::new("artifact.fraud_model.object")];
    let key = rs.attrs["key"].as_str().unwrap().to_string();
    let versions = c
        .s3()
        .list_object_versions()
        .bucket(&n.bucket)
        .prefix(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 1, "{versions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_definition_registered_twice_for_a_lost_answer_leaves_one_revision() {
    let c = Ctx::new("losttd").await;
    let n = &c.names;
    let desired = stack::endpoint_stack(n, c.dir.path(), &c.opts("1.0.0", false, true));
    drop_once("RegisterTaskDefinition", &n.stack);
    let empty = State::new(&n.stack, "dev");
    let (report, _) = c
        .apply(&stack::plan(&n.stack, &desired, &empty, false), empty)
        .await;
    assert_ok(&report);
    let registers = sent("RegisterTaskDefinition", &n.stack);
    assert_eq!(registers.len(), 2, "{registers:?}");
    let recorded = &report.state.resources[&Address::new("endpoint.fraud.task_definition")];
    let active = c
        .ecs()
        .list_task_definitions()
        .family_prefix(&n.family)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    assert_eq!(
        active.task_definition_arns(),
        std::slice::from_ref(&recorded.id)
    );
}

/// A provider whose calls give up after 1 s per attempt and 3 s in all
/// (`[provider.aws] attempt_timeout = "1s"`, `operation_timeout = "3s"`).
async fn impatient(c: &Ctx) -> Arc<AwsProvider> {
    let timeouts = ProviderConfig {
        attempt_timeout: Some(Duration::from_secs(1)),
        operation_timeout: Some(Duration::from_secs(3)),
        ..ProviderConfig::default()
    };
    let conf = moto::sdk_config()
        .await
        .to_builder()
        .timeout_config(pedestal::provider::aws::timeout_config_for(&timeouts))
        .build();
    Arc::new(AwsProvider::from_sdk_config(
        &conf,
        AwsOptions {
            poll_interval: Duration::from_millis(50),
            inactive_timeout: Duration::from_secs(20),
            root: c.dir.path().to_path_buf(),
            ..AwsOptions::default()
        },
    ))
}

/// Applies `desired` from empty state through an [`impatient`] provider while every
/// `operation` request carrying `marker` hangs for 30 s; asserts that one resource failed and
/// that each such request was held. Returns the report and how long the apply took.
async fn apply_hung(
    c: &Ctx,
    desired: &[stack::Desired],
    operation: &str,
    marker: &str,
) -> (apply::ApplyReport, Duration) {
    let stack = &c.names.stack;
    conformance::inject(Fault {
        operation: operation.into(),
        marker: marker.into(),
        action: FaultAction::Hang(Duration::from_secs(30)),
        times: 100,
    });
    let empty = State::new(stack, "dev");
    let plan = stack::plan(stack, desired, &empty, false);
    let started = Instant::now();
    let report = apply::apply(
        &plan,
        empty,
        impatient(c).await,
        Arc::new(NoPersist),
        Arc::new(RecordingObserver::default()),
        ApplyOptions::default(),
    )
    .await;
    let took = started.elapsed();
    conformance::clear_faults(marker);
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    let hung = sent(operation, marker);
    assert!(
        !hung.is_empty() && hung.iter().all(|s| s.fault.is_some()),
        "{hung:?}"
    );
    (report, took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_object_that_never_answers_times_out_and_the_next_apply_uploads() {
    let c = Ctx::new("hungput").await;
    let n = &c.names;
    let desired = only(
        stack::endpoint_stack(n, c.dir.path(), &c.opts("1.0.0", false, true)),
        &["storage.models.bucket", "artifact.fraud_model.object"],
    );
    let (report, took) = apply_hung(&c, &desired, "PutObject", &n.bucket).await;
    let msg = &report.failures[0].message;
    assert!(
        msg.starts_with(&format!(
            "artifact.fraud_model.object: PutObject s3://{}/",
            n.bucket
        )) && msg.contains("no answer from AWS"),
        "{msg}"
    );
    // The 3 s operation limit (the body is a few bytes), not the proxy's 30 s hang.
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(20),
        "the apply took {took:?}"
    );
    // Consistent: the bucket recorded, the object neither recorded nor written.
    let st = report.state.clone();
    assert!(
        st.resources
            .contains_key(&Address::new("storage.models.bucket"))
    );
    assert!(
        !st.resources
            .contains_key(&Address::new("artifact.fraud_model.object"))
    );
    let listed = c
        .s3()
        .list_objects_v2()
        .bucket(&n.bucket)
        .send()
        .await
        .unwrap();
    assert!(listed.contents().is_empty(), "{listed:?}");
    // The next apply uploads it.
    let plan = stack::plan(&n.stack, &desired, &st, false);
    let (report, _) = c.apply(&plan, st).await;
    assert_ok(&report);
    assert!(report.state.intents.is_empty());
    assert!(
        report
            .state
            .resources
            .contains_key(&Address::new("artifact.fraud_model.object"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_service_that_never_answers_times_out_and_the_next_apply_completes() {
    let c = Ctx::new("hung").await;
    let n = &c.names;
    let desired = stack::endpoint_stack(n, c.dir.path(), &c.opts("1.0.0", false, true));
    let (report, took) = apply_hung(&c, &desired, "CreateService", &n.stack).await;
    let msg = &report.failures[0].message;
    assert!(
        msg.starts_with(&format!(
            "endpoint.fraud: release 1.0.0: CreateService {}/fraud: no answer from AWS",
            n.cluster
        )),
        "{msg}"
    );
    assert!(msg.contains("after 3s"), "{msg}");
    assert!(took < Duration::from_secs(30), "the apply took {took:?}");
    // Consistent: no service recorded, its intent kept, everything else applied.
    let st = report.state.clone();
    assert!(
        !st.resources
            .contains_key(&Address::new("endpoint.fraud.service"))
    );
    assert!(
        st.intents
            .contains_key(&Address::new("endpoint.fraud.service"))
    );
    assert!(
        st.resources
            .contains_key(&Address::new("endpoint.fraud.task_definition"))
    );
    assert_eq!(report.skipped, [Address::new("endpoint.fraud.scaling")]);
    // The next apply creates the service.
    let plan = stack::plan(&n.stack, &desired, &st, false);
    let (report, _) = c.apply(&plan, st).await;
    assert_ok(&report);
    assert!(report.state.intents.is_empty());
    assert!(
        report
            .state
            .resources
            .contains_key(&Address::new("endpoint.fraud.service"))
    );
}
