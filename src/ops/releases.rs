//! `pedestal releases` and `pedestal rollback`: the release history recorded in state, and
//! pointing an endpoint's service back at the revision of an earlier release.
//!
//! Rollback ([`prepare_rollback`], then [`rollback`]):
//! 1. load the spec, open and lock the state store, read state;
//! 2. pick the release to go back to: `--to VERSION` (its latest record that ran), or the last
//!    completed release before the one running now;
//! 3. check that its task definition revision is still ACTIVE and its artifact object still
//!    exists, with a clear error otherwise;
//! 4. (the caller shows what changes and asks) record the rollback as in progress, update the
//!    service to that revision and wait per the endpoint's `deployment` settings (the first
//!    Ctrl-C stops waiting; ECS carries on), record the outcome, persist; the lock goes with
//!    [`PreparedRollback`].
//!
//! The spec stays the source of truth: the next plan releases the spec's revision again, with
//! the reason "rolled back to VERSION by pedestal rollback".

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::watch;

use super::OpsError;
use super::state::StateRequest;
use crate::addr::Address;
use crate::provider::{ApplyResource, ErrorKind, Provider, ProviderError};
use crate::resource::schema::{ecs_service as svc, s3_object};
use crate::resource::{Attrs, ResourceKind, Value};
use crate::state::{self, LockGuard, Outcome, Release, ResourceState, State, StateStore};

/// One endpoint's history, oldest first, and which record the service runs now.
#[derive(Clone, Debug, Serialize)]
pub struct History {
    /// The endpoint block address.
    pub endpoint: String,
    /// Index into `releases` of the release the service runs (per state).
    pub current: Option<usize>,
    /// Every recorded release, oldest first.
    pub releases: Vec<Release>,
}

/// Why a rollback cannot go ahead.
#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    #[error("no endpoint {endpoint} has recorded releases{}", known_list(.known))]
    /// No endpoint of that name has a release history.
    UnknownEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// The endpoints that have one.
        known: Vec<String>,
    },
    #[error("{endpoint} has no service in state; apply first")]
    /// The endpoint has no service in state.
    NoService {
        /// The endpoint block address.
        endpoint: String,
    },
    #[error(
        "{endpoint} has no completed release before {current} to roll back to (see `pedestal releases {endpoint}`)"
    )]
    /// No completed release precedes the current one.
    NothingToRollBackTo {
        /// The endpoint block address.
        endpoint: String,
        /// The version running now.
        current: String,
    },
    #[error("{endpoint} has no release {version} that ran{}", known_list(.known))]
    /// `--to` names a version that never ran.
    NoSuchVersion {
        /// The endpoint block address.
        endpoint: String,
        /// The version asked for.
        version: String,
        /// The versions that ran.
        known: Vec<String>,
    },
    #[error("{endpoint} already runs release {version} ({arn})")]
    /// The service already runs the target.
    AlreadyRunning {
        /// The endpoint block address.
        endpoint: String,
        /// The version asked for.
        version: String,
        /// Its task definition.
        arn: String,
    },
    #[error(
        "cannot roll {endpoint} back to {version}: task definition {arn} is no longer ACTIVE (deregistered); release it again from the spec instead"
    )]
    /// The target's task definition was deregistered.
    RevisionInactive {
        /// The endpoint block address.
        endpoint: String,
        /// The version asked for.
        version: String,
        /// Its task definition.
        arn: String,
    },
    #[error(
        "cannot roll {endpoint} back to {version}: its artifact {uri} no longer exists (pruned beyond `retain`, or deleted); release it again from the spec instead"
    )]
    /// The target's artifact object is gone.
    ArtifactGone {
        /// The endpoint block address.
        endpoint: String,
        /// The version asked for.
        version: String,
        /// Its artifact.
        uri: String,
    },
    #[error("checking {what}: {source}")]
    /// Checking the target against the cloud failed.
    Check {
        /// What was being checked.
        what: String,
        #[source]
        /// The provider's error.
        source: Box<ProviderError>,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!(" (recorded: {})", known.join(", "))
    }
}

/// Which record the service runs: the latest whose revision is the service's recorded one.
fn current_index(st: &State, endpoint: &str, list: &[Release]) -> Option<usize> {
    let td = service_td(st, endpoint)?;
    list.iter().rposition(|r| r.task_definition_arn == td)
}

