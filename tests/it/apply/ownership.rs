//! Resources that pedestal does not own: those of other stacks are refused, own leftovers are
//! adopted, and `pedestal import` adopts a declared resource.

use pedestal::addr::Address;
use pedestal::provider::Provider;
use pedestal::state::State;

use super::cli::Stack;
use super::ctx::Ctx;
use super::stack;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_refuses_a_state_pointing_at_another_stacks_cluster() {
    let theirs = Ctx::new("theirs").await;
    let mine = Ctx::new("mine").await;
    let all = stack::endpoint_stack(
        &theirs.names,
        theirs.dir.path(),
        &theirs.opts("1.0.0", false, true),
    );
    let cluster = all
        .iter()
        .find(|d| d.address.as_str() == "compute.serving.cluster")
        .unwrap();
    let created = theirs
        .provider
        .create(&pedestal::provider::ApplyResource {
            address: cluster.address.clone(),
            kind: cluster.kind,
            attrs: cluster.attrs.clone(),
        })
        .await
        .unwrap();
    // This stack's state, its cluster entry pointed at theirs.
    let mut st = State::new(&mine.names.stack, "dev");
    st.resources.insert(
        Address::new("compute.serving.cluster"),
        pedestal::state::ResourceState {
            kind: cluster.kind,
            id: created.id.clone(),
            attrs: created.attrs.clone(),
            dependencies: Default::default(),
            status: pedestal::state::Status::Ok,
        },
    );
    let plan = stack::plan(&mine.names.stack, &[], &st, true);
    let (report, _) = mine.apply(&plan, st.clone()).await;
    let msgs: Vec<&str> = report.failures.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        msgs,
        [format!(
            "compute.serving.cluster: refusing to destroy ecs_cluster {}: it is managed by stack {} \
             env dev (address compute.serving.cluster), not by stack {} env dev; the state does not \
             describe this stack's resources, so nothing was changed",
            created.id, theirs.names.stack, mine.names.stack
        )]
    );
    assert_eq!(report.destroyed, 0);
    assert_eq!(report.state, st);
    let out = mine
        .ecs()
        .describe_clusters()
        .clusters(&theirs.names.cluster)
        .send()
        .await
        .unwrap();
    assert_eq!(out.clusters().len(), 1, "{out:?}");
    assert_eq!(out.clusters()[0].status(), Some("ACTIVE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_refuses_another_stacks_bucket_unless_forced() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("impown").await;
    let bucket = format!("{}-dev-models", st.name);
    let s3 = c.s3();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let tag = |k: &str, v: &str| {
        aws_sdk_s3::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    };
    s3.put_bucket_tagging()
        .bucket(&bucket)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(tag("pedestal:stack", "other"))
                .tag_set(tag("pedestal:env", "prod"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let r = st
        .run(&["import", "storage.models.bucket", &bucket])
        .expect(1);
    assert!(
        r.stderr().contains(&format!(
            "s3_bucket {bucket} is managed by stack other env prod, not by stack {} env dev",
            st.name
        )),
        "{}",
        r.stderr()
    );
    assert!(r.stderr().contains("--force-ownership"), "{}", r.stderr());
    let r = st.run(&["state", "list"]).expect(0);
    assert!(
        !r.stdout().contains("storage.models.bucket"),
        "{}",
        r.stdout()
    );
    let r = st
        .run(&[
            "import",
            "storage.models.bucket",
            &bucket,
            "--force-ownership",
        ])
        .expect(0);
    assert!(r.stdout().contains("Import successful!"), "{}", r.stdout());
    // Taken over: the bucket now says it is this stack's, so applies accept it.
    let tags = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let stack_tag = tags
        .tag_set()
        .iter()
        .find(|t| t.key() == "pedestal:stack")
        .map(|t| t.value().to_string());
    assert_eq!(stack_tag.as_deref(), Some(st.name.as_str()));
    st.run(&["apply", "--auto-approve"]).expect(0);
}
