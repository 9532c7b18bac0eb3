//! The applier against the in-memory fake provider: ordering, references, parallelism,
//! failure isolation, tainting, destroy order, crash recovery and cancellation.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::plan::{Plan, PlanMode, StateRef};
use crate::provider::fake::{FakeProvider, Op};
use crate::provider::{TAG_ADDRESS, TAG_ENV, TAG_STACK};
use crate::resource::{Lifecycle, Ref, ResourceKind};
use crate::state::{JournalEntry, StateError};

mod ownership;

fn tags(addr: &str) -> Value {
    Value::Map(
        [(TAG_STACK, "s"), (TAG_ENV, "dev"), (TAG_ADDRESS, addr)]
            .into_iter()
            .map(|(k, v)| (crate::resource::Key::from(k), Value::str(v)))
            .collect(),
    )
}

fn change(
    addr: &str,
    kind: ResourceKind,
    action: Action,
    attrs: &[(&str, Value)],
    deps: &[&str],
) -> ResourceChange {
    let mut after: Attrs = attrs
        .iter()
        .map(|(k, v)| (crate::resource::Key::intern(k), v.clone()))
        .collect();
    after.insert("tags".into(), tags(addr));
    ResourceChange {
        address: Address::new(addr),
        kind,
        action,
        reason: None,
        before: None,
        after: Some(after),
        replace_paths: vec![],
        id: None,
        depends_on: deps.iter().map(|d| Address::new(*d)).collect(),
        lifecycle: Lifecycle::default(),
    }
}

fn r(addr: &str, attr: &str) -> Value {
    Value::Ref(Box::new(Ref {
        address: Address::new(addr),
        attr: attr.into(),
    }))
}

fn plan(changes: Vec<ResourceChange>, mode: PlanMode) -> Plan {
    Plan {
        format_version: crate::plan::FORMAT_VERSION.into(),
        stack: "s".into(),
        env: "dev".into(),
        mode,
        prior_state: StateRef::default(),
        spec_digest: "sha256:x".into(),
        git_commit: None,
        provider: Default::default(),
        changes,
        drift: vec![],
        releases: vec![],
        prunes: vec![],
        outputs: Default::default(),
        targets: vec![],
        cost: Default::default(),
    }
}

fn endpoint_plan() -> Plan {
    plan(
        vec![
            change(
                "storage.models.bucket",
                ResourceKind::S3Bucket,
                Action::Create,
                &[
                    ("bucket", Value::str("s-dev-models")),
                    ("arn", Value::Unknown),
                ],
                &[],
            ),
            change(
                "compute.serving.cluster",
                ResourceKind::EcsCluster,
                Action::Create,
                &[("name", Value::str("serving"))],
                &[],
            ),
            change(
                "endpoint.fraud.task_definition",
                ResourceKind::EcsTaskDefinition,
                Action::Create,
                &[
                    ("family", Value::str("fraud")),
                    (
                        "model",
                        Value::Map(
                            [(crate::resource::Key::from("version"), Value::str("1.4.0"))]
                                .into_iter()
                                .collect(),
                        ),
                    ),
                    (
                        "container",
                        Value::Map(
                            [("image".to_string().into(), Value::str("img:1"))]
                                .into_iter()
                                .collect(),
                        ),
                    ),
                    ("bucket_arn", r("storage.models.bucket", "arn")),
                ],
                &["storage.models.bucket"],
            ),
            change(
                "endpoint.fraud.service",
                ResourceKind::EcsService,
                Action::Create,
                &[
                    ("name", Value::str("fraud")),
                    ("cluster", r("compute.serving.cluster", "name")),
                    (
                        "task_definition",
                        r("endpoint.fraud.task_definition", "arn"),
                    ),
                ],
                &["compute.serving.cluster", "endpoint.fraud.task_definition"],
            ),
        ],
        PlanMode::Normal,
    )
}

async fn run(
    p: &Plan,
    state: State,
    fake: &Arc<FakeProvider>,
    opts: ApplyOptions,
) -> (ApplyReport, Arc<RecordingObserver>) {
    let obs = Arc::new(RecordingObserver::default());
    let report = apply(
        p,
        state,
        fake.clone(),
        Arc::new(NoPersist),
        obs.clone(),
        opts,
    )
    .await;
    (report, obs)
}

