//! Tests that the event builder (`events`) and the `DeTable` path give the same tree, spans and
//! diagnostics: over every TOML file of the repository, the fuzz corpus, hand-written tricky
//! documents and generated ones.

use std::path::Path;

use proptest::prelude::*;

use super::*;

/// Parses `text` both ways (templates on and off) and asserts that [`parse_document`] answers
/// exactly as the `DeTable` path; returns whether the event builder took the document, which it
/// must whenever the `DeTable` path finds nothing to report (`strict`).
fn same(text: &str, strict: bool) -> bool {
    let mut taken = true;
    for templates in [true, false] {
        let mut sources = SourceMap::default();
        let file = sources.add("t.toml", text.to_string());
        let fast = events::build(&sources, file, templates);
        let mut slow_diags = Diagnostics::default();
        let slow = parse_through_tables(&sources, file, templates, &mut slow_diags);
        let mut diags = Diagnostics::default();
        let node = parse_document(&sources, file, templates, &mut diags);
        // Debug text compares NaN floats as equal, which `PartialEq` does not.
        assert_eq!(
            format!("{node:?}"),
            format!("{slow:?}"),
            "document:\n{text}"
        );
        assert_eq!(
            format!("{:?}", diags.errors),
            format!("{:?}", slow_diags.errors),
            "document:\n{text}"
        );
        cuts_agree(&sources, file, templates, &slow, &slow_diags);
        match fast {
            Some(fast) => {
                assert!(
                    slow_diags.is_empty(),
                    "builder took a bad document:\n{text}"
                );
                assert_eq!(Some(format!("{fast:?}")), slow.map(|n| format!("{n:?}")));
            }
            None => {
                let clean = slow.is_some() && slow_diags.is_empty();
                assert!(!(strict && clean), "builder left a clean document:\n{text}");
                taken = false;
            }
        }
    }
    taken
}

/// Reads the document cut in two at every line that opens a header (one thread): the merged
/// tree must be the one reading's, and a document it reports on must not merge. Returns how
/// many cuts merged.
fn cuts_agree(
    sources: &SourceMap,
    file: FileId,
    templates: bool,
    slow: &Option<Node>,
    slow_diags: &Diagnostics,
) -> usize {
    let text = sources.text(file);
    let mut merged = 0;
    for (at, _) in text.match_indices("\n[") {
        let Some(split) = events::build_at(sources, file, templates, at + 1, false) else {
            continue;
        };
        merged += 1;
        assert!(
            slow_diags.is_empty(),
            "cut at {} merged a bad document:\n{text}",
            at + 1
        );
        assert_eq!(
            Some(format!("{split:?}")),
            slow.as_ref().map(|n| format!("{n:?}")),
            "cut at {}, document:\n{text}",
            at + 1
        );
    }
    merged
}

/// How many cuts of `text` merge (templates on).
fn merged_cuts(text: &str) -> usize {
    let mut sources = SourceMap::default();
    let file = sources.add("t.toml", text.to_string());
    let mut diags = Diagnostics::default();
    let slow = parse_through_tables(&sources, file, true, &mut diags);
    cuts_agree(&sources, file, true, &slow, &diags)
}

/// Every `.toml` file under `dir`, skipping build output.
fn toml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != ".git" {
                toml_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

#[test]
fn repository_specs_parse_the_same_and_take_the_fast_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    toml_files(root, &mut files);
    assert!(files.len() > 50, "found only {} files", files.len());
    let mut merged = 0;
    for path in files {
        if let Ok(text) = std::fs::read_to_string(&path) {
            same(&text, true);
            merged += merged_cuts(&text);
        }
    }
    assert!(merged > 100, "only {merged} cuts merged");
}

#[test]
fn fuzz_corpus_parses_the_same() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/spec");
    let Ok(read) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut taken = 0;
    for entry in read.flatten() {
        let bytes = std::fs::read(entry.path()).unwrap_or_default();
        for part in bytes.split(|&b| b == 0) {
            if same(&String::from_utf8_lossy(part), false) {
                taken += 1;
            }
        }
    }
    assert!(taken > 0);
}

