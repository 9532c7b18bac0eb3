//! Command-line flags through the binary against moto: `--target`, `--parallelism`,
//! `--replace` of a real spec's cluster, `prevent_destroy`, `--lock-timeout` waiting for a held
//! lock, and `import` of every resource kind with its refusals.

use pedestal::addr::Address;
use pedestal::state::{LocalStore, StateStore};

use super::cli::{Stack, stream_lines, wait_for_line};
use super::ctx::{Ctx, plan_actions};

fn store(st: &Stack) -> LocalStore {
    LocalStore::new(st.dir.join("state/dev.json"), &st.name, "dev")
}

fn recorded(st: &Stack) -> Vec<String> {
    store(st)
        .read()
        .unwrap()
        .map(|s| s.resources.keys().map(|a| a.to_string()).collect())
        .unwrap_or_default()
}

/// The most operations the progress lines show in flight at once.
fn most_in_flight(stdout: &str) -> usize {
    let (mut now, mut most) = (0usize, 0usize);
    for l in stdout.lines() {
        if l.ends_with(": Creating...") {
            now += 1;
            most = most.max(now);
        } else if l.contains(": Creation complete after") || l.contains(": Adopted existing") {
            now = now.saturating_sub(1);
        }
    }
    most
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_parallelism_replace_and_prevent_destroy_through_the_cli() {
    let st = Stack::example("quickstart", "quickstart");
    let _c = Ctx::new("flags").await;

    // --target: the bucket alone.
    let r = st
        .run(&[
            "apply",
            "--auto-approve",
            "--target",
            "storage.models.bucket",
        ])
        .expect(0);
    assert!(
        r.stdout()
            .contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout()
    );
    assert_eq!(recorded(&st), ["storage.models.bucket"]);

    // --parallelism 1: one operation at a time.
    let r = st
        .run(&["apply", "--auto-approve", "--parallelism", "1"])
        .expect(0);
    assert!(
        r.stdout()
            .contains("Apply complete! Resources: 7 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout()
    );
    assert_eq!(most_in_flight(&r.stdout()), 1, "{}", r.stdout());
    assert_eq!(
        recorded(&st).len(),
        8,
        "bucket, object, cluster, log group, two roles, task definition, service"
    );

    // --replace of the spec's cluster.
    let r = st
        .run(&[
            "plan",
            "--replace",
            "compute.serving.cluster",
            "--format",
            "json",
        ])
        .expect(0);
    let acts = plan_actions(&r.stdout());
    assert!(
        acts.contains(&(
            "compute.serving.cluster".to_string(),
            vec!["delete".to_string(), "create".to_string()]
        )),
        "{acts:?}"
    );
    let doc: serde_json::Value = serde_json::from_str(&r.stdout()).unwrap();
    let cluster = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "compute.serving.cluster")
        .unwrap();
    assert!(
        cluster["reason"].to_string().contains("replace"),
        "{}",
        cluster["reason"]
    );
    // The service runs in that cluster: it is replaced with it, and says why.
    assert!(
        acts.contains(&(
            "endpoint.hello.service".to_string(),
            vec!["delete".to_string(), "create".to_string()]
        )),
        "{acts:?}"
    );
    let service = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "endpoint.hello.service")
        .unwrap();
    assert_eq!(
        service["reason"]["code"], "replace_because_dependency_replaced",
        "{service}"
    );
    assert_eq!(service["reason"]["attrs"], serde_json::json!(["cluster"]));
    // Applied: the service goes before its cluster, both come back, and nothing is left to do.
    let r = st
        .run(&[
            "apply",
            "--auto-approve",
            "--replace",
            "compute.serving.cluster",
        ])
        .expect(0);
    assert!(
        r.stdout()
            .contains("Apply complete! Resources: 2 added, 0 changed, 2 destroyed."),
        "{}",
        r.stdout()
    );
    st.run(&["plan", "--detailed-exitcode"]).expect(0);

    // prevent_destroy stops a destroy that would take the bucket, naming it; a targeted
    // destroy of what does not need the bucket goes ahead.
    st.edit(|t| {
        t.replace(
            "force_destroy = true",
            "force_destroy = true\nlifecycle = { prevent_destroy = true }",
        )
    });
    let r = st.run(&["destroy", "--auto-approve"]).expect(1);
    assert!(
        r.stderr()
            .contains("storage.models.bucket cannot be destroyed")
            && r.stderr().contains("prevent_destroy"),
        "{}",
        r.stderr()
    );
    assert_eq!(recorded(&st).len(), 8, "nothing was destroyed");
    let r = st
        .run(&[
            "destroy",
            "--auto-approve",
            "--target",
            "endpoint.hello.service",
        ])
        .expect(0);
    assert!(
        r.stdout()
            .contains("Destroy complete! Resources: 1 destroyed."),
        "{}",
        r.stdout()
    );
    assert!(!recorded(&st).contains(&"endpoint.hello.service".to_string()));
    st.edit(|t| t.replace("\nlifecycle = { prevent_destroy = true }", ""));
    st.run(&["destroy", "--auto-approve"]).expect(0);
    assert!(recorded(&st).is_empty());
}

