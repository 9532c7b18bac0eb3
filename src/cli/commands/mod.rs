//! One file per command; each turns parsed arguments into an `ops` call and an [`Exit`].

mod fmt;

use super::{Cli, Command, Exit};

pub fn run(cli: &Cli) -> miette::Result<Exit> {
    let g = &cli.global;
    match &cli.command {
        Command::Validate(a) => not_yet("validate", g, a),
        Command::Fmt(a) => fmt::run(g, a),
        Command::Graph(a) => not_yet("graph", g, a),
        Command::Plan(a) => not_yet("plan", g, a),
        Command::Apply(a) => not_yet("apply", g, a),
        Command::Destroy(a) => not_yet("destroy", g, a),
        Command::State(a) => not_yet("state", g, a),
        Command::ForceUnlock(a) => not_yet("force-unlock", g, a),
        Command::Output(a) => not_yet("output", g, a),
    }
}

fn not_yet<T>(name: &str, _g: &super::Global, _a: &T) -> miette::Result<Exit> {
    Err(miette::miette!(
        "`pedestal {name}` is not available in this build yet"
    ))
}