/// Documents that exercise every way tables are assembled, valid or not.
const TRICKY: &[&str] = &[
    "",
    "# only a comment",
    "a = 1",
    "a.b.c = 1\na.b.d = 2\na.e = 3",
    "[x]\na.b = 1\n[x.a.c]\nd = 2",
    "[a.b.c]\nx = 1\n[a]\ny = 2\n[a.b]\nz = 3",
    "[a.b]\n[a]\n[a.c]\n",
    "[a]\n[a.b]\n[a]\n",
    "[a]\nb = 1\n[a.b]\n",
    "a.b = 1\n[a]\n",
    "a.b = 1\n[a.c]\nd = 1",
    "[a]\nb.c = 1\n[a.b]\n",
    "[a.b]\nx = 1\n[a]\nb.y = 2",
    "[x.y.z]\n[x]\ny.w = 1\n[x.y]\n",
    "[x.y.z]\n[x]\ny.w = 1",
    "[[a]]\nx = 1\n[[a]]\nx = 2\n[a.b]\ny = 3\n[[a.c]]\n[[a.c]]\nz = 4",
    "[[x.a]]\n[x]\na.b = 1",
    "[[x.a]]\n[x]\na.b.c = 1",
    "a = [1]\n[[a]]",
    "[[a]]\n[a]",
    "[a]\n[[a]]",
    "a = {b = 1}\na.c = 2",
    "a = {b = 1}\n[a.c]",
    "a = {b = 1}\n[a]",
    "a = { b.c = 1, b.d = { e = [1, {f = 2}] }, g = [] }",
    "a = { b = {}, b.c = 1 }",
    "a = { b.c = 1, b = 2 }",
    "a = { x = 1, x = 2 }",
    "a = [ { x = 1 }, { y = [ { z = 3 } ] } ]",
    "a = [\n  1, # one\n  2,\n  # between\n  3,\n]\n",
    "a = { }\nb = [ ]\n[c]\n[d]",
    "a = 1\na = 2",
    "a = 1\n\"a\" = 2",
    "'a' = 1\n\"b\" = 2\n\"c.d\" = 3\n\"\" = 4\n'é' = 5",
    "\"a\".'b'.c = 1\n[ \"q\" . 'r' ]\ns = 2",
    "a . b = 1\n[ c . d ]\n",
    "s = \"tab\\there \\u00e9 \\U0001F600 \\\\ \\\"\"",
    "s = 'C:\\path\\${var.x}'",
    "s = \"\"\"\nline one\nline two \\\n   continued\"\"\"",
    "s = '''\nraw ${env} line\n'''",
    "s = \"x-${var.v}-y\"\nt = \"${env}\"\nu = \"$${env}\"",
    "s = \"${var.}\"",
    "s = \"${unterminated\"",
    "s = \"caf\\u00e9 ${var.v}\"",
    "i = [0x1F, 0o17, 0b101, +17, -3, 1_000, 9223372036854775807, -9223372036854775808]",
    "i = 9223372036854775808",
    "i = 0xFFFFFFFFFFFFFFFFF",
    "f = [1.5, -0.0, 1e10, 6.02e+23, inf, -inf, nan, +nan, 1_0.5]",
    "b = [true, false]",
    "d = [1979-05-27T07:32:00Z, 1979-05-27T00:32:00.999999-07:00, 1979-05-27, 07:32:00, \
     1979-05-27 07:32:00, 1979-05-27T07:32:00]",
    "d = 1979-13-27",
    "# c\n[a] # c\nb = 1 # c\n# c\nc = [ # c\n 1 # c\n, 2 ] # c\n",
    "a = \"unicode ünïcödé ✓\"\n[ünï]\n\"ключ\" = 'значение'",
    "[stack\nname = 1",
    "a = \nb = 1",
    "a = 1 b = 2",
    "[]\n",
    "[a]]\n",
    "= 1",
    "a = [1, 2\nb = 3",
    "a = {b = 1",
    "a = \"\\q\"",
    "# bad \u{1} control",
    "a = 1\r\nb = 2\r",
    "x = 1\n[a]\ny = 2\n[b]\nz = 3\n[a.c]\nw = 4\n[b.d.e]\n[b.d]\nv = 5",
    "[\"a.b\"]\nx = 1\n[a.b]\ny = 2",
    "[a]\nk0=0\nk1=1\nk2=2\nk3=3\nk4=4\nk5=5\nk6=6\nk7=7\nk8=8\nk9=9\nk10=10\nk3=3",
    "[a]\nk0=0\nk1=1\nk2=2\nk3=3\nk4=4\nk5=5\nk6=6\nk7=7\nk8=8\nk9=9\n[a.k5]\n",
    "[a]\nk0=0\nk1=1\nk2=2\nk3=3\nk4=4\nk5=5\nk6=6\nk7=7\nk8=8\nk9.x=9\n[a.k9.y]\n[a.k9]",
    // Cut at a header line (see `cuts_agree`): what the two parts share.
    "[a.b]\nx = 1\n[a.c]\ny = 2\n[a.b.d]\n[a.e.f]\nz = 3",
    "[a.b]\nx = 1\n[a]\ny = 2",
    "[a]\nx = 1\n[a.b]\ny = 2\n[a.b.c]",
    "[a]\nb.c = 1\n[a.b.d]\n",
    "[a]\nb = { c = 1 }\n[a.b.d]\n",
    "[[a]]\nx = 1\n[[a]]\n[a.b]\n[[a.c]]\n[[a.c]]\n",
    "[a.b]\nx = 1\n[a.b]\ny = 2",
    "[t.a]\n[t.b]\n[t.a]\n",
    "[t.a]\n[t.b]\n[t]\nc = 1\n[t.d]\n",
    "s = \"\"\"\n[a]\n\"\"\"\n[b]\nx = 1",
    "s = \'\'\'\n[a]\n\'\'\'\n[b]\nx = 1",
    "a = [\n[1],\n[2]\n]\n[b]\nx = [\n[3]]\n[c]",
    "x = 1\n[a]\n\n[b]\n# c\n[c] # d\ny = \"${env}\"",
    "[t.k0]\n[t.k1]\n[t.k2]\n[t.k3]\n[t.k4]\n[t.k5]\n[t.k6]\n[t.k7]\n[t.k8]\n[t.k9]\n[t.k10]\n\
     [t.k11]\n[t.k3.x]\n[u.k0]\n[t.k12]\n[t.k4]",
    "[t.k0]\n[t.k1]\n[t.k2]\n[t.k3]\n[t.k4]\n[t.k5]\n[t.k6]\n[t.k7]\n[t.k8]\n[t.k9]\n[t.k10]\n\
     [t.k11]\n[t.k3.x]\n[u.k0]\n[t.k12]",
];

