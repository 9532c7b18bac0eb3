//! One endpoint stack's whole life through the library API against moto: create, read back
//! through the SDK, no-op plan, release bump, drift, destroy.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_sdk_ecs::types::TaskDefinitionField;
use aws_sdk_s3::types::BucketVersioningStatus;
use pedestal::addr::Address;
use pedestal::ops::refresh::refresh_with;
use pedestal::plan::Action;
use pedestal::provider::Provider;
use pedestal::state::State;

use super::ctx::{
    Ctx, assert_bucket_gone, assert_cluster_gone, assert_ok, assert_service_gone, versioning,
};
use super::{moto, stack};

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
    assert_eq!(
        state.releases["endpoint.fraud"][0].outcome,
        pedestal::state::Outcome::Completed
    );

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

    let service = &c.service(&n.cluster, "fraud").await;
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
    let targets = c.scalable_targets(&n.cluster, "fraud").await;
    assert_eq!(targets.len(), 1, "{targets:?}");
    assert_eq!(targets[0].min_capacity(), 1);
    assert_eq!(targets[0].max_capacity(), 3);
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
    // Applying that plan changes nothing and calls nothing.
    let calls_before = c.provider.api_calls();
    let (report, _) = c.apply(&again, state).await;
    assert_ok(&report);
    assert_eq!(
        report.summary(),
        "Apply complete! Resources: 0 added, 0 changed, 0 destroyed."
    );
    assert_eq!(c.provider.api_calls(), calls_before);
    let state = report.state;

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
    let (report, _) = c.apply(&plan, state).await;
    assert_ok(&report);
    let state = report.state;
    let new_td = state.resources[&Address::new("endpoint.fraud.task_definition")]
        .id
        .clone();
    assert_ne!(new_td, td_arn);
    assert_eq!(
        c.service(&n.cluster, "fraud").await.task_definition(),
        Some(new_td.as_str())
    );
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
    assert_bucket_gone(&c, &n.bucket).await;
    assert_cluster_gone(&c, &n.cluster).await;
    assert_service_gone(&c, &n.cluster, "fraud").await;
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
    assert!(c.scalable_targets(&n.cluster, "fraud").await.is_empty());
}
