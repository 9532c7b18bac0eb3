//! The machine rendering: a stable, versioned JSON document (see `docs/plan-json.md`).
//! Secrets are redacted: a sensitive leaf is `null` in `before`/`after` and `true` in
//! `before_sensitive`/`after_sensitive`; an unknown leaf is `null` in `after` and `true` in
//! `after_unknown`.
//!
//! The document is streamed straight from the plan through borrowing `Serialize` wrappers (no
//! intermediate JSON tree), with every object's keys written in sorted order.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use crate::plan::{OutputChange, Plan, PlanMode, Reason, Summary};
use crate::resource::Key;
use crate::resource::{Attrs, Value};

/// The plan as JSON (pretty, sorted keys, trailing newline).
pub fn json(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(&Doc::new(plan)).unwrap_or_default();
    s.push('\n');
    s
}

#[derive(Serialize)]
struct Doc<'a> {
    cost: &'a crate::cost::CostEstimate,
    drift: Vec<DriftJ<'a>>,
    env: &'a str,
    format_version: &'a str,
    git_commit: Option<&'a str>,
    has_changes: bool,
    mode: PlanMode,
    output_changes: BTreeMap<&'a str, OutputJ<'a>>,
    prior_state: PriorJ<'a>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    prunes: &'a [crate::plan::Prune],
    releases: Vec<ReleaseJ<'a>>,
    resource_changes: Vec<ChangeJ<'a>>,
    spec_digest: &'a str,
    stack: &'a str,
    summary: Summary,
    targets: &'a [String],
}

#[derive(Serialize)]
struct PriorJ<'a> {
    lineage: Option<&'a str>,
    serial: u64,
}

#[derive(Serialize)]
struct ChangeJ<'a> {
    actions: &'static [&'static str],
    address: &'a str,
    after: Attrs0<'a>,
    after_sensitive: SensitiveMask<'a>,
    after_unknown: UnknownMask<'a>,
    before: Attrs0<'a>,
    before_sensitive: SensitiveMask<'a>,
    block: &'a str,
    depends_on: Vec<&'a str>,
    id: Option<&'a str>,
    kind: &'static str,
    reason: Option<ReasonJ<'a>>,
    replace_paths: Vec<[&'a str; 1]>,
}

#[derive(Serialize)]
struct ReasonJ<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    attrs: Option<&'a [String]>,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

#[derive(Serialize)]
struct DriftJ<'a> {
    actions: [&'static str; 1],
    address: &'a str,
    after: Attrs0<'a>,
    before: Attrs0<'a>,
    kind: &'static str,
}

#[derive(Serialize)]
struct BeforeAfter<'a> {
    after: Option<&'a str>,
    before: Option<&'a str>,
}

#[derive(Serialize)]
struct ReleaseJ<'a> {
    artifact_sha256: BeforeAfter<'a>,
    endpoint: &'a str,
    /// The endpoint had no release before this one.
    first_release: bool,
    image: BeforeAfter<'a>,
    /// The digest pinning the image, when it is pinned by digest.
    image_digest: BeforeAfter<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    /// How ECS rolls the release out, when it is not a rolling update.
    #[serde(skip_serializing_if = "Option::is_none")]
    strategy: Option<&'a str>,
    version: BeforeAfter<'a>,
}

#[derive(Serialize)]
struct OutputJ<'a> {
    actions: &'static [&'static str],
    after: Redact<'a>,
    after_unknown: bool,
    before: Redact<'a>,
    sensitive: bool,
}

