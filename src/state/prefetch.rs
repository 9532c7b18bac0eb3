//! Reading a local state snapshot ahead of the lock, on another thread, while the spec loads:
//! [`Prefetch`]. The read is only a guess at what the locked read would find. It is kept
//! only when, with the lock held, the snapshot file is still the very file that was read, so the
//! state a run works from is always the one on disk under its lock.
//!
//! Why the check suffices: pedestal never changes a snapshot in place. Every write makes a new
//! file and renames it over the old one, so a write made after the read ahead leaves another
//! file (another inode) at the path. The file read is held open until the check, so its inode
//! cannot be reused meanwhile; its size and modification and change times catch edits made in
//! place by other tools, except an edit of the same size within the file system's timestamp
//! granularity. So a file modified shortly before it was read (as git's index calls it,
//! "racily clean") is compared byte for byte with what is on disk instead. The journal, which is
//! appended to in place, is never read ahead: it is read under the lock and replayed over the
//! snapshot as on every read.

use std::fs::{self, File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::{SystemTime, UNIX_EPOCH};

use super::State;

/// A snapshot being read ahead of the lock (see the module's doc); a store's
/// [`read_prefetched`](super::StateStore::read_prefetched) keeps it when it is still current.
#[derive(Debug, Default)]
pub struct Prefetch {
    reading: Option<Receiver<Option<Prefetched>>>,
}

/// A snapshot read ahead of the lock, parsed but not yet checked for its stack and env.
#[derive(Debug)]
pub(crate) struct Prefetched {
    path: PathBuf,
    /// Held open until the check so that its inode is not reused meanwhile.
    _file: File,
    stamp: Stamp,
    /// The text read, kept only when the file was modified too recently for its stamp to tell
    /// a later edit from none.
    racy: Option<String>,
    pub(crate) state: State,
}

/// What identifies one version of a file.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Prefetch {
    /// Starts reading the snapshot at `path` on another thread: a worker of the current
    /// runtime when it has workers (the CLI's), otherwise a thread of its own. The CLI's
    /// runtime worker has nothing else to do meanwhile but watch for Ctrl-C, and reading on it
    /// saves starting a thread, and the fresh memory a new thread's first allocation touches:
    /// a 10,000-resource plan's median went from 0.1008 to 0.0895 s and from 0.1021 to
    /// 0.0967 s (interleaved runs, 30 each). A file that is missing, unreadable or does not
    /// parse gives nothing: the locked read then reads it (and reports what is wrong with it)
    /// as it would have without the read ahead.
    pub fn start(path: PathBuf) -> Prefetch {
        let (send, reading) = sync_channel(1);
        let read = move || {
            let _ = send.send(read_ahead(path));
        };
        let started = match tokio::runtime::Handle::try_current() {
            Ok(rt) if rt.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                drop(rt.spawn(async move { read() }));
                true
            }
            _ => std::thread::Builder::new()
                .name("state-read-ahead".into())
                .spawn(read)
                .is_ok(),
        };
        Prefetch {
            reading: started.then_some(reading),
        }
    }

    /// The snapshot read ahead, when it is still the file at `path`; waits for the read.
    pub(crate) fn take(self, path: &Path) -> Option<Prefetched> {
        let read = self.reading?.recv().ok()??;
        if read.path != path {
            return None;
        }
        let now = stamp(&fs::metadata(path).ok()?)?;
        if now != read.stamp {
            return None;
        }
        match &read.racy {
            Some(text) => (fs::read(path).ok()? == text.as_bytes()).then_some(read),
            None => Some(read),
        }
    }
}

/// How many seconds before a read a change makes a file's stamp untrustworthy: more than any
/// file system's timestamp granularity (FAT's is 2 s).
const RACY: u64 = 3;

fn read_ahead(path: PathBuf) -> Option<Prefetched> {
    #[cfg(test)]
    tests::note_thread(&path);
    let mut file = File::open(&path).ok()?;
    // Stamped before reading, so a change made during the read shows at the check.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    let stamp = stamp(&file.metadata().ok()?)?;
    // The change time, which no tool can set back, unlike the modification time.
    let racy = u64::try_from(stamp.changed.0).map_or(true, |secs| secs + RACY >= now.as_secs());
    let mut text = String::with_capacity(usize::try_from(stamp.len).ok()? + 1);
    file.read_to_string(&mut text).ok()?;
    let state = super::parse_snapshot(&text).ok()?;
    Some(Prefetched {
        path,
        _file: file,
        stamp,
        racy: racy.then_some(text),
        state,
    })
}

#[cfg(unix)]
fn stamp(m: &Metadata) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    Some(Stamp {
        dev: m.dev(),
        ino: m.ino(),
        len: m.len(),
        modified: (m.mtime(), m.mtime_nsec()),
        changed: (m.ctime(), m.ctime_nsec()),
    })
}

/// Without inode numbers a file's identity cannot be checked: nothing read ahead is kept.
#[cfg(not(unix))]
fn stamp(_: &Metadata) -> Option<Stamp> {
    None
}