#[test]
fn lock_timeout_waits_for_a_held_lock() {
    let st = Stack::example("quickstart", "quickstart");
    let store = store(&st);
    std::fs::create_dir_all(st.dir.join("state")).unwrap();
    let held = store.lock("test", std::time::Duration::ZERO).unwrap();

    // Without --lock-timeout: refused at once, naming the holder.
    let r = st.run(&["plan", "--no-refresh"]).expect(1);
    assert!(
        r.stderr().contains("the state is locked by another run"),
        "{}",
        r.stderr()
    );
    // With a timeout that passes while the lock is held: refused after waiting.
    let r = st
        .run(&["plan", "--no-refresh", "--lock-timeout", "1s"])
        .expect(1);
    assert!(
        r.stderr().contains("the state is locked by another run"),
        "{}",
        r.stderr()
    );
    // With a longer one: waits, and goes ahead once the lock is released.
    let mut child = st
        .command(&["-v", "plan", "--no-refresh", "--lock-timeout", "60s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, stderr) = stream_lines(child.stderr.take().unwrap());
    wait_for_line(&lines, "the state is locked by another run; waiting");
    drop(held);
    let out = child.wait_with_output().unwrap();
    let stderr = stderr.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Plan: 8 to add"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_adopts_every_kind_and_refuses_what_is_managed() {
    let st = Stack::example("quickstart", "quickstart");
    let _c = Ctx::new("imp").await;
    st.edit(|t| {
        let t = t.replace(
            "replicas = 1\n",
            "autoscaling = { min = 1, max = 2, target_cpu = 60 }\nsecrets = { TOKEN = \"${var.token}\" }\n",
        );
        format!("{t}\n[variables.token]\ntype = \"string\"\nsensitive = true\ndefault = \"imp0rt-token\"\n")
    });
    st.run(&["apply", "--auto-approve"]).expect(0);
    let before = store(&st).read().unwrap().unwrap();
    let kinds: std::collections::BTreeSet<_> = before.resources.values().map(|r| r.kind).collect();
    // Bucket, object, cluster, log group, roles, secret parameter, task definition, service,
    // scaling target.
    assert_eq!(kinds.len(), 9, "every kind is in the stack: {kinds:?}");

    // A managed address is refused, and nothing changes.
    let id = &before.resources[&Address::new("storage.models.bucket")].id;
    let r = st.run(&["import", "storage.models.bucket", id]).expect(1);
    assert!(r.stderr().contains("already managed"), "{}", r.stderr());

    // Forget each resource and import it back by its id.
    for (addr, res) in &before.resources {
        let a = addr.to_string();
        st.run(&["state", "rm", &a]).expect(0);
        let r = st.run(&["import", &a, &res.id]).expect(0);
        assert!(
            r.stdout().contains("Import successful!"),
            "{a}: {}",
            r.stdout()
        );
    }
    let after = store(&st).read().unwrap().unwrap();
    assert_eq!(
        after.resources.keys().collect::<Vec<_>>(),
        before.resources.keys().collect::<Vec<_>>()
    );
    for (addr, res) in &after.resources {
        assert_eq!(res.id, before.resources[addr].id, "{addr}");
    }
    // Importing an id that does not exist is refused.
    st.run(&["state", "rm", "compute.serving.cluster"])
        .expect(0);
    let r = st
        .run(&["import", "compute.serving.cluster", "no-such-cluster"])
        .expect(1);
    assert!(r.stderr().contains("no ecs_cluster"), "{}", r.stderr());
    st.run(&[
        "import",
        "compute.serving.cluster",
        &before.resources[&Address::new("compute.serving.cluster")].id,
    ])
    .expect(0);
    st.run(&["plan", "--detailed-exitcode"]).expect(0);
    st.run(&["destroy", "--auto-approve"]).expect(0);
}