#[test]
fn tricky_documents_parse_the_same() {
    let mut taken = 0;
    for text in TRICKY {
        taken += usize::from(same(text, true));
        same(&text.replace('\n', "\r\n"), true);
    }
    assert!(taken >= 30, "builder took only {taken} documents");
}

#[test]
fn cuts_merge_where_the_parts_share_only_the_way_to_a_header() {
    let merged = |text: &str| {
        let n = merged_cuts(text);
        assert_eq!(merged_cuts(&text.replace('\n', "\r\n")), n, "{text}");
        n
    };
    // Every cut: the parts share `a` (or `t`), which the second only passes through.
    assert_eq!(
        merged("[a.b]\nx = 1\n[a.c]\ny = 2\n[a.b.d]\n[a.e.f]\nz = 3"),
        3
    );
    assert_eq!(merged("[a]\nx = 1\n[a.b]\ny = 2\n[a.b.c]"), 2);
    // The second part defines or extends what the first made: read whole.
    assert_eq!(merged("[a.b]\nx = 1\n[a]\ny = 2"), 0);
    assert_eq!(merged("[a]\nb.c = 1\n[a.b.d]\n"), 0);
    assert_eq!(merged("[a]\nb = { c = 1 }\n[a.b.d]\n"), 0);
    assert_eq!(merged("[t.a]\n[t.b]\n[t.a]\n"), 0);
    // A cut inside a multi-line string or array leaves a part that does not read.
    assert_eq!(merged("s = \"\"\"\n[a]\n\"\"\"\n[b]\nx = 1"), 1);
    assert_eq!(merged("a = [\n[1],\n[2]\n]\n[b]\nx = [\n[3]]\n[c]"), 2);
}

