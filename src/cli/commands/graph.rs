//! `pedestal graph`: print the resource dependency graph as DOT or Mermaid.

use pedestal::ops;
use pedestal::ops::graph::GraphFormat as OpsFormat;

use super::load_options;
use crate::cli::{Error, Exit, Global, GraphArgs, GraphFormat};

pub fn run(g: &Global, args: &GraphArgs) -> Result<Exit, Error> {
    let opts = load_options(&args.env)?;
    let format = match args.format {
        GraphFormat::Dot => OpsFormat::Dot,
        GraphFormat::Mermaid => OpsFormat::Mermaid,
    };
    print!("{}", ops::graph::graph(&g.dir, &opts, format)?);
    Ok(Exit::Success)
}
