//! The fast reader against `serde_json`: over the repository's state files and fuzz corpus,
//! hand-written documents, malformed ones, and generated states written every way pedestal
//! writes them.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;
use crate::resource::{Ref, TemplatePart};
use crate::state::{Intent, Outcome, Release, state_to_string, to_canonical_string};

/// Reads `text` both ways and asserts that [`parse_snapshot`] answers exactly as `serde_json`
/// (the same state, the same error), and that whatever the fast reader gives is `serde_json`'s
/// state; returns whether the fast reader took the text.
fn same(text: &str) -> bool {
    let slow = serde_json::from_str::<State>(text);
    // Debug text tells -0.0 from 0.0, which `PartialEq` does not.
    let debug = |s: &State| format!("{s:?}");
    match (parse_snapshot(text), &slow) {
        (Ok(a), Ok(b)) => {
            assert_eq!(debug(&a), debug(b), "document:\n{text}");
            assert!(a == *b);
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "document:\n{text}"),
        (a, b) => panic!("parse_snapshot gave {a:?}, serde_json {b:?}, document:\n{text}"),
    }
    let Some(fast) = read_fast(text) else {
        return false;
    };
    match &slow {
        Ok(slow) => assert_eq!(debug(&fast), debug(slow), "document:\n{text}"),
        Err(e) => panic!("the fast reader took a document serde_json refuses ({e}):\n{text}"),
    }
    true
}

/// The repository's root.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.json` file under `dir` holding a `format_version`, skipping build output.
fn state_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == ".git" || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            state_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json")
            && std::fs::read_to_string(&path).is_ok_and(|t| t.contains("\"format_version\""))
        {
            out.push(path);
        }
    }
}

#[test]
fn every_state_file_of_the_repository_reads_fast_and_the_same() {
    let mut files = Vec::new();
    state_files(&repo(), &mut files);
    assert!(!files.is_empty());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(same(&text), "not taken: {}", path.display());
        // Truncated anywhere, it fails exactly as it does through serde_json.
        for cut in (0..text.len()).step_by(61) {
            if let Some(head) = text.get(..cut) {
                assert!(!same(head), "a truncated file was taken");
            }
        }
    }
}

#[test]
fn the_state_fuzz_corpus_reads_the_same() {
    let Ok(read) = std::fs::read_dir(repo().join("fuzz/corpus/state")) else {
        return;
    };
    for entry in read.flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        let snapshot = bytes.split(|b| *b == 0).next().unwrap_or_default();
        if let Ok(text) = std::str::from_utf8(snapshot) {
            same(text);
        }
    }
}

/// A snapshot with one resource whose attributes are `attrs` (JSON text).
fn with_attrs(attrs: &str) -> String {
    format!(
        r#"{{"env": "dev", "format_version": 1, "lineage": "l", "resources": {{"storage.b.bucket": {{"attrs": {attrs}, "dependencies": ["a.b.c"], "id": "i", "kind": "s3_bucket", "status": "ok"}}}}, "serial": 3, "stack": "s"}}"#
    )
}

#[test]
fn values_of_every_sort_read_the_same() {
    for attrs in [
        r#"{}"#,
        r#"{"a": null, "b": true, "c": false, "d": [], "e": {}, "f": [[], [{}]]}"#,
        r#"{"i": [0, 1, -1, 123456789012345678, -123456789012345678, 1234567890123456789]}"#,
        r#"{"i": [9223372036854775807, -9223372036854775808, 9223372036854775808, 18446744073709551616]}"#,
        r#"{"f": [-0, -0.0, 0.0, 0.1, 1e300, 1E-300, 5e-324, 2.5e+3, 1.7976931348623157e308, 1e2]}"#,
        r#"{"s": ["", "plain", "a\"b", "\\", "\/", "\b\f\n\r\t", "\u0000\u001f", "\u00e9\u4e2d", "\ud83d\ude00", "é中😀"]}"#,
        r#"{"a\"q\\u00e9\n": "v\t\u00e9", "\u0041": 1}"#,
        r#"{"z": 1, "a": 2, "m": 3}"#,
        r#"{"k": 1, "j": 2, "k": 3}"#,
        r#"{"s": {"$sensitive": "hmac-sha256:00"}, "u": {"$unknown": true}, "f": {"$unknown": false}}"#,
        r#"{"r": {"$ref": "endpoint.a.service.arn"}, "t": {"$template": [{"lit": "v="}, {"ref": {"address": "a.b.c", "attr": "id"}}]}}"#,
        r#"{"x": {"$sensitive": "x", "$sensitive": "y"}, "y": {"$sensitive": 3}, "z": {"$other": 1}}"#,
        r#"{"$sensitive": "d"}"#,
        "{\n\t\"a\" :\r\n [ 1 , 2 ] ,\"b\":{ } }",
    ] {
        assert!(same(&with_attrs(attrs)), "not taken: {attrs}");
    }
}

