//! `pedestal state list|show|rm`, `force-unlock` and `output`: reading and editing recorded
//! state through the stack's configured store.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::OpsError;
use crate::addr::Address;
use crate::resource::Value;
use crate::state::{self, ResourceState, State};

/// Which stack and environment to act on.
#[derive(Clone, Debug, Default)]
pub struct StateRequest {
    pub env: String,
    pub vars: BTreeMap<String, String>,
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
