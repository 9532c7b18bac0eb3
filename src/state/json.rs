//! Deterministic JSON for state and plan files: pretty-printed, object keys sorted at every
//! level (independent of serde_json's `preserve_order` feature), trailing newline.

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