#[test]
fn other_fields_and_sections_read_the_same() {
    let full = r#"{
  "env": "dev",
  "format_version": 1,
  "intents": {"a.b.c": {"kind": "iam_role", "physical_name": "n", "started_at": "t"}},
  "lineage": "l",
  "outputs": {"o": "v", "n": {"$sensitive": "d"}},
  "releases": {"endpoint.a": [{"artifact_sha256": null, "image": "i", "outcome": "timed_out", "applied_at": "t", "task_definition_arn": "arn:1", "version": "1"}]},
  "resources": {},
  "serial": 0,
  "stack": "s"
}"#;
    assert!(same(full));
    let min = r#"{"stack": "s", "env": "e", "serial": 18446744073709551615, "lineage": "l", "format_version": 1}"#;
    same(min);
    let fields = r#"{"format_version": 1, "lineage": "l", "serial": 1, "stack": "s", "env": "e", "resources": {"b": {"kind": "log_group", "id": "x", "attrs": {}}, "a": {"status": "tainted", "attrs": {"k": 1}, "kind": "iam_role", "id": "y"}}}"#;
    assert!(same(fields));
    let state = parse_snapshot(fields).unwrap();
    assert_eq!(state.resources.len(), 2);
    assert_eq!(state.resources[&Address::new("a")].status, Status::Tainted);
}

#[test]
fn malformed_snapshots_fail_as_through_serde_json() {
    let good = with_attrs(r#"{"a": "b"}"#);
    for bad in [
        String::new(),
        "null".into(),
        "[]".into(),
        "\u{feff}{}".into(),
        good.replace("\"b\"", "\"b\u{1}\""),
        good.replace("\"b\"", "\"b\nc\""),
        good.replace("\"b\"", "\"\\x\""),
        good.replace("\"b\"", "\"\\ud800\""),
        good.replace("\"b\"", "\"\\udc00\""),
        good.replace("\"b\"", "\"\\u12\""),
        good.replace("\"b\"", "01"),
        good.replace("\"b\"", "1."),
        good.replace("\"b\"", "1e400"),
        good.replace("\"b\"", "-"),
        good.replace("\"b\"", "tru"),
        good.replace("\"b\"", "nul"),
        good.replace("\"b\"", "[1,]"),
        good.replace("\"b\"", "{\"a\":1,}"),
        good.replace("\"b\"", "{\"$ref\": \"noattr\"}"),
        good.replace("\"b\"", "{\"$template\": 3}"),
        good.replace("\"b\"", &"[".repeat(130)),
        good.replace("\"s3_bucket\"", "\"no_such_kind\""),
        good.replace("\"ok\"", "\"fine\""),
        good.replace("\"serial\": 3", "\"serial\": -3"),
        good.replace("\"serial\": 3", "\"serial\": 3, \"serial\": 4"),
        good.replace("\"format_version\": 1", "\"format_version\": 4294967296"),
        good.replace("\"format_version\": 1,", ""),
        good.replace("\"id\": \"i\",", ""),
        good.replace("\"dependencies\": [\"a.b.c\"]", "\"dependencies\": null"),
        good.replace("\"stack\": \"s\"}", "\"stack\": \"s\"} x"),
        good.replace("\"stack\": \"s\"}", "\"stack\": \"s\"}}"),
        good.replace("\"resources\"", "\"resources\": null, \"x\""),
    ] {
        assert!(!same(&bad), "taken: {bad}");
    }
    // Unknown fields are ignored by serde_json; the fast reader leaves them to it.
    let extra = good.replace("\"serial\"", "\"extra\": [1, {}], \"serial\"");
    assert!(!same(&extra));
    assert!(parse_snapshot(&extra).is_ok());
    let deep = good.replace("\"b\"", &format!("{}1{}", "[".repeat(101), "]".repeat(101)));
    assert!(
        !same(&deep),
        "nesting deeper than the reader follows is left to serde_json"
    );
}

/// Text with quotes, backslashes, control characters and characters beyond ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z:/_.-]{0,12}",
        "\\PC{0,8}",
        "[\"\\\\/\n\t\u{0}\u{1f}\u{7f}é中😀a]{0,6}",
    ]
}

