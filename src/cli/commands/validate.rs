//! `pedestal validate`: load the spec and print either a success line or every diagnostic.

use pedestal::ops;

use super::load_options;
use crate::cli::{EnvArgs, Error, Exit, Global};

pub fn run(g: &Global, args: &EnvArgs) -> Result<Exit, Error> {
    let report = ops::validate::validate(&g.dir, &load_options(args)?)?;
    println!(
        "Success! The configuration is valid. ({} resources from {} blocks, env {})",
        report.resources, report.blocks, report.config.env
    );
    // The process ends right after: freeing every resource one by one would only cost time.
    std::mem::forget(report);
    Ok(Exit::Success)
}
