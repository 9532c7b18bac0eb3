//! The local backend: `state/<env>.json` next to `pedestal.toml` (or wherever `[backend] path`
//! points), with `<state>.journal` (appended entries since the last snapshot), `<state>.backup`
//! (the previous version) and `<state>.lock` (the lock file). All files are mode 0600.
//!
//! Snapshot writes go through a temporary file in the same directory: write, fsync, rename over
//! the old file, fsync the directory. Journal lines carry the lineage and serial of the snapshot
//! they extend, so lines left over by an interrupted compaction are recognised and skipped, and
//! a line torn by a crash mid-append is dropped.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::journal::JournalLine;
use super::prefetch::Prefetched;
use super::private_file::{
    Existing, create_exclusive, parent_dir, private_options, sync_dir, write_private,
};
use super::store::retry_lock;
use super::{
    FORMAT_VERSION, JournalEntry, LockGuard, LockInfo, Prefetch, State, StateError, StateStore,
};

/// State in a local JSON file.
#[derive(Debug)]
pub struct LocalStore {
    path: PathBuf,
    stack: String,
    env: String,
    /// Lineage and serial of the snapshot on disk, and whether the journal's tail was checked
    /// for a torn line; filled by the first read or write.
    cache: Mutex<Option<Snapshot>>,
}

#[derive(Clone, Debug)]
struct Snapshot {
    lineage: String,
    serial: u64,
    tail_checked: bool,
}

/// What loading the files found.
struct Loaded {
    state: Option<State>,
    snapshot: Option<(String, u64)>,
    /// Bytes of the journal up to the last complete line.
    journal_valid_len: u64,
    journal_len: u64,
}

impl LocalStore {
    /// A store for `path`, holding the state of `stack` / `env` (anything else is refused).
    pub fn new(path: impl Into<PathBuf>, stack: &str, env: &str) -> LocalStore {
        LocalStore {
            path: path.into(),
            stack: stack.to_string(),
            env: env.to_string(),
            cache: Mutex::new(None),
        }
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut s = self.path.clone().into_os_string();
        s.push(suffix);
        PathBuf::from(s)
    }

    /// The journal file next to it (`<state>.journal`).
    pub fn journal_path(&self) -> PathBuf {
        self.sibling(".journal")
    }

    /// The previous version of the state file (`<state>.backup`).
    pub fn backup_path(&self) -> PathBuf {
        self.sibling(".backup")
    }

    /// The lock file (`<state>.lock`).
    pub fn lock_path(&self) -> PathBuf {
        self.sibling(".lock")
    }

