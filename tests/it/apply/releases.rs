//! Releases as a user lives them, through the `pedestal` binary against moto, on a stack with
//! alarms: three releases (every earlier artifact still downloadable), `releases` and `status`
//! (each alarm's live state), rollbacks refused before anything changes (a deregistered
//! revision, a pruned artifact), a rollback to the first release, the alarms read back with
//! DescribeAlarms, the plan after the rollback, a fourth release that prunes beyond `retain`,
//! Ctrl-C during a rollout wait (exit 130, recorded as interrupted), a crash (kill -9) during
//! the next one, the retry that finishes that same release, and destroy leaving nothing. Also
//! the rollback confirmation screen, pinned by a snapshot.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue};

use super::cli::Stack;
use super::ctx::{Ctx, assert_bucket_gone, assert_cluster_gone, assert_service_gone};

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

async fn alarms(c: &Ctx, names: &[String]) -> BTreeMap<String, MetricAlarm> {
    let out = c
        .cw()
        .describe_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .send()
        .await
        .unwrap();
    out.metric_alarms()
        .iter()
        .map(|a| (a.alarm_name().unwrap().to_string(), a.clone()))
        .collect()
}

/// (version, outcome) of every record of endpoint.hello, newest first.
fn outcomes(st: &Stack) -> Vec<(String, String)> {
    let r = st.run(&["releases", "hello", "--format", "json"]).expect(0);
    json(&r.stdout())["releases"]["endpoint.hello"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["version"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_release_rollback_prune_interrupt_crash_retry() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("rel").await;
    let bucket = format!("{}-dev-models", st.name);
    let cluster = format!("{}-dev-serving", st.name);
    let service = format!("{}-dev-hello", st.name);
    let cpu = format!("{service}-cpu-high");
    let mem = format!("{service}-memory-high");
    let alarm_names = [cpu.clone(), mem.clone()];
    // moto never completes a rollout after an update: these releases are not waited for.
    st.edit(|t| {
        t.replace(
            "health_check = {",
            "deployment = { wait = false }\nalarms = { cpu_high = 90, memory_high = 85 }\nhealth_check = {",
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

    // Release 3: every earlier artifact still downloadable.
    write_model(&st, "model three");
    st.run(&["apply", "--auto-approve", "--var", "model_version=0.3.0"])
        .expect(0);
    for body in ["model one", "model two", "model three"] {
        assert_eq!(
            object_body(&c, &bucket, &key(body)).await.as_deref(),
            Some(body),
            "after the third release"
        );
    }

    // History, newest first, with the running release marked.
    let r = st.run(&["releases", "hello", "--format", "json"]).expect(0);
    let doc = json(&r.stdout());
    let list = doc["releases"]["endpoint.hello"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{doc}");
    for (i, (version, body, revision)) in [
        ("0.3.0", "model three", 3),
        ("0.2.0", "model two", 2),
        ("0.1.0", "model one", 1),
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(list[i]["version"], version, "{doc}");
        assert_eq!(list[i]["current"], i == 0, "{doc}");
        assert_eq!(list[i]["outcome"], "completed");
        assert_eq!(list[i]["revision"], revision);
        assert_eq!(list[i]["artifact_sha256"], sha(body));
        assert_eq!(
            list[i]["artifact_uri"],
            format!("s3://{bucket}/{}", key(body))
        );
        assert!(
            list[i]["task_definition_arn"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{service}:{revision}"))
        );
        assert!(list[i]["started_at"].is_string() && list[i]["finished_at"].is_string());
        assert!(list[i]["spec_digest"].is_string());
    }
    let r = st.run(&["releases"]).expect(0);
    let table = r.stdout();
    assert!(table.contains("endpoint.hello:"), "{table}");
    let pos = |v: &str| table.find(v).unwrap_or_else(|| panic!("{v}: {table}"));
    assert!(
        pos("0.3.0") < pos("0.2.0") && pos("0.2.0") < pos("0.1.0"),
        "newest first: {table}"
    );
    let current = table.lines().find(|l| l.starts_with('*')).unwrap();
    assert!(current.contains("0.3.0") && current.contains(&sha("model three")[..12]));

    // Status: live, the third release running, each alarm with its state as CloudWatch has it.
    c.cw()
        .set_alarm_state()
        .alarm_name(&cpu)
        .state_value(StateValue::Alarm)
        .state_reason("Threshold Crossed: test")
        .send()
        .await
        .unwrap();
    let r = st.run(&["status", "--format", "json"]).expect(0);
    let doc = json(&r.stdout());
    let ep = &doc["endpoints"][0];
    assert_eq!(ep["endpoint"], "endpoint.hello");
    assert_eq!(ep["release"], "0.3.0");
    assert_eq!(ep["revision"], 3);
    assert_eq!(ep["service"], service.as_str());
    assert_eq!(ep["desired"], 1);
    assert!(ep["events"].as_array().unwrap().len() <= 5);
    let live_alarms = ep["alarms"].as_array().unwrap();
    assert_eq!(live_alarms.len(), 2, "{doc}");
    assert_eq!(live_alarms[0]["name"], cpu.as_str());
    assert_eq!(live_alarms[0]["state"], "ALARM");
    assert_eq!(live_alarms[0]["reason"], "Threshold Crossed: test");
    assert_eq!(live_alarms[1]["name"], mem.as_str());
    assert!(
        ["OK", "INSUFFICIENT_DATA"].contains(&live_alarms[1]["state"].as_str().unwrap()),
        "{doc}"
    );
    assert_eq!(doc["clusters"][0]["name"], cluster.as_str());
    assert_eq!(doc["buckets"][0]["name"], bucket.as_str());
    assert_eq!(doc["buckets"][0]["versioning"], "Enabled");
    let r = st.run(&["status", "hello"]).expect(0);
    assert!(
        r.stdout()
            .contains("endpoint.hello  release 0.3.0  revision 3"),
        "{}",
        r.stdout()
    );
    assert!(
        r.stdout().contains(&format!("  alarms  {cpu} ALARM")),
        "{}",
        r.stdout()
    );
    c.cw()
        .set_alarm_state()
        .alarm_name(&cpu)
        .state_value(StateValue::Ok)
        .state_reason("test over")
        .send()
        .await
        .unwrap();

    // A rollback whose revision was deregistered is refused before anything changes.
    let arn_of = |version: &str| {
        list.iter().find(|r| r["version"] == version).unwrap()["task_definition_arn"]
            .as_str()
            .unwrap()
            .to_string()
    };
    c.ecs()
        .deregister_task_definition()
        .task_definition(arn_of("0.2.0"))
        .send()
        .await
        .unwrap();
    let state_before = std::fs::read(st.dir.join("state/dev.json")).unwrap();
    let r = st
        .run(&["rollback", "hello", "--to", "0.2.0", "--auto-approve"])
        .expect(1);
    assert!(
        r.stderr().contains(&format!(
            "cannot roll endpoint.hello back to 0.2.0: task definition {} is no longer ACTIVE",
            arn_of("0.2.0")
        )),
        "{}",
        r.stderr()
    );
    assert_eq!(
        std::fs::read(st.dir.join("state/dev.json")).unwrap(),
        state_before,
        "a refused rollback changes nothing"
    );
    assert!(!st.dir.join("state/dev.json.lock").exists());

    // Roll back to the first release.
    let r = st.run(&["rollback", "hello", "--to", "0.1.0"]).expect(1);
    assert!(
        r.stderr()
            .contains("refusing to roll back without confirmation"),
        "{}",
        r.stderr()
    );
    let r = st
        .run(&["rollback", "hello", "--to", "0.1.0", "--auto-approve"])
        .expect(0);
    for line in [
        "endpoint.hello: roll back\n".to_string(),
        "  release   0.3.0 → 0.1.0\n".to_string(),
        format!("  revision  {} → {}\n", arn_of("0.3.0"), arn_of("0.1.0")),
        format!(
            "  artifact  {} → {}\n",
            sha("model three"),
            sha("model one")
        ),
        "Rollback complete! endpoint.hello runs release 0.1.0".to_string(),
    ] {
        assert!(r.stdout().contains(&line), "{line}: {}", r.stdout());
    }
    let running = &c.service(&cluster, &service).await;
    assert_eq!(running.task_definition(), Some(arn_of("0.1.0").as_str()));
    // The rollback keeps the deployment alarms wired in.
    let da = running
        .deployment_configuration()
        .and_then(|d| d.alarms())
        .expect("deployment alarms are configured");
    assert!(da.enable() && da.rollback());
    let mut wired: Vec<&str> = da.alarm_names().iter().map(String::as_str).collect();
    wired.sort();
    assert_eq!(wired, [cpu.as_str(), mem.as_str()]);
    // The alarms, read back with DescribeAlarms.
    let live = alarms(&c, &alarm_names).await;
    assert_eq!(live.len(), 2, "{live:?}");
    assert_eq!(live[&cpu].metric_name(), Some("CPUUtilization"));
    assert_eq!(live[&cpu].threshold(), Some(90.0));
    assert_eq!(live[&mem].metric_name(), Some("MemoryUtilization"));
    assert_eq!(live[&mem].threshold(), Some(85.0));

    let r = st.run(&["status", "--format", "json"]).expect(0);
    let doc = json(&r.stdout());
    assert_eq!(doc["endpoints"][0]["release"], "0.1.0");
    assert_eq!(doc["endpoints"][0]["revision"], 1);
    assert_eq!(doc["endpoints"][0]["alarms"][0]["state"], "OK");
    // The spec still says 0.3.0: the plan shows the endpoint rolled back and still to release.
    let r = st
        .run(&[
            "plan",
            "--detailed-exitcode",
            "--var",
            "model_version=0.3.0",
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
    assert_eq!(
        outcomes(&st),
        pairs(&[
            ("0.1.0", "rolled_back"),
            ("0.3.0", "completed"),
            ("0.2.0", "completed"),
            ("0.1.0", "completed"),
        ])
    );
    // An unknown release: a clear error.
    let r = st
        .run(&["rollback", "hello", "--to", "9.9.9", "--auto-approve"])
        .expect(1);
    assert!(
        r.stderr().contains("has no release 9.9.9"),
        "{}",
        r.stderr()
    );

    // Release 4 with retain = 2: the last two releases (the rollback to 0.1.0 and 0.4.0) keep
    // their objects; 0.2.0's and 0.3.0's are pruned once the release completes.
    st.edit(|t| {
        t.replace(
            "source = \"artifacts/model.onnx\"",
            "source = \"artifacts/model.onnx\"\nretain = 2",
        )
    });
    write_model(&st, "model four");
    let r = st.run(&["plan", "--var", "model_version=0.4.0"]).expect(0);
    let prune_line = r
        .stdout()
        .lines()
        .find(|l| l.contains("artifact.model: prunes "))
        .unwrap_or_else(|| panic!("no prune line: {}", r.stdout()))
        .to_string();
    let pruned_labels = prune_line
        .split("prunes ")
        .nth(1)
        .and_then(|rest| rest.split(" once the release completes").next())
        .unwrap();
    let mut pruned_labels: Vec<&str> = pruned_labels.split(", ").collect();
    pruned_labels.sort();
    assert_eq!(pruned_labels, ["0.2.0", "0.3.0"], "{prune_line}");
    assert!(
        prune_line.ends_with("once the release completes, kept: 0.1.0, 0.4.0"),
        "{prune_line}"
    );
    st.run(&["apply", "--auto-approve", "--var", "model_version=0.4.0"])
        .expect(0);
    assert_eq!(object_body(&c, &bucket, &key("model two")).await, None);
    assert_eq!(object_body(&c, &bucket, &key("model three")).await, None);
    assert_eq!(
        object_body(&c, &bucket, &key("model one")).await.as_deref(),
        Some("model one")
    );
    assert_eq!(
        object_body(&c, &bucket, &key("model four"))
            .await
            .as_deref(),
        Some("model four")
    );
    // A rollback to a release whose artifact was pruned is refused before anything changes.
    let state_before = std::fs::read(st.dir.join("state/dev.json")).unwrap();
    let r = st
        .run(&["rollback", "hello", "--to", "0.3.0", "--auto-approve"])
        .expect(1);
    assert!(
        r.stderr().contains(&format!(
            "cannot roll endpoint.hello back to 0.3.0: its artifact s3://{bucket}/{} no longer exists",
            key("model three")
        )),
        "{}",
        r.stderr()
    );
    assert_eq!(
        std::fs::read(st.dir.join("state/dev.json")).unwrap(),
        state_before,
        "a refused rollback changes nothing"
    );
    let r = st.run(&[
        "plan",
        "--detailed-exitcode",
        "--var",
        "model_version=0.4.0",
    ]);
    let r = r.expect(0);
    assert!(r.stdout().contains("No changes."), "{}", r.stdout());

    // Release 5 waits (moto never completes it): Ctrl-C stops the wait at once, exit 130.
    st.edit(|t| {
        t.replace(
            "deployment = { wait = false }",
            "deployment = { wait = true, timeout = \"10m\" }",
        )
    });
    let code = signal_during_wait(
        &st,
        &["apply", "--auto-approve", "--var", "model_version=0.5.0"],
        "-INT",
    );
    assert_eq!(code, 130);
    let state = std::fs::read_to_string(st.dir.join("state/dev.json")).unwrap();
    assert!(!st.dir.join("state/dev.json.lock").exists() && !state.is_empty());
    let r = st.run(&["releases", "hello", "--format", "json"]).expect(0);
    let newest = json(&r.stdout())["releases"]["endpoint.hello"][0].clone();
    assert_eq!(newest["version"], "0.5.0");
    assert_eq!(newest["outcome"], "interrupted");
    // Still to be done, with that reason; never "No changes".
    let r = st
        .run(&[
            "plan",
            "--detailed-exitcode",
            "--var",
            "model_version=0.5.0",
        ])
        .expect(2);
    assert!(
        r.stdout().contains("release 0.5.0 was interrupted"),
        "{}",
        r.stdout()
    );

    // A crash (kill -9) during the retried wait, then a retry that does not wait.
    let code = signal_during_wait(
        &st,
        &["apply", "--auto-approve", "--var", "model_version=0.5.0"],
        "-KILL",
    );
    assert_ne!(code, 0);
    std::fs::remove_file(st.dir.join("state/dev.json.lock")).ok();
    let r = st
        .run(&[
            "plan",
            "--detailed-exitcode",
            "--var",
            "model_version=0.5.0",
        ])
        .expect(2);
    assert!(
        r.stdout().contains("release 0.5.0 did not finish"),
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
        .run(&["plan", "--var", "model_version=0.5.0", "--format", "json"])
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
    st.run(&["apply", "--auto-approve", "--var", "model_version=0.5.0"])
        .expect(0);
    // The retry finished that very release: one record, completed and current.
    let r = st.run(&["releases", "hello", "--format", "json"]).expect(0);
    let doc = json(&r.stdout());
    let newest = &doc["releases"]["endpoint.hello"][0];
    assert_eq!(newest["current"], true, "{doc}");
    assert!(
        newest["reason"]
            .as_str()
            .is_some_and(|r| r.contains("finished by a later apply")),
        "{doc}"
    );
    assert_eq!(
        outcomes(&st),
        pairs(&[
            ("0.5.0", "completed"),
            ("0.4.0", "completed"),
            ("0.1.0", "rolled_back"),
            ("0.3.0", "completed"),
            ("0.2.0", "completed"),
            ("0.1.0", "completed"),
        ])
    );
    let r = st.run(&["status", "--format", "json"]).expect(0);
    assert_eq!(json(&r.stdout())["endpoints"][0]["release"], "0.5.0");
    let r = st
        .run(&[
            "plan",
            "--detailed-exitcode",
            "--var",
            "model_version=0.5.0",
        ])
        .expect(0);
    assert!(r.stdout().contains("No changes."), "{}", r.stdout());

    // Destroy leaves nothing behind: no bucket (nor any object), alarm, service or cluster.
    st.run(&["destroy", "--auto-approve", "--var", "model_version=0.5.0"])
        .expect(0);
    assert_bucket_gone(&c, &bucket).await;
    assert!(alarms(&c, &alarm_names).await.is_empty());
    assert_service_gone(&c, &cluster, &service).await;
    assert_cluster_gone(&c, &cluster).await;
}

fn recorded_release(
    version: &str,
    revision: i64,
    sha: &str,
    tag: &str,
) -> pedestal::state::Release {
    pedestal::state::Release {
        version: version.into(),
        task_definition_arn: format!(
            "arn:aws:ecs:us-east-1:123456789012:task-definition/fraud-detection-prod-fraud:{revision}"
        ),
        revision: Some(revision),
        artifact_sha256: Some(sha.repeat(64 / sha.len())),
        artifact_uri: Some(format!(
            "s3://fraud-models-prod/fraud_model/sha256-{}/fraud.onnx",
            sha.repeat(64 / sha.len())
        )),
        image: format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud-serve:{tag}"),
        who: Some("ci@runner".into()),
        started_at: "2026-11-30T07:00:00Z".into(),
        finished_at: Some("2026-11-30T07:04:00Z".into()),
        outcome: pedestal::state::Outcome::Completed,
        ..Default::default()
    }
}

#[test]
fn the_rollback_confirmation_screen_shows_what_changes() {
    let from = recorded_release("1.4.0", 8, "b2", "2.5.0");
    let to = recorded_release("1.3.0", 7, "a1", "2.4.1");
    insta::assert_snapshot!(
        "rollback_screen",
        pedestal::render::rollback::rollback_screen("endpoint.fraud", Some(&from), &to)
    );
    // Same image: said to be unchanged, never shown as a change.
    let same_image = recorded_release("1.3.0", 7, "a1", "2.5.0");
    let screen =
        pedestal::render::rollback::rollback_screen("endpoint.fraud", Some(&from), &same_image);
    assert!(
        screen.contains(
            "  image     123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud-serve:2.5.0 (unchanged)"
        ),
        "{screen}"
    );
    // Nothing recorded as running: only where it goes.
    let screen = pedestal::render::rollback::rollback_screen("endpoint.fraud", None, &to);
    assert!(screen.contains("  release   → 1.3.0\n"), "{screen}");
}
