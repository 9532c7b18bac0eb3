//! The planner's release side: which endpoints are still to be released (from their last
//! release record), the endpoint release view of a plan, and the old artifact objects a plan
//! prunes once its releases complete.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Action, Prune, PrunedObject, Reason, ReleaseChange, ResourceChange};
use crate::resource::schema::{ecs_task_definition as td, s3_object};
use crate::resource::{Attrs, ResourceKind, Value};
use crate::state::{Outcome, State};

/// Endpoint block → why its release is still to be done, from its last release record.
pub(super) fn unfinished(prior: &State) -> HashMap<&str, Reason> {
    prior
        .releases
        .iter()
        .filter_map(|(endpoint, list)| {
            let last = list.last()?;
            let reason = match last.outcome {
                Outcome::Completed => return None,
                Outcome::RolledBack => Reason::RolledBack {
                    version: last.version.clone(),
                },
                outcome => Reason::ReleaseUnfinished {
                    version: last.version.clone(),
                    outcome,
                    detail: last.reason.clone(),
                },
            };
            Some((endpoint.as_str(), reason))
        })
        .collect()
}

/// The endpoint release view: one entry per task definition that changes, plus endpoints
/// released again (an unfinished or rolled-back release) with an unchanged task definition.
pub(super) fn view(prior: &State, changes: &[ResourceChange]) -> Vec<ReleaseChange> {
    let services = services(changes);
    let mut releases = changed(changes, &services);
    for c in changes {
        let Some(reason @ (Reason::ReleaseUnfinished { .. } | Reason::RolledBack { .. })) =
            &c.reason
        else {
            continue;
        };
        let endpoint = c.address.block().to_string();
        if let Some(r) = releases.iter_mut().find(|r| r.endpoint == endpoint) {
            r.note = reason.release_text();
        } else {
            releases.push(rerelease(prior, changes, &services, &endpoint, reason));
        }
    }
    releases.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    releases
}

/// The release view of an endpoint released again with an unchanged task definition: from
/// what its last record says runs to what the spec's task definition serves.
fn rerelease(
    prior: &State,
    changes: &[ResourceChange],
    services: &HashMap<&str, &ResourceChange>,
    endpoint: &str,
    reason: &Reason,
) -> ReleaseChange {
    let last = prior.releases.get(endpoint).and_then(|l| l.last());
    let td_attrs = changes
        .iter()
        .find(|c| c.kind == ResourceKind::EcsTaskDefinition && c.address.block() == endpoint)
        .and_then(|c| c.after.as_ref());
    let get = |outer: td::Attr, inner: &str| -> Option<String> {
        let v = td_attrs?.get(outer.as_str())?.as_map()?.get(inner)?;
        Some(v.as_str().map_or_else(|| v.to_string(), str::to_string))
    };
    let version_before = match reason {
        Reason::RolledBack { version } => Some(version.clone()),
        _ => prior
            .releases
            .get(endpoint)
            .and_then(|l| l.iter().rev().find(|r| r.outcome.settled()))
            .map(|r| r.version.clone()),
    };
    ReleaseChange {
        endpoint: endpoint.to_string(),
        version_before,
        version_after: get(td::Attr::Model, td::Model::Version.as_str())
            .or_else(|| last.map(|r| r.version.clone())),
        image_before: last.map(|r| r.image.clone()),
        image_after: get(td::Attr::Container, td::Container::Image.as_str())
            .or_else(|| last.map(|r| r.image.clone())),
        artifact_sha256_before: last.and_then(|r| r.artifact_sha256.clone()),
        artifact_sha256_after: get(td::Attr::Model, td::Model::Sha256.as_str())
            .or_else(|| last.and_then(|r| r.artifact_sha256.clone())),
        note: reason.release_text(),
        strategy: strategy(services, endpoint),
    }
}

/// How the endpoint's service rolls a release out, in words, when it is not the default
/// rolling update (`canary 10% for 5m, then 100%`).
fn strategy(services: &HashMap<&str, &ResourceChange>, endpoint: &str) -> Option<String> {
    use crate::resource::schema::ecs_service as svc;
    let c = services.get(endpoint)?;
    let d = c
        .after
        .as_ref()?
        .get(svc::Attr::Deployment.as_str())?
        .as_map()?;
    d.get(svc::Deployment::Strategy.as_str())?;
    Some(svc::describe_strategy(d))
}