    fn io(&self, action: &'static str, path: &Path, source: std::io::Error) -> StateError {
        StateError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    fn corrupt(&self, path: &Path, message: impl Into<String>) -> StateError {
        StateError::Corrupt {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    fn parse_snapshot(&self, text: &str) -> Result<State, StateError> {
        super::store::parse_state(text, &self.path, &self.stack, &self.env)
    }

    /// The snapshot (the one read `ahead` of the lock when given) with the journal replayed.
    fn load(&self, ahead: Option<Prefetched>) -> Result<Loaded, StateError> {
        let mut state = match ahead {
            Some(read) => Some(super::store::check_state(
                read.state,
                &self.path,
                &self.stack,
                &self.env,
            )?),
            None => self.read_snapshot()?,
        };
        let snapshot = state.as_ref().map(|s| (s.lineage.clone(), s.serial));
        let journal_path = self.journal_path();
        let journal = match fs::read(&journal_path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(self.io("read", &journal_path, e)),
        };
        let mut valid_len = 0u64;
        let mut rest = &journal[..];
        while !rest.is_empty() {
            let Some(nl) = rest.iter().position(|b| *b == b'\n') else {
                // A line torn by a crash mid-append: never acknowledged, so dropped.
                break;
            };
            let line = &rest[..nl];
            rest = &rest[nl + 1..];
            valid_len += nl as u64 + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let parsed: JournalLine = serde_json::from_slice(line).map_err(|e| {
                self.corrupt(
                    &journal_path,
                    format!("journal line at byte {valid_len}: {e}"),
                )
            })?;
            match (&mut state, &snapshot) {
                (Some(st), Some((lineage, serial)))
                    if &parsed.lineage == lineage && parsed.base_serial == *serial =>
                {
                    st.apply_entry(&parsed.entry);
                }
                // Left over from a snapshot that has since been replaced: already included.
                _ => {}
            }
        }
        Ok(Loaded {
            state,
            snapshot,
            journal_valid_len: valid_len,
            journal_len: journal.len() as u64,
        })
    }

    fn read_snapshot(&self) -> Result<Option<State>, StateError> {
        match fs::read_to_string(&self.path) {
            Ok(t) => Ok(Some(self.parse_snapshot(&t)?)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io("read", &self.path, e)),
        }
    }

    /// Reads the state (see [`StateStore::read`]), from the snapshot read `ahead` when given.
    fn read_with(&self, ahead: Option<Prefetched>) -> Result<Option<State>, StateError> {
        let loaded = self.load(ahead)?;
        if let Some((lineage, serial)) = &loaded.snapshot {
            let checked = loaded.journal_valid_len == loaded.journal_len;
            self.remember(lineage, *serial, checked);
        }
        Ok(loaded.state)
    }

    /// Writes `contents` to `target` atomically (see [`write_private`]).
    fn write_atomic(&self, target: &Path, contents: &[u8]) -> Result<(), StateError> {
        write_private(target, contents, Existing::Replace).map_err(|e| self.io("write", target, e))
    }

    fn remember(&self, lineage: &str, serial: u64, tail_checked: bool) {
        if let Ok(mut c) = self.cache.lock() {
            *c = Some(Snapshot {
                lineage: lineage.to_string(),
                serial,
                tail_checked,
            });
        }
    }

    fn cached(&self) -> Option<Snapshot> {
        self.cache.lock().ok().and_then(|c| c.clone())
    }
}

impl StateStore for LocalStore {
    fn read(&self) -> Result<Option<State>, StateError> {
        self.read_with(None)
    }

    fn read_prefetched(&self, prefetch: Prefetch) -> Result<Option<State>, StateError> {
        self.read_with(prefetch.take(&self.path))
    }

    fn write(&self, state: &State) -> Result<(), StateError> {
        if state.stack != self.stack || state.env != self.env {
            return Err(StateError::Foreign {
                path: self.path.clone(),
                found_stack: state.stack.clone(),
                found_env: state.env.clone(),
                stack: self.stack.clone(),
                env: self.env.clone(),
            });
        }
        let current = self.load(None)?.state;
        let mut next = state.clone();
        next.format_version = FORMAT_VERSION;
        if let Some(cur) = &current {
            if cur.lineage != state.lineage {
                return Err(StateError::LineageMismatch {
                    path: self.path.clone(),
                    stored: cur.lineage.clone(),
                    writing: state.lineage.clone(),
                });
            }
            next.serial = state.serial.max(cur.serial) + 1;
            let backup =
                super::state_to_string(cur).map_err(|e| self.corrupt(&self.path, e.to_string()))?;
            self.write_atomic(&self.backup_path(), backup.as_bytes())?;
        } else {
            next.serial = state.serial + 1;
        }
        let text =
            super::state_to_string(&next).map_err(|e| self.corrupt(&self.path, e.to_string()))?;
        self.write_atomic(&self.path, text.as_bytes())?;
        // Compaction: the snapshot now includes every journal entry. Lines that survive a crash
        // right here name the old serial and are skipped on read.
        let journal = self.journal_path();
        match fs::remove_file(&journal) {
            Ok(()) => sync_dir(&parent_dir(&journal)).map_err(|e| self.io("sync", &journal, e))?,
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(self.io("remove", &journal, e)),
        }
        self.remember(&next.lineage, next.serial, true);
        Ok(())
    }

    fn append(&self, entry: &JournalEntry) -> Result<(), StateError> {
        let snap = match self.cached() {
            Some(s) if s.tail_checked => s,
            _ => {
                let loaded = self.load(None)?;
                if loaded.journal_valid_len < loaded.journal_len {
                    let journal = self.journal_path();
                    let f = OpenOptions::new()
                        .write(true)
                        .open(&journal)
                        .map_err(|e| self.io("open", &journal, e))?;
                    f.set_len(loaded.journal_valid_len)
                        .and_then(|()| f.sync_all())
                        .map_err(|e| self.io("truncate torn line of", &journal, e))?;
                }
                match loaded.snapshot {
                    Some((lineage, serial)) => self.remember(&lineage, serial, true),
                    None => self.write(&State::new(&self.stack, &self.env))?,
                }
                self.cached()
                    .ok_or_else(|| self.corrupt(&self.path, "state vanished"))?
            }
        };
        let line = JournalLine {
            lineage: snap.lineage,
            base_serial: snap.serial,
            entry: entry.clone(),
        };
        let mut bytes = serde_json::to_vec(&line)
            .map_err(|e| self.corrupt(&self.journal_path(), e.to_string()))?;
        bytes.push(b'\n');
        let journal = self.journal_path();
        let mut f = private_options()
            .append(true)
            .create(true)
            .open(&journal)
            .map_err(|e| self.io("open", &journal, e))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_data())
            .map_err(|e| self.io("append to", &journal, e))
    }

    fn lock(&self, operation: &str, timeout: Duration) -> Result<LockGuard, StateError> {
        let lock_path = self.lock_path();
        retry_lock(timeout, || {
            let info = LockInfo::new(operation);
            let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
            // A lock released between our failed create and the read of its holder is taken
            // again at once, instead of being reported as held by an unreadable lock file.
            let mut released = 0;
            loop {
                match create_exclusive(&lock_path, &body) {
                    Ok(()) => {
                        let path = lock_path.clone();
                        let id = info.id.clone();
                        return Ok(LockGuard::new(info, move || {
                            if read_lock(&path).is_some_and(|held| held.id == id) {
                                let _ = fs::remove_file(&path);
                            }
                        }));
                    }
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                        let held = match File::open(&lock_path) {
                            Err(e) if e.kind() == ErrorKind::NotFound && released < 8 => {
                                released += 1;
                                continue;
                            }
                            Err(_) => None,
                            Ok(f) => parse_lock(f),
                        };
                        return Err(StateError::Locked {
                            path: lock_path.display().to_string(),
                            info: Box::new(held.unwrap_or_else(unreadable_lock)),
                        });
                    }
                    Err(e) => return Err(self.io("create", &lock_path, e)),
                }
            }
        })
    }

    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        let lock_path = self.lock_path();
        if !lock_path.exists() {
            return Err(StateError::NotLocked {
                path: lock_path.display().to_string(),
            });
        }
        let held = read_lock(&lock_path).unwrap_or_else(unreadable_lock);
        if held.id != id {
            return Err(StateError::LockIdMismatch {
                path: lock_path.display().to_string(),
                held: held.id,
                given: id.to_string(),
            });
        }
        fs::remove_file(&lock_path).map_err(|e| self.io("remove", &lock_path, e))
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

fn read_lock(path: &Path) -> Option<LockInfo> {
    parse_lock(File::open(path).ok()?)
}

/// The lock info in an open lock file (complete once visible: it is linked into place whole).
fn parse_lock(mut f: File) -> Option<LockInfo> {
    let mut s = String::new();
    f.read_to_string(&mut s).ok()?;
    serde_json::from_str(&s).ok()
}

/// Lock info for a lock file that cannot be parsed (e.g. a crash while writing it); it can be
/// released with `pedestal force-unlock unknown`.
fn unreadable_lock() -> LockInfo {
    LockInfo {
        id: "unknown".into(),
        who: "(unreadable lock file)".into(),
        operation: "unknown".into(),
        created: "unknown".into(),
        version: "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    //! The lock file under contention: a run refused the lock is told who holds it, even when
    //! the holder releases it between the refusal and the read of the lock file.

    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[test]
    fn a_refused_lock_names_its_holder_even_as_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let stop = Arc::new(AtomicBool::new(false));
        let holder = {
            let (path, stop) = (path.clone(), stop.clone());
            std::thread::spawn(move || {
                let store = LocalStore::new(path, "s", "dev");
                while !stop.load(Ordering::SeqCst) {
                    // Held briefly, as a run holds it for a while, then released and taken
                    // again at once.
                    if let Ok(guard) = store.lock("apply", Duration::ZERO) {
                        std::thread::sleep(Duration::from_micros(200));
                        drop(guard);
                    }
                }
            })
        };
        let store = LocalStore::new(&path, "s", "dev");
        let (mut refused, mut acquired) = (0, 0);
        for _ in 0..1000 {
            match store.lock("plan", Duration::ZERO) {
                Ok(guard) => {
                    acquired += 1;
                    drop(guard);
                }
                Err(StateError::Locked { info, .. }) => {
                    refused += 1;
                    assert_eq!(info.operation, "apply", "{info}");
                    assert_ne!(info.id, "unknown", "{info}");
                }
                Err(e) => panic!("{e}"),
            }
        }
        stop.store(true, Ordering::SeqCst);
        holder.join().unwrap();
        assert!(
            refused > 0 && acquired > 0,
            "{refused} refused, {acquired} acquired"
        );
    }
}
