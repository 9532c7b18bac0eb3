//! S3 paths beyond the default bucket: a multipart upload (threshold lowered for the test),
//! `aws:kms` encryption, and `force_destroy` on a bucket that really holds objects of others.

use std::sync::Arc;

use pedestal::addr::Address;
use pedestal::resource::Value;
use pedestal::state::State;

use super::ctx::{Ctx, assert_bucket_gone, assert_ok};
use super::{moto, stack};

const MIB: u64 = 1024 * 1024;

/// The bucket and artifact of the endpoint stack, with `change` applied to the bucket.
fn storage(
    c: &Ctx,
    force_destroy: bool,
    change: impl Fn(&mut stack::Desired),
) -> Vec<stack::Desired> {
    let mut d: Vec<_> = stack::endpoint_stack(
        &c.names,
        c.dir.path(),
        &c.opts("1.0.0", true, force_destroy),
    )
    .into_iter()
    .filter(|d| {
        ["storage.models.bucket", "artifact.fraud_model.object"].contains(&d.address.as_str())
    })
    .collect();
    for x in &mut d {
        if x.address.as_str() == "storage.models.bucket" {
            change(x);
        }
    }
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_artifact_above_the_threshold_is_uploaded_in_parts() {
    use sha2::Digest;
    let mut c = Ctx::new("multi").await;
    c.provider = Arc::new(
        moto::provider_with(c.dir.path(), |o| {
            o.multipart_threshold = 5 * MIB;
            o.part_size = 5 * MIB;
        })
        .await,
    );
    let mut desired = storage(&c, true, |_| {});
    // 11 MiB of varied bytes: three parts (5 + 5 + 1 MiB).
    let content: Vec<u8> = (0..11 * MIB).map(|i| (i * 31 % 251) as u8).collect();
    let sha = hex::encode(sha2::Sha256::digest(&content));
    let model = c.dir.path().join("big.onnx");
    std::fs::write(&model, &content).unwrap();
    let key = format!("fraud_model/sha256-{sha}/big.onnx");
    let art = desired
        .iter_mut()
        .find(|d| d.address.as_str() == "artifact.fraud_model.object")
        .unwrap();
    art.attrs
        .insert("source".into(), Value::str(model.display().to_string()));
    art.attrs.insert("sha256".into(), Value::str(&sha));
    art.attrs.insert("key".into(), Value::str(&key));
    art.attrs
        .insert("size".into(), Value::Int(content.len() as i64));
    let n = &c.names;
    let plan = stack::plan(&n.stack, &desired, &State::new(&n.stack, "dev"), false);
    let (report, _) = c.apply(&plan, State::new(&n.stack, "dev")).await;
    assert_ok(&report);
    let head = c
        .s3()
        .head_object()
        .bucket(&n.bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    assert!(
        head.e_tag().unwrap().trim_matches('"').ends_with("-3"),
        "a three-part upload's ETag: {:?}",
        head.e_tag()
    );
    assert_eq!(head.content_length(), Some(content.len() as i64));
    assert_eq!(head.metadata().unwrap()["sha256"], sha);
    let body = c
        .s3()
        .get_object()
        .bucket(&n.bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    let bytes = body.body.collect().await.unwrap().into_bytes();
    assert!(
        bytes.as_ref() == content.as_slice(),
        "the object holds the file"
    );
    let uploads = c
        .s3()
        .list_multipart_uploads()
        .bucket(&n.bucket)
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty(), "{:?}", uploads.uploads());
    let plan = stack::plan(&n.stack, &desired, &report.state, true);
    let (report, _) = c.apply(&plan, report.state).await;
    assert_ok(&report);
    assert_bucket_gone(&c, &n.bucket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kms_bucket_is_encrypted_with_its_key() {
    let c = Ctx::new("kms").await;
    let n = &c.names;
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let desired = storage(&c, true, |b| {
        b.attrs.insert("encryption".into(), Value::str("aws:kms"));
        b.attrs.insert("kms_key".into(), Value::str(key));
    });
    let plan = stack::plan(&n.stack, &desired, &State::new(&n.stack, "dev"), false);
    let (report, _) = c.apply(&plan, State::new(&n.stack, "dev")).await;
    assert_ok(&report);
    let enc = c
        .s3()
        .get_bucket_encryption()
        .bucket(&n.bucket)
        .send()
        .await
        .unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    let by_default = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(by_default.sse_algorithm().as_str(), "aws:kms");
    assert_eq!(by_default.kms_master_key_id(), Some(key));
    // Read back the same: no drift.
    let refreshed = pedestal::ops::refresh::refresh_with(c.provider.as_ref(), &report.state)
        .await
        .unwrap();
    assert!(refreshed.drift.is_empty(), "{:#?}", refreshed.drift);
    let plan = stack::plan(&n.stack, &desired, &report.state, true);
    let (report, _) = c.apply(&plan, report.state).await;
    assert_ok(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_destroy_empties_a_bucket_holding_versions_of_others() {
    let c = Ctx::new("force").await;
    let n = &c.names;
    let desired = storage(&c, true, |_| {});
    let plan = stack::plan(&n.stack, &desired, &State::new(&n.stack, "dev"), false);
    let (report, _) = c.apply(&plan, State::new(&n.stack, "dev")).await;
    assert_ok(&report);
    // Someone else's object, written twice (two versions), then deleted (a delete marker).
    for body in [&b"a,b"[..], &b"a,b,c"[..]] {
        c.s3()
            .put_object()
            .bucket(&n.bucket)
            .key("someone-elses/data.csv")
            .body(aws_sdk_s3::primitives::ByteStream::from(body.to_vec()))
            .send()
            .await
            .unwrap();
    }
    c.s3()
        .delete_object()
        .bucket(&n.bucket)
        .key("someone-elses/data.csv")
        .send()
        .await
        .unwrap();
    let versions = c
        .s3()
        .list_object_versions()
        .bucket(&n.bucket)
        .send()
        .await
        .unwrap();
    assert!(
        versions.versions().len() >= 3 && !versions.delete_markers().is_empty(),
        "the bucket really holds versions and a marker: {versions:?}"
    );
    let plan = stack::plan(&n.stack, &desired, &report.state, true);
    let (report, _) = c.apply(&plan, report.state).await;
    assert_ok(&report);
    assert!(report.state.resources.is_empty());
    assert!(
        !report
            .state
            .resources
            .contains_key(&Address::new("storage.models.bucket"))
    );
    assert_bucket_gone(&c, &n.bucket).await;
}
