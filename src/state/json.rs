//! Deterministic JSON for state and plan files: pretty-printed, object keys sorted at every
//! level (independent of serde_json's `preserve_order` feature), trailing newline.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value as Json};

/// Rebuilds a JSON value with every object's keys in sorted order.
pub fn canonical_json(v: Json) -> Json {
    match v {
        Json::Object(o) => {
            let mut entries: Vec<(String, Json)> = o.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut m = Map::new();
            for (k, v) in entries {
                m.insert(k, canonical_json(v));
            }
            Json::Object(m)
        }
        Json::Array(a) => Json::Array(a.into_iter().map(canonical_json).collect()),
        other => other,
    }
}

/// Serialises `value` as pretty JSON with sorted keys and a trailing newline.
pub fn to_canonical_string<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let json = canonical_json(serde_json::to_value(value)?);
    let mut s = serde_json::to_string_pretty(&json)?;
    s.push('\n');
    Ok(s)
}

/// [`super::State`] as JSON with sorted keys, streamed without an intermediate JSON tree (a
/// large state would otherwise cost several times its size in memory on every write). The
/// borrowing mirror types below list their fields alphabetically, and every map is a
/// `BTreeMap`, so the document equals `to_canonical_string(state)` value for value (a test
/// pins this).
///
/// The layout is [`Shallow`]: the document and its sections are indented, each resource,
/// intent, release history and output sits on one line of its own. Indenting every level
/// spent a third of a large state's bytes on spaces, and reading them back a fifth of the time
/// it takes to read the state; one line per resource still diffs and greps by resource.
pub fn state_to_string(state: &super::State) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(4096);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Shallow::default());
    mirror::State::from(state).serialize(&mut ser)?;
    out.push(b'\n');
    // serde_json writes only UTF-8.
    String::from_utf8(out).map_err(|e| serde_json::Error::io(std::io::Error::other(e)))
}

/// Indents like `serde_json`'s pretty printer (two spaces) down to [`Shallow::DEPTH`] levels
/// of nesting, and writes whatever is nested deeper compactly, on the line of its key.
#[derive(Default)]
struct Shallow {
    /// Containers open around the value being written.
    depth: usize,
    /// Whether the innermost indented container has a value yet.
    has_value: bool,
}

impl Shallow {
    /// The deepest container whose entries go on lines of their own: the document (1) and
    /// its sections (2).
    const DEPTH: usize = 2;

    /// Whether the container being written is indented.
    fn indented(&self) -> bool {
        self.depth <= Self::DEPTH
    }

    /// Starts an entry of an indented container: a new line at its depth.
    fn new_line<W: ?Sized + std::io::Write>(&self, w: &mut W, first: bool) -> std::io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    /// Opens a container with `open`.
    fn begin<W: ?Sized + std::io::Write>(&mut self, w: &mut W, open: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        if self.indented() {
            self.has_value = false;
        }
        w.write_all(open)
    }

    /// Closes a container with `close`, on a line of its own if it is indented and not empty.
    fn end<W: ?Sized + std::io::Write>(&mut self, w: &mut W, close: &[u8]) -> std::io::Result<()> {
        let indented = self.indented();
        self.depth -= 1;
        if indented && self.has_value {
            self.new_line(w, true)?;
        }
        w.write_all(close)
    }

    /// Starts an entry (an object's key or an array's element).
    fn entry<W: ?Sized + std::io::Write>(&self, w: &mut W, first: bool) -> std::io::Result<()> {
        match (self.indented(), first) {
            (true, _) => self.new_line(w, first),
            (false, true) => Ok(()),
            (false, false) => w.write_all(b","),
        }
    }

    /// Ends an entry.
    fn entry_done(&mut self) {
        if self.indented() {
            self.has_value = true;
        }
    }
}

