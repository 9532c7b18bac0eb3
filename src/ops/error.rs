//! [`OpsError`]: everything a workflow in [`crate::ops`] can fail with, wrapping each module's
//! typed error so the CLI can render it (spec diagnostics keep their labelled spans).

use crate::addr::Address;
use crate::ops::refresh::RefreshError;
use crate::plan::PlanError;
use crate::plan::file::{PlanFileError, StalePlan};
use crate::provider::ProviderError;
use crate::resource::ResourceKind;
use crate::spec::{Diagnostics, VarArgError};
use crate::state::StateError;

#[derive(Debug, thiserror::Error)]
/// Why a workflow failed: each layer's error, kept with its type.
pub enum OpsError {
    /// The spec did not load (parse, type or reference errors); rendered with spans by the
    /// caller.
    #[error(transparent)]
    Spec(#[from] Diagnostics),
    /// A malformed `--var`.
    #[error(transparent)]
    Var(#[from] VarArgError),
    #[error(transparent)]
    /// Reading, writing or locking state failed.
    State(#[from] StateError),
    #[error(transparent)]
    /// The planner refused (cycle, unknown target, prevent_destroy, cost policy, foreign state).
    Plan(#[from] PlanError),
    #[error(transparent)]
    /// A plan file could not be read or written.
    PlanFile(#[from] PlanFileError),
    #[error(transparent)]
    /// A saved plan no longer matches the spec or the state.
    Stale(#[from] StalePlan),
    #[error("{0}\n(run with --no-refresh to plan from recorded state only)")]
    /// Refresh could not read the live resources.
    Refresh(#[from] RefreshError),
    /// Command-line arguments that do not fit together.
    #[error("{0}")]
    Usage(String),
    /// An address given on the command line that state does not hold.
    #[error("{address} is not in the state{}", if *.no_state { " (no state yet)" } else { "" })]
    NotInState {
        /// The address as given.
        address: String,
        /// Whether there is no state at all.
        no_state: bool,
    },
    /// `import` of an address the spec does not declare.
    #[error("{address} is not declared in the spec; {hint}")]
    NotDeclared {
        /// The address as given.
        address: String,
        /// What the spec declares instead.
        hint: String,
    },
    /// `import` of an address state already manages.
    #[error(
        "{address} is already managed (id {id}); `pedestal state rm {address}` first to adopt another resource"
    )]
    AlreadyManaged {
        /// The address.
        address: Address,
        /// The id state records for it.
        id: String,
    },
    /// Reading a live resource failed.
    #[error("could not read {kind} {id}: {source}")]
    Read {
        /// The resource's kind.
        kind: ResourceKind,
        /// The id asked for.
        id: String,
        #[source]
        /// The provider's error.
        source: Box<ProviderError>,
    },
    #[error(transparent)]
    /// A rollback cannot go ahead.
    Rollback(#[from] crate::ops::releases::RollbackError),
    /// Live status reads failed.
    #[error("status: {0}")]
    Status(#[source] Box<ProviderError>),
    /// `import` of an id the cloud does not know.
    #[error("no {kind} with id {id} exists (for {address})")]
    NoSuchResource {
        /// The kind the spec declares at the address.
        kind: ResourceKind,
        /// The id asked for.
        id: String,
        /// The address being imported.
        address: Address,
    },
    /// `import` of a resource tagged for another stack or env.
    #[error(
        "{kind} {id} is {owner}, not by stack {stack} env {env}; importing it into {address} would let this stack change and destroy it (pass --force-ownership to import it all the same)"
    )]
    ForeignResource {
        /// The kind the spec declares at the address.
        kind: ResourceKind,
        /// The id asked for.
        id: String,
        /// The address being imported.
        address: Address,
        /// Whom its tags say it belongs to.
        owner: Box<crate::provider::Owner>,
        /// The stack importing it.
        stack: String,
        /// The environment importing it.
        env: String,
    },
}