/// Any value a state may hold.
fn value() -> impl Strategy<Value = Value> {
    let float = prop_oneof![
        Just(1e300),
        Just(-0.0),
        Just(0.1),
        Just(5e-324),
        Just(f64::MAX),
        any::<f64>(),
    ];
    let reference = || Ref {
        address: Address::new("endpoint.a.service"),
        attr: "arn".into(),
    };
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (-1000i64..1000).prop_map(Value::Int),
        float.prop_map(Value::Float),
        text().prop_map(Value::String),
        text().prop_map(Value::Redacted),
        Just(Value::Unknown),
        Just(Value::Ref(Box::new(reference()))),
        text().prop_map(move |lit| Value::Template(vec![
            TemplatePart::Lit(lit),
            TemplatePart::Ref(reference())
        ])),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::List),
            prop::collection::btree_map(
                prop_oneof![text(), Just("$sensitive".to_string())],
                inner,
                0..5
            )
            .prop_map(|m| Value::Map(Attrs::from(m))),
        ]
    })
}

/// Any state.
fn state() -> impl Strategy<Value = State> {
    let resource = (
        0..ResourceKind::ALL.len(),
        text(),
        prop::collection::btree_map(text(), value(), 0..6),
        prop::collection::btree_set(text().prop_map(Address::new), 0..3),
        any::<bool>(),
    )
        .prop_map(|(kind, id, attrs, dependencies, tainted)| ResourceState {
            kind: ResourceKind::ALL[kind],
            id,
            attrs: Attrs::from(attrs),
            dependencies: dependencies.into(),
            status: if tainted { Status::Tainted } else { Status::Ok },
        });
    (
        prop::collection::btree_map(text().prop_map(Address::new), resource, 0..6),
        prop::collection::btree_map(text(), value(), 0..3),
        any::<u64>(),
        any::<bool>(),
    )
        .prop_map(|(resources, outputs, serial, history)| {
            let mut state = State::new("s", "e");
            state.serial = serial;
            state.resources = resources;
            state.outputs = outputs;
            if history {
                state.releases.insert(
                    "endpoint.a".into(),
                    vec![Release {
                        version: "1".into(),
                        outcome: Outcome::Completed,
                        ..Release::default()
                    }],
                );
                state.intents.insert(
                    Address::new("endpoint.a.service"),
                    Intent {
                        kind: ResourceKind::EcsService,
                        physical_name: "n".into(),
                        started_at: "t".into(),
                    },
                );
            }
            state
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Written as pedestal writes it (and compact, and pretty-printed all through), a state
    /// reads the same both ways, and the fast reader takes it unless a number needs
    /// `serde_json` to fail (a float written out of range).
    #[test]
    fn generated_states_read_the_same(state in state()) {
        for text in [
            state_to_string(&state).unwrap(),
            serde_json::to_string(&state).unwrap(),
            to_canonical_string(&state).unwrap(),
        ] {
            let slow = serde_json::from_str::<State>(&text);
            prop_assert_eq!(same(&text), slow.is_ok(), "{}", text);
        }
    }

    /// One byte of a written state replaced by a byte that matters to JSON: either way, the
    /// same state or the same error.
    #[test]
    fn damaged_states_read_the_same(
        state in state(),
        at in any::<prop::sample::Index>(),
        byte in prop::sample::select(b"\"\\{}[],:01-.eE \n\x01atfnu".to_vec()),
    ) {
        let mut bytes = state_to_string(&state).unwrap().into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        if let Ok(text) = String::from_utf8(bytes) {
            same(&text);
        }
    }
}

proptest! {
    /// The word-at-a-time search finds what a byte-by-byte one finds, wherever the bytes
    /// sit in their words; the control count is a plain count.
    #[test]
    fn the_scans_find_what_a_byte_loop_finds(
        bytes in prop::collection::vec(
            prop::sample::select(b"\"\\\x00\x1f a\x7f\x80\xff\xc3\xa9".to_vec()),
            0..40,
        ),
        from in 0usize..40,
    ) {
        let from = from.min(bytes.len());
        let naive = bytes[from..]
            .iter()
            .position(|c| *c == b'"' || *c == b'\\')
            .map(|i| from + i);
        prop_assert_eq!(super::quote_or_backslash(&bytes, from), naive);
        let count = bytes.iter().filter(|b| **b < 0x20).count();
        prop_assert_eq!(super::controls(&bytes), count);
        let long = bytes.repeat(20);
        prop_assert_eq!(super::controls(&long), count * 20);
    }
}