impl<'a> Doc<'a> {
    fn new(plan: &'a Plan) -> Doc<'a> {
        let resource_changes = plan
            .changes
            .iter()
            .map(|c| ChangeJ {
                actions: c.action.json_actions(),
                address: c.address.as_str(),
                after: Attrs0(c.after.as_ref()),
                after_sensitive: SensitiveMask(c.after.as_ref()),
                after_unknown: UnknownMask(c.after.as_ref()),
                before: Attrs0(c.before.as_ref()),
                before_sensitive: SensitiveMask(c.before.as_ref()),
                block: c.address.block(),
                depends_on: c.depends_on.iter().map(|a| a.as_str()).collect(),
                id: c.id.as_deref(),
                kind: c.kind.as_str(),
                reason: c.reason.as_ref().map(reason),
                replace_paths: c.replace_paths.iter().map(|p| [p.as_str()]).collect(),
            })
            .collect();
        let drift = plan
            .drift
            .iter()
            .map(|d| DriftJ {
                actions: if d.after.is_some() {
                    ["update"]
                } else {
                    ["delete"]
                },
                address: d.address.as_str(),
                after: Attrs0(d.after.as_ref()),
                before: Attrs0(Some(&d.before)),
                kind: d.kind.as_str(),
            })
            .collect();
        let ba = |b: &'a Option<String>, a: &'a Option<String>| BeforeAfter {
            after: a.as_deref(),
            before: b.as_deref(),
        };
        let releases = plan
            .releases
            .iter()
            .map(|r| ReleaseJ {
                artifact_sha256: ba(&r.artifact_sha256_before, &r.artifact_sha256_after),
                endpoint: &r.endpoint,
                first_release: r.version_before.is_none() && r.image_before.is_none(),
                image: ba(&r.image_before, &r.image_after),
                image_digest: BeforeAfter {
                    after: r.image_after.as_deref().and_then(digest),
                    before: r.image_before.as_deref().and_then(digest),
                },
                note: r.note.as_deref(),
                strategy: r.strategy.as_deref(),
                version: ba(&r.version_before, &r.version_after),
            })
            .collect();
        Doc {
            cost: &plan.cost,
            drift,
            env: &plan.env,
            format_version: &plan.format_version,
            git_commit: plan.git_commit.as_deref(),
            has_changes: plan.has_changes(),
            mode: plan.mode,
            output_changes: plan
                .outputs
                .iter()
                .map(|(k, o)| (k.as_str(), output(o)))
                .collect(),
            prior_state: PriorJ {
                lineage: plan.prior_state.lineage.as_deref(),
                serial: plan.prior_state.serial,
            },
            prunes: &plan.prunes,
            releases,
            resource_changes,
            spec_digest: &plan.spec_digest,
            stack: &plan.stack,
            summary: plan.summary(),
            targets: &plan.targets,
        }
    }
}

fn reason(r: &Reason) -> ReasonJ<'_> {
    let (code, attrs): (&'static str, Option<&[String]>) = match r {
        Reason::NotInSpec => ("delete_because_not_in_spec", None),
        Reason::ForcedBy { attrs } => ("replace_because_cannot_update", Some(attrs)),
        Reason::DependencyReplaced { attrs, .. } => {
            ("replace_because_dependency_replaced", Some(attrs))
        }
        Reason::Tainted => ("replace_because_tainted", None),
        Reason::ReplaceRequested => ("replace_by_request", None),
        Reason::Drifted => ("drifted", None),
        Reason::DestroyRequested => ("delete_by_request", None),
        Reason::NewRevision => ("update_new_revision", None),
        Reason::SpecChanged { attrs } => ("update_because_spec_changed", Some(attrs)),
        Reason::ReleaseUnfinished { .. } => ("release_unfinished", None),
        Reason::RolledBack { .. } => ("release_rolled_back", None),
    };
    ReasonJ {
        attrs,
        code,
        message: match r {
            Reason::DependencyReplaced { address, .. } => Some(format!("{address} is replaced")),
            _ => r.release_text(),
        },
    }
}

fn output(o: &OutputChange) -> OutputJ<'_> {
    let actions: &'static [&'static str] = match (&o.before, &o.after) {
        (None, Some(_)) => &["create"],
        (Some(_), None) => &["delete"],
        _ if o.changed() => &["update"],
        _ => &["no-op"],
    };
    let hide = o.sensitive;
    OutputJ {
        actions,
        after: Redact(o.after.as_ref().filter(|_| !hide)),
        after_unknown: o.after.as_ref().is_some_and(Value::is_unknown),
        before: Redact(o.before.as_ref().filter(|_| !hide)),
        sensitive: o.sensitive,
    }
}

