//! `pedestal fmt [--check]`.

use crate::cli::{Error, Exit, FmtArgs, Global};

pub fn run(g: &Global, args: &FmtArgs) -> Result<Exit, Error> {
    let changes = pedestal::ops::fmt::run(&g.dir, args.check)?;
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
