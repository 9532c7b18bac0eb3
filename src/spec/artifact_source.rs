//! Where an artifact may come from: a regular file or a directory under the stack directory,
//! or under an absolute root allow-listed in `[provider.aws] artifact_roots`. Never the stack's
//! own spec, environment or state files (nor `.pedestal/` or `.git/`), never a device, FIFO or
//! socket: each path's type is checked with `symlink_metadata` before anything is opened, and a
//! symbolic link is resolved and checked again (confinement, protection and type) as if it had
//! been written as its target.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// Why an artifact source is refused.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Nothing at the path.
    #[error("does not exist")]
    NotFound,
    /// The path (or a link in it) leads outside every allowed root.
    #[error("{shown} is outside the stack directory")]
    Escapes {
        /// The resolved path.
        shown: String,
    },
    /// The path is, or holds, one of the stack's own files.
    #[error("{shown} is the stack's own {what}")]
    Protected {
        /// The protected path.
        shown: String,
        /// What it is (`spec file`, `state`, ...).
        what: &'static str,
    },
    /// Not a regular file or directory.
    #[error("{shown} is a {kind}, not a regular file or directory")]
    NotRegular {
        /// The path.
        shown: String,
        /// `FIFO`, `socket`, `character device`, ...
        kind: FileKind,
    },
    /// Hashing was stopped (Ctrl-C) before the source was read to its end.
    #[error("hashing was cancelled")]
    Cancelled,
    /// Any other failure to read the source.
    #[error("cannot be read: {0}")]
    Io(#[from] std::io::Error),
}

impl From<crate::spec::digest_cache::HashError> for SourceError {
    fn from(e: crate::spec::digest_cache::HashError) -> Self {
        match e {
            crate::spec::digest_cache::HashError::Cancelled => SourceError::Cancelled,
            crate::spec::digest_cache::HashError::Io(io) => SourceError::Io(io),
        }
    }
}

/// The type of a file that is not a regular file or directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character device (`/dev/zero`).
    CharDevice,
    /// A block device.
    BlockDevice,
    /// Anything else.
    Other,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Fifo => "FIFO",
            FileKind::Socket => "socket",
            FileKind::CharDevice => "character device",
            FileKind::BlockDevice => "block device",
            FileKind::Other => "special file",
        })
    }
}

#[cfg(unix)]
fn special_kind(t: std::fs::FileType) -> FileKind {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        FileKind::Fifo
    } else if t.is_socket() {
        FileKind::Socket
    } else if t.is_char_device() {
        FileKind::CharDevice
    } else if t.is_block_device() {
        FileKind::BlockDevice
    } else {
        FileKind::Other
    }
}

#[cfg(not(unix))]
fn special_kind(_t: std::fs::FileType) -> FileKind {
    FileKind::Other
}

/// What an artifact source may read: the allowed roots and the stack's own files.
#[derive(Debug, Clone)]
pub struct Confinement {
    /// Canonical allowed roots (the stack directory first).
    roots: Vec<PathBuf>,
    /// Canonical paths of the stack's own files and directories, with what each is.
    protected: BTreeMap<PathBuf, &'static str>,
}

/// A checked source: a regular file, or a directory's regular files by relative path.
#[derive(Debug)]
pub enum Checked {
    /// One regular file (canonical path).
    File(PathBuf),
    /// A directory: relative path → canonical path of each regular file in it.
    Dir(BTreeMap<String, PathBuf>),
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.to_path_buf()))
}

impl Confinement {
    /// The stack in `root`, with extra absolute `roots` allowed and the stack's own files
    /// (`pedestal.toml`, `env/`, `state/`, `.pedestal/`, `.git/`, the local state file and
    /// every spec file read, by path relative to `root`) protected.
    pub fn new(root: &Path, roots: &[PathBuf], spec_files: &[PathBuf]) -> Confinement {
        let root = canonical(root);
        let mut protected = BTreeMap::new();
        for (rel, what) in [
            ("pedestal.toml", "spec file"),
            ("env", "environment files"),
            ("state", "state"),
            (".pedestal", "working directory"),
            (".git", "repository"),
        ] {
            protected.insert(root.join(rel), what);
        }
        for f in spec_files {
            protected.insert(canonical(&root.join(f)), "spec file");
        }
        let mut all = vec![root];
        all.extend(roots.iter().map(|r| canonical(r)));
        Confinement {
            roots: all,
            protected,
        }
    }

    /// Protects one more path (relative to the stack directory, or absolute).
    pub fn protect(&mut self, path: &Path, what: &'static str) {
        let p = canonical(&self.roots[0].join(path));
        self.protected.insert(p, what);
    }

    /// A path for messages: relative to the stack directory when inside it.
    fn shown(&self, p: &Path) -> String {
        match p.strip_prefix(&self.roots[0]) {
            Ok(rel) if rel.as_os_str().is_empty() => "the stack directory".to_string(),
            Ok(rel) => rel.display().to_string(),
            Err(_) => p.display().to_string(),
        }
    }

    /// Checks a resolved (canonical) path against the roots and the protected files.
    fn confine(&self, p: &Path) -> Result<(), SourceError> {
        if !self.roots.iter().any(|r| p.starts_with(r)) {
            return Err(SourceError::Escapes {
                shown: self.shown(p),
            });
        }
        for (q, what) in &self.protected {
            // The source is a protected path, lies inside one, or holds one.
            if p.starts_with(q) || q.starts_with(p) {
                return Err(SourceError::Protected {
                    shown: self.shown(q),
                    what,
                });
            }
        }
        Ok(())
    }

