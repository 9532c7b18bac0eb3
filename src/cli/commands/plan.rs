//! `pedestal plan`: build a [`PlanRequest`] from the flags, run `ops::plan`, render the plan in
//! the chosen format, and map "changes present" to exit code 2 under `--detailed-exitcode`.

use pedestal::ops::plan::{PlanOutcome, PlanRequest};
use pedestal::plan::PlanMode;
use pedestal::render::{self, HumanOptions};

use crate::cli::{Error, Exit, Global, PlanArgs, PlanFormat, lock_timeout};

/// The ops request the plan flags describe (shared with `apply` when it plans itself).
pub fn request(a: &PlanArgs) -> Result<PlanRequest, Error> {
    Ok(PlanRequest {
        env: a.env.env.clone(),
        vars: super::vars(&a.env)?,
        mode: if a.destroy {
            PlanMode::Destroy
        } else {
            PlanMode::Normal
        },
        targets: a.targets.clone(),
        replace: a.replace.clone(),
        refresh: !a.no_refresh,
        out: a.out.clone(),
        lock_timeout: lock_timeout(&a.lock_timeout)?,
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

pub async fn run(g: &Global, a: &PlanArgs) -> Result<Exit, Error> {
    let req = request(a)?;
    let outcome = pedestal::ops::plan::run(&g.dir, &req, None).await?;
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
    let exit = if a.detailed_exitcode && outcome.plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    };
    // The process ends right after this: freeing the plan, spec and state one allocation at a
    // time costs about a sixth of a large plan's run, and the system reclaims it all at once.
    std::mem::forget(outcome);
    Ok(exit)
}
