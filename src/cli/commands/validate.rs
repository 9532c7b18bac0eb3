//! `pedestal validate`: load the spec and print either a success line or every diagnostic.

use std::io::IsTerminal;

use pedestal::ops;
use pedestal::spec::{Diagnostics, LoadOptions, parse_var_arg};

use crate::cli::{EnvArgs, Exit, Global};

/// Width diagnostics are wrapped at.
const WIDTH: usize = 100;

/// Builds load options from `--env`/`--var` and the `PEDESTAL_VAR_*` environment.
pub(crate) fn load_options(args: &EnvArgs) -> miette::Result<LoadOptions> {
    let mut vars = Vec::new();
    for v in &args.vars {
        match parse_var_arg(v) {
            Some(kv) => vars.push(kv),
            None => {
                return Err(miette::miette!(
                    help = "write --var name=value",
                    "invalid --var {v:?}: expected NAME=VALUE"
                ));
            }
        }
    }
    let env_vars = std::env::vars()
        .filter_map(|(k, v)| {
            k.strip_prefix("PEDESTAL_VAR_")
                .filter(|n| !n.is_empty())
                .map(|n| (n.to_string(), v))
        })
        .collect();
    Ok(LoadOptions {
        env: args.env.clone(),
        vars,
        env_vars,
    })
}

/// Prints diagnostics to stderr.
pub(crate) fn print_diagnostics(g: &Global, d: &Diagnostics) {
    let color = g.color() && std::io::stderr().is_terminal();
    eprint!("{}", d.render(color, WIDTH));
}

pub fn run(g: &Global, args: &EnvArgs) -> miette::Result<Exit> {
    let opts = load_options(args)?;
    match ops::validate::validate(&g.dir, &opts) {
        Ok(report) => {
            println!(
                "Success! The configuration is valid. ({} resources from {} blocks, env {})",
                report.resources, report.blocks, report.config.env
            );
            Ok(Exit::Success)
        }
        Err(d) => {
            print_diagnostics(g, &d);
            Ok(Exit::Error)
        }
    }
}
