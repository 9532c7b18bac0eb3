//! S3 artifacts beyond a single file: a directory uploaded file by file and removed whole.

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
    let plan = stack::plan(&n.stack, &desired, &report.state, true);
    let (report, _) = c.apply(&plan, report.state).await;
    assert_ok(&report);
    assert_bucket_gone(&c, &n.bucket).await;
}
