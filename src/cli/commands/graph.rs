//! `pedestal graph`: print the resource dependency graph as DOT or Mermaid.

use pedestal::ops;
use pedestal::ops::graph::GraphFormat as OpsFormat;

use super::validate::{load_options, print_diagnostics};
use crate::cli::{Exit, Global, GraphArgs, GraphFormat};

pub fn run(g: &Global, args: &GraphArgs) -> miette::Result<Exit> {
    let opts = load_options(&args.env)?;
    let format = match args.format {
        GraphFormat::Dot => OpsFormat::Dot,
        GraphFormat::Mermaid => OpsFormat::Mermaid,
    };
    match ops::graph::graph(&g.dir, &opts, format) {
        Ok(text) => {
            print!("{text}");
            Ok(Exit::Success)
        }
        Err(d) => {
            print_diagnostics(g, &d);
            Ok(Exit::Error)
        }
    }
}
