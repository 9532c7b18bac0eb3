//! `pedestal import ADDR ID`.

use super::state_request;
use crate::cli::{Error, Exit, Global, ImportArgs};

pub async fn run(g: &Global, args: &ImportArgs) -> Result<Exit, Error> {
    let req = state_request(&args.env)?;
    let r =
        pedestal::ops::import::import(&g.dir, &req, &args.address, &args.id, args.force_ownership)
            .await?;
    println!("{}: Import prepared! [id={}]", args.address, r.id);
    println!(
        "Import successful! The resource is now managed by pedestal; run `pedestal plan` to see how it differs from the spec."
    );
    Ok(Exit::Success)
}
