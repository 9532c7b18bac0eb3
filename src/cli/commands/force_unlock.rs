//! `pedestal force-unlock LOCK_ID`.

use pedestal::ops::state;

use super::state_request;
use crate::cli::{Error, Exit, ForceUnlockArgs, Global};

pub fn run(g: &Global, a: &ForceUnlockArgs) -> Result<Exit, Error> {
    state::force_unlock(&g.dir, &state_request(&a.env)?, &a.lock_id)?;
    println!(
        "pedestal state has been successfully unlocked!\n\nThe state has been unlocked, and pedestal commands should now be able to obtain a new lock on the state."
    );
    Ok(Exit::Success)
}
