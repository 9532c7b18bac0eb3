//! Fuzzes reading state: the snapshot's typed parse and checks, and the journal replayed over
//! it (torn lines, lines of other snapshots, entries for unknown addresses), through the local
//! backend as `pedestal` reads it. The input is the state file and its journal separated by a
//! NUL byte. The snapshot's fast reader must read it exactly as `serde_json` does (the same
//! state, or nothing where `serde_json` fails). A state that reads must survive a write and
//! read back unchanged, and the planner must plan the fraud-detection example (prod) against
//! it without panicking.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pedestal::plan::{PlanOptions, plan};
use pedestal::spec::{self, Config, LoadOptions};
use pedestal::state::{LocalStore, State, StateStore, parse_snapshot, read_fast};

const STACK: &str = "fraud-detection";
const ENV: &str = "prod";

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("scratch directory").keep())
}

/// The fraud-detection example for prod, loaded once.
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/fraud-detection");
        spec::load(&example, &LoadOptions::env(ENV))
            .unwrap_or_else(|d| panic!("{}", d.render(false, 100)))
    })
}

fuzz_target!(|data: &[u8]| {
    let config = config();
    let dir = dir();
    let (snapshot, journal) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    if let Ok(text) = std::str::from_utf8(snapshot) {
        same_both_ways(text);
    }
    let path = dir.join("state.json");
    std::fs::write(&path, snapshot).expect("writing the input");
    let store = LocalStore::new(&path, STACK, ENV);
    match journal {
        Some(j) => std::fs::write(store.journal_path(), j).expect("writing the input"),
        None => {
            let _ = std::fs::remove_file(store.journal_path());
        }
    }
    let Ok(Some(state)) = store.read() else {
        return;
    };
    let _ = plan(config, &state, &PlanOptions::default());
    // Written and read back (through a fresh store), the state is the same.
    let again = dir.join("again.json");
    for f in [again.clone(), again.with_extension("json.journal"), again.with_extension("json.backup")] {
        let _ = std::fs::remove_file(f);
    }
    let copy = LocalStore::new(&again, STACK, ENV);
    if copy.write(&state).is_ok() {
        let back = copy.read().expect("reading back a written state").expect("state");
        let mut expected = state.clone();
        expected.serial = back.serial;
        assert_eq!(expected, back, "a state read back differs from the one written");
    }
});

/// The fast reader gives `serde_json`'s state (or gives up), and [`parse_snapshot`] answers
/// exactly as `serde_json`: the same state (down to the sign of a zero) or the same error.
fn same_both_ways(text: &str) {
    let slow = serde_json::from_str::<State>(text);
    let debug = |s: &State| format!("{s:?}");
    if let Some(fast) = read_fast(text) {
        let slow = slow.as_ref().expect("the fast reader took a snapshot serde_json refuses");
        assert_eq!(debug(&fast), debug(slow), "the fast reader read it otherwise");
    }
    match (parse_snapshot(text), &slow) {
        (Ok(a), Ok(b)) => assert_eq!(debug(&a), debug(b)),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("parse_snapshot gave {a:?}, serde_json {b:?}"),
    }
}