#[tokio::test]
async fn applies_in_dependency_order_and_substitutes_references() {
    let fake = Arc::new(FakeProvider::new());
    let (report, obs) = run(
        &endpoint_plan(),
        State::new("s", "dev"),
        &fake,
        ApplyOptions::default(),
    )
    .await;
    assert!(report.ok(), "{:?}", report.failures);
    assert_eq!(
        report.summary(),
        "Apply complete! Resources: 4 added, 0 changed, 0 destroyed."
    );
    let st = &report.state;
    assert!(st.intents.is_empty());
    let td = &st.resources[&Address::new("endpoint.fraud.task_definition")];
    assert_eq!(
        td.attrs["bucket_arn"],
        Value::str("arn:aws:s3:::s-dev-models")
    );
    let svc = &st.resources[&Address::new("endpoint.fraud.service")];
    assert_eq!(svc.attrs["cluster"], Value::str("serving"));
    assert_eq!(svc.attrs["task_definition"], Value::str(td.id.clone()));
    let rel = &st.releases["endpoint.fraud"];
    assert_eq!(rel.len(), 1);
    assert_eq!(rel[0].version, "1.4.0");
    assert_eq!(rel[0].image, "img:1");
    assert_eq!(rel[0].outcome, crate::state::Outcome::Completed);
    let lines = obs.lines();
    let pos = |l: &str| lines.iter().position(|x| x.starts_with(l)).unwrap();
    assert!(
        pos("endpoint.fraud.task_definition: Creation complete")
            < pos("endpoint.fraud.service: Creating...")
    );
    assert!(lines.contains(&"storage.models.bucket: Creating...".to_string()));
    assert!(lines.iter().any(|l| {
        l.starts_with("storage.models.bucket: Creation complete after 0s [id=s-dev-models]")
    }));
}

#[tokio::test]
async fn parallelism_is_bounded() {
    let fake = Arc::new(FakeProvider::new().with_delay(Duration::from_millis(20)));
    let changes = (0..20)
        .map(|i| {
            change(
                &format!("endpoint.e{i:02}.log_group"),
                ResourceKind::LogGroup,
                Action::Create,
                &[("name", Value::str(format!("/lg/{i}")))],
                &[],
            )
        })
        .collect();
    let opts = ApplyOptions {
        parallelism: 3,
        ..Default::default()
    };
    let (report, _) = run(
        &plan(changes, PlanMode::Normal),
        State::new("s", "dev"),
        &fake,
        opts,
    )
    .await;
    assert_eq!(report.added, 20);
    // find + create per resource, each step holding one slot.
    assert!(
        fake.max_in_flight() <= 3,
        "max in flight {}",
        fake.max_in_flight()
    );
    assert_eq!(fake.max_in_flight(), 3);
}

#[tokio::test]
async fn a_failure_skips_only_its_dependents_and_taints_a_half_made_create() {
    let fake = Arc::new(FakeProvider::new());
    fake.fail(
        "endpoint.fraud.task_definition",
        Op::Create,
        crate::provider::fake::failure_leaving(
            ErrorKind::Invalid,
            "invalid cpu",
            "arn:fake:td:1",
            Attrs::new(),
        ),
    );
    let (report, obs) = run(
        &endpoint_plan(),
        State::new("s", "dev"),
        &fake,
        ApplyOptions::default(),
    )
    .await;
    assert!(!report.ok());
    assert_eq!(report.failures.len(), 1);
    assert_eq!(
        report.failures[0].message,
        "endpoint.fraud.task_definition: invalid cpu"
    );
    assert_eq!(report.skipped, vec![Address::new("endpoint.fraud.service")]);
    assert_eq!(report.added, 2, "bucket and cluster still created");
    let td = &report.state.resources[&Address::new("endpoint.fraud.task_definition")];
    assert_eq!(td.status, Status::Tainted);
    assert_eq!(td.id, "arn:fake:td:1");
    assert!(
        !report
            .state
            .resources
            .contains_key(&Address::new("endpoint.fraud.service"))
    );
    assert!(report.state.intents.is_empty());
    assert!(
        obs.lines().contains(
            &"endpoint.fraud.service: Skipped (depends on failed endpoint.fraud.task_definition)"
                .to_string()
        )
    );
    assert_eq!(
        report.summary(),
        "Apply incomplete. Resources: 2 added, 0 changed, 0 destroyed."
    );
}

