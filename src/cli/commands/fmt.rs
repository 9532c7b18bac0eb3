//! `pedestal fmt [--check]`.

use crate::cli::{Exit, FmtArgs, Global};

pub fn run(g: &Global, args: &FmtArgs) -> miette::Result<Exit> {
    let changes =
        pedestal::ops::fmt::run(&g.dir, args.check).map_err(|e| miette::miette!("{e}"))?;
    for c in &changes {
        if args.check {
            print!("{}", c.diff);
        } else {
            println!("{}", c.path.display());
        }
    }
    if args.check && !changes.is_empty() {
        eprintln!(
            "{} file(s) are not in canonical form; run `pedestal fmt` to rewrite them.",
            changes.len()
        );
        return Ok(Exit::FmtDiff);
    }
    Ok(Exit::Success)
}
