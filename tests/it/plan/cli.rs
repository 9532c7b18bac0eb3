//! The plan-side commands end to end through the built binary: plan (formats, --out,
//! --detailed-exitcode, locking), state list/show/rm, output, force-unlock.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use pedestal::spec::{self, LoadOptions};
use pedestal::state::{LocalStore, StateStore};

use super::fixture;

/// A copy of the quickstart example in a temporary directory.
fn quickstart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = crate::common::repo_root().join("examples/quickstart");
    std::fs::create_dir_all(dir.path().join("artifacts")).unwrap();
    for f in ["pedestal.toml", "artifacts/model.onnx"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    dir
}

fn store(dir: &Path) -> LocalStore {
    LocalStore::new(dir.join("state/dev.json"), "quickstart", "dev")
}

/// Records the state an apply of the stack would leave.
fn record_applied(dir: &Path) {
    let config = spec::load(dir, &LoadOptions::env("dev")).unwrap();
    let mut state = fixture::applied(&config, 1);
    state.serial = 0;
    store(dir).write(&state).unwrap();
}

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out: Output = std::process::Command::new(env!("CARGO_BIN_EXE_pedestal"))
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn plan_formats_and_detailed_exit_codes() {
    let dir = quickstart();
    let d = dir.path();
    let (code, out, err) = run(d, &["plan", "--no-refresh"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("# endpoint.hello.service will be created"),
        "{out}"
    );
    assert!(
        out.contains("Plan: 8 to add, 0 to change, 0 to destroy."),
        "{out}"
    );
    assert_eq!(
        run(d, &["plan", "--no-refresh", "--detailed-exitcode"]).0,
        Some(2)
    );

    let (code, out, _) = run(d, &["plan", "--no-refresh", "--format", "json"]);
    assert_eq!(code, Some(0));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["summary"]["add"], 8);
    assert_eq!(doc["format_version"], "1.0");

    let (_, out, _) = run(d, &["plan", "--no-refresh", "--format", "markdown"]);
    assert!(out.starts_with("**Plan: 8 to add"), "{out}");
    assert!(out.contains("<!-- pedestal:quickstart/dev -->"));
    assert!(
        !d.join("state/dev.json.lock").exists(),
        "the lock is released"
    );
    assert!(
        !d.join("state/dev.json").exists(),
        "plan never writes state"
    );
}

