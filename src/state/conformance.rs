//! The conformance suite every [`StateStore`] backend runs: one function per property
//! (reading nothing, round trips, serials and lineage, locking, force-unlock, journal replay
//! after a crash), written against the public trait only, so a new backend proves it behaves
//! like the others with one call to [`run_all`].
//!
//! A backend hands the suite a function that makes a fresh, empty storage location and
//! returns an [`Open`]: every call of it opens a new handle onto that same location, as a
//! new process would. Stores are for stack [`STACK`] and env [`ENV`]. A failed property
//! panics with a message naming it.
//!
//! ```
//! use pedestal::state::{MemoryStore, conformance};
//!
//! conformance::run_all(&|| {
//!     let store = MemoryStore::new(conformance::STACK, conformance::ENV);
//!     Box::new(move || Box::new(store.clone()))
//! });
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::{
    Intent, JournalEntry, Outcome, Release, ResourceState, State, StateError, StateStore, Status,
};
use crate::addr::Address;
use crate::resource::schema::s3_bucket::{Attr, LifecycleRule};
use crate::resource::{Attrs, ResourceKind, Value};

/// The stack every store under test is for.
pub const STACK: &str = "conformance";
/// The environment every store under test is for.
pub const ENV: &str = "test";

/// Opens a new handle onto one storage location.
pub type Open = Box<dyn Fn() -> Box<dyn StateStore>>;

/// Every property, each on a fresh storage location from `fresh`.
pub fn run_all(fresh: &dyn Fn() -> Open) {
    read_missing(&fresh());
    write_then_read_round_trips(&fresh());
    serial_grows_with_every_write(&fresh());
    other_lineage_or_stack_is_refused(&fresh());
    lock_is_exclusive_until_released(&fresh());
    force_unlock_needs_the_holder_id(&fresh());
    journal_survives_a_crash_and_write_compacts_it(&fresh());
    append_without_state_starts_one(&fresh());
}

fn bucket(name: &str, deps: &[&str]) -> ResourceState {
    ResourceState {
        kind: ResourceKind::S3Bucket,
        id: name.to_string(),
        attrs: Attrs::from([
            (Attr::Bucket.into(), Value::str(name)),
            (Attr::Versioning.into(), Value::Bool(true)),
            (
                Attr::Tags.into(),
                Value::Map(BTreeMap::from([("team".to_string(), Value::str("ml"))]).into()),
            ),
            (
                Attr::Lifecycle.into(),
                Value::List(vec![
                    Value::Map(
                        BTreeMap::from([(LifecycleRule::ExpireDays.into(), Value::Int(7))]).into(),
                    ),
                    Value::Null,
                ]),
            ),
        ]),
        dependencies: deps.iter().map(|d| Address::new(*d)).collect(),
        status: Status::Ok,
    }
}

fn release(version: &str) -> Release {
    Release {
        version: version.to_string(),
        task_definition_arn: format!("arn:td:{version}"),
        artifact_sha256: Some("ab12".to_string()),
        image: format!("img:{version}"),
        started_at: "2026-01-01T00:00:00Z".to_string(),
        finished_at: Some("2026-01-01T00:05:00Z".to_string()),
        outcome: Outcome::Completed,
        who: Some("ci@runner".to_string()),
        ..Release::default()
    }
}

/// A state with something in every section.
fn sample() -> State {
    let mut s = State::new(STACK, ENV);
    s.resources
        .insert(Address::new("storage.a.bucket"), bucket("a", &[]));
    let mut tainted = bucket("b", &["storage.a.bucket"]);
    tainted.status = Status::Tainted;
    s.resources
        .insert(Address::new("storage.b.bucket"), tainted);
    s.intents.insert(
        Address::new("storage.c.bucket"),
        Intent {
            kind: ResourceKind::S3Bucket,
            physical_name: "c".to_string(),
            started_at: "2026-01-01T00:00:00Z".to_string(),
        },
    );
    s.releases
        .insert("endpoint.fraud".to_string(), vec![release("1.0.0")]);
    s.outputs
        .insert("url".to_string(), Value::str("http://example.test"));
    s
}

