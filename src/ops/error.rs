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
pub enum OpsError {
    /// The spec did not load (parse, type or reference errors); rendered with spans by the
    /// caller.
    #[error(transparent)]
    Spec(#[from] Diagnostics),
    /// A malformed `--var`.
    #[error(transparent)]
    Var(#[from] VarArgError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    PlanFile(#[from] PlanFileError),
    #[error(transparent)]
    Stale(#[from] StalePlan),
    #[error("{0}\n(run with --no-refresh to plan from recorded state only)")]
    Refresh(#[from] RefreshError),
    /// Command-line arguments that do not fit together.
    #[error("{0}")]
    Usage(String),
    /// An address given on the command line that state does not hold.
    #[error("{address} is not in the state{}", if *.no_state { " (no state yet)" } else { "" })]
    NotInState { address: String, no_state: bool },
    /// `import` of an address the spec does not declare.
    #[error("{address} is not declared in the spec; {hint}")]
    NotDeclared { address: String, hint: String },
    /// `import` of an address state already manages.
    #[error(
        "{address} is already managed (id {id}); `pedestal state rm {address}` first to adopt another resource"
    )]
    AlreadyManaged { address: Address, id: String },
    /// Reading a live resource failed.
    #[error("could not read {kind} {id}: {source}")]
    Read {
        kind: ResourceKind,
        id: String,
        #[source]
        source: Box<ProviderError>,
    },
    #[error(transparent)]
    Rollback(#[from] crate::ops::releases::RollbackError),
    /// Live status reads failed.
    #[error("status: {0}")]
    Status(#[source] Box<ProviderError>),
    /// `import` of an id the cloud does not know.
    #[error("no {kind} with id {id} exists (for {address})")]
    NoSuchResource {
        kind: ResourceKind,
        id: String,
        address: Address,
    },
    /// `import` of a resource tagged for another stack or env.
    #[error(
        "{kind} {id} is {owner}, not by stack {stack} env {env}; importing it into {address} would let this stack change and destroy it (pass --force-ownership to import it all the same)"
    )]
    ForeignResource {
        kind: ResourceKind,
        id: String,
        address: Address,
        owner: Box<crate::provider::Owner>,
        stack: String,
        env: String,
    },
}