#[tokio::test]
async fn destroy_walks_in_reverse() {
    let fake = Arc::new(FakeProvider::new());
    let (applied, _) = run(
        &endpoint_plan(),
        State::new("s", "dev"),
        &fake,
        ApplyOptions::default(),
    )
    .await;
    let st = applied.state.clone();
    let deletes = st
        .resources
        .iter()
        .map(|(a, rs)| ResourceChange {
            address: a.clone(),
            kind: rs.kind,
            action: Action::Delete,
            reason: None,
            before: Some(rs.attrs.clone()),
            after: None,
            replace_paths: vec![],
            id: Some(rs.id.clone()),
            depends_on: rs.dependencies.clone(),
            lifecycle: Lifecycle::default(),
        })
        .collect();
    let (report, obs) = run(
        &plan(deletes, PlanMode::Destroy),
        st,
        &fake,
        ApplyOptions::default(),
    )
    .await;
    assert!(report.ok(), "{:?}", report.failures);
    assert_eq!(
        report.summary(),
        "Destroy complete! Resources: 4 destroyed."
    );
    assert!(report.state.resources.is_empty());
    assert!(fake.objects().is_empty());
    let lines = obs.lines();
    let pos = |l: &str| lines.iter().position(|x| x.starts_with(l)).unwrap();
    assert!(
        pos("endpoint.fraud.service: Destruction complete")
            < pos("compute.serving.cluster: Destroying...")
    );
    assert!(
        pos("endpoint.fraud.service: Destruction complete")
            < pos("endpoint.fraud.task_definition: Destroying...")
    );
    assert!(
        pos("endpoint.fraud.task_definition: Destruction complete")
            < pos("storage.models.bucket: Destroying...")
    );
}

#[tokio::test]
async fn adopts_own_resources_and_refuses_foreign_ones() {
    let fake = Arc::new(FakeProvider::new());
    // Left by a crashed run of this very stack/env/address.
    let mut own = Attrs::new();
    own.insert("bucket".into(), Value::str("s-dev-models"));
    own.insert("tags".into(), tags("storage.models.bucket"));
    fake.insert(ResourceKind::S3Bucket, "s-dev-models", own);
    // Someone else's cluster with the same name.
    let mut foreign = Attrs::new();
    foreign.insert("name".into(), Value::str("serving"));
    let mut t = BTreeMap::new();
    t.insert(TAG_STACK.to_string(), Value::str("other"));
    t.insert(TAG_ENV.to_string(), Value::str("prod"));
    foreign.insert("tags".into(), Value::Map(t.into()));
    fake.insert(ResourceKind::EcsCluster, "serving", foreign);

    let (report, obs) = run(
        &endpoint_plan(),
        State::new("s", "dev"),
        &fake,
        ApplyOptions::default(),
    )
    .await;
    assert!(
        report
            .state
            .resources
            .contains_key(&Address::new("storage.models.bucket"))
    );
    assert!(
        obs.lines()
            .iter()
            .any(|l| l.starts_with("storage.models.bucket: Adopted existing resource"))
    );
    let f = &report.failures[0];
    assert_eq!(f.address, Address::new("compute.serving.cluster"));
    assert!(
        f.message
            .contains("already exists, managed by stack other env prod"),
        "{}",
        f.message
    );
    assert!(
        f.message
            .contains("pedestal import compute.serving.cluster"),
        "{}",
        f.message
    );
    assert_eq!(
        fake.count(Op::Create),
        1,
        "only the task definition was created"
    );
    assert_eq!(report.skipped, vec![Address::new("endpoint.fraud.service")]);
}

