//! The plan: a serialisable value describing every change needed to move recorded state to the
//! spec. The renderers and the applier both consume it; neither goes back to the spec.

mod compare;
pub mod file;
mod planner;
mod prematch;
mod releases;
mod replacements;

use std::collections::BTreeMap;

pub use planner::{PlanError, PlanOptions, plan};

use serde::{Deserialize, Serialize};

use crate::addr::{Address, AddressSet};
use crate::resource::{Attrs, Lifecycle, ResourceKind, Value};
use crate::state::Outcome;

/// Version of the saved-plan and JSON plan format.
pub const FORMAT_VERSION: &str = "1.0";

/// What one resource will go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing to do.
    NoOp,
    /// Create a new resource.
    Create,
    /// Change a resource in place.
    Update,
    /// `-/+`: destroy, then create the replacement.
    DeleteThenCreate,
    /// `+/-`: create the replacement, then destroy the old one.
    CreateThenDelete,
    /// Destroy a resource.
    Delete,
}

/// Why a resource gets its action (for people; never used to decide anything at apply time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The resource is in state but not in the spec.
    NotInSpec,
    /// One or more attributes that force replacement changed (`replace_paths` lists them).
    ForcedBy {
        /// The attributes that changed.
        attrs: Vec<String>,
    },
    /// A resource it depends on is replaced, and these attributes (which force replacement)
    /// name that resource: an ECS service whose cluster is replaced, a scaling target whose
    /// service is.
    DependencyReplaced {
        /// The dependency being replaced.
        address: Address,
        /// The attributes that name it.
        attrs: Vec<String>,
    },
    /// A previous create failed; the resource is tainted.
    Tainted,
    /// `--replace ADDR`.
    ReplaceRequested,
    /// The resource was changed or deleted outside pedestal.
    Drifted,
    /// `plan --destroy` / `pedestal destroy`.
    DestroyRequested,
    /// A versioned kind: the change registers a new revision.
    NewRevision,
    /// Attributes changed in the spec (`attrs` lists them); nothing changed outside pedestal.
    SpecChanged {
        /// The attributes that changed.
        attrs: Vec<String>,
    },
    /// The endpoint's last release did not finish (interrupted, failed, rolled back by ECS, or
    /// still in progress when pedestal stopped): it is still to be done.
    ReleaseUnfinished {
        /// The version of the unfinished release.
        version: String,
        /// How it ended.
        outcome: Outcome,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// What the record says about it.
        detail: Option<String>,
    },
    /// `pedestal rollback` pointed the service at an earlier release; the spec's release is
    /// still to be done.
    RolledBack {
        /// The version rollback went back to.
        version: String,
    },
}

impl Reason {
    /// The sentence after "because" (`# (because …)`), for the reasons that have one.
    pub fn release_text(&self) -> Option<String> {
        match self {
            Reason::ReleaseUnfinished {
                version,
                outcome,
                detail,
            } => {
                let what = match outcome {
                    Outcome::InProgress => "did not finish (pedestal stopped while it ran)",
                    Outcome::Interrupted => "was interrupted",
                    Outcome::Failed => "failed",
                    Outcome::RolledBackByEcs => "was rolled back by ECS",
                    Outcome::Completed | Outcome::RolledBack => "is recorded",
                };
                Some(match detail {
                    Some(d) => format!("release {version} {what}: {d}"),
                    None => format!("release {version} {what}"),
                })
            }
            Reason::RolledBack { version } => {
                Some(format!("rolled back to {version} by pedestal rollback"))
            }
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
/// Whether a plan converges on the spec or destroys.
pub enum PlanMode {
    #[default]
    /// Make the cloud match the spec.
    Normal,
    /// Destroy every recorded resource (`--destroy`).
    Destroy,
}

/// One resource's change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// The resource.
    pub address: Address,
    /// Its kind.
    pub kind: ResourceKind,
    /// What happens to it.
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Why (`None` for no-ops).
    pub reason: Option<Reason>,
    /// Recorded attributes (refreshed when refresh ran); `None` for creates.
    pub before: Option<Attrs>,
    /// Desired attributes, with unknown values as [`Value::Ref`]/[`Value::Unknown`]; `None` for
    /// deletes.
    pub after: Option<Attrs>,
    /// Attributes that force the replacement, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_paths: Vec<String>,
    /// The physical id recorded in state, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Resources this one follows (for deletes: recorded dependencies).
    pub depends_on: AddressSet,
    #[serde(default)]
    /// `create_before_destroy`, `prevent_destroy` and `ignore_changes` from the spec.
    pub lifecycle: Lifecycle,
}

/// A difference between recorded state and what the cloud reports, found by refresh.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// The resource.
    pub address: Address,
    /// Its kind.
    pub kind: ResourceKind,
    /// Recorded attributes.
    pub before: Attrs,
    /// Live attributes; `None` when the resource is gone.
    pub after: Option<Attrs>,
}

/// An endpoint's release as the plan changes it: the view a reviewer reads first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleaseChange {
    /// The endpoint block address, e.g. `endpoint.fraud` or `module.churn.endpoint.churn`.
    pub endpoint: String,
    /// The model version running before.
    pub version_before: Option<String>,
    /// The model version running after.
    pub version_after: Option<String>,
    /// The image before.
    pub image_before: Option<String>,
    /// The image after.
    pub image_after: Option<String>,
    /// The artifact's sha256 before.
    pub artifact_sha256_before: Option<String>,
    /// The artifact's sha256 after.
    pub artifact_sha256_after: Option<String>,
    /// Why the endpoint is released again although its task definition did not change (an
    /// unfinished release, a `pedestal rollback`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How ECS rolls the release out when it is not a rolling update (`canary 10% for 5m,
    /// then 100%`, `linear 20% every 5m`, `blue/green`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
}

