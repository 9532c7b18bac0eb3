//! State stores: deterministic files, atomic writes, journal replay after a crash, locking.

use std::time::Duration;

use pedestal::addr::Address;
use pedestal::resource::{Attrs, ResourceKind, Value};
use pedestal::state::{
    JournalEntry, LocalStore, MemoryStore, ResourceState, State, StateError, StateStore, Status,
};

fn bucket(name: &str) -> ResourceState {
    ResourceState {
        kind: ResourceKind::S3Bucket,
        id: name.to_string(),
        attrs: Attrs::from([
            (pedestal::resource::Key::from("bucket"), Value::str(name)),
            (
                pedestal::resource::Key::from("versioning"),
                Value::Bool(true),
            ),
            (
                pedestal::resource::Key::from("token"),
                Value::Sensitive(Box::new(Value::str("hunter2"))),
            ),
        ]),
        dependencies: Default::default(),
        status: Status::Ok,
    }
}

fn set(addr: &str) -> JournalEntry {
    JournalEntry::ResourceSet {
        address: Address::new(addr),
        resource: bucket(addr),
    }
}

fn local(dir: &std::path::Path) -> LocalStore {
    LocalStore::new(dir.join("state/prod.json"), "fraud", "prod")
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn local_write_is_deterministic_private_and_backed_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    assert_eq!(store.read().unwrap(), None);

    let mut state = State::new("fraud", "prod");
    state
        .resources
        .insert(Address::new("storage.models.bucket"), bucket("models"));
    store.write(&state).unwrap();
    let first = std::fs::read_to_string(store.path()).unwrap();
    assert!(!first.contains("hunter2"), "secrets never reach the file");
    // Keys sorted at every level: "env" < "format_version" < "lineage" < ...
    let env = first.find("\"env\"").unwrap();
    let lineage = first.find("\"lineage\"").unwrap();
    let stack = first.find("\"stack\"").unwrap();
    assert!(env < lineage && lineage < stack, "{first}");

    let read = store.read().unwrap().unwrap();
    assert_eq!(read.serial, 1);
    store.write(&read).unwrap();
    let second = std::fs::read_to_string(store.path()).unwrap();
    assert_eq!(
        first.replace("\"serial\": 1", "\"serial\": 2"),
        second,
        "rewriting the same state changes only the serial"
    );
    let backup = std::fs::read_to_string(store.backup_path()).unwrap();
    assert_eq!(backup, first, "the previous version is kept as .backup");
    #[cfg(unix)]
    {
        assert_eq!(mode(store.path()), 0o600);
        assert_eq!(mode(&store.backup_path()), 0o600);
    }
}

#[test]
fn journal_replays_over_snapshot_and_write_compacts_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    // Appending to a stack with no state yet creates the snapshot first.
    store.append(&set("a.x.bucket")).unwrap();
    store.append(&set("b.x.bucket")).unwrap();
    store
        .append(&JournalEntry::ResourceRemoved {
            address: Address::new("a.x.bucket"),
        })
        .unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&store.journal_path()), 0o600);

    let fresh = local(dir.path());
    let state = fresh.read().unwrap().unwrap();
    assert_eq!(
        state
            .resources
            .keys()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        vec!["b.x.bucket"]
    );
    assert_eq!(
        state.serial,
        1 + 3,
        "each replayed entry counts as a change"
    );

    fresh.write(&state).unwrap();
    assert!(!fresh.journal_path().exists(), "write compacts the journal");
    let again = local(dir.path()).read().unwrap().unwrap();
    assert_eq!(again.resources, state.resources);
    assert_eq!(again.serial, 5);
}

#[test]
fn torn_journal_line_from_a_crash_is_dropped_and_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    store.append(&set("a.x.bucket")).unwrap();
    // Simulate kill -9 in the middle of an append: half a line, no newline.
    let mut torn = std::fs::read(store.journal_path()).unwrap();
    let line = torn.clone();
    torn.extend_from_slice(&line[..line.len() / 2]);
    std::fs::write(store.journal_path(), &torn).unwrap();

    let reopened = local(dir.path());
    let state = reopened.read().unwrap().unwrap();
    assert_eq!(state.resources.len(), 1);
    // The next append drops the torn tail instead of gluing onto it.
    reopened.append(&set("b.x.bucket")).unwrap();
    let state = local(dir.path()).read().unwrap().unwrap();
    assert_eq!(state.resources.len(), 2);
}

