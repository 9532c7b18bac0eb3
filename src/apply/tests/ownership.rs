//! Ownership before harm, against the fake provider: state pointing at another stack's, env's
//! or address's resource is refused as a whole before anything runs, and a forged intent never
//! adopts a resource tagged for someone else.

use super::*;

/// Attributes of a resource tagged for stack `stack` env `env`.
fn owned_by(name_attr: &str, name: &str, stack: &str, env: &str, addr: &str) -> Attrs {
    let mut a = Attrs::new();
    a.insert(crate::resource::Key::intern(name_attr), Value::str(name));
    let t = [(TAG_STACK, stack), (TAG_ENV, env), (TAG_ADDRESS, addr)]
        .into_iter()
        .map(|(k, v)| (crate::resource::Key::from(k), Value::str(v)))
        .collect();
    a.insert("tags".into(), Value::Map(t));
    a
}

/// Deletes of everything in `st`, as a destroy plan.
fn destroy_plan(st: &State) -> Plan {
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
    plan(deletes, PlanMode::Destroy)
}

/// Applies the create of `endpoint.x.log_group` named `/lg/theirs` with an intent naming that
/// group, which exists tagged for `stack` / `env` / `addr`; the fake provider is returned too.
async fn create_over_forged_intent(
    stack: &str,
    env: &str,
    addr: &str,
) -> (ApplyReport, Arc<FakeProvider>) {
    let fake = Arc::new(FakeProvider::new());
    fake.insert(
        ResourceKind::LogGroup,
        "/lg/theirs",
        owned_by("name", "/lg/theirs", stack, env, addr),
    );
    let mut st = State::new("s", "dev");
    st.intents.insert(
        Address::new("endpoint.x.log_group"),
        Intent {
            kind: ResourceKind::LogGroup,
            physical_name: "/lg/theirs".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
        },
    );
    let p = plan(
        vec![change(
            "endpoint.x.log_group",
            ResourceKind::LogGroup,
            Action::Create,
            &[("name", Value::str("/lg/theirs"))],
            &[],
        )],
        PlanMode::Normal,
    );
    let (report, _) = run(&p, st, &fake, ApplyOptions::default()).await;
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert_eq!((fake.count(Op::Create), fake.count(Op::Update)), (0, 0));
    (report, fake)
}

/// The tag `key` of the fake's `/lg/theirs`.
fn their_tag(fake: &FakeProvider, key: &str) -> Option<String> {
    let theirs = fake.get(ResourceKind::LogGroup, "/lg/theirs").unwrap();
    crate::provider::tags_of(&theirs.attrs).get(key).cloned()
}

#[tokio::test]
async fn a_forged_intent_does_not_adopt_a_resource_tagged_for_another_stack() {
    let (report, fake) = create_over_forged_intent("other", "prod", "endpoint.x.log_group").await;
    assert!(
        report.failures[0]
            .message
            .contains("already exists, managed by stack other env prod"),
        "{}",
        report.failures[0].message
    );
    // Still theirs: not re-tagged.
    assert_eq!(their_tag(&fake, TAG_STACK).as_deref(), Some("other"));
}

/// Applies the endpoint plan of stack `s` env `dev`, adds a cluster `name` tagged for
/// `(stack, env, address)`, and returns the applied state with its
/// `compute.serving.cluster` entry pointed at that cluster, and the cluster's id.
async fn cluster_pointed_at(
    fake: &Arc<FakeProvider>,
    name: &str,
    (stack, env, address): (&str, &str, &str),
) -> (State, String) {
    let (applied, _) = run(
        &endpoint_plan(),
        State::new("s", "dev"),
        fake,
        ApplyOptions::default(),
    )
    .await;
    assert!(applied.ok(), "{:?}", applied.failures);
    let id = fake.insert(
        ResourceKind::EcsCluster,
        name,
        owned_by("name", name, stack, env, address),
    );
    let mut st = applied.state;
    let rs = st
        .resources
        .get_mut(&Address::new("compute.serving.cluster"))
        .unwrap();
    rs.id = id.clone();
    rs.attrs.insert("name".into(), Value::str(name));
    (st, id)
}

