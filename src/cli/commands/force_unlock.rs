//! `pedestal force-unlock LOCK_ID`.

use pedestal::ops::state::{self, StateRequest};

use crate::cli::{Exit, ForceUnlockArgs, Global};

pub fn run(g: &Global, a: &ForceUnlockArgs) -> miette::Result<Exit> {
    let req = StateRequest {
        env: a.env.env.clone(),
        vars: pedestal::ops::plan::PlanRequest::parse_vars(&a.env.vars).map_err(super::report)?,
        lock_timeout: std::time::Duration::ZERO,
    };
    state::force_unlock(&g.dir, &req, &a.lock_id).map_err(super::report)?;
    println!(
        "pedestal state has been successfully unlocked!\n\nThe state has been unlocked, and pedestal commands should now be able to obtain a new lock on the state."
    );
    Ok(Exit::Success)
}