#[cfg(test)]
mod tests {
    //! A snapshot read ahead is used only while it is the file on disk; the locked read gives
    //! the same state, and the same errors, with or without it.

    use std::io::Write;

    use super::*;
    use crate::state::{LocalStore, StateError, StateStore};

    /// The thread each read ahead ran on, by the path it read.
    static THREADS: std::sync::Mutex<Vec<(PathBuf, Option<String>)>> =
        std::sync::Mutex::new(Vec::new());

    pub(super) fn note_thread(path: &Path) {
        let name = std::thread::current().name().map(str::to_string);
        THREADS.lock().unwrap().push((path.to_path_buf(), name));
    }

    fn thread_of(path: &Path) -> Option<String> {
        let threads = THREADS.lock().unwrap();
        let (_, name) = threads.iter().rev().find(|(p, _)| p == path).expect("read");
        name.clone()
    }

    /// A read ahead that has finished by the time this returns.
    fn read_now(path: &Path) -> Prefetch {
        let (send, reading) = sync_channel(1);
        send.send(read_ahead(path.to_path_buf())).unwrap();
        Prefetch {
            reading: Some(reading),
        }
    }

    fn written(dir: &Path) -> (PathBuf, LocalStore) {
        let path = dir.join("state/dev.json");
        let store = LocalStore::new(&path, "s", "dev");
        store.write(&State::new("s", "dev")).unwrap();
        (path, store)
    }

    #[test]
    fn an_unchanged_snapshot_read_ahead_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let (path, store) = written(dir.path());
        let ahead = Prefetch::start(path.clone())
            .take(&path)
            .expect("read ahead");
        let read = store.read().unwrap().unwrap();
        assert_eq!(ahead.state, read);
        let via = store
            .read_prefetched(Prefetch::start(path.clone()))
            .unwrap();
        assert_eq!(via, Some(read));
    }

    #[test]
    fn under_a_runtime_with_workers_the_read_runs_on_a_worker_and_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let (path, store) = written(dir.path());
        let read = store.read().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("test-worker")
            .build()
            .unwrap();
        // Started and taken on the thread that runs the runtime, as the CLI does.
        let ahead = rt.block_on(async { Prefetch::start(path.clone()) });
        assert_eq!(store.read_prefetched(ahead).unwrap(), read);
        assert_eq!(thread_of(&path).as_deref(), Some("test-worker"));
        // Started and taken on the only worker itself: taking it through `block_in_place` (as
        // `ops::blocking_here` does) lets the queued read run instead of waiting for itself.
        let (on_worker, store) = (path.clone(), std::sync::Arc::new(store));
        let via = rt.block_on(async move {
            tokio::spawn(async move {
                let ahead = Prefetch::start(on_worker);
                tokio::task::block_in_place(|| store.read_prefetched(ahead))
            })
            .await
            .unwrap()
        });
        assert_eq!(via.unwrap(), read);
        // Without a runtime, a thread of its own.
        let other = dir.path().join("state/copy.json");
        fs::copy(&path, &other).unwrap();
        assert!(Prefetch::start(other.clone()).take(&other).is_some());
        assert_eq!(thread_of(&other).as_deref(), Some("state-read-ahead"));
    }

    #[test]
    fn a_snapshot_rewritten_or_edited_after_the_read_ahead_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let (path, store) = written(dir.path());
        let stale = read_now(&path);
        let mut state = store.read().unwrap().unwrap();
        state
            .outputs
            .insert("x".into(), crate::resource::Value::Int(1));
        store.write(&state).unwrap();
        let current = store.read().unwrap();
        assert_eq!(store.read_prefetched(stale).unwrap(), current);

        // Edited in place, same size, within the timestamps' granularity.
        let ahead = read_now(&path);
        let text = fs::read_to_string(&path)
            .unwrap()
            .replace("\"x\": 1", "\"x\": 2");
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        assert!(ahead.take(&path).is_none(), "the edit is seen");
        let read = store.read_prefetched(read_now(&path)).unwrap();
        assert_eq!(read.unwrap().outputs["x"], crate::resource::Value::Int(2));
    }

    #[test]
    fn a_read_ahead_of_another_file_or_of_nothing_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let (path, store) = written(dir.path());
        let other = dir.path().join("state/other.json");
        fs::copy(&path, &other).unwrap();
        assert!(Prefetch::start(other).take(&path).is_none());
        assert!(
            Prefetch::start(dir.path().join("none.json"))
                .take(&path)
                .is_none()
        );
        assert!(Prefetch::default().take(&path).is_none());
        assert!(
            store
                .read_prefetched(Prefetch::default())
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn a_foreign_snapshot_read_ahead_is_refused_as_the_locked_read_refuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = written(dir.path());
        let prod = LocalStore::new(&path, "s", "prod");
        let direct = prod.read().unwrap_err().to_string();
        let ahead = prod.read_prefetched(read_now(&path));
        assert!(matches!(ahead, Err(StateError::Foreign { .. })));
        assert_eq!(ahead.unwrap_err().to_string(), direct);
    }
}
