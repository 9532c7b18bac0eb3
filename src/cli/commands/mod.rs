//! One file per command; each turns parsed arguments into an `ops` call and an [`Exit`].

mod apply;
mod destroy;
mod fmt;
mod force_unlock;
mod graph;
mod import;
mod output;
pub(crate) mod plan;
mod state;
mod validate;

use super::{Cli, Command, Exit};

pub fn run(cli: &Cli) -> miette::Result<Exit> {
    let g = &cli.global;
    match &cli.command {
        Command::Validate(a) => validate::run(g, a),
        Command::Fmt(a) => fmt::run(g, a),
        Command::Graph(a) => graph::run(g, a),
        Command::Plan(a) => plan::run(g, a),
        Command::Apply(a) => apply::run(g, a),
        Command::Destroy(a) => destroy::run(g, a),
        Command::State(a) => state::run(g, a),
        Command::ForceUnlock(a) => force_unlock::run(g, a),
        Command::Output(a) => output::run(g, a),
        Command::Import(a) => import::run(g, a),
    }
}

/// Turns a workflow error into a report for the terminal.
pub(crate) fn report(e: pedestal::ops::OpsError) -> miette::Report {
    miette::miette!("{e}")
}
