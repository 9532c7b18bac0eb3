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
mod prefetch;
mod private_file;
mod read;
mod s3;
mod store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::addr::{Address, AddressSet};
use crate::resource::{Attrs, ResourceKind, Value};

pub use journal::JournalEntry;
pub use json::{canonical_json, state_to_string, to_canonical_string};
pub use local::LocalStore;
pub use memory::MemoryStore;
pub use migrate::{Migrated, migrate};
pub use prefetch::Prefetch;
pub(crate) use private_file::{Existing, write_private};
pub use read::{parse_snapshot, read_fast};
pub use s3::{Encryption, S3Location, S3Store};
pub use store::{LockGuard, LockInfo, StateError, StateStore, open};

/// Version of the state file format.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
/// Whether a recorded resource can be trusted as is.
pub enum Status {
    #[default]
    /// Created or updated as planned.
    Ok,
    /// A create failed half way; the next plan replaces it.
    Tainted,
}

/// One managed resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// The resource's kind.
    pub kind: ResourceKind,
    /// Physical id or ARN.
    pub id: String,
    /// Its attributes as last applied or refreshed.
    pub attrs: Attrs,
    #[serde(default)]
    /// Addresses it depends on (so an orphan is deleted in order).
    pub dependencies: AddressSet,
    #[serde(default)]
    /// Whether it is usable or must be replaced.
    pub status: Status,
}

/// Before a create, the applier records what it is about to create so a crash can be recovered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// The kind about to be created.
    pub kind: ResourceKind,
    /// The physical name it will have (how the next run finds it).
    pub physical_name: String,
    /// When the create started (RFC 3339).
    pub started_at: String,
}

/// How an endpoint release ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Started, not finished: the run stopped (crash, kill) before the release settled.
    #[default]
    InProgress,
    /// The PRIMARY deployment runs the revision, rollout COMPLETED (or not waited for).
    Completed,
    /// The rollout failed or timed out.
    #[serde(alias = "timed_out")]
    Failed,
    /// ECS rolled the release back (circuit breaker or an alarm; the reason says which).
    RolledBackByEcs,
    /// `pedestal rollback` pointed the service back at this release's revision.
    RolledBack,
    /// Ctrl-C while waiting: pedestal stopped watching; ECS carried on.
    Interrupted,
}

impl Outcome {
    /// The word used in state, tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::InProgress => "in_progress",
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::RolledBackByEcs => "rolled_back_by_ecs",
            Outcome::RolledBack => "rolled_back",
            Outcome::Interrupted => "interrupted",
        }
    }

    /// Whether the release ended with the service running it (a rollback counts).
    pub fn settled(self) -> bool {
        matches!(self, Outcome::Completed | Outcome::RolledBack)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One release of an endpoint: what ran, who started it, from which spec, and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Release {
    /// The model version released (or `revision N` when the spec names none).
    pub version: String,
    /// The task definition the service runs for this release.
    pub task_definition_arn: String,
    /// The task definition revision number (the ARN's last field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    /// The sha256 of the model artifact the revision loads.
    pub artifact_sha256: Option<String>,
    /// `s3://bucket/key` of the artifact the revision loads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_uri: Option<String>,
    /// The container image.
    pub image: String,
    /// Digest of the spec and variables the release was planned from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_digest: Option<String>,
    /// The git commit of the stack directory, when it is in a repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// `user@host` that ran pedestal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    #[serde(alias = "applied_at")]
    /// When the release started (RFC 3339).
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// When it ended (RFC 3339); `None` while in progress.
    pub finished_at: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it ended that way: the circuit breaker's or alarm's reason, the failure, a note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a rollback: the alarm ECS rolled back for, when an alarm did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<String>,
}

impl Release {
    /// The revision number, from the field or the ARN.
    pub fn revision(&self) -> Option<i64> {
        self.revision.or_else(|| {
            self.task_definition_arn
                .rsplit(':')
                .next()
                .and_then(|r| r.parse().ok())
        })
    }
}

/// The whole state of one stack and environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The state file format (this pedestal writes 1).
    pub format_version: u32,
    /// A random id fixed when the state is first written; a state of another lineage is never overwritten.
    pub lineage: String,
    /// Bumped by every write and journal entry.
    pub serial: u64,
    /// The stack the state belongs to.
    pub stack: String,
    /// The environment the state belongs to.
    pub env: String,
    #[serde(default, deserialize_with = "json::map_in_bulk")]
    /// Every managed resource, by address.
    pub resources: BTreeMap<Address, ResourceState>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Creates begun but not yet recorded (crash recovery).
    pub intents: BTreeMap<Address, Intent>,
    /// Endpoint block address → release history, oldest first.
    #[serde(default)]
    pub releases: BTreeMap<String, Vec<Release>>,
    #[serde(default)]
    /// Stack outputs after the last apply.
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

/// `user@host` for release records and locks: `USER` (or `USERNAME`) and the host name.
pub fn who() -> Option<String> {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|u| !u.is_empty())?;
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    Some(match host {
        Some(h) => format!("{user}@{h}"),
        None => user,
    })
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
