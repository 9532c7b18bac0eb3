//! The state journal: small, ordered changes the applier appends after each resource so a crash
//! (even `kill -9`) leaves snapshot + journal that replay into an accurate state, without the
//! quadratic cost of rewriting the whole state after every resource.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Intent, Release, ResourceState, State};
use crate::addr::Address;
use crate::resource::Value;

/// One change to a [`State`]. Entries are applied in order; each bumps the serial by one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalEntry {
    /// A resource was created, updated or adopted: record it (replacing any previous record).
    ResourceSet {
        /// The resource's address.
        address: Address,
        /// What state records for it.
        resource: ResourceState,
    },
    /// A resource was destroyed or forgotten.
    ResourceRemoved {
        /// The resource's address.
        address: Address,
    },
    /// About to create `address` under a physical name (crash recovery).
    IntentRecorded {
        /// The address about to be created.
        address: Address,
        /// The kind and physical name it will have.
        intent: Intent,
    },
    /// The intent was fulfilled or abandoned.
    IntentCleared {
        /// The address whose intent goes.
        address: Address,
    },
    /// An endpoint release started (or finished, when recorded in one go).
    ReleaseAppended {
        /// The endpoint block address.
        endpoint: String,
        /// The release record.
        release: Release,
    },
    /// An endpoint's release record `index` changed (it finished).
    ReleaseUpdated {
        /// The endpoint block address.
        endpoint: String,
        /// The record's position in the endpoint's history.
        index: usize,
        /// The record as it is now.
        release: Release,
    },
    /// The stack's outputs after apply (replaces all outputs).
    OutputsSet {
        /// Every output by name.
        outputs: BTreeMap<String, Value>,
    },
}

pub(super) fn apply(state: &mut State, entry: &JournalEntry) {
    match entry {
        JournalEntry::ResourceSet { address, resource } => {
            state.resources.insert(address.clone(), resource.clone());
        }
        JournalEntry::ResourceRemoved { address } => {
            state.resources.remove(address);
        }
        JournalEntry::IntentRecorded { address, intent } => {
            state.intents.insert(address.clone(), intent.clone());
        }
        JournalEntry::IntentCleared { address } => {
            state.intents.remove(address);
        }
        JournalEntry::ReleaseAppended { endpoint, release } => {
            state
                .releases
                .entry(endpoint.clone())
                .or_default()
                .push(release.clone());
        }
        JournalEntry::ReleaseUpdated {
            endpoint,
            index,
            release,
        } => {
            let list = state.releases.entry(endpoint.clone()).or_default();
            match list.get_mut(*index) {
                Some(r) => *r = release.clone(),
                None => list.push(release.clone()),
            }
        }
        JournalEntry::OutputsSet { outputs } => {
            state.outputs = outputs.clone();
        }
    }
    state.serial += 1;
}

/// One line of the on-disk journal: the entry plus the snapshot it extends. Lines whose
/// lineage or base serial do not match the snapshot are leftovers of a compaction interrupted
/// after the snapshot was renamed into place, and are skipped.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct JournalLine {
    pub lineage: String,
    pub base_serial: u64,
    pub entry: JournalEntry,
}
