//! `pedestal plan`: build a [`PlanRequest`] from the flags, run `ops::plan`, render the plan in
//! the chosen format, and map "changes present" to exit code 2 under `--detailed-exitcode`.

use pedestal::ops::plan::{PlanOutcome, PlanRequest};
use pedestal::plan::PlanMode;
use pedestal::render::{self, HumanOptions};

use crate::cli::{Exit, Global, PlanArgs, PlanFormat};

/// The ops request the plan flags describe (shared with `apply` when it plans itself).
pub fn request(a: &PlanArgs) -> miette::Result<PlanRequest> {
    let lock_timeout = humantime::parse_duration(a.lock_timeout.trim()).map_err(|e| {
        miette::miette!(
            "--lock-timeout {:?} is not a duration (e.g. 30s, 2m): {e}",
            a.lock_timeout
        )
    })?;
    Ok(PlanRequest {
        env: a.env.env.clone(),
        vars: PlanRequest::parse_vars(&a.env.vars).map_err(super::report)?,
        mode: if a.destroy {
            PlanMode::Destroy
        } else {
            PlanMode::Normal
        },
        targets: a.targets.clone(),
        replace: a.replace.clone(),
        refresh: !a.no_refresh,
        out: a.out.clone(),
        lock_timeout,
    })
}

/// Prints the plan in the requested format.
pub fn print(g: &Global, format: PlanFormat, outcome: &PlanOutcome) {
    let plan = &outcome.plan;
    match format {
        PlanFormat::Human => print!(
            "{}",
            render::human(plan, &HumanOptions { color: g.color() })
        ),
        PlanFormat::Json => print!("{}", render::json(plan)),
        PlanFormat::Markdown => print!("{}", render::markdown(plan)),
    }
}

pub fn run(g: &Global, a: &PlanArgs) -> miette::Result<Exit> {
    let req = request(a)?;
    let outcome = pedestal::ops::plan::run(&g.dir, &req, None).map_err(super::report)?;
    print(g, a.format, &outcome);
    if a.format == PlanFormat::Human && outcome.plan.has_changes() {
        match &outcome.saved {
            Some(path) => println!(
                "\nSaved the plan to: {p}\n\nTo perform exactly these actions, run the following command to apply:\n    pedestal apply {p}",
                p = path.display()
            ),
            None => println!(
                "\nNote: You didn't use the --out option to save this plan, so pedestal can't guarantee to take exactly these actions if you run \"pedestal apply\" now."
            ),
        }
    }
    if a.detailed_exitcode && outcome.plan.has_changes() {
        Ok(Exit::Changes)
    } else {
        Ok(Exit::Success)
    }
}