    /// Checks `src` (relative to the stack directory, or absolute): its type before anything
    /// is opened, links resolved and checked again, and for a directory every entry in it.
    pub fn check(&self, src: &str) -> Result<Checked, SourceError> {
        let written = self.roots[0].join(src);
        let meta = match std::fs::symlink_metadata(&written) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SourceError::NotFound);
            }
            Err(e) => return Err(e.into()),
        };
        let resolved = std::fs::canonicalize(&written)?;
        self.confine(&resolved)?;
        // A link is checked as its target.
        let meta = if meta.file_type().is_symlink() {
            std::fs::metadata(&resolved)?
        } else {
            meta
        };
        if meta.is_file() {
            return Ok(Checked::File(resolved));
        }
        if meta.is_dir() {
            let mut out = BTreeMap::new();
            let mut seen = BTreeSet::from([resolved.clone()]);
            self.walk(&resolved, "", &mut out, &mut seen)?;
            return Ok(Checked::Dir(out));
        }
        Err(SourceError::NotRegular {
            shown: self.shown(&resolved),
            kind: special_kind(meta.file_type()),
        })
    }

    fn walk(
        &self,
        dir: &Path,
        rel: &str,
        out: &mut BTreeMap<String, PathBuf>,
        seen: &mut BTreeSet<PathBuf>,
    ) -> Result<(), SourceError> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let rel_name = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let path = e.path();
            let meta = std::fs::symlink_metadata(&path)?;
            let (path, meta) = if meta.file_type().is_symlink() {
                let target = std::fs::canonicalize(&path)?;
                self.confine(&target)?;
                let m = std::fs::metadata(&target)?;
                (target, m)
            } else {
                self.confine(&path)?;
                (path, meta)
            };
            if meta.is_dir() {
                // A link back up the tree is walked once.
                if seen.insert(path.clone()) {
                    self.walk(&path, &rel_name, out, seen)?;
                }
            } else if meta.is_file() {
                out.insert(rel_name, path);
            } else {
                return Err(SourceError::NotRegular {
                    shown: self.shown(&path),
                    kind: special_kind(meta.file_type()),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, t) in [
            ("pedestal.toml", "x"),
            ("env/dev.toml", "x"),
            ("state/dev.json", "{}"),
            ("models/a.bin", "a"),
            ("models/sub/b.bin", "b"),
        ] {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        }
        d
    }

    #[test]
    fn files_and_directories_under_the_stack_are_allowed() {
        let d = stack();
        let c = Confinement::new(d.path(), &[], &[]);
        assert!(matches!(c.check("models/a.bin"), Ok(Checked::File(_))));
        match c.check("models") {
            Ok(Checked::Dir(files)) => {
                assert_eq!(files.keys().collect::<Vec<_>>(), ["a.bin", "sub/b.bin"])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_stack_itself_and_its_own_files_are_refused() {
        let d = stack();
        let c = Confinement::new(d.path(), &[], &[]);
        for src in [
            "",
            ".",
            "pedestal.toml",
            "env",
            "env/dev.toml",
            "state/dev.json",
        ] {
            assert!(
                matches!(c.check(src), Err(SourceError::Protected { .. })),
                "{src:?}: {:?}",
                c.check(src)
            );
        }
    }

    #[test]
    fn paths_outside_the_stack_are_refused_unless_allowed() {
        let d = stack();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("m.bin"), "m").unwrap();
        let c = Confinement::new(d.path(), &[], &[]);
        let abs = outside.path().join("m.bin");
        assert!(matches!(
            c.check(abs.to_str().unwrap()),
            Err(SourceError::Escapes { .. })
        ));
        assert!(matches!(
            c.check("../../../etc/hostname"),
            Err(SourceError::Escapes { .. }) | Err(SourceError::NotFound)
        ));
        let allowed = Confinement::new(d.path(), &[outside.path().to_path_buf()], &[]);
        assert!(matches!(
            allowed.check(abs.to_str().unwrap()),
            Ok(Checked::File(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_resolved_and_checked_again() {
        let d = stack();
        let c = Confinement::new(d.path(), &[], &[]);
        std::os::unix::fs::symlink("/etc/passwd", d.path().join("models/passwd")).unwrap();
        assert!(matches!(
            c.check("models/passwd"),
            Err(SourceError::Escapes { .. })
        ));
        assert!(matches!(
            c.check("models"),
            Err(SourceError::Escapes { .. })
        ));
        std::fs::remove_file(d.path().join("models/passwd")).unwrap();
        std::os::unix::fs::symlink(
            d.path().join("state/dev.json"),
            d.path().join("models/state.json"),
        )
        .unwrap();
        assert!(matches!(
            c.check("models"),
            Err(SourceError::Protected { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_before_opening() {
        let d = stack();
        let c = Confinement::new(d.path(), &[PathBuf::from("/dev")], &[]);
        assert!(matches!(
            c.check("/dev/zero"),
            Err(SourceError::NotRegular {
                kind: FileKind::CharDevice,
                ..
            })
        ));
        let fifo = d.path().join("models/pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        assert!(matches!(
            c.check("models/pipe"),
            Err(SourceError::NotRegular {
                kind: FileKind::Fifo,
                ..
            })
        ));
        assert!(matches!(
            c.check("models"),
            Err(SourceError::NotRegular { .. })
        ));
    }
}