#[tokio::test]
async fn state_pointing_at_another_stacks_resource_is_refused_as_a_whole() {
    let fake = Arc::new(FakeProvider::new());
    // Another stack's cluster; the state's cluster entry is pointed at it.
    let (st, theirs) = cluster_pointed_at(
        &fake,
        "theirs",
        ("other", "prod", "compute.serving.cluster"),
    )
    .await;
    let deletes_before = fake.count(Op::Delete);
    let (report, obs) = run(
        &destroy_plan(&st),
        st.clone(),
        &fake,
        ApplyOptions::default(),
    )
    .await;
    assert!(!report.ok());
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    let f = &report.failures[0];
    assert_eq!(f.address, Address::new("compute.serving.cluster"));
    assert_eq!(
        f.message,
        format!(
            "compute.serving.cluster: refusing to destroy ecs_cluster {theirs}: it is managed by \
             stack other env prod (address compute.serving.cluster), not by stack s env dev; the \
             state does not describe this stack's resources, so nothing was changed"
        )
    );
    // Nothing at all was deleted, not even this stack's own resources.
    assert_eq!(fake.count(Op::Delete), deletes_before);
    assert!(fake.get(ResourceKind::EcsCluster, "theirs").is_some());
    assert_eq!(report.state, st);
    assert_eq!(report.destroyed, 0);
    assert!(
        obs.lines()
            .iter()
            .any(|l| l.contains("refusing to destroy ecs_cluster")),
        "{:?}",
        obs.lines()
    );
}

#[tokio::test]
async fn dev_state_under_the_prod_name_does_not_touch_devs_resources() {
    let fake = Arc::new(FakeProvider::new());
    let (applied, _) = run(
        &endpoint_plan(),
        State::new("s", "dev"),
        &fake,
        ApplyOptions::default(),
    )
    .await;
    assert!(applied.ok(), "{:?}", applied.failures);
    // dev's state, its fields edited to say prod, destroyed as prod.
    let mut st = applied.state.clone();
    st.env = "prod".into();
    let mut p = destroy_plan(&st);
    p.env = "prod".into();
    let (report, _) = run(&p, st, &fake, ApplyOptions::default()).await;
    let mut refused: Vec<&str> = report.failures.iter().map(|f| f.address.as_str()).collect();
    refused.sort();
    assert_eq!(
        refused,
        [
            "compute.serving.cluster",
            "endpoint.fraud.service",
            "endpoint.fraud.task_definition",
            "storage.models.bucket"
        ]
    );
    assert!(
        report.failures.iter().all(
            |f| f.message.contains("managed by stack s env dev (address ")
                && f.message.contains("not by stack s env prod")
        ),
        "{:?}",
        report.failures
    );
    assert_eq!(fake.count(Op::Delete), 0);
}

/// State whose entry for one cluster records the id of this stack's other cluster: destroying
/// or updating it would harm the other one.
#[tokio::test]
async fn state_pointing_one_address_at_another_addresss_resource_is_refused() {
    let fake = Arc::new(FakeProvider::new());
    // A second cluster of this very stack and env, at another address.
    let (st, batch) =
        cluster_pointed_at(&fake, "batch", ("s", "dev", "compute.batch.cluster")).await;
    let expected = format!(
        "compute.serving.cluster: refusing to destroy ecs_cluster {batch}: it belongs to \
         compute.batch.cluster of this stack (tagged pedestal:address = compute.batch.cluster); \
         the state records another resource's id for compute.serving.cluster, so nothing was \
         changed"
    );
    let (report, _) = run(
        &destroy_plan(&st),
        st.clone(),
        &fake,
        ApplyOptions::default(),
    )
    .await;
    let msgs: Vec<&str> = report.failures.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(msgs, [expected.as_str()]);
    assert_eq!(fake.count(Op::Delete), 0);
    assert_eq!(report.state, st);
    // An update of the swapped entry is refused the same way.
    let mut update = destroy_plan(&st);
    update.mode = PlanMode::Normal;
    update
        .changes
        .retain(|c| c.address.as_str() == "compute.serving.cluster");
    let c = &mut update.changes[0];
    c.action = Action::Update;
    c.after = c.before.clone();
    let updates_before = fake.count(Op::Update);
    let (report, _) = run(&update, st.clone(), &fake, ApplyOptions::default()).await;
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert!(
        report.failures[0].message.starts_with(&format!(
            "compute.serving.cluster: refusing to update ecs_cluster {batch}: it belongs to \
                 compute.batch.cluster"
        )),
        "{}",
        report.failures[0].message
    );
    assert_eq!(fake.count(Op::Update), updates_before);
    assert!(fake.get(ResourceKind::EcsCluster, "batch").is_some());
}

/// An intent naming a resource this stack made for another address is no proof: it is not
/// adopted (nor re-tagged) for the intent's address.
#[tokio::test]
async fn a_forged_intent_does_not_adopt_a_sibling_resource_of_the_same_stack() {
    let (report, fake) = create_over_forged_intent("s", "dev", "endpoint.y.log_group").await;
    assert!(
        report.failures[0]
            .message
            .contains("already exists, managed by stack s env dev (address endpoint.y.log_group)"),
        "{}",
        report.failures[0].message
    );
    assert_eq!(
        their_tag(&fake, TAG_ADDRESS).as_deref(),
        Some("endpoint.y.log_group")
    );
    assert!(
        !report
            .state
            .resources
            .contains_key(&Address::new("endpoint.x.log_group"))
    );
}