#[tokio::test]
async fn an_intent_names_an_untagged_leftover_which_is_adopted() {
    let fake = Arc::new(FakeProvider::new());
    let mut untagged = Attrs::new();
    untagged.insert("name".into(), Value::str("/lg/x"));
    fake.insert(ResourceKind::LogGroup, "/lg/x", untagged);
    let mut st = State::new("s", "dev");
    st.intents.insert(
        Address::new("endpoint.x.log_group"),
        Intent {
            kind: ResourceKind::LogGroup,
            physical_name: "/lg/x".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
        },
    );
    let p = plan(
        vec![change(
            "endpoint.x.log_group",
            ResourceKind::LogGroup,
            Action::Create,
            &[("name", Value::str("/lg/x"))],
            &[],
        )],
        PlanMode::Normal,
    );
    let (report, _) = run(&p, st, &fake, ApplyOptions::default()).await;
    assert!(report.ok(), "{:?}", report.failures);
    assert!(report.state.intents.is_empty());
    assert_eq!(fake.count(Op::Create), 0);
    assert_eq!(fake.count(Op::Update), 1, "adoption converges the settings");

    // Without the intent, the same untagged group is refused.
    let fake2 = Arc::new(FakeProvider::new());
    let mut untagged = Attrs::new();
    untagged.insert("name".into(), Value::str("/lg/x"));
    fake2.insert(ResourceKind::LogGroup, "/lg/x", untagged);
    let (report, _) = run(&p, State::new("s", "dev"), &fake2, ApplyOptions::default()).await;
    assert!(
        report.failures[0]
            .message
            .contains("not managed by pedestal")
    );
}

#[tokio::test]
async fn cancel_starts_nothing_new() {
    let fake = Arc::new(FakeProvider::new());
    let (tx, rx) = watch::channel(true);
    let opts = ApplyOptions {
        cancel: Some(rx),
        ..Default::default()
    };
    let (report, _) = run(&endpoint_plan(), State::new("s", "dev"), &fake, opts).await;
    drop(tx);
    assert!(report.interrupted);
    assert_eq!(report.not_started.len(), 4);
    assert!(fake.objects().is_empty());
}

/// Applies the endpoint plan through a persist that logs each call (and says whether it may
/// block, which picks the writer thread or the in-place writer), and checks what it saw.
async fn persisted_after_every_resource(may_block: bool) {
    #[derive(Default)]
    struct Count(std::sync::Mutex<Vec<String>>, bool);
    impl Persist for Count {
        fn record(&self, s: &State, e: &[JournalEntry]) -> Result<(), StateError> {
            self.0
                .lock()
                .unwrap()
                .push(format!("{}@{}", e.len(), s.serial));
            Ok(())
        }
        fn finish(&self, _: &State) -> Result<(), StateError> {
            self.0.lock().unwrap().push("final".into());
            Ok(())
        }
        fn may_block(&self) -> bool {
            self.1
        }
    }
    let fake = Arc::new(FakeProvider::new());
    let persist = Arc::new(Count(Default::default(), may_block));
    let report = apply(
        &endpoint_plan(),
        State::new("s", "dev"),
        fake,
        persist.clone(),
        Arc::new(NullObserver),
        ApplyOptions::default(),
    )
    .await;
    assert!(report.ok());
    let log = persist.0.lock().unwrap().clone();
    // An intent and a result per resource, the release started, then the final write.
    assert_eq!(log.len(), 10, "{log:?}");
    assert_eq!(log.last().unwrap(), "final");
    let serials: BTreeSet<&str> = log.iter().filter_map(|l| l.split('@').nth(1)).collect();
    assert_eq!(serials.len(), 9, "every write bumps the serial");
    // The release is recorded as in progress before the service call, then the service's
    // record finishes it and clears the intent too.
    assert_eq!(log[7], "1@11", "{log:?}");
    assert_eq!(log[8], "3@14", "{log:?}");
}

#[tokio::test]
async fn state_is_persisted_after_every_resource() {
    persisted_after_every_resource(true).await;
}

#[tokio::test]
async fn state_in_memory_is_persisted_in_place_after_every_resource() {
    persisted_after_every_resource(false).await;
}

