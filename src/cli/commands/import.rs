//! `pedestal import ADDR ID`.

use crate::cli::{Exit, Global, ImportArgs};

pub fn run(g: &Global, args: &ImportArgs) -> miette::Result<Exit> {
    let req = pedestal::ops::state::StateRequest {
        env: args.env.env.clone(),
        vars: pedestal::ops::plan::PlanRequest::parse_vars(&args.env.vars)
            .map_err(super::report)?,
        lock_timeout: std::time::Duration::ZERO,
    };
    let rt = tokio::runtime::Runtime::new().map_err(|e| miette::miette!("{e}"))?;
    let r = rt
        .block_on(pedestal::ops::import::import(
            &g.dir,
            &req,
            &args.address,
            &args.id,
        ))
        .map_err(super::report)?;
    println!("{}: Import prepared! [id={}]", args.address, r.id);
    println!(
        "Import successful! The resource is now managed by pedestal; run `pedestal plan` to see how it differs from the spec."
    );
    Ok(Exit::Success)
}
