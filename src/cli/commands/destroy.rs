//! `pedestal destroy [--target ADDR]…`: plan the destruction, show it, ask for `yes` unless
//! `--auto-approve`, then walk the graph in reverse.

use pedestal::ops::apply::{PlanSource, prepare};
use pedestal::ops::plan::PlanRequest;
use pedestal::plan::PlanMode;
use pedestal::render::{self, HumanOptions};

use crate::cli::{DestroyArgs, Error, Exit, Global, lock_timeout};

pub async fn run(g: &Global, a: &DestroyArgs) -> Result<Exit, Error> {
    let req = PlanRequest {
        env: a.env.env.clone(),
        vars: super::vars(&a.env)?,
        mode: PlanMode::Destroy,
        targets: a.targets.clone(),
        replace: Vec::new(),
        refresh: true,
        out: None,
        lock_timeout: lock_timeout(&a.lock_timeout)?,
    };
    let prepared = prepare(&g.dir, &PlanSource::Now(req), "destroy").await?;
    print!(
        "{}",
        render::human(&prepared.plan, &HumanOptions { color: g.color() })
    );
    super::apply::approve_and_apply(&prepared, a.auto_approve, a.parallelism, false).await
}
