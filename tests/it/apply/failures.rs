//! Partial failure: a failing resource leaves the others applied and state consistent; a bucket
//! holding foreign objects is kept without `force_destroy`.

use pedestal::addr::Address;
use pedestal::ops::refresh::refresh_with;
use pedestal::state::State;

use super::ctx::{Ctx, assert_ok};
use super::stack;

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
    let msg = &report.failures[0].message;
    assert!(
        msg.starts_with("endpoint.fraud.service: ") && msg.contains("subnet-doesnotexist"),
        "{msg}"
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