fn service_address(endpoint: &str) -> Address {
    Address::new(format!("{endpoint}.service"))
}

fn service_td(st: &State, endpoint: &str) -> Option<String> {
    st.resources
        .get(&service_address(endpoint))?
        .attrs
        .get(svc::Attr::TaskDefinition.as_str())?
        .as_str()
        .map(str::to_string)
}

/// The recorded histories: every endpoint, or the one named.
pub fn list(
    dir: &Path,
    req: &StateRequest,
    endpoint: Option<&str>,
) -> Result<Vec<History>, OpsError> {
    let config = super::load_config(dir, &req.env, &req.vars)?;
    let st = state::open(&config)?
        .read()?
        .unwrap_or_else(|| State::new(&config.stack, &config.env));
    histories(&st, endpoint).map_err(OpsError::from)
}

/// The histories in `st` (pure; used by [`list`] and tests).
pub fn histories(st: &State, endpoint: Option<&str>) -> Result<Vec<History>, RollbackError> {
    if let Some(e) = endpoint
        && !st.releases.contains_key(e)
    {
        return Err(RollbackError::UnknownEndpoint {
            endpoint: e.to_string(),
            known: st.releases.keys().cloned().collect(),
        });
    }
    Ok(st
        .releases
        .iter()
        .filter(|(e, _)| endpoint.is_none_or(|want| want == e.as_str()))
        .map(|(e, list)| History {
            endpoint: e.clone(),
            current: current_index(st, e, list),
            releases: list.clone(),
        })
        .collect())
}

/// What `pedestal rollback` asks for.
#[derive(Clone, Debug, Default)]
pub struct RollbackRequest {
    /// Which stack and environment.
    pub state: StateRequest,
    /// The endpoint block, e.g. `endpoint.fraud` (a bare name `fraud` is accepted).
    pub endpoint: String,
    /// `--to VERSION`; default: the last completed release before the current one.
    pub to: Option<String>,
}

/// A checked rollback, with the state lock held until it is dropped.
pub struct PreparedRollback {
    /// The endpoint block address.
    pub endpoint: String,
    /// What runs now (per state), when recorded.
    pub from: Option<Release>,
    /// The release to go back to.
    pub to: Release,
    state: State,
    store: Arc<dyn StateStore>,
    provider: Arc<dyn Provider>,
    _lock: LockGuard,
}

/// How a rollback ended.
#[derive(Clone, Debug)]
pub struct RollbackReport {
    /// The endpoint block address.
    pub endpoint: String,
    /// The release record the rollback wrote.
    pub record: Release,
    /// Whether the first Ctrl-C stopped the wait.
    pub interrupted: bool,
    /// The failure, when the rollout did not complete.
    pub error: Option<ProviderError>,
}

/// Picks the release to roll `endpoint` back to (pure).
pub fn target(st: &State, endpoint: &str, to: Option<&str>) -> Result<Release, RollbackError> {
    let list = st
        .releases
        .get(endpoint)
        .ok_or_else(|| RollbackError::UnknownEndpoint {
            endpoint: endpoint.to_string(),
            known: st.releases.keys().cloned().collect(),
        })?;
    let running = service_td(st, endpoint).ok_or_else(|| RollbackError::NoService {
        endpoint: endpoint.to_string(),
    })?;
    let current = current_index(st, endpoint, list);
    let pick = match to {
        Some(v) => list
            .iter()
            .rev()
            .find(|r| r.version == v && r.outcome.settled())
            .ok_or_else(|| RollbackError::NoSuchVersion {
                endpoint: endpoint.to_string(),
                version: v.to_string(),
                known: {
                    let mut k: Vec<String> = list
                        .iter()
                        .filter(|r| r.outcome.settled())
                        .map(|r| r.version.clone())
                        .collect();
                    k.dedup();
                    k
                },
            })?,
        None => {
            let before = current.unwrap_or(list.len());
            list[..before]
                .iter()
                .rev()
                .find(|r| r.outcome == Outcome::Completed && r.task_definition_arn != running)
                .ok_or_else(|| RollbackError::NothingToRollBackTo {
                    endpoint: endpoint.to_string(),
                    current: current
                        .map(|i| format!("release {}", list[i].version))
                        .unwrap_or_else(|| "the running revision".into()),
                })?
        }
    };
    if pick.task_definition_arn == running {
        return Err(RollbackError::AlreadyRunning {
            endpoint: endpoint.to_string(),
            version: pick.version.clone(),
            arn: running,
        });
    }
    Ok(pick.clone())
}