/// Old objects of an artifact removed after the apply's releases complete: those no longer
/// referenced by the last `retain` releases of any endpoint using the artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prune {
    /// The artifact's object address (`artifact.fraud_model.object`).
    pub address: Address,
    /// The bucket the objects are in.
    pub bucket: String,
    /// Objects to remove, by key, with the release each served.
    pub objects: Vec<PrunedObject>,
    /// Releases (or keys, for objects no release names) whose objects stay.
    pub kept: Vec<String>,
}

/// One object a [`Prune`] removes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunedObject {
    /// The object's key.
    pub key: String,
    /// The release version that served it (or a short sha when none is recorded).
    pub label: String,
}

/// An `[outputs]` entry's change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputChange {
    /// The value before (`None`: new output).
    pub before: Option<Value>,
    /// The value after (`None`: removed, or known only after apply).
    pub after: Option<Value>,
    /// Whether values are shown only as `(sensitive)`.
    pub sensitive: bool,
}

/// Identifies the state a plan was made against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StateRef {
    /// `None` when no state existed yet.
    pub lineage: Option<String>,
    /// The serial it had.
    pub serial: u64,
}

/// The complete plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The plan format (see `docs/plan-json.md`).
    pub format_version: String,
    /// The stack.
    pub stack: String,
    /// The environment.
    pub env: String,
    /// A normal plan or a destroy.
    pub mode: PlanMode,
    /// The state the plan was made against (a saved plan applies only to it).
    pub prior_state: StateRef,
    /// [`crate::spec::Config::digest`] of the spec the plan was made from.
    pub spec_digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The git commit of the stack directory, when it is in a repository.
    pub git_commit: Option<String>,
    /// Region and endpoint the applier talks to.
    pub provider: crate::spec::ProviderConfig,
    /// Every resource's change, no-ops included, in deterministic dependency order.
    pub changes: Vec<ResourceChange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// What refresh found changed outside pedestal.
    pub drift: Vec<Drift>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Each endpoint's release as the plan changes it.
    pub releases: Vec<ReleaseChange>,
    /// Artifact objects pruned once the releases complete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prunes: Vec<Prune>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// Output changes by name.
    pub outputs: BTreeMap<String, OutputChange>,
    /// `--target` addresses the plan was limited to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Each endpoint's monthly cost before and after, and the stack's delta.
    #[serde(default)]
    pub cost: crate::cost::CostEstimate,
}

/// Counts for `Plan: X to add, Y to change, Z to destroy.` (a replacement counts in add and
/// destroy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Resources to create (replacements included).
    pub add: usize,
    /// Resources to update in place.
    pub change: usize,
    /// Resources to destroy (replacements included).
    pub destroy: usize,
}

impl Action {
    /// Terraform's JSON `actions` array.
    pub fn json_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create => &["create"],
            Action::Update => &["update"],
            Action::DeleteThenCreate => &["delete", "create"],
            Action::CreateThenDelete => &["create", "delete"],
            Action::Delete => &["delete"],
        }
    }

    /// Whether the action replaces the resource (either order).
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }

    /// Whether the action destroys an existing object (delete or replace).
    pub fn destroys(self) -> bool {
        self.is_replace() || self == Action::Delete
    }
}

impl OutputChange {
    /// Whether the output's value changes.
    pub fn changed(&self) -> bool {
        match (&self.before, &self.after) {
            (None, None) => false,
            (Some(a), Some(b)) => !a.same_as(b) || b.is_unknown(),
            _ => true,
        }
    }
}

impl Plan {
    /// How many resources the plan adds, changes and destroys.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::NoOp => {}
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Delete => s.destroy += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    s.add += 1;
                    s.destroy += 1;
                }
            }
        }
        s
    }

    /// Whether applying the plan would change anything (resources or outputs).
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
            || self.outputs.values().any(OutputChange::changed)
            || !self.prunes.is_empty()
    }
}
