//! Integration tests for the apply workflow: the applier and the AWS provider against a real
//! moto server (see `apply/moto.rs`), reading results back through the AWS SDK.

mod moto;
mod stack;

use std::sync::Arc;

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_sdk_ecs::types::{ServiceField, TaskDefinitionField};
use aws_sdk_s3::types::BucketVersioningStatus;
use pedestal::addr::Address;
use pedestal::apply::{self, ApplyOptions, ApplyReport, NoPersist, RecordingObserver};
use pedestal::ops::refresh::refresh_with;
use pedestal::plan::Action;
use pedestal::provider::Provider;
use pedestal::state::State;
use stack::{EndpointOpts, Names};

struct Ctx {
    names: Names,
    dir: tempfile::TempDir,
    provider: Arc<pedestal::provider::aws::AwsProvider>,
    conf: aws_config::SdkConfig,
}

impl Ctx {
    async fn new(prefix: &str) -> Ctx {
        let m = moto::moto();
        let _ = m;
        let dir = tempfile::tempdir().unwrap();
        Ctx {
            names: Names::new(&moto::unique(prefix)),
            provider: Arc::new(moto::provider(dir.path()).await),
            conf: moto::sdk_config().await,
            dir,
        }
    }

    fn opts(
        &self,
        version: &'static str,
        wait: bool,
        force_destroy: bool,
    ) -> EndpointOpts<'static> {
        let m = moto::moto();
        EndpointOpts {
            version,
            wait,
            subnets: m.subnets.clone(),
            security_group: m.security_group.clone(),
            force_destroy,
        }
    }

    async fn apply(
        &self,
        plan: &pedestal::plan::Plan,
        state: State,
    ) -> (ApplyReport, Arc<RecordingObserver>) {
        let obs = Arc::new(RecordingObserver::default());
        let report = apply::apply(
            plan,
            state,
            self.provider.clone(),
            Arc::new(NoPersist),
            obs.clone(),
            ApplyOptions::default(),
        )
        .await;
        (report, obs)
    }

    fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.conf)
                .force_path_style(true)
                .build(),
        )
    }
    fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.conf)
    }
    fn aas(&self) -> aws_sdk_applicationautoscaling::Client {
        aws_sdk_applicationautoscaling::Client::new(&self.conf)
    }
    fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.conf)
    }
}

/// GetBucketVersioning through the provider's tolerant reader (moto's XML root differs).
async fn versioning(c: &Ctx, bucket: &str) -> bool {
    pedestal::provider::aws::s3::versioning_enabled(&c.provider, bucket)
        .await
        .unwrap()
}