#[tokio::test]
async fn an_interrupt_lets_in_flight_work_finish_and_starts_nothing_new() {
    let fake = Arc::new(FakeProvider::new().with_delay(Duration::from_millis(60)));
    let (tx, rx) = watch::channel(false);
    let opts = ApplyOptions {
        cancel: Some(rx),
        ..Default::default()
    };
    let p = endpoint_plan();
    let handle = {
        let fake = fake.clone();
        tokio::spawn(async move { run(&p, State::new("s", "dev"), &fake, opts).await.0 })
    };
    // Interrupt while the first wave (bucket and cluster: find + create) is in flight.
    tokio::time::sleep(Duration::from_millis(30)).await;
    tx.send(true).unwrap();
    let report = handle.await.unwrap();
    assert!(report.interrupted);
    assert_eq!(
        report.added, 2,
        "in-flight creates finished and were recorded"
    );
    assert!(
        report
            .state
            .resources
            .contains_key(&Address::new("storage.models.bucket"))
    );
    assert!(
        report
            .state
            .resources
            .contains_key(&Address::new("compute.serving.cluster"))
    );
    assert_eq!(
        report.not_started,
        vec![
            Address::new("endpoint.fraud.service"),
            Address::new("endpoint.fraud.task_definition")
        ]
    );
    assert!(report.state.intents.is_empty());
    assert_eq!(
        report.summary(),
        "Apply incomplete. Resources: 2 added, 0 changed, 0 destroyed."
    );
}

#[tokio::test]
async fn a_second_interrupt_abandons_in_flight_work_and_keeps_the_intents() {
    let fake = Arc::new(FakeProvider::new().with_delay(Duration::from_millis(300)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (abandon_tx, abandon_rx) = watch::channel(false);
    let opts = ApplyOptions {
        cancel: Some(stop_rx),
        abandon: Some(abandon_rx),
        ..Default::default()
    };
    let p = endpoint_plan();
    let handle = {
        let fake = fake.clone();
        tokio::spawn(async move { run(&p, State::new("s", "dev"), &fake, opts).await.0 })
    };
    // find (0-300ms), intent, create (300-600ms): interrupt twice during the create.
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop_tx.send(true).unwrap();
    abandon_tx.send(true).unwrap();
    let report = handle.await.unwrap();
    assert!(report.interrupted);
    assert_eq!(
        report
            .abandoned
            .iter()
            .map(|a| a.as_str())
            .collect::<BTreeSet<_>>(),
        ["compute.serving.cluster", "storage.models.bucket"]
            .into_iter()
            .collect()
    );
    assert_eq!(report.added, 0);
    assert!(report.state.resources.is_empty());
    assert_eq!(
        report.state.intents.len(),
        2,
        "the next apply adopts by intent"
    );
    assert!(!report.ok());
}

#[tokio::test]
async fn progress_lines_read_like_terraform() {
    let fake = Arc::new(FakeProvider::new());
    let opts = ApplyOptions {
        parallelism: 1,
        ..Default::default()
    };
    let (report, obs) = run(&endpoint_plan(), State::new("s", "dev"), &fake, opts).await;
    let mut text = obs.lines().join("\n");
    text.push('\n');
    text.push_str(&report.summary());
    insta::assert_snapshot!(text);
}

#[tokio::test]
async fn slow_operations_report_still_creating() {
    let fake = Arc::new(FakeProvider::new().with_delay(Duration::from_millis(80)));
    let opts = ApplyOptions {
        still_interval: Duration::from_millis(30),
        ..Default::default()
    };
    let p = plan(
        vec![change(
            "endpoint.x.log_group",
            ResourceKind::LogGroup,
            Action::Create,
            &[("name", Value::str("/lg/x"))],
            &[],
        )],
        PlanMode::Normal,
    );
    let (_, obs) = run(&p, State::new("s", "dev"), &fake, opts).await;
    let lines = obs.lines();
    assert!(
        lines.contains(&"endpoint.x.log_group: Still creating... [0s elapsed]".to_string()),
        "{lines:?}"
    );
    assert_eq!(lines.first().unwrap(), "endpoint.x.log_group: Creating...");
}
