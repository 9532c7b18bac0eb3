//! Recorded state: what pedestal created, with ids and attributes, release history and outputs.
//! Backends (local file, S3 object, in-memory) store it behind one trait, [`StateStore`]:
//! a full snapshot written atomically plus an append-only [`JournalEntry`] log that the applier
//! uses to persist each resource as it completes without rewriting the whole file.

#[doc(hidden)]
pub mod conformance;
mod holder;
mod journal;
mod json;
mod local;
mod memory;
mod migrate;
mod private_file;
mod s3;
mod store;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::addr::Address;
use crate::resource::{Attrs, ResourceKind, Value};

pub use journal::JournalEntry;
pub use json::{canonical_json, state_to_string, to_canonical_string};
pub use local::LocalStore;
pub use memory::MemoryStore;
pub use migrate::{Migrated, migrate};
pub(crate) use private_file::{Existing, write_private};
pub use s3::{Encryption, S3Location, S3Store};
pub use store::{LockGuard, LockInfo, StateError, StateStore, open};

/// Version of the state file format.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Ok,
    /// A create failed half way; the next plan replaces it.
    Tainted,
}

/// One managed resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    pub kind: ResourceKind,
    /// Physical id or ARN.
    pub id: String,
    pub attrs: Attrs,
    #[serde(default)]
    pub dependencies: BTreeSet<Address>,
    #[serde(default)]
    pub status: Status,
}

/// Before a create, the applier records what it is about to create so a crash can be recovered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    pub kind: ResourceKind,
    pub physical_name: String,
    pub started_at: String,
}

/// One release of an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub version: String,
    pub task_definition_arn: String,
    pub artifact_sha256: Option<String>,
    pub image: String,
    pub applied_at: String,
    /// `completed`, `failed`, `rolled_back`, `timed_out`.
    pub outcome: String,
}

/// The whole state of one stack and environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    pub lineage: String,
    pub serial: u64,
    pub stack: String,
    pub env: String,
    #[serde(default)]
    pub resources: BTreeMap<Address, ResourceState>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub intents: BTreeMap<Address, Intent>,
    /// Endpoint block address → release history, oldest first.
    #[serde(default)]
    pub releases: BTreeMap<String, Vec<Release>>,
    #[serde(default)]
    pub outputs: BTreeMap<String, Value>,
}

impl State {
    /// A fresh, empty state with a new lineage.
    pub fn new(stack: &str, env: &str) -> State {
        State {
            format_version: FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            stack: stack.to_string(),
            env: env.to_string(),
            resources: BTreeMap::new(),
            intents: BTreeMap::new(),
            releases: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }
}

impl State {
    /// Whether this state was ever persisted (a store's `write` always leaves serial ≥ 1).
    pub fn is_persisted(&self) -> bool {
        self.serial > 0
    }

    /// Applies one journal entry in place (used when replaying a journal over a snapshot).
    pub fn apply_entry(&mut self, entry: &JournalEntry) {
        journal::apply(self, entry);
    }
}