fn assert_ok(r: &ApplyReport) {
    assert!(
        r.ok(),
        "apply failed: {:?} skipped {:?} persist {:?}",
        r.failures,
        r.skipped,
        r.persist_errors
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_stack_lifecycle_against_moto() {
    let c = Ctx::new("life").await;
    let n = &c.names;
    let desired = stack::endpoint_stack(n, c.dir.path(), &c.opts("1.3.0", true, true));

    // 1. From empty: everything is created, the first release is recorded as completed.
    let plan = stack::plan(&n.stack, &desired, &State::new(&n.stack, "dev"), false);
    let (report, obs) = c.apply(&plan, State::new(&n.stack, "dev")).await;
    assert_ok(&report);
    assert_eq!(
        report.summary(),
        "Apply complete! Resources: 7 added, 0 changed, 0 destroyed."
    );
    assert!(
        obs.lines()
            .iter()
            .any(|l| l.starts_with("endpoint.fraud.service: Creation complete after"))
    );
    let state = report.state;
    assert_eq!(state.releases["endpoint.fraud"][0].version, "1.3.0");
    assert_eq!(state.releases["endpoint.fraud"][0].outcome, "completed");

    // 2. Read back through the SDK.
    let s3 = c.s3();
    assert!(versioning(&c, &n.bucket).await);
    let enc = s3
        .get_bucket_encryption()
        .bucket(&n.bucket)
        .send()
        .await
        .unwrap();
    let algo = enc.server_side_encryption_configuration().unwrap().rules()[0]
        .apply_server_side_encryption_by_default()
        .unwrap()
        .sse_algorithm()
        .as_str()
        .to_string();
    assert_eq!(algo, "AES256");
    let pab = s3
        .get_public_access_block()
        .bucket(&n.bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        pab.public_access_block_configuration()
            .unwrap()
            .block_public_acls(),
        Some(true)
    );
    let lc = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&n.bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(lc.rules().len(), 2);
    let tags = s3
        .get_bucket_tagging()
        .bucket(&n.bucket)
        .send()
        .await
        .unwrap();
    let tag = |k: &str| {
        tags.tag_set()
            .iter()
            .find(|t| t.key() == k)
            .map(|t| t.value().to_string())
    };
    assert_eq!(tag("pedestal:stack").as_deref(), Some(n.stack.as_str()));
    assert_eq!(
        tag("pedestal:address").as_deref(),
        Some("storage.models.bucket")
    );
    let obj = &state.resources[&Address::new("artifact.fraud_model.object")];
    let key = obj.attrs["key"].as_str().unwrap();
    let head = s3
        .head_object()
        .bucket(&n.bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.metadata().unwrap()["sha256"],
        obj.attrs["sha256"].as_str().unwrap()
    );

    let ecs = c.ecs();
    let cl = ecs
        .describe_clusters()
        .clusters(&n.cluster)
        .include(aws_sdk_ecs::types::ClusterField::Settings)
        .include(aws_sdk_ecs::types::ClusterField::Tags)
        .send()
        .await
        .unwrap();
    let cluster = &cl.clusters()[0];
    assert_eq!(cluster.settings()[0].value(), Some("enabled"));
    assert_eq!(cluster.capacity_providers(), ["FARGATE", "FARGATE_SPOT"]);
    assert!(
        cluster
            .tags()
            .iter()
            .any(|t| t.key() == Some("pedestal:env") && t.value() == Some("dev"))
    );

    let td_arn = state.resources[&Address::new("endpoint.fraud.task_definition")]
        .id
        .clone();
    let td = ecs
        .describe_task_definition()
        .task_definition(&td_arn)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .unwrap();
    let def = td.task_definition().unwrap();
    assert_eq!(def.cpu(), Some("1024"));
    assert_eq!(def.memory(), Some("2048"));
    let cd = &def.container_definitions()[0];
    assert_eq!(
        cd.image(),
        Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud-serve:2.4.1")
    );
    assert_eq!(cd.port_mappings()[0].container_port(), Some(8080));
    let env: Vec<(String, String)> = cd
        .environment()
        .iter()
        .map(|kv| {
            (
                kv.name().unwrap().to_string(),
                kv.value().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        env.contains(&("MODEL_VERSION".into(), "1.3.0".into())),
        "{env:?}"
    );
    assert!(
        env.contains(&("MODEL_URI".into(), format!("s3://{}/{key}", n.bucket))),
        "{env:?}"
    );
    assert!(env.contains(&("LOG_LEVEL".into(), "info".into())));
    assert_eq!(cd.secrets()[0].name(), "API_TOKEN");
    assert_eq!(
        cd.log_configuration().unwrap().options().unwrap()["awslogs-group"],
        n.log_group
    );
    assert!(td.tags().iter().any(|t| t.key() == Some("pedestal:stack")));

    let svc = ecs
        .describe_services()
        .cluster(&n.cluster)
        .services("fraud")
        .include(ServiceField::Tags)
        .send()
        .await
        .unwrap();
    let service = &svc.services()[0];
    assert_eq!(service.task_definition(), Some(td_arn.as_str()));
    assert_eq!(service.desired_count(), 1);
    let vpc = service
        .network_configuration()
        .unwrap()
        .awsvpc_configuration()
        .unwrap();
    assert_eq!(vpc.subnets(), moto::moto().subnets.as_slice());
    assert!(service.tags().iter().any(
        |t| t.key() == Some("pedestal:address") && t.value() == Some("endpoint.fraud.service")
    ));

    let aas = c.aas();
    let targets = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(format!("service/{}/fraud", n.cluster))
        .send()
        .await
        .unwrap();
    assert_eq!(targets.scalable_targets()[0].min_capacity(), 1);
    assert_eq!(targets.scalable_targets()[0].max_capacity(), 3);
    let pols = aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(format!("service/{}/fraud", n.cluster))
        .send()
        .await
        .unwrap();
    let pol = &pols.scaling_policies()[0];
    assert_eq!(
        pol.target_tracking_scaling_policy_configuration()
            .unwrap()
            .target_value(),
        60.0
    );
    assert_eq!(
        pol.scalable_dimension(),
        &ScalableDimension::EcsServiceDesiredCount
    );

    let lg = c
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(&n.log_group)
        .send()
        .await
        .unwrap();
    assert_eq!(lg.log_groups()[0].retention_in_days(), Some(30));

    // 3. Planning again right away: no changes; refreshing: no drift.
    let again = stack::plan(&n.stack, &desired, &state, false);
    assert!(
        stack::actions(&again).is_empty(),
        "{:?}",
        stack::actions(&again)
    );
    let refreshed = refresh_with(c.provider.as_ref(), &state).await.unwrap();
    assert!(
        refreshed.drift.is_empty(),
        "unexpected drift: {:#?}",
        refreshed.drift
    );

    // 4. A release bump changes only that endpoint's task definition and service.
    let bumped = stack::endpoint_stack(n, c.dir.path(), &c.opts("1.4.0", false, true));
    let plan = stack::plan(&n.stack, &bumped, &state, false);
    let acts = stack::actions(&plan);
    assert_eq!(
        acts.keys().cloned().collect::<Vec<_>>(),
        [
            "artifact.fraud_model.object",
            "endpoint.fraud.service",
            "endpoint.fraud.task_definition"
        ],
        "a new model is a new artifact key, a new revision and a service update"
    );
    // (The artifact key is content addressed: the new model is a new object.)
    let calls_before = c.provider.api_calls();
    let (report, _) = c.apply(&plan, state).await;
    assert_ok(&report);
    assert!(c.provider.api_calls() > calls_before);
    let state = report.state;
    let new_td = state.resources[&Address::new("endpoint.fraud.task_definition")]
        .id
        .clone();
    assert_ne!(new_td, td_arn);
    let svc = ecs
        .describe_services()
        .cluster(&n.cluster)
        .services("fraud")
        .send()
        .await
        .unwrap();
    assert_eq!(svc.services()[0].task_definition(), Some(new_td.as_str()));
    let rel = &state.releases["endpoint.fraud"];
    assert_eq!(
        rel.iter().map(|r| r.version.as_str()).collect::<Vec<_>>(),
        ["1.3.0", "1.4.0"]
    );
    assert_eq!(rel[1].task_definition_arn, new_td);
    // The previous revision stays ACTIVE for rollback.
    let old = ecs
        .describe_task_definition()
        .task_definition(&td_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.task_definition().unwrap().status().map(|s| s.as_str()),
        Some("ACTIVE")
    );

    // 5. Drift made behind pedestal's back shows on refresh.
    s3.put_bucket_versioning()
        .bucket(&n.bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap();
    ecs.update_service()
        .cluster(&n.cluster)
        .service("fraud")
        .desired_count(3)
        .send()
        .await
        .unwrap();
    let refreshed = refresh_with(c.provider.as_ref(), &state).await.unwrap();
    let drifted: Vec<String> = refreshed
        .drift
        .iter()
        .map(|d| d.address.to_string())
        .collect();
    assert_eq!(drifted, ["endpoint.fraud.service", "storage.models.bucket"]);
    let bucket_drift = &refreshed.drift[1];
    assert_eq!(
        bucket_drift.after.as_ref().unwrap()["versioning"],
        pedestal::resource::Value::Bool(false)
    );
    let fix = stack::plan(&n.stack, &bumped, &refreshed.state, false);
    assert_eq!(
        stack::actions(&fix),
        [
            ("endpoint.fraud.service".to_string(), Action::Update),
            ("storage.models.bucket".to_string(), Action::Update)
        ]
        .into_iter()
        .collect()
    );
    let (report, _) = c.apply(&fix, refreshed.state).await;
    assert_ok(&report);
    assert!(versioning(&c, &n.bucket).await);
    let state = report.state;

    // 6. Destroy leaves nothing behind (force_destroy is recorded, so the versions go too).
    let plan = stack::plan(&n.stack, &bumped, &state, true);
    let (report, obs) = c.apply(&plan, state).await;
    assert_ok(&report);
    assert_eq!(
        report.summary(),
        "Destroy complete! Resources: 7 destroyed."
    );
    let lines = obs.lines();
    let pos = |l: &str| lines.iter().position(|x| x.starts_with(l)).unwrap();
    assert!(
        pos("endpoint.fraud.scaling: Destruction complete")
            < pos("endpoint.fraud.service: Destroying...")
    );
    assert!(
        pos("endpoint.fraud.service: Destruction complete")
            < pos("compute.serving.cluster: Destroying...")
    );
    assert!(report.state.resources.is_empty());
    assert!(s3.head_bucket().bucket(&n.bucket).send().await.is_err());
    let cl = ecs
        .describe_clusters()
        .clusters(&n.cluster)
        .send()
        .await
        .unwrap();
    assert!(cl.clusters().iter().all(|c| c.status() == Some("INACTIVE")));
    let svc = ecs
        .describe_services()
        .cluster(&n.cluster)
        .services("fraud")
        .send()
        .await;
    if let Ok(svc) = svc {
        assert!(
            svc.services()
                .iter()
                .all(|s| s.status() == Some("INACTIVE"))
        );
    }
    let tds = ecs
        .list_task_definitions()
        .family_prefix(&n.family)
        .send()
        .await
        .unwrap();
    assert!(
        tds.task_definition_arns().is_empty(),
        "{:?}",
        tds.task_definition_arns()
    );
    let lg = c
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(&n.log_group)
        .send()
        .await
        .unwrap();
    assert!(lg.log_groups().is_empty());
    let targets = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(format!("service/{}/fraud", n.cluster))
        .send()
        .await
        .unwrap();
    assert!(targets.scalable_targets().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_resource_leaves_the_others_applied_and_state_consistent() {
    let c = Ctx::new("fail").await;
    let n = &c.names;
    let mut o = c.opts("1.0.0", true, true);
    o.subnets = vec!["subnet-doesnotexist".into()];
    let desired = stack::endpoint_stack(n, c.dir.path(), &o);
    let plan = stack::plan(&n.stack, &desired, &State::new(&n.stack, "dev"), false);
    let (report, _) = c.apply(&plan, State::new(&n.stack, "dev")).await;
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert_eq!(
        report.failures[0].address,
        Address::new("endpoint.fraud.service")
    );
    assert_eq!(report.skipped, [Address::new("endpoint.fraud.scaling")]);
    assert_eq!(report.added, 5);
    let st = &report.state;
    assert_eq!(st.resources.len(), 5);
    assert!(
        !st.resources
            .contains_key(&Address::new("endpoint.fraud.service"))
    );
    assert!(st.intents.is_empty(), "{:?}", st.intents);
    // The state matches the cloud: a refresh finds no drift.
    let refreshed = refresh_with(c.provider.as_ref(), st).await.unwrap();
    assert!(refreshed.drift.is_empty(), "{:#?}", refreshed.drift);
    // Clean up.
    let plan = stack::plan(&n.stack, &desired, st, true);
    let (report, _) = c.apply(&plan, st.clone()).await;
    assert_ok(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_holding_objects_is_kept_without_force_destroy() {
    let c = Ctx::new("keep").await;
    let n = &c.names;
    let desired: Vec<_> = stack::endpoint_stack(n, c.dir.path(), &c.opts("1.0.0", true, false))
        .into_iter()
        .filter(|d| {
            [
                "storage.models.bucket",
                "artifact.fraud_model.object",
                "endpoint.fraud.log_group",
            ]
            .contains(&d.address.as_str())
        })
        .collect();
    let plan = stack::plan(&n.stack, &desired, &State::new(&n.stack, "dev"), false);
    let (report, _) = c.apply(&plan, State::new(&n.stack, "dev")).await;
    assert_ok(&report);
    c.s3()
        .put_object()
        .bucket(&n.bucket)
        .key("someone-elses/data.csv")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"a,b"))
        .send()
        .await
        .unwrap();
    let plan = stack::plan(&n.stack, &desired, &report.state, true);
    let (report, _) = c.apply(&plan, report.state).await;
    assert_eq!(report.failures.len(), 1);
    assert_eq!(
        report.failures[0].message,
        format!(
            "storage.models.bucket: bucket {} still holds 1 objects; set force_destroy = true and apply before destroying",
            n.bucket
        )
    );
    assert_eq!(
        report.destroyed, 2,
        "the artifact (every version) and the log group went"
    );
    let keys: Vec<_> = report
        .state
        .resources
        .keys()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(keys, ["storage.models.bucket"]);
    let versions = c
        .s3()
        .list_object_versions()
        .bucket(&n.bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        versions.versions().len(),
        1,
        "only the foreign object is left"
    );
    assert!(versions.delete_markers().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_of_others_are_refused_and_own_leftovers_adopted() {
    let c = Ctx::new("own").await;
    let n = &c.names;
    let all = stack::endpoint_stack(n, c.dir.path(), &c.opts("1.0.0", true, true));
    let pick = |a: &str| {
        all.iter()
            .find(|d| d.address.as_str() == a)
            .unwrap()
            .clone()
    };
    let s3 = c.s3();
    // A bucket of another stack, under the name this stack wants.
    s3.create_bucket().bucket(&n.bucket).send().await.unwrap();
    s3.put_bucket_tagging()
        .bucket(&n.bucket)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("pedestal:stack")
                        .value("other")
                        .build()
                        .unwrap(),
                )
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("pedestal:env")
                        .value("prod")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // An untagged log group.
    c.logs()
        .create_log_group()
        .log_group_name(&n.log_group)
        .send()
        .await
        .unwrap();
    // A cluster a crashed run of this stack created (tagged) but never recorded.
    let cluster = pick("compute.serving.cluster");
    c.provider
        .create(&pedestal::provider::ApplyResource {
            address: cluster.address.clone(),
            kind: cluster.kind,
            attrs: cluster.attrs.clone(),
        })
        .await
        .unwrap();

    let desired = vec![
        pick("storage.models.bucket"),
        pick("endpoint.fraud.log_group"),
        cluster,
    ];
    let plan = stack::plan(&n.stack, &desired, &State::new(&n.stack, "dev"), false);
    let (report, obs) = c.apply(&plan, State::new(&n.stack, "dev")).await;
    let mut msgs: Vec<&str> = report.failures.iter().map(|f| f.message.as_str()).collect();
    msgs.sort();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[0].starts_with(&format!("endpoint.fraud.log_group: log_group {} already exists, not managed by pedestal; run `pedestal import endpoint.fraud.log_group", n.log_group)), "{}", msgs[0]);
    assert!(
        msgs[1].starts_with(&format!(
            "storage.models.bucket: s3_bucket {} already exists, managed by stack other env prod",
            n.bucket
        )),
        "{}",
        msgs[1]
    );
    assert!(
        obs.lines()
            .iter()
            .any(|l| l.starts_with("compute.serving.cluster: Adopted existing resource"))
    );
    assert!(
        report
            .state
            .resources
            .contains_key(&Address::new("compute.serving.cluster"))
    );
    // Adoption did not recreate (and so did not reset) the cluster: its settings survive.
    let cl = c
        .ecs()
        .describe_clusters()
        .clusters(&n.cluster)
        .include(aws_sdk_ecs::types::ClusterField::Tags)
        .send()
        .await
        .unwrap();
    assert!(!cl.clusters()[0].tags().is_empty());
}

// ---------------------------------------------------------------- through the binary

mod cli;

use cli::Stack;

/// (address, actions) of every change that is not a no-op, sorted by address.
fn plan_actions(json: &str) -> Vec<(String, Vec<String>)> {
    let v: serde_json::Value = serde_json::from_str(json).expect("plan JSON");
    let mut out: Vec<(String, Vec<String>)> = v["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["actions"] != serde_json::json!(["no-op"]))
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_string(),
                c["actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_through_the_cli_apply_bump_drift_destroy() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("qs").await;
    let bucket = format!("{}-dev-models", st.name);
    let cluster = format!("{}-dev-serving", st.name);

    // No terminal and no --auto-approve: refused, nothing written.
    let r = st.run(&["apply"]).expect(1);
    assert!(
        r.stderr()
            .contains("refusing to perform these actions without confirmation"),
        "{}",
        r.stderr()
    );
    assert!(!st.dir.join("state/dev.json").exists());
    assert!(c.s3().head_bucket().bucket(&bucket).send().await.is_err());

    let r = st.run(&["apply", "--auto-approve"]).expect(0);
    assert!(
        r.stdout()
            .contains("Apply complete! Resources: 6 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout()
    );
    assert!(
        r.stdout()
            .contains("endpoint.hello.service: Creation complete after")
    );
    let tags = c
        .s3()
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| t.key() == "pedestal:stack" && t.value() == st.name)
    );
    assert!(versioning(&c, &bucket).await);
    let svc = c
        .ecs()
        .describe_services()
        .cluster(&cluster)
        .services(format!("{}-dev-hello", st.name))
        .send()
        .await
        .unwrap();
    let service = &svc.services()[0];
    assert_eq!(service.desired_count(), 1);
    assert!(
        service
            .task_definition()
            .unwrap()
            .ends_with(&format!("{}-dev-hello:1", st.name))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(st.dir.join("state/dev.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Right after apply, with refresh: no changes.
    let r = st.run(&["plan", "--detailed-exitcode"]).expect(0);
    assert!(r.stdout().contains("No changes."), "{}", r.stdout());

    // A release bump touches only that endpoint. (moto never rebuilds deployments on update,
    // so the bump does not wait for the rollout.)
    st.edit(|t| {
        t.replace(
            "health_check = {",
            "deployment = { wait = false }\nhealth_check = {",
        )
    });
    let r = st
        .run(&["plan", "--var", "model_version=0.2.0", "--format", "json"])
        .expect(0);
    let acts = plan_actions(&r.stdout());
    assert_eq!(
        acts,
        [
            (
                "endpoint.hello.service".to_string(),
                vec!["update".to_string()]
            ),
            (
                "endpoint.hello.task_definition".to_string(),
                vec!["update".to_string()]
            ),
        ],
        "{}",
        r.stdout()
    );
    let r = st
        .run(&["apply", "--auto-approve", "--var", "model_version=0.2.0"])
        .expect(0);
    assert!(
        r.stdout()
            .contains("Apply complete! Resources: 0 added, 2 changed, 0 destroyed."),
        "{}",
        r.stdout()
    );
    let svc = c
        .ecs()
        .describe_services()
        .cluster(&cluster)
        .services(format!("{}-dev-hello", st.name))
        .send()
        .await
        .unwrap();
    assert!(svc.services()[0].task_definition().unwrap().ends_with(":2"));
    st.run(&[
        "plan",
        "--detailed-exitcode",
        "--var",
        "model_version=0.2.0",
    ])
    .expect(0);

    // Drift behind pedestal's back shows up, and the next plan undoes it.
    c.s3()
        .put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let r = st
        .run(&[
            "plan",
            "--detailed-exitcode",
            "--var",
            "model_version=0.2.0",
            "--format",
            "json",
        ])
        .expect(2);
    assert_eq!(
        plan_actions(&r.stdout()),
        [(
            "storage.models.bucket".to_string(),
            vec!["update".to_string()]
        )]
    );
    let doc: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    assert!(
        doc["drift"].to_string().contains("storage.models.bucket"),
        "drift is reported in its own section: {}",
        doc["drift"]
    );

    // Destroy leaves nothing behind.
    let r = st
        .run(&["destroy", "--auto-approve", "--var", "model_version=0.2.0"])
        .expect(0);
    assert!(
        r.stdout()
            .contains("Destroy complete! Resources: 6 destroyed."),
        "{}",
        r.stdout()
    );
    assert!(c.s3().head_bucket().bucket(&bucket).send().await.is_err());
    let cl = c
        .ecs()
        .describe_clusters()
        .clusters(&cluster)
        .send()
        .await
        .unwrap();
    assert!(cl.clusters().iter().all(|x| x.status() == Some("INACTIVE")));
    let tds = c
        .ecs()
        .list_task_definitions()
        .family_prefix(format!("{}-dev-hello", st.name))
        .send()
        .await
        .unwrap();
    assert!(tds.task_definition_arns().is_empty());
    let lg = c
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(format!("/pedestal/{}/", st.name))
        .send()
        .await
        .unwrap();
    assert!(lg.log_groups().is_empty());
    st.run(&[
        "plan",
        "--detailed-exitcode",
        "--var",
        "model_version=0.2.0",
        "--destroy",
    ])
    .expect(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fraud_detection_from_empty_through_the_cli() {
    let st = Stack::example("fraud-detection", "fraud-detection");
    let c = Ctx::new("fd").await;
    let r = st.run(&["apply", "--auto-approve"]).expect(0);
    assert!(r.stdout().contains("Apply complete!"), "{}", r.stdout());
    st.run(&["plan", "--detailed-exitcode"]).expect(0);
    let cluster = format!("{}-dev-serving", st.name);
    let targets = c
        .aas()
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .send()
        .await
        .unwrap();
    let ours: Vec<_> = targets
        .scalable_targets()
        .iter()
        .filter(|t| t.resource_id().contains(&cluster))
        .collect();
    assert_eq!(ours.len(), 2, "fraud and churn scale: {ours:?}");
    let fraud = ours
        .iter()
        .find(|t| t.resource_id().ends_with("-fraud"))
        .unwrap();
    assert_eq!((fraud.min_capacity(), fraud.max_capacity()), (2, 2));
    let services = c
        .ecs()
        .list_services()
        .cluster(&cluster)
        .send()
        .await
        .unwrap();
    assert_eq!(services.service_arns().len(), 2);
    // The secret variable never reaches state in clear.
    // The example's [backend] keeps state in the repository-level state/ (here: the copy's).
    let state =
        std::fs::read_to_string(st.dir.join("../../state/fraud-detection/dev.json")).unwrap();
    assert!(
        state.contains("endpoint.fraud.service"),
        "state recorded the apply"
    );
    assert!(!state.contains("not-a-real-token"));
    // force_destroy = false, but the artifacts go first, so the bucket is empty by then.
    let r = st.run(&["destroy", "--auto-approve"]).expect(0);
    assert!(r.stdout().contains("Destroy complete!"), "{}", r.stdout());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_saved_plan_is_refused() {
    let st = Stack::example("quickstart", "quickstart");
    let _c = Ctx::new("stale").await;
    let p1 = st.dir.join("one.plan");
    let p2 = st.dir.join("two.plan");
    st.run(&["plan", "--out", p1.to_str().unwrap()]).expect(0);
    st.run(&["plan", "--out", p2.to_str().unwrap()]).expect(0);
    let r = st.run(&["apply", p1.to_str().unwrap()]).expect(0);
    assert!(
        r.stdout().contains("Apply complete! Resources: 6 added"),
        "{}",
        r.stdout()
    );
    let r = st.run(&["apply", p2.to_str().unwrap()]).expect(1);
    assert!(
        r.stderr().to_lowercase().contains("stale") || r.stderr().contains("serial"),
        "{}",
        r.stderr()
    );
    st.run(&["destroy", "--auto-approve"]).expect(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_midway_then_apply_recovers_from_journal_and_intents() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("kill").await;
    // Two replicas while moto runs one task: the rollout never completes, so the apply sits
    // waiting on the service — after CreateService, before the service is recorded.
    st.edit(|t| t.replace("replicas = 1", "replicas = 2"));
    let mut child = st
        .command(&["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let cluster = format!("{}-dev-serving", st.name);
    let service = format!("{}-dev-hello", st.name);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let out = c
            .ecs()
            .describe_services()
            .cluster(&cluster)
            .services(&service)
            .send()
            .await;
        if out.is_ok_and(|o| o.services().iter().any(|s| s.status() == Some("ACTIVE"))) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the service never appeared"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // What survived: five resources journaled, and the intent for the service.
    let store = pedestal::state::LocalStore::new(st.dir.join("state/dev.json"), &st.name, "dev");
    let recorded = pedestal::state::StateStore::read(&store).unwrap().unwrap();
    assert_eq!(
        recorded.resources.len(),
        5,
        "{:?}",
        recorded.resources.keys()
    );
    assert!(
        recorded
            .intents
            .contains_key(&Address::new("endpoint.hello.service"))
    );

    // The lock of the killed run is still there.
    let r = st.run(&["apply", "--auto-approve"]).expect(1);
    let err = r.stderr();
    let id = err
        .split("pedestal force-unlock ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no lock id in: {err}"))
        .to_string();
    st.run(&["force-unlock", &id]).expect(0);

    // The next apply adopts the service the killed run created, instead of making another.
    st.edit(|t| t.replace("replicas = 2", "replicas = 1"));
    let r = st.run(&["apply", "--auto-approve"]).expect(0);
    assert!(
        r.stdout()
            .contains("endpoint.hello.service: Adopted existing resource"),
        "{}",
        r.stdout()
    );
    let recorded = pedestal::state::StateStore::read(&store).unwrap().unwrap();
    assert_eq!(recorded.resources.len(), 6);
    assert!(recorded.intents.is_empty());
    let services = c
        .ecs()
        .list_services()
        .cluster(&cluster)
        .send()
        .await
        .unwrap();
    assert_eq!(services.service_arns().len(), 1);
    st.run(&["plan", "--detailed-exitcode"]).expect(0);
    st.run(&["destroy", "--auto-approve"]).expect(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_artifact_is_uploaded_file_by_file_and_removed_whole() {
    use pedestal::resource::{ResourceKind, Value};
    use sha2::Digest;
    let c = Ctx::new("dir").await;
    let n = &c.names;
    let model = c.dir.path().join("model");
    std::fs::create_dir_all(model.join("weights")).unwrap();
    std::fs::write(model.join("config.json"), "{}").unwrap();
    std::fs::write(model.join("weights/part-0.bin"), "0123").unwrap();
    let sha = |s: &str| hex::encode(sha2::Sha256::digest(s.as_bytes()));
    let bucket = stack::endpoint_stack(n, c.dir.path(), &c.opts("1.0.0", true, false))
        .into_iter()
        .find(|d| d.address.as_str() == "storage.models.bucket")
        .unwrap();
    let prefix = "model/sha256-abc/".to_string();
    let mut attrs = pedestal::resource::Attrs::new();
    attrs.insert("bucket".into(), stack::r("storage.models.bucket", "bucket"));
    attrs.insert("key".into(), Value::str(&prefix));
    attrs.insert("source".into(), Value::str(model.display().to_string()));
    attrs.insert("sha256".into(), Value::str("abc"));
    attrs.insert(
        "files".into(),
        stack::map(&[
            ("config.json", Value::str(sha("{}"))),
            ("weights/part-0.bin", Value::str(sha("0123"))),
        ]),
    );
    let artifact = stack::Desired {
        address: Address::new("artifact.model.object"),
        kind: ResourceKind::S3Object,
        attrs,
        deps: [Address::new("storage.models.bucket")]
            .into_iter()
            .collect(),
    };
    let desired = vec![bucket, artifact];
    let plan = stack::plan(&n.stack, &desired, &State::new(&n.stack, "dev"), false);
    let (report, _) = c.apply(&plan, State::new(&n.stack, "dev")).await;
    assert_ok(&report);
    let listed = c
        .s3()
        .list_objects_v2()
        .bucket(&n.bucket)
        .prefix(&prefix)
        .send()
        .await
        .unwrap();
    let mut keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "model/sha256-abc/config.json",
            "model/sha256-abc/weights/part-0.bin"
        ]
    );
    let head = c
        .s3()
        .head_object()
        .bucket(&n.bucket)
        .key("model/sha256-abc/weights/part-0.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(head.metadata().unwrap()["sha256"], sha("0123"));
    let refreshed = refresh_with(c.provider.as_ref(), &report.state)
        .await
        .unwrap();
    assert!(refreshed.drift.is_empty(), "{:#?}", refreshed.drift);
    let plan = stack::plan(&n.stack, &desired, &report.state, true);
    let (report, _) = c.apply(&plan, report.state).await;
    assert_ok(&report);
    assert!(c.s3().head_bucket().bucket(&n.bucket).send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_twice_abandons_the_wait_releases_the_lock_and_exits_130() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("int").await;
    st.edit(|t| t.replace("replicas = 1", "replicas = 2"));
    let child = st
        .command(&["apply", "--auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let cluster = format!("{}-dev-serving", st.name);
    let service = format!("{}-dev-hello", st.name);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let out = c
            .ecs()
            .describe_services()
            .cluster(&cluster)
            .services(&service)
            .send()
            .await;
        if out.is_ok_and(|o| o.services().iter().any(|s| s.status() == Some("ACTIVE"))) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the service never appeared"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    for _ in 0..2 {
        let ok = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(ok.success());
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(130), "stderr:\n{stderr}");
    assert!(
        stderr.contains("endpoint.hello.service: abandoned"),
        "{stderr}"
    );
    // The lock was released: no force-unlock needed. The intent leads to adoption.
    st.edit(|t| t.replace("replicas = 2", "replicas = 1"));
    let r = st.run(&["apply", "--auto-approve"]).expect(0);
    assert!(
        r.stdout()
            .contains("endpoint.hello.service: Adopted existing resource"),
        "{}",
        r.stdout()
    );
    st.run(&["destroy", "--auto-approve"]).expect(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_definitions_keep_the_last_five_revisions_active() {
    let c = Ctx::new("rev").await;
    let n = &c.names;
    let td = stack::endpoint_stack(n, c.dir.path(), &c.opts("1.0.0", true, true))
        .into_iter()
        .find(|d| d.address.as_str() == "endpoint.fraud.task_definition")
        .unwrap();
    let mut attrs = td.attrs.clone();
    // The references are resolved by the applier; here they are given directly.
    if let Some(pedestal::resource::Value::Map(cont)) = attrs.get_mut("container") {
        cont.insert(
            "log_group".into(),
            pedestal::resource::Value::str(&n.log_group),
        );
    }
    attrs.remove("model");
    let mut res = pedestal::provider::ApplyResource {
        address: td.address.clone(),
        kind: td.kind,
        attrs,
    };
    let mut applied = c.provider.create(&res).await.unwrap();
    for i in 2..=7 {
        if let Some(pedestal::resource::Value::Map(cont)) = res.attrs.get_mut("container") {
            cont.insert(
                "image".into(),
                pedestal::resource::Value::str(format!("img:{i}")),
            );
        }
        applied = c
            .provider
            .update(&applied.id, &applied.attrs, &res)
            .await
            .unwrap();
    }
    assert!(
        applied.id.ends_with(&format!("{}:7", n.family)),
        "{}",
        applied.id
    );
    let active = c
        .ecs()
        .list_task_definitions()
        .family_prefix(&n.family)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    let revs: Vec<String> = active
        .task_definition_arns()
        .iter()
        .map(|a| a.rsplit(':').next().unwrap().to_string())
        .collect();
    assert_eq!(revs, ["3", "4", "5", "6", "7"]);
    c.provider
        .delete(res.kind, &applied.id, &applied.attrs)
        .await
        .unwrap();
    let active = c
        .ecs()
        .list_task_definitions()
        .family_prefix(&n.family)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    assert!(active.task_definition_arns().is_empty());
}

#[test]
fn ctrl_c_at_the_prompt_cancels_and_releases_the_lock() {
    // A pseudo-terminal, so apply asks for confirmation (no cloud calls: nothing is recorded
    // yet, so planning needs no refresh).
    let st = Stack::example("quickstart", "quickstart");
    let script = r#"
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "-C", sys.argv[2], "apply"])
buf = b""
deadline = time.time() + 60
while b"Enter a value" not in buf and time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            buf += os.read(fd, 65536)
        except OSError:
            break
time.sleep(0.3)
os.write(fd, b"\x03")
end = time.time() + 20
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(str(os.waitstatus_to_exitcode(status)) + "\n" + buf.decode(errors="replace"))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_pedestal"))
        .arg(&st.dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (code, transcript) = text.split_once('\n').unwrap_or((&text, ""));
    assert!(transcript.contains("Enter a value"), "{transcript}");
    assert!(transcript.contains("Apply cancelled."), "{transcript}");
    assert_eq!(code.trim(), "130", "{transcript}");
    let leftovers: Vec<_> = std::fs::read_dir(st.dir.join("state"))
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(
        !leftovers
            .iter()
            .any(|n| n.to_string_lossy().ends_with(".lock")),
        "lock left behind: {leftovers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_adopts_an_existing_bucket_and_refuses_what_is_not_declared() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("import").await;
    let bucket = format!("{}-dev-models", st.name);
    c.s3().create_bucket().bucket(&bucket).send().await.unwrap();
    let r = st
        .run(&["import", "storage.models.bucket", &bucket])
        .expect(0);
    assert!(r.stdout().contains("Import successful!"), "{}", r.stdout());
    let r = st
        .run(&["state", "show", "storage.models.bucket"])
        .expect(0);
    assert!(r.stdout().contains(&bucket), "{}", r.stdout());
    // Adopted, not created: the next plan updates the bucket's settings in place.
    let r = st.run(&["plan"]).expect(0);
    assert!(
        r.stdout()
            .contains("storage.models.bucket will be updated in-place"),
        "{}",
        r.stdout()
    );
    // An address the spec does not declare, and an id that does not exist, change nothing.
    let r = st
        .run(&["import", "storage.nope.bucket", &bucket])
        .expect(1);
    assert!(
        r.stderr().contains("not declared in the spec"),
        "{}",
        r.stderr()
    );
    st.run(&["state", "rm", "storage.models.bucket"]).expect(0);
    let r = st
        .run(&["import", "storage.models.bucket", "no-such-bucket-here"])
        .expect(1);
    assert!(r.stderr().contains("no s3_bucket"), "{}", r.stderr());
    let r = st.run(&["state", "list"]).expect(0);
    assert!(
        !r.stdout().contains("storage.models.bucket"),
        "{}",
        r.stdout()
    );
}