impl serde_json::ser::Formatter for Shallow {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.begin(w, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.end(w, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.entry(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.entry_done();
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.begin(w, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.end(w, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.entry(w, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(if self.indented() { b": " } else { b":" })
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.entry_done();
        Ok(())
    }
}

/// Reads a JSON object into a `BTreeMap` built in one pass from its entries (sorted first
/// if they are not, the last of a repeated key winning, as inserting one by one would), not
/// by inserting them one by one: for the thousands of resources of a large state, a key
/// comparison at every level of the tree for every entry is most of the cost of the map.
pub fn map_in_bulk<'de, D, K, V>(d: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Ord + serde::Deserialize<'de>,
    V: serde::Deserialize<'de>,
{
    /// Gathers the entries of one object.
    struct Entries<K, V>(std::marker::PhantomData<(K, V)>);

    impl<'de, K, V> serde::de::Visitor<'de> for Entries<K, V>
    where
        K: Ord + serde::Deserialize<'de>,
        V: serde::Deserialize<'de>,
    {
        type Value = BTreeMap<K, V>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
            while let Some(entry) = map.next_entry::<K, V>()? {
                entries.push(entry);
            }
            Ok(entries.into_iter().collect())
        }
    }

    d.deserialize_map(Entries(std::marker::PhantomData))
}

mod mirror {
    use std::collections::{BTreeMap, BTreeSet};

    use serde::Serialize;

    use crate::addr::Address;
    use crate::resource::{Attrs, ResourceKind, Value};
    use crate::state as st;

    #[derive(Serialize)]
    pub(super) struct State<'a> {
        env: &'a str,
        format_version: u32,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        intents: BTreeMap<&'a Address, Intent<'a>>,
        lineage: &'a str,
        outputs: &'a BTreeMap<String, Value>,
        releases: BTreeMap<&'a str, Vec<Release<'a>>>,
        resources: BTreeMap<&'a Address, Resource<'a>>,
        serial: u64,
        stack: &'a str,
    }

    #[derive(Serialize)]
    struct Intent<'a> {
        kind: ResourceKind,
        physical_name: &'a str,
        started_at: &'a str,
    }

    /// Fields in alphabetical order, skipped exactly when [`st::Release`] skips them.
    #[derive(Serialize)]
    struct Release<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        alarm: &'a Option<String>,
        artifact_sha256: &'a Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        artifact_uri: &'a Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        finished_at: &'a Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        git_commit: &'a Option<String>,
        image: &'a str,
        outcome: st::Outcome,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: &'a Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        revision: &'a Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        spec_digest: &'a Option<String>,
        started_at: &'a str,
        task_definition_arn: &'a str,
        version: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        who: &'a Option<String>,
    }

    #[derive(Serialize)]
    struct Resource<'a> {
        attrs: &'a Attrs,
        dependencies: &'a BTreeSet<Address>,
        id: &'a str,
        kind: ResourceKind,
        status: st::Status,
    }

    impl<'a> From<&'a st::State> for State<'a> {
        fn from(s: &'a st::State) -> State<'a> {
            State {
                env: &s.env,
                format_version: s.format_version,
                intents: s
                    .intents
                    .iter()
                    .map(|(a, i)| {
                        (
                            a,
                            Intent {
                                kind: i.kind,
                                physical_name: &i.physical_name,
                                started_at: &i.started_at,
                            },
                        )
                    })
                    .collect(),
                lineage: &s.lineage,
                outputs: &s.outputs,
                releases: s
                    .releases
                    .iter()
                    .map(|(e, rs)| {
                        (
                            e.as_str(),
                            rs.iter()
                                .map(|r| Release {
                                    alarm: &r.alarm,
                                    artifact_sha256: &r.artifact_sha256,
                                    artifact_uri: &r.artifact_uri,
                                    finished_at: &r.finished_at,
                                    git_commit: &r.git_commit,
                                    image: &r.image,
                                    outcome: r.outcome,
                                    reason: &r.reason,
                                    revision: &r.revision,
                                    spec_digest: &r.spec_digest,
                                    started_at: &r.started_at,
                                    task_definition_arn: &r.task_definition_arn,
                                    version: &r.version,
                                    who: &r.who,
                                })
                                .collect(),
                        )
                    })
                    .collect(),
                resources: s
                    .resources
                    .iter()
                    .map(|(a, r)| {
                        (
                            a,
                            Resource {
                                attrs: &r.attrs,
                                dependencies: &r.dependencies,
                                id: &r.id,
                                kind: r.kind,
                                status: r.status,
                            },
                        )
                    })
                    .collect(),
                serial: s.serial,
                stack: &s.stack,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "map_in_bulk")]
        map: BTreeMap<String, i64>,
    }

    #[test]
    fn shallow_indents_two_levels_and_writes_deeper_ones_on_one_line() {
        let doc = serde_json::json!({
            "a": {"b": {"c": [1, 2], "s": "x y"}, "e": {}, "l": [[1], {"k": null}]},
            "d": [],
            "n": 1
        });
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Shallow::default());
        doc.serialize(&mut ser).unwrap();
        let expected = r#"{
  "a": {
    "b": {"c":[1,2],"s":"x y"},
    "e": {},
    "l": [[1],{"k":null}]
  },
  "d": [],
  "n": 1
}"#;
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn a_map_read_in_bulk_equals_one_built_entry_by_entry() {
        for text in [
            r#"{"map":{}}"#,
            r#"{"map":{"a":1,"b":2,"c":3}}"#,
            r#"{"map":{"c":1,"a":2,"b":3,"a":4}}"#,
        ] {
            let bulk = serde_json::from_str::<Holder>(text).unwrap().map;
            let one_by_one: BTreeMap<String, i64> = serde_json::from_str::<serde_json::Value>(text)
                .unwrap()["map"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
                .collect();
            assert_eq!(bulk, one_by_one, "{text}");
        }
        let dup = serde_json::from_str::<Holder>(r#"{"map":{"b":1,"a":2,"b":3}}"#).unwrap();
        assert_eq!(dup.map["b"], 3, "the last of a repeated key wins");
    }
}