fn read(store: &dyn StateStore, property: &str) -> Option<State> {
    match store.read() {
        Ok(s) => s,
        Err(e) => panic!("{property}: read of {} failed: {e}", store.describe()),
    }
}

fn write(store: &dyn StateStore, state: &State, property: &str) {
    if let Err(e) = store.write(state) {
        panic!("{property}: write to {} failed: {e}", store.describe());
    }
}

fn append(store: &dyn StateStore, entry: &JournalEntry, property: &str) {
    if let Err(e) = store.append(entry) {
        panic!("{property}: append to {} failed: {e}", store.describe());
    }
}

/// A location nothing was written to reads as no state, and describes itself.
pub fn read_missing(open: &Open) {
    let store = open();
    assert!(
        !store.describe().is_empty(),
        "read_missing: describe() names the location"
    );
    assert_eq!(
        read(store.as_ref(), "read_missing"),
        None,
        "read_missing: an empty location has no state"
    );
}

/// What is written reads back equal (through a new handle too), with serial 1.
pub fn write_then_read_round_trips(open: &Open) {
    const P: &str = "write_then_read_round_trips";
    let store = open();
    let state = sample();
    write(store.as_ref(), &state, P);
    let mut expected = state.clone();
    expected.serial = 1;
    assert_eq!(read(store.as_ref(), P), Some(expected.clone()), "{P}");
    assert_eq!(read(open().as_ref(), P), Some(expected), "{P}: new handle");
}

/// Every write bumps the serial past both the stored and the given one.
pub fn serial_grows_with_every_write(open: &Open) {
    const P: &str = "serial_grows_with_every_write";
    let store = open();
    write(store.as_ref(), &State::new(STACK, ENV), P);
    let first = read(store.as_ref(), P).expect("state after a write");
    assert_eq!(first.serial, 1, "{P}: the first write leaves serial 1");
    write(store.as_ref(), &first, P);
    assert_eq!(read(store.as_ref(), P).map(|s| s.serial), Some(2), "{P}");
    // A stale copy still moves forward, never back.
    write(open().as_ref(), &first, P);
    assert_eq!(read(store.as_ref(), P).map(|s| s.serial), Some(3), "{P}");
    let mut ahead = first.clone();
    ahead.serial = 10;
    write(store.as_ref(), &ahead, P);
    assert_eq!(read(store.as_ref(), P).map(|s| s.serial), Some(11), "{P}");
    assert_eq!(
        read(store.as_ref(), P).map(|s| s.lineage),
        Some(first.lineage),
        "{P}: the lineage stays"
    );
}

/// A state of another lineage, stack or env is refused and leaves the stored one alone.
pub fn other_lineage_or_stack_is_refused(open: &Open) {
    const P: &str = "other_lineage_or_stack_is_refused";
    let store = open();
    let foreign = State::new("another-stack", ENV);
    assert!(
        matches!(store.write(&foreign), Err(StateError::Foreign { .. })),
        "{P}: another stack's state is refused"
    );
    let other_env = State::new(STACK, "another-env");
    assert!(
        matches!(store.write(&other_env), Err(StateError::Foreign { .. })),
        "{P}: another env's state is refused"
    );
    assert_eq!(read(store.as_ref(), P), None, "{P}: nothing was written");
    write(store.as_ref(), &sample(), P);
    let before = read(store.as_ref(), P);
    match open().write(&sample()) {
        Err(StateError::LineageMismatch {
            stored, writing, ..
        }) => {
            assert_eq!(Some(stored), before.as_ref().map(|s| s.lineage.clone()));
            assert_ne!(Some(writing), before.as_ref().map(|s| s.lineage.clone()));
        }
        other => panic!("{P}: another lineage must be refused, got {other:?}"),
    }
    assert_eq!(
        read(store.as_ref(), P),
        before,
        "{P}: the state is unchanged"
    );
}