#[test]
fn journal_left_over_from_interrupted_compaction_is_not_replayed_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    store.append(&set("a.x.bucket")).unwrap();
    store
        .append(&JournalEntry::ReleaseAppended {
            endpoint: "endpoint.fraud".into(),
            release: pedestal::state::Release {
                version: "1.0.0".into(),
                task_definition_arn: "arn:td:1".into(),
                artifact_sha256: None,
                image: "img:1".into(),
                started_at: "2026-01-01T00:00:00Z".into(),
                outcome: pedestal::state::Outcome::Completed,
                ..Default::default()
            },
        })
        .unwrap();
    let journal = std::fs::read(store.journal_path()).unwrap();
    let state = store.read().unwrap().unwrap();
    store.write(&state).unwrap();
    // Crash between the snapshot rename and the journal removal: the old journal is back.
    std::fs::write(store.journal_path(), journal).unwrap();
    let state = local(dir.path()).read().unwrap().unwrap();
    assert_eq!(state.releases["endpoint.fraud"].len(), 1);
}

#[test]
fn corrupt_foreign_and_future_states_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    std::fs::create_dir_all(dir.path().join("state")).unwrap();

    std::fs::write(store.path(), "{ not json").unwrap();
    let err = store.read().unwrap_err();
    assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
    assert!(matches!(
        store.write(&State::new("fraud", "prod")),
        Err(StateError::Corrupt { .. })
    ));
    assert_eq!(std::fs::read_to_string(store.path()).unwrap(), "{ not json");

    let other = State::new("churn", "prod");
    std::fs::write(store.path(), serde_json::to_string(&other).unwrap()).unwrap();
    let err = store.read().unwrap_err();
    assert!(
        err.to_string()
            .contains("belongs to stack `churn` env `prod`"),
        "{err}"
    );

    // dev's state copied to prod's path: refused, not read as prod's.
    let dev = serde_json::to_string(&State::new("fraud", "dev")).unwrap();
    std::fs::write(store.path(), &dev).unwrap();
    let err = store.read().unwrap_err();
    assert!(matches!(err, StateError::Foreign { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("belongs to stack `fraud` env `dev`, not stack `fraud` env `prod`"),
        "{err}"
    );
    assert!(store.write(&State::new("fraud", "prod")).is_err());
    assert_eq!(std::fs::read_to_string(store.path()).unwrap(), dev);

    let mut future = serde_json::to_value(State::new("fraud", "prod")).unwrap();
    future["format_version"] = serde_json::json!(99);
    let text = future.to_string();
    std::fs::write(store.path(), &text).unwrap();
    let err = store.read().unwrap_err();
    assert!(matches!(err, StateError::UnknownFormat { .. }), "{err}");
    assert!(store.write(&State::new("fraud", "prod")).is_err());
    assert_eq!(std::fs::read_to_string(store.path()).unwrap(), text);
}

#[test]
fn a_different_lineage_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    store.write(&State::new("fraud", "prod")).unwrap();
    let err = store.write(&State::new("fraud", "prod")).unwrap_err();
    assert!(matches!(err, StateError::LineageMismatch { .. }), "{err}");
}

#[test]
fn lock_is_exclusive_explains_itself_and_releases_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    let guard = store.lock("apply", Duration::ZERO).unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&store.lock_path()), 0o600);
    let held: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(store.lock_path()).unwrap()).unwrap();
    for key in ["id", "who", "operation", "created", "version"] {
        assert!(held.get(key).is_some(), "lock info has {key}");
    }
    assert!(held["who"].as_str().unwrap().contains('@'));

    let err = local(dir.path())
        .lock("plan", Duration::from_millis(250))
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(guard.id()), "{msg}");
    assert!(msg.contains("Operation: apply"), "{msg}");
    assert!(
        msg.contains(&format!("pedestal force-unlock {}", guard.id())),
        "{msg}"
    );
    assert!(msg.contains("Created:"), "{msg}");

    drop(guard);
    assert!(!store.lock_path().exists());
    let _again = store.lock("plan", Duration::ZERO).unwrap();
}

#[test]
fn lock_timeout_waits_for_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    let guard = store.lock("apply", Duration::ZERO).unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(guard);
    });
    let got = local(dir.path()).lock("plan", Duration::from_secs(5));
    releaser.join().unwrap();
    assert!(got.is_ok(), "{got:?}");
}

#[test]
fn force_unlock_needs_the_right_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    let guard = store.lock("apply", Duration::ZERO).unwrap();
    let id = guard.id().to_string();
    std::mem::forget(guard); // the process "crashed" holding the lock
    let other = local(dir.path());
    assert!(matches!(
        other.force_unlock("nope"),
        Err(StateError::LockIdMismatch { .. })
    ));
    other.force_unlock(&id).unwrap();
    assert!(matches!(
        other.force_unlock(&id),
        Err(StateError::NotLocked { .. })
    ));
    let _g = other.lock("plan", Duration::ZERO).unwrap();
}

