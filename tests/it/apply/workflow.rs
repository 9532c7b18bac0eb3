//! Whole workflows through the `pedestal` binary against moto: the quickstart and fraud-detection
//! examples from empty to destroyed, and saved plans.

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use aws_sdk_s3::types::BucketVersioningStatus;

use super::cli::Stack;
use super::ctx::{Ctx, assert_bucket_gone, assert_cluster_gone, plan_actions, versioning};

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
    assert_bucket_gone(&c, &bucket).await;

    let r = st.run(&["apply", "--auto-approve"]).expect(0);
    assert!(
        r.stdout()
            .contains("Apply complete! Resources: 8 added, 0 changed, 0 destroyed."),
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

    // The outputs follow the summary, as `pedestal output` shows them.
    let applied = r.stdout();
    let (_, shown) = applied
        .split_once("Apply complete! Resources: 8 added, 0 changed, 0 destroyed.\n\nOutputs:\n\n")
        .unwrap_or_else(|| panic!("no outputs after the summary: {applied}"));
    assert!(shown.contains("model_uri = \"s3://"), "{shown}");
    assert!(
        shown.contains(&format!("service   = \"{}-dev-hello\"", st.name)),
        "{shown}"
    );
    let r = st.run(&["output"]).expect(0);
    assert_eq!(r.stdout(), shown);

    // Logs: -v the steps with their timings, -vv every AWS call with its status and duration,
    // -vvv request ids; never colour into a pipe.
    let r = st.run(&["-v", "plan"]).expect(0);
    for step in ["loaded the spec", "read state", "refreshed", "planned"] {
        assert!(
            r.stderr().contains(step),
            "-v logs {step:?}: {}",
            r.stderr()
        );
    }
    assert!(!r.stderr().contains("pedestal::aws"), "{}", r.stderr());
    let r = st.run(&["-vv", "plan"]).expect(0);
    assert!(
        r.stderr()
            .lines()
            .any(|l| l.contains("pedestal::aws") && l.contains("ECS.DescribeServices: 200 ok in")),
        "-vv logs AWS calls: {}",
        r.stderr()
    );
    let r = st.run(&["-vvv", "plan"]).expect(0);
    assert!(r.stderr().contains("request id "), "{}", r.stderr());
    assert!(!r.stderr().contains("\x1b["), "no ANSI codes into a pipe");
    assert!(!r.stdout().contains("\x1b["), "no ANSI codes into a pipe");

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
            .contains("Destroy complete! Resources: 8 destroyed."),
        "{}",
        r.stdout()
    );
    assert_bucket_gone(&c, &bucket).await;
    assert_cluster_gone(&c, &cluster).await;
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
    // ... and no role: the execution and task roles pedestal made are deleted too.
    for suffix in ["exec", "task"] {
        let role = format!("{}-dev-hello-{suffix}", st.name);
        let err = c
            .iam()
            .get_role()
            .role_name(&role)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            aws_sdk_iam::error::ProvideErrorMetadata::code(&err),
            Some("NoSuchEntity"),
            "{role}: {err:?}"
        );
    }
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
    // Read only this stack's targets (the server is shared with tests running in parallel).
    let targets = c
        .aas()
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(format!("service/{cluster}/{}-dev-fraud", st.name))
        .resource_ids(format!("service/{cluster}/{}-dev-churn-model", st.name))
        .send()
        .await
        .unwrap();
    let ours = targets.scalable_targets();
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
        r.stdout().contains("Apply complete! Resources: 8 added"),
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

/// Renaming the bucket that holds the artifact an endpoint serves: the plan replaces the bucket
/// and the artifact (and rolls the endpoint onto the new URI), the apply succeeds, the old
/// bucket is gone, the new one holds the artifact, and a new plan has nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_the_bucket_of_an_artifact_applies_through_the_cli() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("rnb").await;
    let old = format!("{}-dev-models", st.name);
    let new = format!("{}-dev-weights", st.name);
    // The bump of the task definition does not wait for a rollout moto never completes.
    st.edit(|t| {
        t.replace(
            "health_check = {",
            "deployment = { wait = false }\nhealth_check = {",
        )
    });
    st.run(&["apply", "--auto-approve"]).expect(0);
    st.edit(|t| {
        t.replace(
            "[storage.models]\n",
            &format!("[storage.models]\nbucket = \"{new}\"\n"),
        )
    });
    let r = st.run(&["plan", "--format", "json"]).expect(0);
    let acts = plan_actions(&r.stdout());
    let actions = |addr: &str| {
        acts.iter()
            .find(|(a, _)| a == addr)
            .map(|(_, x)| x.clone())
            .unwrap_or_else(|| panic!("{addr} not in {acts:?}"))
    };
    for replaced in ["storage.models.bucket", "artifact.model.object"] {
        let mut a = actions(replaced);
        a.sort();
        assert_eq!(a, ["create", "delete"], "{replaced}: {acts:?}");
    }
    assert_eq!(actions("endpoint.hello.task_definition"), ["update"]);
    let r = st.run(&["plan"]).expect(0);
    assert!(
        r.stdout()
            .contains("storage.models.bucket must be replaced")
            || r.stdout()
                .contains("storage.models.bucket will be replaced"),
        "{}",
        r.stdout()
    );

    let r = st.run(&["apply", "--auto-approve"]).expect(0);
    assert!(r.stdout().contains("Apply complete!"), "{}", r.stdout());
    assert_bucket_gone(&c, &old).await;
    let listed = c.s3().list_objects_v2().bucket(&new).send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("model/sha256-"), "{keys:?}");
    let body = c
        .s3()
        .get_object()
        .bucket(&new)
        .key(keys[0])
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let source = std::fs::read(st.dir.join("artifacts/model.onnx")).unwrap();
    assert_eq!(body.as_ref(), source.as_slice());
    let r = st.run(&["plan", "--detailed-exitcode"]).expect(0);
    assert!(r.stdout().contains("No changes."), "{}", r.stdout());
    st.run(&["destroy", "--auto-approve"]).expect(0);
    assert_bucket_gone(&c, &new).await;
}
