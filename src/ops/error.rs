//! [`OpsError`]: everything a workflow in [`crate::ops`] can fail with, wrapping each module's
//! typed error so the CLI can render it (spec diagnostics keep their labelled spans).

use crate::ops::refresh::RefreshError;
use crate::plan::PlanError;
use crate::plan::file::{PlanFileError, StalePlan};
use crate::state::StateError;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The spec did not load (parse, type or reference errors).
    #[error("{0}")]
    Spec(String),
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
    /// Bad command-line input (a malformed --var, an unknown address, ...).
    #[error("{0}")]
    Usage(String),
}
