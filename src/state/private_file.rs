//! The one way pedestal writes a private file (state snapshots, backups, saved plans, lock
//! files): a temporary file created with mode 0600 in the target's directory, written and
//! fsynced, then moved into place and the directory fsynced. A crash leaves the old file or the
//! new one, never half of one, and the contents are never readable by others, not even briefly.
//! Lock files are made the same way minus the fsyncs ([`create_exclusive`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What to do when the target already exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Replace it (snapshots, backups, plan files).
    Replace,
    /// Fail with [`io::ErrorKind::AlreadyExists`] and leave it untouched (lock files).
    Keep,
}

/// Writes `bytes` to `path` atomically with mode 0600, creating the parent directory.
pub(crate) fn write_private(path: &Path, bytes: &[u8], existing: Existing) -> io::Result<()> {
    let dir = parent_dir(path);
    fs::create_dir_all(&dir)?;
    let tmp = temp_path(&dir, path);
    let written = write_temp(&tmp, bytes).and_then(|()| match existing {
        Existing::Replace => fs::rename(&tmp, path),
        // A hard link fails when the target exists, so the check and the creation are one step.
        Existing::Keep => fs::hard_link(&tmp, path).and_then(|()| fs::remove_file(&tmp)),
    });
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_dir(&dir)
}

/// Creates `path` with `bytes` and mode 0600 (and its parent directory), failing with
/// [`io::ErrorKind::AlreadyExists`] when it exists; for lock files. Like [`write_private`] the
/// file appears whole (linked into place from a temporary file), but nothing is fsynced: a lock
/// needs no durability. After a crash the lock file is either lost (and the lock with it, which
/// is harmless: its holder is gone) or left behind stale, which `force-unlock` releases, just as
/// a lock left by a crash after a durable create would be. Mutual exclusion rests on the link
/// failing when the file exists, which holds whether or not anything reached the disk.
pub(crate) fn create_exclusive(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    fs::create_dir_all(&dir)?;
    let tmp = temp_path(&dir, path);
    let created = private_options()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    created
}

/// Fsyncs a directory so a rename or removal in it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Options that create files readable and writable by their owner only.
pub(crate) fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

fn write_temp(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = private_options().write(true).create_new(true).open(tmp)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// `.<name>.tmp-<pid>-<n>` next to the target: unique per process and per write.
fn temp_path(dir: &Path, target: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_with_mode_0600_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        write_private(&path, b"one", Existing::Replace).unwrap();
        write_private(&path, b"two", Existing::Replace).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(entries(&dir.path().join("sub")), vec!["state.json"]);
    }

    #[test]
    fn keep_refuses_an_existing_file_and_leaves_it_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json.lock");
        write_private(&path, b"first", Existing::Keep).unwrap();
        let err = write_private(&path, b"second", Existing::Keep).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert_eq!(entries(dir.path()), vec!["state.json.lock"]);
    }

    #[test]
    fn create_exclusive_refuses_an_existing_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/state.json.lock");
        create_exclusive(&path, b"first").unwrap();
        let err = create_exclusive(&path, b"second").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"first");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(entries(&dir.path().join("locks")), vec!["state.json.lock"]);
    }
}