/// One holder at a time; the refusal names the holder; dropping the guard releases it.
pub fn lock_is_exclusive_until_released(open: &Open) {
    const P: &str = "lock_is_exclusive_until_released";
    let store = open();
    let guard = match store.lock("apply", Duration::ZERO) {
        Ok(g) => g,
        Err(e) => panic!("{P}: a free lock is taken: {e}"),
    };
    assert_eq!(guard.info().operation, "apply", "{P}");
    for (who, handle) in [("same handle", &store), ("new handle", &open())] {
        match handle.lock("plan", Duration::ZERO) {
            Err(StateError::Locked { info, .. }) => {
                assert_eq!(info.id, guard.id(), "{P}: {who}: names the holder");
                assert_eq!(info.operation, "apply", "{P}: {who}");
            }
            other => panic!("{P}: {who}: a held lock must be refused, got {other:?}"),
        }
    }
    // Waiting a little is still refused while the holder keeps it.
    assert!(
        matches!(
            open().lock("plan", Duration::from_millis(150)),
            Err(StateError::Locked { .. })
        ),
        "{P}: a short wait does not steal the lock"
    );
    drop(guard);
    let again = open().lock("plan", Duration::ZERO);
    assert!(again.is_ok(), "{P}: released on drop: {again:?}");
}

/// Force-unlock removes a lock only given its id; a stale guard then leaves the next
/// holder's lock alone.
pub fn force_unlock_needs_the_holder_id(open: &Open) {
    const P: &str = "force_unlock_needs_the_holder_id";
    let store = open();
    assert!(
        matches!(
            store.force_unlock("nothing"),
            Err(StateError::NotLocked { .. })
        ),
        "{P}: nothing to unlock"
    );
    let stale = match store.lock("apply", Duration::ZERO) {
        Ok(g) => g,
        Err(e) => panic!("{P}: a free lock is taken: {e}"),
    };
    let other = open();
    match other.force_unlock("not-the-id") {
        Err(StateError::LockIdMismatch { held, given, .. }) => {
            assert_eq!(held, stale.id(), "{P}");
            assert_eq!(given, "not-the-id", "{P}");
        }
        r => panic!("{P}: a wrong id must be refused, got {r:?}"),
    }
    assert!(
        matches!(
            other.lock("plan", Duration::ZERO),
            Err(StateError::Locked { .. })
        ),
        "{P}: a refused force-unlock leaves the lock held"
    );
    let id = stale.id().to_string();
    if let Err(e) = other.force_unlock(&id) {
        panic!("{P}: the right id unlocks: {e}");
    }
    let next = match other.lock("plan", Duration::ZERO) {
        Ok(g) => g,
        Err(e) => panic!("{P}: free again after force-unlock: {e}"),
    };
    drop(stale);
    match open().lock("apply", Duration::ZERO) {
        Err(StateError::Locked { info, .. }) => {
            assert_eq!(
                info.id,
                next.id(),
                "{P}: the stale guard kept its hands off"
            );
        }
        r => panic!("{P}: the next holder's lock must survive a stale guard, got {r:?}"),
    }
    drop(next);
    assert!(
        matches!(other.force_unlock(&id), Err(StateError::NotLocked { .. })),
        "{P}: nothing left to unlock"
    );
}

