//! `pedestal output [NAME] [--json]`: recorded outputs. Secrets are only stored as digests, so
//! they print as `(sensitive)` (and `null` with `"sensitive": true` in JSON).

use std::collections::BTreeMap;

use pedestal::ops::state;
use pedestal::resource::Value;

use super::state_request;
use crate::cli::{Error, Exit, Global, OutputArgs};

fn json_value(v: &Value) -> serde_json::Value {
    if v.is_sensitive() {
        serde_json::Value::Null
    } else {
        serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
    }
}

pub fn run(g: &Global, a: &OutputArgs) -> Result<Exit, Error> {
    let outputs = state::outputs(&g.dir, &state_request(&a.env)?)?;
    match &a.name {
        Some(name) => {
            let v = outputs.get(name).ok_or_else(|| Error::NoSuchOutput {
                name: name.clone(),
                known: outputs.keys().cloned().collect(),
            })?;
            if a.json {
                println!("{}", json_value(v));
            } else {
                println!("{v}");
            }
        }
        None if a.json => {
            let doc: serde_json::Map<String, serde_json::Value> = outputs
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        serde_json::json!({"value": json_value(v), "sensitive": v.is_sensitive()}),
                    )
                })
                .collect();
            let doc = pedestal::state::canonical_json(serde_json::Value::Object(doc));
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        None => print!("{}", human(&outputs)),
    }
    Ok(Exit::Success)
}

/// `name = value` lines, names aligned, secrets as `(sensitive)`: what `pedestal output` and the
/// end of `pedestal apply` print.
pub(crate) fn human(outputs: &BTreeMap<String, Value>) -> String {
    let width = outputs.keys().map(String::len).max().unwrap_or(0);
    outputs
        .iter()
        .map(|(k, v)| format!("{k:width$} = {v}\n"))
        .collect()
}
