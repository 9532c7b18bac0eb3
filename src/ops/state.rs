//! `pedestal state list|show|rm|migrate`, `force-unlock` and `output`: reading and editing
//! recorded state through the stack's configured store, and copying it to another backend.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::OpsError;
use crate::addr::Address;
use crate::resource::Value;
use crate::spec::Backend;
use crate::state::{self, Migrated, ResourceState, State};

/// Which stack and environment to act on.
#[derive(Clone, Debug, Default)]
pub struct StateRequest {
    /// `--env`.
    pub env: String,
    /// `--var` values, in the order given.
    pub vars: BTreeMap<String, String>,
    /// `--lock-timeout`: how long to wait for a held lock.
    pub lock_timeout: Duration,
}

fn read(dir: &Path, req: &StateRequest) -> Result<Option<State>, OpsError> {
    let config = super::load_config(dir, &req.env, &req.vars)?;
    Ok(state::open(&config)?.read()?)
}

/// Every address in state, sorted.
pub fn list(dir: &Path, req: &StateRequest) -> Result<Vec<Address>, OpsError> {
    Ok(read(dir, req)?
        .map(|s| s.resources.into_keys().collect())
        .unwrap_or_default())
}

/// One recorded resource.
pub fn show(dir: &Path, req: &StateRequest, address: &str) -> Result<ResourceState, OpsError> {
    let state = read(dir, req)?;
    state
        .and_then(|mut s| s.resources.remove(&Address::new(address)))
        .ok_or_else(|| OpsError::NotInState {
            address: address.to_string(),
            no_state: false,
        })
}

/// Forgets resources at or under `address` (the cloud is not touched); returns what was
/// removed. Locks the state and writes it atomically.
pub fn rm(dir: &Path, req: &StateRequest, address: &str) -> Result<Vec<Address>, OpsError> {
    let config = super::load_config(dir, &req.env, &req.vars)?;
    let store = state::open(&config)?;
    let _guard = store.lock("state rm", req.lock_timeout)?;
    let Some(mut s) = store.read()? else {
        return Err(OpsError::NotInState {
            address: address.to_string(),
            no_state: true,
        });
    };
    let removed: Vec<Address> = s
        .resources
        .keys()
        .filter(|a| a.is_within(address))
        .cloned()
        .collect();
    if removed.is_empty() {
        return Err(OpsError::NotInState {
            address: address.to_string(),
            no_state: false,
        });
    }
    for a in &removed {
        s.resources.remove(a);
        s.intents.remove(a);
    }
    store.write(&s)?;
    Ok(removed)
}

/// Removes the lock with `id` left by an interrupted run.
pub fn force_unlock(dir: &Path, req: &StateRequest, id: &str) -> Result<(), OpsError> {
    let config = super::load_config(dir, &req.env, &req.vars)?;
    Ok(state::open(&config)?.force_unlock(id)?)
}

/// Recorded outputs (secrets stay redacted: only their digests are stored).
pub fn outputs(dir: &Path, req: &StateRequest) -> Result<BTreeMap<String, Value>, OpsError> {
    Ok(read(dir, req)?.map(|s| s.outputs).unwrap_or_default())
}

/// The kind of backend `state migrate --to` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// An S3 bucket (`--bucket`, `--key`, `--region`).
    S3,
    /// A local file (`--path`).
    Local,
}

/// `state migrate`: the configured `[backend]` is one side, these flags the other.
#[derive(Clone, Debug)]
pub struct MigrateRequest {
    /// Which stack and environment.
    pub state: StateRequest,
    /// The kind of backend to migrate to.
    pub to: BackendKind,
    /// `--bucket`, for S3.
    pub bucket: Option<String>,
    /// `--key`, for S3.
    pub key: Option<String>,
    /// `--region`, for S3.
    pub region: Option<String>,
    /// Relative to the stack directory, like `[backend] path`.
    pub path: Option<PathBuf>,
}

/// Copies the state between the configured backend and the one the flags describe, in the
/// direction `to` says (see docs/state.md), holding both locks. Lineage and serial are kept;
/// a destination of another lineage, or ahead of the source, is refused.
pub fn migrate(dir: &Path, req: &MigrateRequest) -> Result<Migrated, OpsError> {
    let config = super::load_config(dir, &req.state.env, &req.state.vars)?;
    let to = req.to;
    let s3_flags = || -> Result<Backend, OpsError> {
        match (&req.bucket, &req.key) {
            (Some(bucket), Some(key)) => Ok(Backend::S3 {
                bucket: bucket.clone(),
                key: key.replace("${env}", &config.env),
                region: req.region.clone(),
                encrypt: true,
                kms_key_id: None,
            }),
            _ => Err(OpsError::Usage(
                "the S3 side of the migration needs --bucket and --key (the configured [backend] is local)"
                    .into(),
            )),
        }
    };
    let local_flags = || Backend::Local {
        path: req
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("state/{}.json", config.env))),
    };
    let other = match (to, &config.backend) {
        (BackendKind::S3, Backend::Local { .. }) | (BackendKind::Local, Backend::Local { .. }) => {
            s3_flags()?
        }
        (BackendKind::S3, Backend::S3 { .. }) | (BackendKind::Local, Backend::S3 { .. }) => {
            local_flags()
        }
    };
    let configured_is_target = matches!(
        (to, &config.backend),
        (BackendKind::S3, Backend::S3 { .. }) | (BackendKind::Local, Backend::Local { .. })
    );
    let mut other_config = config.clone();
    other_config.backend = other;
    let configured = state::open(&config)?;
    let other = state::open(&other_config)?;
    let (from, dest) = if configured_is_target {
        (other, configured)
    } else {
        (configured, other)
    };
    let _from_lock = from.lock("state migrate", req.state.lock_timeout)?;
    let _dest_lock = dest.lock("state migrate", req.state.lock_timeout)?;
    Ok(state::migrate(from.as_ref(), dest.as_ref())?)
}