/// For each artifact whose object changes: the old objects beyond what the last `retain`
/// releases of every endpoint reference (the releases of this plan counted in), removed once
/// the apply's releases complete. Objects no release names are kept.
pub(super) fn prunes(
    prior: &State,
    changes: &[ResourceChange],
    releases: &[ReleaseChange],
) -> Vec<Prune> {
    use s3_object::Attr as O;
    let mut out = Vec::new();
    for c in changes {
        if c.kind != ResourceKind::S3Object || c.action != Action::Update {
            continue;
        }
        let (Some(before), Some(after)) = (&c.before, &c.after) else {
            continue;
        };
        let str_of = |a: &Attrs, k: O| {
            a.get(k.as_str())
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let (Some(bucket), Some(key), Some(sha)) = (
            str_of(after, O::Bucket),
            str_of(after, O::Key),
            str_of(after, O::Sha256),
        ) else {
            continue;
        };
        let retain = after
            .get(O::Retain.as_str())
            .and_then(Value::as_i64)
            .unwrap_or(s3_object::DEFAULT_RETAIN)
            .max(1) as usize;
        let mut kept: BTreeMap<String, String> = before
            .get(O::Kept.as_str())
            .and_then(Value::as_map)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        if let (Some(k), Some(s)) = (str_of(before, O::Key), str_of(before, O::Sha256)) {
            kept.entry(k).or_insert(s);
        }
        // Which shas the last `retain` releases of each endpoint reference; a release this
        // plan makes counts as the newest.
        let mut recent: BTreeSet<&str> = BTreeSet::new();
        let mut named: BTreeMap<&str, &str> = BTreeMap::new();
        for (endpoint, list) in &prior.releases {
            let new_release = releases
                .iter()
                .any(|r| &r.endpoint == endpoint && r.artifact_sha256_after.is_some());
            let take = if new_release { retain - 1 } else { retain };
            for (i, r) in list.iter().enumerate() {
                let Some(s) = r.artifact_sha256.as_deref() else {
                    continue;
                };
                named.insert(s, &r.version);
                if i + take >= list.len() {
                    recent.insert(s);
                }
            }
        }
        let label = |k: &str, s: &str| -> String {
            named
                .get(s)
                .map(|v| v.to_string())
                .or_else(|| {
                    releases
                        .iter()
                        .find(|r| r.artifact_sha256_after.as_deref() == Some(s))
                        .and_then(|r| r.version_after.clone())
                })
                .unwrap_or_else(|| format!("{k} (sha256 {})", &s[..s.len().min(12)]))
        };
        let mut objects = Vec::new();
        let mut keep_labels = BTreeSet::new();
        for (k, s) in &kept {
            if *k == key || recent.contains(s.as_str()) || !named.contains_key(s.as_str()) {
                keep_labels.insert(label(k, s));
            } else {
                objects.push(PrunedObject {
                    key: k.clone(),
                    label: label(k, s),
                });
            }
        }
        if objects.is_empty() {
            continue;
        }
        keep_labels.insert(label(&key, &sha));
        out.push(Prune {
            address: c.address.clone(),
            bucket,
            objects,
            kept: keep_labels.into_iter().collect(),
        });
    }
    out
}

/// Each endpoint's service change (the first the plan lists), by endpoint block: looked up
/// once per release rather than searched for.
fn services(changes: &[ResourceChange]) -> HashMap<&str, &ResourceChange> {
    let mut out = HashMap::new();
    for c in changes
        .iter()
        .filter(|c| c.kind == ResourceKind::EcsService)
    {
        out.entry(c.address.block()).or_insert(c);
    }
    out
}

/// One release entry per task definition that changes.
fn changed(
    changes: &[ResourceChange],
    services: &HashMap<&str, &ResourceChange>,
) -> Vec<ReleaseChange> {
    let mut out: Vec<ReleaseChange> = changes
        .iter()
        .filter(|c| c.kind == ResourceKind::EcsTaskDefinition && c.action != Action::NoOp)
        .map(|c| {
            let get = |attrs: &Option<Attrs>, outer: td::Attr, inner: &str| -> Option<String> {
                let v = attrs.as_ref()?.get(outer.as_str())?.as_map()?.get(inner)?;
                Some(v.as_str().map_or_else(|| v.to_string(), str::to_string))
            };
            let model =
                |attrs: &Option<Attrs>, k: td::Model| get(attrs, td::Attr::Model, k.as_str());
            let image = |attrs: &Option<Attrs>| {
                get(attrs, td::Attr::Container, td::Container::Image.as_str())
            };
            ReleaseChange {
                endpoint: c.address.block().to_string(),
                version_before: model(&c.before, td::Model::Version),
                version_after: model(&c.after, td::Model::Version),
                image_before: image(&c.before),
                image_after: image(&c.after),
                artifact_sha256_before: model(&c.before, td::Model::Sha256),
                artifact_sha256_after: model(&c.after, td::Model::Sha256),
                note: None,
                strategy: strategy(services, c.address.block()),
            }
        })
        .collect();
    out.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    out
}
