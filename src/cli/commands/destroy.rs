//! `pedestal destroy [--target ADDR]…`: plan the destruction, show it, ask for `yes` unless
//! `--auto-approve`, then walk the graph in reverse.

use pedestal::ops::apply::{PlanSource, prepare};
use pedestal::ops::plan::PlanRequest;
use pedestal::plan::PlanMode;
use pedestal::render::{self, HumanOptions};

use crate::cli::{DestroyArgs, Exit, Global};

pub fn run(g: &Global, a: &DestroyArgs) -> miette::Result<Exit> {
    let lock_timeout = humantime::parse_duration(a.lock_timeout.trim()).map_err(|e| {
        miette::miette!(
            "--lock-timeout {:?} is not a duration (e.g. 30s, 2m): {e}",
            a.lock_timeout
        )
    })?;
    let req = PlanRequest {
        env: a.env.env.clone(),
        vars: PlanRequest::parse_vars(&a.env.vars).map_err(super::report)?,
        mode: PlanMode::Destroy,
        targets: a.targets.clone(),
        replace: Vec::new(),
        refresh: true,
        out: None,
        lock_timeout,
    };
    let prepared = prepare(&g.dir, &PlanSource::Now(req), "destroy").map_err(super::report)?;
    print!(
        "{}",
        render::human(&prepared.plan, &HumanOptions { color: g.color() })
    );
    super::apply::approve_and_apply(g, &prepared, a.auto_approve, a.parallelism, false)
}
