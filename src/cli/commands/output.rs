//! `pedestal output [NAME] [--json]`: recorded outputs. Secrets are only stored as digests, so
//! they print as `(sensitive)` (and `null` with `"sensitive": true` in JSON).

use pedestal::ops::state::{self, StateRequest};
use pedestal::resource::Value;

use crate::cli::{Exit, Global, OutputArgs};

fn json_value(v: &Value) -> serde_json::Value {
    if v.is_sensitive() {
        serde_json::Value::Null
    } else {
        serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
    }
}

pub fn run(g: &Global, a: &OutputArgs) -> miette::Result<Exit> {
    let req = StateRequest {
        env: a.env.env.clone(),
        vars: pedestal::ops::plan::PlanRequest::parse_vars(&a.env.vars).map_err(super::report)?,
        lock_timeout: std::time::Duration::ZERO,
    };
    let outputs = state::outputs(&g.dir, &req).map_err(super::report)?;
    match &a.name {
        Some(name) => {
            let v = outputs.get(name).ok_or_else(|| {
                miette::miette!(
                    "output {name:?} not found{}",
                    if outputs.is_empty() {
                        " (the state has no outputs; apply first)".to_string()
                    } else {
                        format!(
                            "; recorded outputs: {}",
                            outputs.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    }
                )
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
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).map_err(|e| miette::miette!("{e}"))?
            );
        }
        None => {
            let width = outputs.keys().map(String::len).max().unwrap_or(0);
            for (k, v) in &outputs {
                println!("{k:width$} = {v}");
            }
        }
    }
    Ok(Exit::Success)
}