#[test]
fn memory_store_has_the_same_semantics() {
    let store = MemoryStore::new("fraud", "prod");
    store.append(&set("a.x.bucket")).unwrap();
    let s = store.read().unwrap().unwrap();
    assert_eq!(s.resources.len(), 1);
    store.write(&s).unwrap();
    assert_eq!(store.read().unwrap().unwrap().serial, s.serial + 1);
    assert!(store.write(&State::new("fraud", "prod")).is_err());
    assert!(store.write(&State::new("x", "prod")).is_err());
    let g = store.lock("apply", Duration::ZERO).unwrap();
    assert!(matches!(
        store.lock("plan", Duration::ZERO),
        Err(StateError::Locked { .. })
    ));
    drop(g);
    assert!(store.held_lock().is_none());
}

const CRASH_ENV: &str = "PEDESTAL_TEST_CRASH_DIR";

/// Appends entries as fast as it can. Run normally it appends 50 and checks them; run by
/// `kill_9_mid_apply_leaves_a_readable_state` (with the env var set) it appends until killed.
#[test]
fn crash_child_appends() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, forever) = match std::env::var_os(CRASH_ENV) {
        Some(d) => (std::path::PathBuf::from(d), true),
        None => (tmp.path().to_path_buf(), false),
    };
    let store = local(&dir);
    let mut n = 0u64;
    loop {
        store.append(&set(&format!("r{n}.x.bucket"))).unwrap();
        n += 1;
        if !forever && n == 50 {
            break;
        }
    }
    assert_eq!(store.read().unwrap().unwrap().resources.len(), 50);
}

#[test]
fn kill_9_mid_apply_leaves_a_readable_state() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut child = std::process::Command::new(exe)
        .args(["--exact", "plan::state::crash_child_appends", "--nocapture"])
        .env(CRASH_ENV, dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let store = local(dir.path());
    // Wait until it has made progress, then SIGKILL it mid-stream.
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if std::fs::metadata(store.journal_path()).is_ok_and(|m| m.len() > 20_000) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let state = store.read().unwrap().unwrap();
    let n = state.resources.len();
    assert!(n > 10, "the child made progress before being killed ({n})");
    // Every acknowledged append is there, in order: r0..r(n-1), nothing else.
    for i in 0..n {
        assert!(
            state
                .resources
                .contains_key(&Address::new(format!("r{i}.x.bucket")))
        );
    }
    // And the store keeps working after the crash.
    store.append(&set("after.x.bucket")).unwrap();
    assert_eq!(store.read().unwrap().unwrap().resources.len(), n + 1);
}

#[test]
fn streamed_state_json_is_the_canonical_document_one_line_per_resource() {
    use pedestal::state::{Intent, Release, state_to_string, to_canonical_string};
    let config = super::fixture::config(&[super::fixture::Endpoint::new("fraud")]);
    let mut state = super::fixture::applied(&config, 2);
    state.intents.insert(
        Address::new("endpoint.fraud.service"),
        Intent {
            kind: ResourceKind::EcsService,
            physical_name: "svc".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
        },
    );
    state.releases.insert(
        "endpoint.fraud".into(),
        vec![Release {
            version: "1".into(),
            task_definition_arn: "arn".into(),
            artifact_sha256: None,
            image: "i".into(),
            started_at: "t".into(),
            outcome: pedestal::state::Outcome::Completed,
            ..Default::default()
        }],
    );
    state
        .resources
        .get_mut(&Address::new("endpoint.fraud.log_group"))
        .unwrap()
        .attrs
        .insert("token".into(), Value::Sensitive(Box::new(Value::str("s"))));
    let same_document = |state: &pedestal::state::State| {
        let streamed = state_to_string(state).unwrap();
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(
            parse(&streamed),
            parse(&to_canonical_string(state).unwrap())
        );
        assert_eq!(streamed, state_to_string(state).unwrap(), "deterministic");
        streamed
    };
    let text = same_document(&state);
    // The document and its sections are indented; each resource, intent, release history and
    // output is one line, keys sorted as everywhere.
    assert!(text.starts_with("{\n  \"env\": "), "{text}");
    assert!(text.ends_with("\n}\n"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    for addr in state.resources.keys() {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("    \"{addr}\": {{\"attrs\":{{")))
            .unwrap_or_else(|| panic!("{addr} on a line of its own:\n{text}"));
        assert!(line.ends_with("}") || line.ends_with("},"), "{line}");
    }
    assert!(
        lines.contains(&"    \"endpoint.fraud.service\": {\"kind\":\"ecs_service\",\"physical_name\":\"svc\",\"started_at\":\"2026-01-01T00:00:00Z\"}"),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("    \"endpoint.fraud\": [{")),
        "{text}"
    );
    state.intents.clear();
    same_document(&state);
}