#[test]
fn no_changes_after_apply_and_saved_plans_go_stale() {
    let dir = quickstart();
    let d = dir.path();
    record_applied(d);
    let (code, out, err) = run(d, &["plan", "--no-refresh", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("No changes. Your infrastructure matches the configuration."));

    let plan_file = d.join("next.plan");
    let (code, out, _) = run(
        d,
        &[
            "plan",
            "--no-refresh",
            "--var",
            "model_version=0.2.0",
            "--out",
            plan_file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0));
    assert!(
        out.contains("endpoint.hello: release 0.1.0 → 0.2.0"),
        "{out}"
    );
    assert!(out.contains("pedestal apply "), "{out}");
    let saved = pedestal::plan::file::read(&d.join("next.plan")).unwrap();
    let opts = LoadOptions {
        vars: vec![("model_version".into(), "0.2.0".into())],
        ..LoadOptions::env("dev")
    };
    let config = spec::load(d, &opts).unwrap();
    let state = store(d).read().unwrap();
    pedestal::plan::file::verify(&saved, &config, state.as_ref()).unwrap();
    // Without the --var the spec digest differs.
    let other = spec::load(d, &LoadOptions::env("dev")).unwrap();
    assert!(matches!(
        pedestal::plan::file::verify(&saved, &other, state.as_ref()),
        Err(pedestal::plan::file::StalePlan::SpecChanged { .. })
    ));

    // state rm moves the serial on: the saved plan is now stale.
    let (code, out, err) = run(d, &["state", "rm", "endpoint.hello.service"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("Removed endpoint.hello.service"));
    let state = store(d).read().unwrap();
    let err = pedestal::plan::file::verify(&saved, &config, state.as_ref()).unwrap_err();
    assert!(
        err.to_string().contains("from serial 1 to serial 2"),
        "{err}"
    );
    let (_, out, _) = run(d, &["plan", "--no-refresh"]);
    assert!(
        out.contains("# endpoint.hello.service will be created"),
        "{out}"
    );
}

#[test]
fn state_and_output_commands() {
    let dir = quickstart();
    let d = dir.path();
    let (code, _, err) = run(d, &["state", "list"]);
    assert_eq!(code, Some(0), "no state is an empty list: {err}");
    record_applied(d);
    let (code, out, _) = run(d, &["state", "list"]);
    assert_eq!(code, Some(0));
    let listed: Vec<&str> = out.lines().collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    assert!(listed.contains(&"endpoint.hello.service"));

    let (code, out, _) = run(d, &["state", "show", "compute.serving.cluster"]);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("# compute.serving.cluster:\nresource \"ecs_cluster\""),
        "{out}"
    );
    assert!(out.contains("id "), "{out}");
    let (code, _, err) = run(d, &["state", "show", "compute.nope.cluster"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not in the state"), "{err}");

    let (code, out, _) = run(d, &["output"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("service"), "{out}");
    let (code, out, _) = run(d, &["output", "--json"]);
    assert_eq!(code, Some(0));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["service"]["sensitive"], false);
    let (code, _, err) = run(d, &["output", "nope"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("recorded outputs"), "{err}");
}

#[test]
fn a_held_lock_blocks_plan_until_force_unlocked() {
    let dir = quickstart();
    let d = dir.path();
    record_applied(d);
    let guard = store(d).lock("apply", Duration::ZERO).unwrap();
    let id = guard.id().to_string();
    std::mem::forget(guard); // as if the holder was killed
    let (code, _, err) = run(d, &["plan", "--no-refresh"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!("pedestal force-unlock {id}")),
        "{err}"
    );
    assert!(err.contains("Operation: apply"), "{err}");
    let (code, _, err) = run(d, &["force-unlock", "not-the-id"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("nothing was unlocked"), "{err}");
    let (code, out, err) = run(d, &["force-unlock", &id]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("successfully unlocked"));
    assert_eq!(run(d, &["plan", "--no-refresh"]).0, Some(0));
}

#[test]
fn bad_input_is_an_error_and_touches_nothing() {
    let dir = quickstart();
    let d = dir.path();
    record_applied(d);
    let before = std::fs::read(d.join("state/dev.json")).unwrap();
    assert_eq!(
        run(d, &["plan", "--no-refresh", "--var", "oops"]).0,
        Some(1)
    );
    assert_eq!(
        run(d, &["plan", "--no-refresh", "--target", "endpoint.nope"]).0,
        Some(1)
    );
    assert_eq!(
        run(d, &["plan", "--no-refresh", "--lock-timeout", "soon"]).0,
        Some(1)
    );
    let toml = std::fs::read_to_string(d.join("pedestal.toml")).unwrap();
    std::fs::write(
        d.join("pedestal.toml"),
        toml.replace("cpu = 256", "cpu = \"lots\""),
    )
    .unwrap();
    let (code, _, err) = run(d, &["plan", "--no-refresh"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("pedestal.toml:"), "{err}");
    assert_eq!(std::fs::read(d.join("state/dev.json")).unwrap(), before);
}

/// A loopback port nothing listens on: bound, then closed again.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn plan_against_an_unreachable_endpoint_fails_with_one_line_and_a_hint() {
    let dir = quickstart();
    let d = dir.path();
    record_applied(d);
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pedestal"))
        .arg("-C")
        .arg(d)
        .arg("plan")
        .env("NO_COLOR", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("could not reach AWS"))
        .unwrap_or_else(|| panic!("no line says the endpoint is unreachable: {err}"));
    assert!(
        line.contains(&format!(
            "could not reach AWS at {endpoint} (connection refused) — check [provider.aws] endpoint / AWS_ENDPOINT_URL"
        )),
        "{err}"
    );
    assert!(line.contains("refresh failed: "), "{err}");
    assert!(err.contains("--no-refresh"), "{err}");
    for dump in ["DispatchFailure", "ConnectorError", "source:", "{ "] {
        assert!(!err.contains(dump), "no Debug output ({dump:?}): {err}");
    }
    // Nothing was planned or written.
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
}
