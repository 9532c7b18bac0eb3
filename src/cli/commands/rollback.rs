//! `pedestal rollback ENDPOINT [--to VERSION] [--auto-approve]`: show what changes, ask, point
//! the service at the earlier release's revision and wait; exit 0 rolled back, 1 failed, 130
//! interrupted (the deployment goes on in ECS).

use std::io::{BufRead, IsTerminal, Write};

use pedestal::ops::releases::{RollbackRequest, prepare_rollback, rollback};
use pedestal::ops::state::StateRequest;

use crate::cli::{Error, Exit, Global, RollbackArgs, lock_timeout};

pub async fn run(g: &Global, a: &RollbackArgs) -> Result<Exit, Error> {
    let req = RollbackRequest {
        state: StateRequest {
            env: a.env.env.clone(),
            vars: super::vars(&a.env)?,
            lock_timeout: lock_timeout(&a.lock_timeout)?,
        },
        endpoint: a.endpoint.clone(),
        to: a.to.clone(),
    };
    let prepared = prepare_rollback(&g.dir, &req).await?;
    let to = &prepared.to;
    print!(
        "{}",
        pedestal::render::rollback::rollback_screen(&prepared.endpoint, prepared.from.as_ref(), to)
    );
    if !a.auto_approve {
        if !std::io::stdin().is_terminal() {
            return Err(Error::NoTerminal { verb: "roll back" });
        }
        print!(
            "\nDo you want to roll back?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
        );
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(Error::Prompt)?;
        if answer.trim() != "yes" {
            return Err(Error::Cancelled { what: "Rollback" });
        }
    }
    crate::cli::interrupt::take_over();
    let (cancel, _abandon) = pedestal::ops::apply::interrupt_channel(std::sync::Arc::new(
        crate::cli::progress::InterruptNotice,
    ));
    println!("\n{}: rolling back to {}...", prepared.endpoint, to.version);
    let report = rollback(prepared, Some(cancel)).await?;
    match (&report.error, report.interrupted) {
        (_, true) => {
            eprintln!(
                "\n{}: stopped waiting; the rollback deployment goes on in ECS (`pedestal status {}` shows it). Recorded as interrupted.",
                report.endpoint, report.endpoint
            );
            Ok(Exit::Interrupted)
        }
        (Some(e), false) => {
            eprintln!(
                "\nError: {}: rollback to {}: {e}",
                report.endpoint, report.record.version
            );
            Ok(Exit::Error)
        }
        (None, false) => {
            println!(
                "\nRollback complete! {} runs release {} ({}).",
                report.endpoint, report.record.version, report.record.task_definition_arn
            );
            Ok(Exit::Success)
        }
    }
}
