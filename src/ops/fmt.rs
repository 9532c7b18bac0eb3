//! `pedestal fmt`: bring a stack's spec files into canonical form, or, with `--check`, report
//! which are not (with a unified diff) and change nothing.

use std::path::{Path, PathBuf};

use crate::spec::fmt::{FmtError, format_str, stack_files};

/// One file whose canonical form differs from what is on disk.
#[derive(Debug)]
pub struct FmtChange {
    /// The file.
    pub path: PathBuf,
    /// Unified diff from the file to its canonical form.
    pub diff: String,
}

/// Formats `pedestal.toml` and `env/*.toml` of the stack in `dir`. With `check`, nothing is
/// written. Returns the files that were (or would be) changed. A file that does not parse is an
/// error and no file is written.
pub fn run(dir: &Path, check: bool) -> Result<Vec<FmtChange>, FmtError> {
    let mut pending = Vec::new();
    for path in stack_files(dir)? {
        if !path.exists() && path.file_name().is_some_and(|n| n == "pedestal.toml") {
            return Err(FmtError::Io {
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no pedestal.toml in this directory (use -C DIR to point at a stack)",
                ),
            });
        }
        let src = std::fs::read_to_string(&path).map_err(|source| FmtError::Io {
            path: path.clone(),
            source,
        })?;
        let formatted = format_str(&path, &src)?;
        if formatted != src {
            let shown = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            let diff = similar::TextDiff::from_lines(&src, &formatted)
                .unified_diff()
                .header(&shown, &format!("{shown} (formatted)"))
                .to_string();
            pending.push((path, formatted, diff));
        }
    }
    let mut changes = Vec::new();
    for (path, formatted, diff) in pending {
        if !check {
            std::fs::write(&path, formatted).map_err(|source| FmtError::Io {
                path: path.clone(),
                source,
            })?;
        }
        changes.push(FmtChange { path, diff });
    }
    Ok(changes)
}