/// A value with secrets and unknowns written as `null`.
struct Redact<'a>(Option<&'a Value>);

impl Serialize for Redact<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None
            | Some(
                Value::Null
                | Value::Sensitive(_)
                | Value::Redacted(_)
                | Value::Unknown
                | Value::Ref(_)
                | Value::Template(_),
            ) => s.serialize_unit(),
            Some(Value::Bool(b)) => s.serialize_bool(*b),
            Some(Value::Int(i)) => s.serialize_i64(*i),
            Some(Value::Float(x)) => s.serialize_f64(*x),
            Some(Value::String(v)) => s.serialize_str(v),
            Some(Value::List(l)) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for v in l {
                    seq.serialize_element(&Redact(Some(v)))?;
                }
                seq.end()
            }
            Some(Value::Map(m)) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, &Redact(Some(v)))?;
                }
                map.end()
            }
        }
    }
}

/// Attributes, redacted; `null` when absent.
struct Attrs0<'a>(Option<&'a Attrs>);

impl Serialize for Attrs0<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None => s.serialize_unit(),
            Some(a) => {
                let mut map = s.serialize_map(Some(a.len()))?;
                for (k, v) in a {
                    map.serialize_entry(k, &Redact(Some(v)))?;
                }
                map.end()
            }
        }
    }
}

/// `true` at every leaf where `pick` holds, pruned to the paths that contain one.
struct Mask<'a> {
    value: &'a Value,
    leaf: fn(&Value) -> bool,
    contains: fn(&Value) -> bool,
}

impl Serialize for Mask<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.value {
            v if (self.leaf)(v) => s.serialize_bool(true),
            Value::Map(m) => {
                let inner: Vec<(&Key, &Value)> =
                    m.iter().filter(|(_, v)| (self.contains)(v)).collect();
                let mut map = s.serialize_map(Some(inner.len()))?;
                for (k, v) in inner {
                    map.serialize_entry(k, &Mask { value: v, ..*self })?;
                }
                map.end()
            }
            Value::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for v in l {
                    if (self.contains)(v) {
                        seq.serialize_element(&Mask { value: v, ..*self })?;
                    } else {
                        seq.serialize_element(&false)?;
                    }
                }
                seq.end()
            }
            _ => s.serialize_bool(false),
        }
    }
}

fn attrs_mask<S: Serializer>(
    a: &Attrs,
    s: S,
    leaf: fn(&Value) -> bool,
    contains: fn(&Value) -> bool,
) -> Result<S::Ok, S::Error> {
    let inner: Vec<(&Key, &Value)> = a.iter().filter(|(_, v)| contains(v)).collect();
    let mut map = s.serialize_map(Some(inner.len()))?;
    for (k, v) in inner {
        map.serialize_entry(
            k,
            &Mask {
                value: v,
                leaf,
                contains,
            },
        )?;
    }
    map.end()
}

fn sensitive_leaf(v: &Value) -> bool {
    matches!(v, Value::Sensitive(_) | Value::Redacted(_))
}

fn unknown_leaf(v: &Value) -> bool {
    matches!(v, Value::Unknown | Value::Ref(_) | Value::Template(_))
}

/// `before_sensitive` / `after_sensitive`: `false` when the attributes are absent.
struct SensitiveMask<'a>(Option<&'a Attrs>);

impl Serialize for SensitiveMask<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None => s.serialize_bool(false),
            Some(a) => attrs_mask(a, s, sensitive_leaf, Value::is_sensitive),
        }
    }
}

/// `after_unknown`: an empty object when everything is known or there is no `after`.
struct UnknownMask<'a>(Option<&'a Attrs>);

impl Serialize for UnknownMask<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            None => s.serialize_map(Some(0))?.end(),
            Some(a) => attrs_mask(a, s, unknown_leaf, Value::is_unknown),
        }
    }
}

/// The digest of an image pinned by one.
fn digest(image: &str) -> Option<&str> {
    super::split_image(image).1.digest()
}