/// `fraud` → `endpoint.fraud`; a full block address stays as it is.
pub fn endpoint_block(name: &str) -> String {
    if name.contains('.') {
        name.to_string()
    } else {
        format!("endpoint.{name}")
    }
}

/// Steps 1–3: lock, pick the target, check it can still run.
pub async fn prepare_rollback(
    dir: &Path,
    req: &RollbackRequest,
) -> Result<PreparedRollback, OpsError> {
    let config = super::load_config(dir, &req.state.env, &req.state.vars)?;
    let store: Arc<dyn StateStore> = Arc::from(state::open(&config)?);
    let lock = super::lock_store(&store, "rollback", req.state.lock_timeout).await?;
    let st = super::read_store(&store)
        .await?
        .unwrap_or_else(|| State::new(&config.stack, &config.env));
    let endpoint = endpoint_block(&req.endpoint);
    let to = target(&st, &endpoint, req.to.as_deref())?;
    let settings = super::provider_settings(&config.provider, &config.region);
    let provider: Arc<dyn Provider> = Arc::new(super::connect(&settings, &config.root).await);
    check(
        provider.as_ref(),
        &endpoint,
        &to,
        &directory_files(&st, &to),
    )
    .await?;
    let from = current_index(&st, &endpoint, &st.releases[&endpoint])
        .map(|i| st.releases[&endpoint][i].clone());
    Ok(PreparedRollback {
        endpoint,
        from,
        to,
        state: st,
        store,
        provider,
        _lock: lock,
    })
}

/// The files of a directory artifact release, when state still records them (the artifact's
/// current key is the release's); empty when unknown or not a directory.
pub fn directory_files(st: &State, to: &Release) -> Attrs {
    let Some(uri) = to.artifact_uri.as_deref().filter(|u| u.ends_with('/')) else {
        return Attrs::new();
    };
    st.resources
        .values()
        .filter(|r| r.kind == ResourceKind::S3Object)
        .find(|r| {
            let get = |a: s3_object::Attr| r.attrs.get(a.as_str()).and_then(Value::as_str);
            matches!((get(s3_object::Attr::Bucket), get(s3_object::Attr::Key)),
                (Some(b), Some(k)) if format!("s3://{b}/{k}") == uri)
        })
        .and_then(|r| r.attrs.get(s3_object::Attr::Files.as_str()))
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default()
}

/// Step 3: the revision is ACTIVE and the artifact is still there: its object, or for a
/// directory artifact (a URI ending in `/`) every file in `files` (at least one object under
/// the prefix when `files` is empty).
pub async fn check(
    provider: &dyn Provider,
    endpoint: &str,
    to: &Release,
    files: &Attrs,
) -> Result<(), RollbackError> {
    let checked = |what: String| {
        move |e| RollbackError::Check {
            what,
            source: Box::new(e),
        }
    };
    let arn = &to.task_definition_arn;
    let live = provider
        .read(ResourceKind::EcsTaskDefinition, arn, &Attrs::new())
        .await
        .map_err(checked(format!("task definition {arn}")))?;
    if live.is_none() {
        return Err(RollbackError::RevisionInactive {
            endpoint: endpoint.to_string(),
            version: to.version.clone(),
            arn: arn.clone(),
        });
    }
    let Some(uri) = &to.artifact_uri else {
        return Ok(());
    };
    let Some((bucket, key)) = uri.strip_prefix("s3://").and_then(|r| r.split_once('/')) else {
        return Ok(());
    };
    let mut attrs = Attrs::from([
        (s3_object::Attr::Bucket.into(), Value::str(bucket)),
        (s3_object::Attr::Key.into(), Value::str(key)),
    ]);
    if key.ends_with('/') {
        attrs.insert(s3_object::Attr::Files.into(), Value::Map(files.clone()));
    }
    let object = provider
        .read(ResourceKind::S3Object, uri, &attrs)
        .await
        .map_err(checked(format!("artifact {uri}")))?;
    if object.is_none() {
        return Err(RollbackError::ArtifactGone {
            endpoint: endpoint.to_string(),
            version: to.version.clone(),
            uri: uri.clone(),
        });
    }
    Ok(())
}