/// Entries appended and never followed by a write (the process died) replay over the
/// snapshot for the next reader, each counting as a change; a write then compacts them.
pub fn journal_survives_a_crash_and_write_compacts_it(open: &Open) {
    const P: &str = "journal_survives_a_crash_and_write_compacts_it";
    let store = open();
    write(store.as_ref(), &sample(), P);
    let base = read(store.as_ref(), P).expect("state after a write");
    let entries = [
        JournalEntry::ResourceSet {
            address: Address::new("storage.d.bucket"),
            resource: bucket("d", &["storage.a.bucket"]),
        },
        JournalEntry::ResourceRemoved {
            address: Address::new("storage.a.bucket"),
        },
        JournalEntry::IntentCleared {
            address: Address::new("storage.c.bucket"),
        },
        JournalEntry::IntentRecorded {
            address: Address::new("storage.e.bucket"),
            intent: Intent {
                kind: ResourceKind::S3Bucket,
                physical_name: "e".to_string(),
                started_at: "2026-01-02T00:00:00Z".to_string(),
            },
        },
        JournalEntry::ReleaseAppended {
            endpoint: "endpoint.fraud".to_string(),
            release: release("1.1.0"),
        },
        JournalEntry::ReleaseUpdated {
            endpoint: "endpoint.fraud".to_string(),
            index: 0,
            release: Release {
                outcome: Outcome::Interrupted,
                ..release("1.1.0")
            },
        },
        JournalEntry::OutputsSet {
            outputs: BTreeMap::from([("url".to_string(), Value::str("http://new.test"))]),
        },
    ];
    let mut expected = base.clone();
    for e in &entries {
        append(store.as_ref(), e, P);
        expected.apply_entry(e);
    }
    drop(store);
    let recovered = read(open().as_ref(), P).expect("state after a crash");
    assert_eq!(recovered, expected, "{P}: the journal replays in order");
    assert_eq!(recovered.serial, base.serial + entries.len() as u64, "{P}");
    let names: BTreeSet<&str> = recovered.resources.keys().map(|a| a.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["storage.b.bucket", "storage.d.bucket"]),
        "{P}"
    );

    let next = open();
    write(next.as_ref(), &recovered, P);
    let compacted = read(open().as_ref(), P).expect("state after compaction");
    let mut after = recovered.clone();
    after.serial = recovered.serial + 1;
    assert_eq!(compacted, after, "{P}: a write keeps everything replayed");
    // More entries after the compaction replay once, over the new snapshot.
    append(next.as_ref(), &entries[1], P);
    let again = read(open().as_ref(), P).expect("state");
    assert_eq!(
        again.serial,
        after.serial + 1,
        "{P}: nothing replayed twice"
    );
    assert_eq!(again.releases["endpoint.fraud"].len(), 2, "{P}");
}

/// The first append to an empty location starts a state (serial 1) and records onto it.
pub fn append_without_state_starts_one(open: &Open) {
    const P: &str = "append_without_state_starts_one";
    let store = open();
    let entry = JournalEntry::ResourceSet {
        address: Address::new("storage.a.bucket"),
        resource: bucket("a", &[]),
    };
    append(store.as_ref(), &entry, P);
    let state = read(open().as_ref(), P).expect("a state after the first append");
    assert_eq!(
        (state.stack.as_str(), state.env.as_str()),
        (STACK, ENV),
        "{P}"
    );
    assert_eq!(state.serial, 2, "{P}: a fresh snapshot plus one entry");
    assert_eq!(state.resources.len(), 1, "{P}");
    write(store.as_ref(), &state, P);
    assert_eq!(read(open().as_ref(), P).map(|s| s.serial), Some(3), "{P}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{LocalStore, MemoryStore};

    fn memory() -> Open {
        let store = MemoryStore::new(STACK, ENV);
        Box::new(move || Box::new(store.clone()))
    }

    fn local() -> Open {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state/test.json");
        Box::new(move || {
            let _keep = &dir;
            Box::new(LocalStore::new(path.clone(), STACK, ENV))
        })
    }

    #[test]
    fn memory_store_conforms() {
        run_all(&memory);
    }

    #[test]
    fn local_store_conforms() {
        run_all(&local);
    }

    /// Local only: the state, its backup, journal and lock are private files.
    #[cfg(unix)]
    #[test]
    fn local_store_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = LocalStore::new(dir.path().join("state/test.json"), STACK, ENV);
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        };
        let state = sample();
        store.write(&state).expect("write");
        store
            .write(&store.read().expect("read").expect("state"))
            .expect("second write");
        store
            .append(&JournalEntry::ResourceRemoved {
                address: Address::new("storage.a.bucket"),
            })
            .expect("append");
        let _g = store.lock("apply", Duration::ZERO).expect("lock");
        for p in [
            store.path().to_path_buf(),
            store.backup_path(),
            store.journal_path(),
            store.lock_path(),
        ] {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
}
