//! The machine rendering: a stable, versioned JSON document (see `docs/plan-json.md`).
//! Secrets are redacted: a sensitive leaf is `null` in `before`/`after` and `true` in
//! `before_sensitive`/`after_sensitive`; an unknown leaf is `null` in `after` and `true` in
//! `after_unknown`.

use serde_json::{Map, Value as Json, json as j};

use crate::plan::{OutputChange, Plan, Reason};
use crate::resource::{Attrs, Value};

/// The plan as JSON (pretty, sorted keys, trailing newline).
pub fn json(plan: &Plan) -> String {
    let doc = document(plan);
    let doc = crate::state::canonical_json(doc);
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// The JSON document as a value.
pub fn document(plan: &Plan) -> Json {
    let s = plan.summary();
    let changes: Vec<Json> = plan
        .changes
        .iter()
        .map(|c| {
            let (before, before_sensitive) = attrs(c.before.as_ref());
            let (after, after_sensitive) = attrs(c.after.as_ref());
            j!({
                "address": c.address.as_str(),
                "block": c.address.block(),
                "kind": c.kind.as_str(),
                "id": c.id,
                "actions": c.action.json_actions(),
                "reason": c.reason.as_ref().map(reason),
                "before": before,
                "after": after,
                "after_unknown": unknown_mask(c.after.as_ref()),
                "before_sensitive": before_sensitive,
                "after_sensitive": after_sensitive,
                "replace_paths": c.replace_paths.iter().map(|p| vec![p]).collect::<Vec<_>>(),
                "depends_on": c.depends_on.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let drift: Vec<Json> = plan
        .drift
        .iter()
        .map(|d| {
            let (before, _) = attrs(Some(&d.before));
            let (after, _) = attrs(d.after.as_ref());
            j!({
                "address": d.address.as_str(),
                "kind": d.kind.as_str(),
                "actions": if d.after.is_some() { ["update"] } else { ["delete"] },
                "before": before,
                "after": after,
            })
        })
        .collect();
    let releases: Vec<Json> = plan
        .releases
        .iter()
        .map(|r| {
            j!({
                "endpoint": r.endpoint,
                "version": {"before": r.version_before, "after": r.version_after},
                "image": {"before": r.image_before, "after": r.image_after},
                "artifact_sha256": {"before": r.artifact_sha256_before, "after": r.artifact_sha256_after},
            })
        })
        .collect();
    let mut outputs = Map::new();
    for (name, o) in &plan.outputs {
        outputs.insert(name.clone(), output(o));
    }
    j!({
        "format_version": plan.format_version,
        "stack": plan.stack,
        "env": plan.env,
        "mode": plan.mode,
        "prior_state": {"lineage": plan.prior_state.lineage, "serial": plan.prior_state.serial},
        "spec_digest": plan.spec_digest,
        "git_commit": plan.git_commit,
        "targets": plan.targets,
        "resource_changes": changes,
        "drift": drift,
        "releases": releases,
        "output_changes": outputs,
        "summary": {"add": s.add, "change": s.change, "destroy": s.destroy},
        "has_changes": plan.has_changes(),
    })
}

fn reason(r: &Reason) -> Json {
    let (code, attrs): (&str, Option<&Vec<String>>) = match r {
        Reason::NotInSpec => ("delete_because_not_in_spec", None),
        Reason::ForcedBy { attrs } => ("replace_because_cannot_update", Some(attrs)),
        Reason::Tainted => ("replace_because_tainted", None),
        Reason::ReplaceRequested => ("replace_by_request", None),
        Reason::Drifted => ("drifted", None),
        Reason::DestroyRequested => ("delete_by_request", None),
        Reason::NewRevision => ("update_new_revision", None),
    };
    match attrs {
        Some(a) => j!({"code": code, "attrs": a}),
        None => j!({"code": code}),
    }
}

fn output(o: &OutputChange) -> Json {
    let actions: &[&str] = match (&o.before, &o.after) {
        (None, Some(_)) => &["create"],
        (Some(_), None) => &["delete"],
        _ if o.changed() => &["update"],
        _ => &["no-op"],
    };
    let show = |v: &Option<Value>| -> Json {
        match v {
            Some(_) if o.sensitive => Json::Null,
            Some(v) => redact(v).0,
            None => Json::Null,
        }
    };
    j!({
        "actions": actions,
        "before": show(&o.before),
        "after": show(&o.after),
        "after_unknown": o.after.as_ref().is_some_and(Value::is_unknown),
        "sensitive": o.sensitive,
    })
}

/// Attributes with secrets and unknowns replaced by `null`, plus the sensitivity mask.
fn attrs(a: Option<&Attrs>) -> (Json, Json) {
    let Some(a) = a else {
        return (Json::Null, Json::Bool(false));
    };
    let mut values = Map::new();
    let mut mask = Map::new();
    for (k, v) in a {
        let (val, m) = redact(v);
        values.insert(k.clone(), val);
        if let Some(m) = m {
            mask.insert(k.clone(), m);
        }
    }
    (Json::Object(values), Json::Object(mask))
}

/// A value with secrets and unknowns nulled, and its sensitivity mask (`None` when clean).
fn redact(v: &Value) -> (Json, Option<Json>) {
    match v {
        Value::Sensitive(_) | Value::Redacted(_) => (Json::Null, Some(Json::Bool(true))),
        Value::Unknown | Value::Ref(_) | Value::Template(_) => (Json::Null, None),
        Value::Null => (Json::Null, None),
        Value::Bool(b) => (Json::Bool(*b), None),
        Value::Int(i) => (j!(i), None),
        Value::Float(x) => (j!(x), None),
        Value::String(s) => (Json::String(s.clone()), None),
        Value::List(l) => {
            let mut masks = Vec::new();
            let mut any = false;
            let vals = l
                .iter()
                .map(|x| {
                    let (val, m) = redact(x);
                    any |= m.is_some();
                    masks.push(m.unwrap_or(Json::Bool(false)));
                    val
                })
                .collect();
            (Json::Array(vals), any.then_some(Json::Array(masks)))
        }
        Value::Map(m) => {
            let mut vals = Map::new();
            let mut mask = Map::new();
            for (k, x) in m {
                let (val, mm) = redact(x);
                vals.insert(k.clone(), val);
                if let Some(mm) = mm {
                    mask.insert(k.clone(), mm);
                }
            }
            let masked = (!mask.is_empty()).then_some(Json::Object(mask));
            (Json::Object(vals), masked)
        }
    }
}

/// `true` at every unknown leaf of `after` (an empty object when everything is known).
fn unknown_mask(a: Option<&Attrs>) -> Json {
    fn mask(v: &Value) -> Option<Json> {
        match v {
            Value::Unknown | Value::Ref(_) | Value::Template(_) => Some(Json::Bool(true)),
            Value::Map(m) => {
                let inner: Map<String, Json> = m
                    .iter()
                    .filter_map(|(k, x)| mask(x).map(|mm| (k.clone(), mm)))
                    .collect();
                (!inner.is_empty()).then_some(Json::Object(inner))
            }
            Value::List(l) if l.iter().any(Value::is_unknown) => Some(Json::Array(
                l.iter()
                    .map(|x| mask(x).unwrap_or(Json::Bool(false)))
                    .collect(),
            )),
            _ => None,
        }
    }
    let Some(a) = a else {
        return Json::Object(Map::new());
    };
    Json::Object(
        a.iter()
            .filter_map(|(k, v)| mask(v).map(|m| (k.clone(), m)))
            .collect(),
    )
}