/// Step 4: roll back, wait, record. `cancel` turning `true` stops the wait.
pub async fn rollback(
    prepared: PreparedRollback,
    cancel: Option<watch::Receiver<bool>>,
) -> Result<RollbackReport, OpsError> {
    let PreparedRollback {
        endpoint,
        to,
        mut state,
        store,
        provider,
        _lock,
        ..
    } = prepared;
    let addr = service_address(&endpoint);
    let Some(service) = state.resources.get(&addr).cloned() else {
        return Err(RollbackError::NoService { endpoint }.into());
    };
    let mut record = Release {
        started_at: now(),
        who: state::who(),
        outcome: Outcome::InProgress,
        finished_at: None,
        reason: Some(format!("pedestal rollback to {}", to.version)),
        alarm: None,
        ..to.clone()
    };
    state
        .releases
        .entry(endpoint.clone())
        .or_default()
        .push(record.clone());
    super::write_store(&store, &state).await?;
    let mut before = service.attrs.clone();
    before.remove(svc::Attr::TaskDefinition.as_str());
    let mut after = service.attrs.clone();
    after.insert(
        svc::Attr::TaskDefinition.into(),
        Value::str(&to.task_definition_arn),
    );
    let res = ApplyResource {
        address: addr.clone(),
        kind: ResourceKind::EcsService,
        attrs: after.clone(),
    };
    let call = provider.update(&service.id, &before, &res);
    let result = match cancel {
        Some(mut c) => tokio::select! {
            out = call => out,
            _ = c.wait_for(|v| *v) => Err(ProviderError::new(
                ErrorKind::Interrupted,
                "interrupted: stopped waiting for the rollback; the deployment goes on in ECS",
            )),
        },
        None => call.await,
    };
    let (outcome, reason, error, attrs) = match result {
        Ok(applied) => (
            Outcome::RolledBack,
            record.reason.clone(),
            None,
            Some(applied.attrs),
        ),
        Err(e) => {
            let (outcome, attrs) = match &e.kind {
                ErrorKind::Interrupted => (Outcome::Interrupted, Some(after.clone())),
                ErrorKind::RolledBack { .. } => (Outcome::RolledBackByEcs, None),
                _ => (Outcome::Failed, None),
            };
            (
                outcome,
                Some(format!("pedestal rollback: {}", e.message)),
                Some(e),
                attrs,
            )
        }
    };
    record.outcome = outcome;
    record.reason = reason;
    record.finished_at = Some(now());
    if let Some(list) = state.releases.get_mut(&endpoint)
        && let Some(last) = list.last_mut()
    {
        *last = record.clone();
    }
    if let Some(attrs) = attrs {
        state
            .resources
            .insert(addr, ResourceState { attrs, ..service });
    }
    super::write_store(&store, &state).await?;
    Ok(RollbackReport {
        endpoint,
        record,
        interrupted: outcome == Outcome::Interrupted,
        error,
    })
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Histories as the JSON `pedestal releases --format json` prints: endpoint → newest first,
/// each with `current`.
pub fn to_json(histories: &[History]) -> serde_json::Value {
    let doc: BTreeMap<&str, Vec<serde_json::Value>> = histories
        .iter()
        .map(|h| {
            let rows = h
                .releases
                .iter()
                .enumerate()
                .rev()
                .map(|(i, r)| {
                    let mut v = serde_json::to_value(r).unwrap_or_default();
                    if let Some(o) = v.as_object_mut() {
                        o.insert("current".into(), (h.current == Some(i)).into());
                        o.insert("revision".into(), r.revision().into());
                    }
                    v
                })
                .collect();
            (h.endpoint.as_str(), rows)
        })
        .collect();
    state::canonical_json(serde_json::json!({ "format_version": "1", "releases": doc }))
}
