//! S3 artifacts beyond a single file: a directory uploaded file by file, a rollback to it
//! checked file by file (refused once a file is gone, which refresh also sees), and removed
//! whole.

use pedestal::addr::Address;
use pedestal::ops::refresh::refresh_with;
use pedestal::state::State;

use super::ctx::{Ctx, assert_bucket_gone, assert_ok};
use super::stack;

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

    // A rollback to a release serving this directory checks every file is still there.
    let td = c
        .ecs()
        .register_task_definition()
        .family(format!("{}-dir", n.stack))
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("m")
                .image("img:1")
                .memory(512)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let release = pedestal::state::Release {
        version: "1.0.0".into(),
        task_definition_arn: td
            .task_definition()
            .and_then(|t| t.task_definition_arn())
            .unwrap()
            .to_string(),
        artifact_uri: Some(format!("s3://{}/{prefix}", n.bucket)),
        ..Default::default()
    };
    let files = pedestal::ops::releases::directory_files(&report.state, &release);
    assert_eq!(files.len(), 2, "the files come from state: {files:?}");
    let check = |files: pedestal::resource::Attrs| {
        let release = release.clone();
        let provider = c.provider.clone();
        async move {
            pedestal::ops::releases::check(provider.as_ref(), "endpoint.m", &release, &files).await
        }
    };
    check(files.clone()).await.unwrap();
    // One file gone (a delete marker in the versioned bucket): the rollback is refused, and
    // refresh sees the artifact gone.
    c.s3()
        .delete_object()
        .bucket(&n.bucket)
        .key("model/sha256-abc/weights/part-0.bin")
        .send()
        .await
        .unwrap();
    let err = check(files.clone()).await.unwrap_err();
    assert!(
        matches!(
            err,
            pedestal::ops::releases::RollbackError::ArtifactGone { .. }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&format!(
            "its artifact s3://{}/{prefix} no longer exists",
            n.bucket
        )),
        "{err}"
    );
    let refreshed = refresh_with(c.provider.as_ref(), &report.state)
        .await
        .unwrap();
    assert_eq!(
        refreshed
            .drift
            .iter()
            .map(|d| d.address.as_str())
            .collect::<Vec<_>>(),
        ["artifact.model.object"]
    );
    // Files not known (state moved on): at least one object under the prefix.
    check(pedestal::resource::Attrs::new()).await.unwrap();
    c.s3()
        .delete_object()
        .bucket(&n.bucket)
        .key("model/sha256-abc/config.json")
        .send()
        .await
        .unwrap();
    assert!(matches!(
        check(pedestal::resource::Attrs::new()).await.unwrap_err(),
        pedestal::ops::releases::RollbackError::ArtifactGone { .. }
    ));

    let plan = stack::plan(&n.stack, &desired, &report.state, true);
    let (report, _) = c.apply(&plan, report.state).await;
    assert_ok(&report);
    assert_bucket_gone(&c, &n.bucket).await;
}