#[test]
fn large_documents_read_on_two_threads_as_in_one_piece() {
    let mut text = String::from("[stack]\nname = \"s\"\n\n[compute.cluster]\n\n");
    for i in 0..300 {
        text.push_str(&format!(
            "[storage.b{i:03}]\nversioning = {}\n\n",
            i % 2 == 0
        ));
    }
    for i in 0..300 {
        text.push_str(&format!(
            "[endpoint.e{i:03}]\ncompute = \"cluster\"\nmodel = {{ version = \"1\" }}\n\
             environment = {{ BUCKET = \"${{storage.b{i:03}.bucket}}\" }}\n\n"
        ));
        if i % 50 == 0 {
            text.push_str(&format!("[endpoint.e{i:03}.autoscaling]\nmin = 1\n\n"));
        }
    }
    let mut sources = SourceMap::default();
    let file = sources.add("t.toml", text.clone());
    let whole = events::build(&sources, file, true).map(|n| format!("{n:?}"));
    assert!(whole.is_some());
    assert!(text.len() < events::SPLIT_MIN_BYTES);
    assert!(events::build_split(&sources, file, true).is_none());
    events::SPLIT_MIN.with(|m| m.set(0));
    let split = events::build_split(&sources, file, true).map(|n| format!("{n:?}"));
    let mut diags = Diagnostics::default();
    let document = parse_document(&sources, file, true, &mut diags).map(|n| format!("{n:?}"));
    events::SPLIT_MIN.with(|m| m.set(events::SPLIT_MIN_BYTES));
    assert_eq!(split, whole);
    assert_eq!(document, whole);
    assert!(diags.is_empty());
}

#[test]
fn deep_nesting_falls_back_like_the_slow_path() {
    let deep = format!("a = {}1{}", "[".repeat(100), "]".repeat(100));
    assert!(!same(&deep, false));
    let long = format!("{} = 1", vec!["k"; 100].join("."));
    assert!(!same(&long, false));
    let ok = format!("a = {}1{}", "[".repeat(10), "]".repeat(10));
    assert!(same(&ok, true));
}

/// A key of one to three parts, some quoted so that equal keys are written differently.
fn key() -> impl Strategy<Value = String> {
    let part = prop::sample::select(vec!["a", "b", "c", "\"a\"", "'b'", "\"c d\""]);
    prop::collection::vec(part, 1..4).prop_map(|p| p.join("."))
}

fn value() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec![
        "1",
        "-2",
        "0x10",
        "1.5",
        "true",
        "\"s\"",
        "'${env}'",
        "\"${var.x}\"",
        "1979-05-27",
    ])
    .prop_map(str::to_string);
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((key(), inner), 0..3).prop_map(|kv| {
                let kv: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", kv.join(", "))
            }),
        ]
    })
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        key().prop_map(|k| format!("[{k}]")),
        key().prop_map(|k| format!("[[{k}]]")),
        (key(), value()).prop_map(|(k, v)| format!("{k} = {v}")),
        (key(), value()).prop_map(|(k, v)| format!("{k} = {v}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn generated_documents_parse_the_same(
        lines in prop::collection::vec(line(), 0..10),
        crlf in any::<bool>(),
    ) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        same(&text, true);
    }
}
