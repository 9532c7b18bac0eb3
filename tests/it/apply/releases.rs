//! Releases as a user lives them, through the `pedestal` binary against moto: release,
//! release (the old artifact still downloadable), `releases` and `status`, roll back, the plan
//! after the rollback, a third release that prunes beyond `retain`, Ctrl-C during a rollout
//! wait (exit 130, recorded as interrupted), a crash (kill -9) during the next one, and the
//! retry that finishes it.

use std::time::{Duration, Instant};

use super::cli::Stack;
use super::ctx::Ctx;

fn write_model(st: &Stack, content: &str) {
    std::fs::write(st.dir.join("artifacts/model.onnx"), content).unwrap();
}

fn sha(content: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(content.as_bytes()))
}

fn key(content: &str) -> String {
    format!("model/sha256-{}/model.onnx", sha(content))
}

async fn object_body(c: &Ctx, bucket: &str, key: &str) -> Option<String> {
    let out = c
        .s3()
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .ok()?;
    let bytes = out.body.collect().await.ok()?.into_bytes();
    Some(String::from_utf8_lossy(&bytes).to_string())
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

/// Starts `pedestal ARGS`, waits until the state's last release of endpoint.hello is in
/// progress, then sends `signal`; returns the exit code.
fn signal_during_wait(st: &Stack, args: &[&str], signal: &str) -> i32 {
    let mut child = st
        .command(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let journal =
            std::fs::read_to_string(st.dir.join("state/dev.json.journal")).unwrap_or_default();
        let snapshot = std::fs::read_to_string(st.dir.join("state/dev.json")).unwrap_or_default();
        if journal.contains("in_progress") || snapshot.contains("in_progress") {
            break;
        }
        assert!(Instant::now() < deadline, "the release never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let the wait begin polling.
    std::thread::sleep(Duration::from_millis(500));
    let status = std::process::Command::new("kill")
        .arg(signal)
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let code = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopping took {:?}",
        started.elapsed()
    );
    code.code().unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_release_rollback_prune_interrupt_crash_retry() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("rel").await;
    let bucket = format!("{}-dev-models", st.name);
    let cluster = format!("{}-dev-serving", st.name);
    let service = format!("{}-dev-hello", st.name);
    // moto never completes a rollout after an update: these releases are not waited for.
    st.edit(|t| {
        t.replace(
            "health_check = {",
            "deployment = { wait = false }\nhealth_check = {",
        )
        .replace(
            "source = \"artifacts/model.onnx\"",
            "source = \"artifacts/model.onnx\"\nretain = 2",
        )
    });
    write_model(&st, "model one");
    st.run(&["apply", "--auto-approve"]).expect(0);

    // Release 2: a new object beside the first, which stays downloadable.
    write_model(&st, "model two");
    let r = st.run(&["plan", "--var", "model_version=0.2.0"]).expect(0);
    assert!(
        r.stdout().contains("endpoint.hello: release 0.1.0 → 0.2.0"),
        "{}",
        r.stdout()
    );
    assert!(
        !r.stdout()
            .contains("artifact.model.object must be replaced"),
        "a new artifact version is never a replacement: {}",
        r.stdout()
    );
    st.run(&["apply", "--auto-approve", "--var", "model_version=0.2.0"])
        .expect(0);
    assert_eq!(
        object_body(&c, &bucket, &key("model one")).await.as_deref(),
        Some("model one"),
        "the first release's artifact survives the second release"
    );
    assert_eq!(
        object_body(&c, &bucket, &key("model two")).await.as_deref(),
        Some("model two")
    );

    // History, newest first, with the running release marked.
    let r = st.run(&["releases", "hello", "--format", "json"]).expect(0);
    let doc = json(&r.stdout());
    let list = doc["releases"]["endpoint.hello"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{doc}");
    assert_eq!(list[0]["version"], "0.2.0");
    assert_eq!(list[0]["current"], true);
    assert_eq!(list[0]["outcome"], "completed");
    assert_eq!(list[0]["revision"], 2);
    assert_eq!(list[0]["artifact_sha256"], sha("model two"));
    assert_eq!(
        list[0]["artifact_uri"],
        format!("s3://{bucket}/{}", key("model two"))
    );
    assert!(list[0]["started_at"].is_string() && list[0]["finished_at"].is_string());
    assert!(list[0]["spec_digest"].is_string());
    assert_eq!(list[1]["version"], "0.1.0");
    assert_eq!(list[1]["current"], false);
    let r = st.run(&["releases"]).expect(0);
    let table = r.stdout();
    assert!(table.contains("endpoint.hello:"), "{table}");
    assert!(
        table.find("0.2.0").unwrap() < table.find("0.1.0").unwrap(),
        "newest first: {table}"
    );
    let current = table.lines().find(|l| l.starts_with('*')).unwrap();
    assert!(current.contains("0.2.0") && current.contains(&sha("model two")[..12]));

    // Status: live, the second release running.
    let r = st.run(&["status", "--format", "json"]).expect(0);
    let doc = json(&r.stdout());
    let ep = &doc["endpoints"][0];
    assert_eq!(ep["endpoint"], "endpoint.hello");
    assert_eq!(ep["release"], "0.2.0");
    assert_eq!(ep["revision"], 2);
    assert_eq!(ep["service"], service.as_str());
    assert_eq!(ep["desired"], 1);
    assert!(ep["events"].as_array().unwrap().len() <= 5);
    assert_eq!(doc["clusters"][0]["name"], cluster.as_str());
    assert_eq!(doc["buckets"][0]["name"], bucket.as_str());
    assert_eq!(doc["buckets"][0]["versioning"], "Enabled");
    let r = st.run(&["status", "hello"]).expect(0);
    assert!(
        r.stdout()
            .contains("endpoint.hello  release 0.2.0  revision 2"),
        "{}",
        r.stdout()
    );

    // Roll back to the first release (the default: the last completed before the current).
    let r = st.run(&["rollback", "hello"]).expect(1);
    assert!(
        r.stderr()
            .contains("refusing to roll back without confirmation"),
        "{}",
        r.stderr()
    );
    let r = st.run(&["rollback", "hello", "--auto-approve"]).expect(0);
    assert!(
        r.stdout().contains("release   0.2.0 → 0.1.0"),
        "{}",
        r.stdout()
    );
    assert!(
        r.stdout()
            .contains("Rollback complete! endpoint.hello runs release 0.1.0"),
        "{}",
        r.stdout()
    );
    let svc = c
        .ecs()
        .describe_services()
        .cluster(&cluster)
        .services(&service)
        .send()
        .await
        .unwrap();
    assert!(svc.services()[0].task_definition().unwrap().ends_with(":1"));
    // The spec still says 0.2.0: the plan shows the endpoint rolled back and still to release.
    let r = st
        .run(&[
            "plan",
            "--detailed-exitcode",
            "--var",
            "model_version=0.2.0",
        ])
        .expect(2);
    assert!(
        r.stdout()
            .contains("rolled back to 0.1.0 by pedestal rollback"),
        "{}",
        r.stdout()
    );
    assert!(
        !r.stdout().contains("changed outside pedestal"),
        "{}",
        r.stdout()
    );
    let r = st.run(&["releases", "hello", "--format", "json"]).expect(0);
    let doc = json(&r.stdout());
    let newest = &doc["releases"]["endpoint.hello"][0];
    assert_eq!(newest["version"], "0.1.0");
    assert_eq!(newest["outcome"], "rolled_back");
    assert_eq!(newest["current"], true);
    // Nothing older to roll back to than what runs: a clear error.
    let r = st
        .run(&["rollback", "hello", "--to", "9.9.9", "--auto-approve"])
        .expect(1);
    assert!(
        r.stderr().contains("has no release 9.9.9"),
        "{}",
        r.stderr()
    );

    // Release 3 with retain = 2: the last two releases (the rollback to 0.1.0 and 0.3.0) keep
    // their objects; 0.2.0's is pruned once the release completes.
    write_model(&st, "model three");
    let r = st.run(&["plan", "--var", "model_version=0.3.0"]).expect(0);
    assert!(
        r.stdout().contains(
            "artifact.model: prunes 0.2.0 once the release completes, kept: 0.1.0, 0.3.0"
        ),
        "{}",
        r.stdout()
    );
    st.run(&["apply", "--auto-approve", "--var", "model_version=0.3.0"])
        .expect(0);
    assert_eq!(object_body(&c, &bucket, &key("model two")).await, None);
    assert_eq!(
        object_body(&c, &bucket, &key("model one")).await.as_deref(),
        Some("model one")
    );
    assert_eq!(
        object_body(&c, &bucket, &key("model three"))
            .await
            .as_deref(),
        Some("model three")
    );
    let r = st.run(&[
        "plan",
        "--detailed-exitcode",
        "--var",
        "model_version=0.3.0",
    ]);
    let r = r.expect(0);
    assert!(r.stdout().contains("No changes."), "{}", r.stdout());

    // Release 4 waits (moto never completes it): Ctrl-C stops the wait at once, exit 130.
    st.edit(|t| {
        t.replace(
            "deployment = { wait = false }",
            "deployment = { wait = true, timeout = \"10m\" }",
        )
    });
    let code = signal_during_wait(
        &st,
        &["apply", "--auto-approve", "--var", "model_version=0.4.0"],
        "-INT",
    );
    assert_eq!(code, 130);
    let state = std::fs::read_to_string(st.dir.join("state/dev.json")).unwrap();
    assert!(!st.dir.join("state/dev.json.lock").exists() && !state.is_empty());
    let r = st.run(&["releases", "hello", "--format", "json"]).expect(0);
    let newest = json(&r.stdout())["releases"]["endpoint.hello"][0].clone();
    assert_eq!(newest["version"], "0.4.0");
    assert_eq!(newest["outcome"], "interrupted");
    // Still to be done, with that reason; never "No changes".
    let r = st
        .run(&[
            "plan",
            "--detailed-exitcode",
            "--var",
            "model_version=0.4.0",
        ])
        .expect(2);
    assert!(
        r.stdout().contains("release 0.4.0 was interrupted"),
        "{}",
        r.stdout()
    );

    // A crash (kill -9) during the retried wait, then a retry that does not wait.
    let code = signal_during_wait(
        &st,
        &["apply", "--auto-approve", "--var", "model_version=0.4.0"],
        "-KILL",
    );
    assert_ne!(code, 0);
    std::fs::remove_file(st.dir.join("state/dev.json.lock")).ok();
    let r = st
        .run(&[
            "plan",
            "--detailed-exitcode",
            "--var",
            "model_version=0.4.0",
        ])
        .expect(2);
    assert!(
        r.stdout().contains("release 0.4.0 did not finish"),
        "{}",
        r.stdout()
    );
    assert!(
        !r.stdout().contains("changed outside pedestal"),
        "{}",
        r.stdout()
    );
    st.edit(|t| {
        t.replace(
            "deployment = { wait = true, timeout = \"10m\" }",
            "deployment = { wait = false }",
        )
    });
    let r = st
        .run(&["plan", "--var", "model_version=0.4.0", "--format", "json"])
        .expect(0);
    let doc = json(&r.stdout());
    let svc_change = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "endpoint.hello.service")
        .unwrap()
        .clone();
    assert_eq!(
        svc_change["reason"]["code"], "release_unfinished",
        "{svc_change}"
    );
    st.run(&["apply", "--auto-approve", "--var", "model_version=0.4.0"])
        .expect(0);
    let r = st.run(&["releases", "hello", "--format", "json"]).expect(0);
    let doc = json(&r.stdout());
    let list = doc["releases"]["endpoint.hello"].as_array().unwrap();
    let outcomes: Vec<(String, String)> = list
        .iter()
        .map(|r| {
            (
                r["version"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        outcomes,
        pairs(&[
            ("0.4.0", "completed"),
            ("0.4.0", "in_progress"),
            ("0.4.0", "interrupted"),
            ("0.3.0", "completed"),
            ("0.1.0", "rolled_back"),
            ("0.2.0", "completed"),
            ("0.1.0", "completed"),
        ])
    );
    assert_eq!(list[0]["current"], true);
    st.run(&[
        "plan",
        "--detailed-exitcode",
        "--var",
        "model_version=0.4.0",
    ])
    .expect(0);

    // Destroy removes every object the artifact made.
    st.run(&["destroy", "--auto-approve", "--var", "model_version=0.4.0"])
        .expect(0);
    assert!(c.s3().head_bucket().bucket(&bucket).send().await.is_err());
}
