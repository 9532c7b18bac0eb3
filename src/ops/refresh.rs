//! Refresh: reading live resources to bring recorded state up to date before planning, and
//! reporting what changed behind pedestal's back as [`Drift`].

use crate::plan::Drift;
use crate::spec::Config;
use crate::state::State;

/// Recorded state updated from the cloud, and the differences found.
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub state: State,
    pub drift: Vec<Drift>,
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("refresh failed: {0}")]
    Provider(String),
}

/// Reads live resources for every entry in a state.
pub trait Refresher {
    fn refresh(&self, state: &State) -> Result<Refreshed, RefreshError>;
}

/// The refresher for a stack's configured cloud (AWS or an AWS-compatible endpoint).
pub fn for_config(config: &Config) -> Result<Box<dyn Refresher>, RefreshError> {
    let _ = config;
    Err(RefreshError::Provider(
        "live refresh is not wired to the AWS provider yet; use --no-refresh".into(),
    ))
}
