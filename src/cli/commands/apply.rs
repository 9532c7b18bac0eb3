//! `pedestal apply [PLANFILE]`: verify a saved plan (or plan now and show it), ask for `yes`
//! unless `--auto-approve`, apply with progress, print the summary, map the outcome to an exit
//! code (0 done, 1 failed, 130 interrupted).

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pedestal::apply::ApplyReport;
use pedestal::ops::apply::{ExecuteOptions, PlanSource, Prepared, prepare, run as execute};
use pedestal::plan::{Action, PlanMode};
use pedestal::render::{self, HumanOptions};

use crate::cli::progress::Progress;
use crate::cli::{ApplyArgs, Error, Exit, Global};

pub async fn run(g: &Global, a: &ApplyArgs) -> Result<Exit, Error> {
    let source = match &a.planfile {
        Some(path) => PlanSource::File {
            path: path.clone(),
            vars: super::vars(&a.plan.env)?,
            lock_timeout: super::plan::request(&a.plan)?.lock_timeout,
        },
        None => PlanSource::Now(super::plan::request(&a.plan)?),
    };
    let operation = if a.plan.destroy { "destroy" } else { "apply" };
    let prepared = prepare(&g.dir, &source, operation).await?;
    if a.planfile.is_none() {
        print!(
            "{}",
            render::human(&prepared.plan, &HumanOptions { color: g.color() })
        );
    }
    approve_and_apply(
        &prepared,
        a.auto_approve,
        a.parallelism,
        a.planfile.is_some(),
    )
    .await
}

/// Shared by `apply` and `destroy`: confirm, apply, report.
pub(crate) async fn approve_and_apply(
    prepared: &Prepared,
    auto_approve: bool,
    parallelism: usize,
    saved_plan: bool,
) -> Result<Exit, Error> {
    let plan = &prepared.plan;
    if !plan.has_changes() {
        if plan.mode == PlanMode::Destroy {
            println!("\nDestroy complete! Resources: 0 destroyed.");
        } else {
            println!("\nApply complete! Resources: 0 added, 0 changed, 0 destroyed.");
            if let Some(outputs) = prepared.state.as_ref().map(|s| &s.outputs)
                && !outputs.is_empty()
            {
                print!("\nOutputs:\n\n{}", super::output::human(outputs));
            }
        }
        return Ok(Exit::Success);
    }
    // Ctrl-C before the apply starts (at the prompt, typically) cancels and releases the lock;
    // once it runs, the applier's own interrupt handling takes over.
    let applying = Arc::new(AtomicBool::new(false));
    cancel_on_interrupt(prepared, applying.clone());
    // A saved plan was reviewed when it was made; applying it is the approval.
    if !auto_approve && !saved_plan {
        confirm(plan.mode).await?;
    }
    applying.store(true, Ordering::SeqCst);
    let total = plan
        .changes
        .iter()
        .map(|c| match c.action {
            Action::NoOp => 0,
            Action::DeleteThenCreate | Action::CreateThenDelete => 2,
            _ => 1,
        })
        .sum();
    let progress = Arc::new(Progress::new(total));
    println!();
    let report = execute(
        prepared,
        progress.clone(),
        &ExecuteOptions {
            parallelism,
            still_interval: Duration::from_secs(10),
            root: prepared.config.root.clone(),
            handle_interrupts: true,
        },
    )
    .await?;
    progress.finish();
    Ok(finish(&report))
}

/// "Apply" or "Destroy", for messages.
fn what(mode: PlanMode) -> &'static str {
    if mode == PlanMode::Destroy {
        "Destroy"
    } else {
        "Apply"
    }
}

/// Until `applying` is set, an interrupt releases the lock and exits 130.
fn cancel_on_interrupt(prepared: &Prepared, applying: Arc<AtomicBool>) {
    crate::cli::interrupt::take_over();
    let lock = prepared.lock.clone();
    let mode = prepared.plan.mode;
    tokio::spawn(async move {
        loop {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            if !applying.load(Ordering::SeqCst) {
                let held = lock.lock().unwrap_or_else(|e| e.into_inner()).take();
                drop(held);
                // (`Prepared` on the main thread finds the slot empty.)
                eprintln!("\n{} cancelled.", what(mode));
                std::process::exit(Exit::Interrupted as i32);
            }
        }
    });
}

async fn confirm(mode: PlanMode) -> Result<(), Error> {
    let verb = if mode == PlanMode::Destroy {
        "destroy all the resources listed above"
    } else {
        "perform these actions"
    };
    if !std::io::stdin().is_terminal() {
        return Err(Error::NoTerminal { verb });
    }
    print!(
        "\nDo you want to {verb}?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let _ = std::io::stdout().flush();
    // Read on the blocking pool: the interrupt watcher keeps running meanwhile.
    let answer = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map(|_| answer)
    })
    .await
    .map_err(|e| Error::Prompt(std::io::Error::other(e)))?
    .map_err(Error::Prompt)?;
    if answer.trim() != "yes" {
        return Err(Error::Cancelled { what: what(mode) });
    }
    Ok(())
}

/// Prints errors and the summary; picks the exit code.
fn finish(report: &ApplyReport) -> Exit {
    for e in &report.persist_errors {
        eprintln!("Error: {e}");
    }
    if !report.failures.is_empty() {
        eprintln!();
        for f in &report.failures {
            eprintln!("Error: {}", f.message);
        }
    }
    if report.interrupted {
        eprintln!(
            "\nInterrupted: {} resource operation(s) not started, {} abandoned in flight; state records everything that finished.",
            report.not_started.len(),
            report.abandoned.len()
        );
        for a in &report.abandoned {
            eprintln!(
                "  {a}: abandoned (the next apply adopts whatever it created, or retries it)"
            );
        }
    }
    println!("\n{}", report.summary());
    if report.mode != PlanMode::Destroy && report.ok() && !report.state.outputs.is_empty() {
        print!(
            "\nOutputs:\n\n{}",
            super::output::human(&report.state.outputs)
        );
    }
    if report.interrupted {
        Exit::Interrupted
    } else if report.ok() {
        Exit::Success
    } else {
        Exit::Error
    }
}
