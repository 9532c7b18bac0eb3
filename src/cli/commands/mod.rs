//! One file per command; each turns parsed arguments into an `ops` call and an [`Exit`], or an
//! [`Error`] that `cli::main` renders.

mod apply;
mod destroy;
mod fmt;
mod force_unlock;
mod graph;
mod import;
mod output;
pub(crate) mod plan;
mod releases;
mod rollback;
mod state;
mod status;
mod validate;

use std::collections::BTreeMap;
use std::time::Duration;

use pedestal::ops::state::StateRequest;
use pedestal::spec::LoadOptions;

use super::{Cli, Command, EnvArgs, Error, Exit};

pub async fn run(cli: &Cli) -> Result<Exit, Error> {
    let g = &cli.global;
    match &cli.command {
        Command::Validate(a) => validate::run(g, a),
        Command::Fmt(a) => fmt::run(g, a),
        Command::Graph(a) => graph::run(g, a),
        Command::Plan(a) => plan::run(g, a).await,
        Command::Apply(a) => apply::run(g, a).await,
        Command::Destroy(a) => destroy::run(g, a).await,
        Command::State(a) => state::run(g, a),
        Command::ForceUnlock(a) => force_unlock::run(g, a),
        Command::Output(a) => output::run(g, a),
        Command::Import(a) => import::run(g, a).await,
        Command::Releases(a) => releases::run(g, a),
        Command::Rollback(a) => rollback::run(g, a).await,
        Command::Status(a) => status::run(g, a).await,
    }
}

/// The `--var` values, by name (a later one wins).
pub(crate) fn vars(env: &EnvArgs) -> Result<BTreeMap<String, String>, Error> {
    Ok(pedestal::spec::parse_var_args(&env.vars)?)
}

/// Load options from `--env`, `--var` and the `PEDESTAL_VAR_*` environment.
pub(crate) fn load_options(env: &EnvArgs) -> Result<LoadOptions, Error> {
    Ok(LoadOptions::with_inputs(&env.env, &vars(env)?))
}

/// The stack and environment a state command acts on (no waiting for the lock).
pub(crate) fn state_request(env: &EnvArgs) -> Result<StateRequest, Error> {
    Ok(StateRequest {
        env: env.env.clone(),
        vars: vars(env)?,
        lock_timeout: Duration::ZERO,
    })
}
