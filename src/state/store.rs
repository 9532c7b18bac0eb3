//! The [`StateStore`] trait every backend implements, the lock vocabulary ([`LockInfo`],
//! [`LockGuard`]) and [`StateError`]. [`open`] picks the backend a [`Config`] asks for.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::{FORMAT_VERSION, JournalEntry, Prefetch, State};
use crate::spec::{Backend, Config};

/// Where state is kept, and how concurrent runs are kept apart.
///
/// Writers hold the lock. `read` returns the last snapshot with the journal replayed over it;
/// `write` replaces everything atomically (serial = max(given, stored) + 1) and compacts the
/// journal; `append` persists one entry durably in time proportional to the entry.
pub trait StateStore: Send + Sync {
    /// The snapshot plus replayed journal, or `None` when no state exists yet.
    fn read(&self) -> Result<Option<State>, StateError>;
    /// [`read`](Self::read), using the snapshot `prefetch` read ahead of the lock when it is
    /// this store's and still current (only the local backend reads ahead; others just read).
    fn read_prefetched(&self, prefetch: Prefetch) -> Result<Option<State>, StateError> {
        drop(prefetch);
        self.read()
    }
    /// Full atomic write; bumps the serial and compacts the journal.
    fn write(&self, state: &State) -> Result<(), StateError>;
    /// Durable O(entry) append (fsync) for per-resource persistence during apply.
    fn append(&self, entry: &JournalEntry) -> Result<(), StateError>;
    /// Takes the lock, retrying until `timeout`; the guard releases it on drop.
    fn lock(&self, operation: &str, timeout: Duration) -> Result<LockGuard, StateError>;
    /// Removes a lock left behind by an interrupted run, if its id is `id`.
    fn force_unlock(&self, id: &str) -> Result<(), StateError>;
    /// Where the state lives, for messages (`state/prod.json`, `memory`).
    fn describe(&self) -> String;
    /// Whether `write` and `append` may block on I/O (a file, a bucket); only a store in
    /// memory says `false`.
    fn may_block(&self) -> bool {
        true
    }
}

/// What a lock file (or lock object) holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// The lock's id (what `force-unlock` takes).
    pub id: String,
    /// `user@host`.
    pub who: String,
    /// `plan`, `apply`, `destroy`, `state rm`, ...
    pub operation: String,
    /// RFC 3339, UTC.
    pub created: String,
    /// The pedestal version holding the lock.
    pub version: String,
}

impl LockInfo {
    /// Lock info for this process, now.
    pub fn new(operation: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            who: super::holder::who(),
            operation: operation.to_string(),
            created: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// "5m 3s ago" when `created` parses, for messages.
    pub fn age(&self) -> Option<String> {
        let created = humantime::parse_rfc3339_weak(&self.created).ok()?;
        let secs = SystemTime::now().duration_since(created).ok()?.as_secs();
        Some(format!(
            "{} ago",
            humantime::format_duration(Duration::from_secs(secs))
        ))
    }
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  ID:        {}", self.id)?;
        writeln!(f, "  Who:       {}", self.who)?;
        writeln!(f, "  Operation: {}", self.operation)?;
        match self.age() {
            Some(age) => writeln!(f, "  Created:   {} ({age})", self.created)?,
            None => writeln!(f, "  Created:   {}", self.created)?,
        }
        write!(f, "  Version:   {}", self.version)
    }
}

/// `user@host` of this process.
pub(super) fn who() -> String {
    super::holder::who()
}

/// A held lock; dropping it releases the lock.
pub struct LockGuard {
    info: LockInfo,
    release: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl LockGuard {
    /// A guard that runs `release` when dropped.
    pub fn new(info: LockInfo, release: impl FnOnce() + Send + Sync + 'static) -> LockGuard {
        LockGuard {
            info,
            release: Some(Box::new(release)),
        }
    }

    /// Who holds the lock, since when, for what.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// The lock's id.
    pub fn id(&self) -> &str {
        &self.info.id
    }
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("info", &self.info)
            .finish()
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

#[derive(Debug, thiserror::Error)]
/// Why reading, writing or locking state failed.
pub enum StateError {
    #[error("cannot {action} {path}: {source}")]
    /// A local file could not be read or written.
    Io {
        /// What was being done (`read`, `write`, ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        #[source]
        /// The I/O error.
        source: std::io::Error,
    },
    #[error(
        "state file {path} is corrupt: {message}\n(it was left untouched; restore it from {path}.backup or fix it by hand)"
    )]
    /// The state file does not parse.
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// What the parser reported.
        message: String,
    },
    #[error(
        "state file {path} has format_version {found}, which this pedestal (format_version {supported}) does not understand\n(it was left untouched; use a newer pedestal)"
    )]
    /// The state file has a format this pedestal does not know.
    UnknownFormat {
        /// The state file.
        path: PathBuf,
        /// The format version it has.
        found: String,
        /// The format version this pedestal writes.
        supported: u32,
    },
    #[error(
        "state file {path} belongs to stack `{found_stack}` env `{found_env}`, not stack `{stack}` env `{env}`\n(it was left untouched; check [backend] path and --env)"
    )]
    /// The state belongs to another stack or environment.
    Foreign {
        /// The state file.
        path: PathBuf,
        /// The stack it records.
        found_stack: String,
        /// The environment it records.
        found_env: String,
        /// The stack being run.
        stack: String,
        /// The environment being run.
        env: String,
    },
    #[error(
        "refusing to overwrite state {path}: it has lineage {stored}, but the state being written has lineage {writing}"
    )]
    /// The stored state has another lineage.
    LineageMismatch {
        /// The state file.
        path: PathBuf,
        /// The stored lineage.
        stored: String,
        /// The lineage being written.
        writing: String,
    },
    #[error(
        "the state is locked by another run ({path}):\n{info}\nWait for it to finish (or pass --lock-timeout). If that run is gone, release the lock with:\n  pedestal force-unlock {id}",
        id = info.id
    )]
    /// Another run holds the lock.
    Locked {
        /// Where the lock is.
        path: String,
        /// Who holds it.
        info: Box<LockInfo>,
    },
    #[error("no lock is held on {path}")]
    /// `force-unlock` found no lock.
    NotLocked {
        /// Where the lock would be.
        path: String,
    },
    #[error("the lock on {path} has id {held}, not {given}; nothing was unlocked")]
    /// `force-unlock` was given another lock's id.
    LockIdMismatch {
        /// Where the lock is.
        path: String,
        /// The id of the lock held.
        held: String,
        /// The id given.
        given: String,
    },
    #[error("cannot {action} {location}: {message}")]
    /// A remote (S3) backend call failed.
    Remote {
        /// What was being done.
        action: &'static str,
        /// The bucket and key.
        location: String,
        /// The cause, in one line.
        message: String,
    },
    #[error(
        "refusing to overwrite state {location}: {writer} changed it ({now}) after this run read it ({read}); nothing was written\n(another run wrote it without holding the lock, or its lock was force-unlocked; run the command again against the new state)",
        now = found_serial.map_or_else(|| "it is gone now".to_string(), |s| format!("now serial {s}")),
        read = read_serial.map_or_else(|| "when it did not exist".to_string(), |s| format!("serial {s}"))
    )]
    /// Someone else wrote the remote state after this run read it.
    Conflict {
        /// The bucket and key.
        location: String,
        /// The serial this run read (`None`: there was no state).
        read_serial: Option<u64>,
        /// The serial stored now (`None`: the object is gone or unreadable).
        found_serial: Option<u64>,
        /// `user@host` of the run that wrote it.
        writer: String,
    },
    #[error("there is no state in {from} to migrate")]
    /// `state migrate` found no state to copy.
    NothingToMigrate {
        /// The source store.
        from: String,
    },
    #[error(
        "refusing to overwrite state {to}: it holds serial {stored} of the same lineage, newer than (or diverged from) the serial {copying} being copied; nothing was written"
    )]
    /// The destination holds a newer (or diverged) state of the same lineage.
    DestinationNewer {
        /// The destination store.
        to: String,
        /// The serial it holds.
        stored: u64,
        /// The serial being copied.
        copying: u64,
    },
    #[error(
        "the S3 state backend needs a multi-thread async runtime (it blocks on its SDK calls, which a current-thread runtime cannot drive meanwhile)"
    )]
    /// The S3 backend was used from a current-thread runtime.
    Runtime,
}

/// The store a stack's `[backend]` asks for (paths relative to the stack directory). The S3
/// backend runs its SDK calls on the calling thread's async runtime (see `state/s3.rs`), so it
/// is opened from within one.
pub fn open(config: &Config) -> Result<Box<dyn StateStore>, StateError> {
    match &config.backend {
        Backend::Local { path } => {
            let path = if path.is_absolute() {
                path.clone()
            } else {
                config.root.join(path)
            };
            Ok(Box::new(super::LocalStore::new(
                path,
                &config.stack,
                &config.env,
            )))
        }
        Backend::S3 {
            bucket,
            key,
            region,
            encrypt,
            kms_key_id,
        } => {
            let handle = tokio::runtime::Handle::try_current().map_err(|_| StateError::Runtime)?;
            let mut provider = config.provider.clone();
            if let Some(r) = region.as_ref().filter(|r| !r.is_empty()) {
                provider.region = r.clone();
            }
            let conf = super::s3::block(&handle, crate::provider::aws::sdk_config(&provider))?;
            let encryption = match (encrypt, kms_key_id) {
                (false, _) => super::s3::Encryption::BucketDefault,
                (true, None) => super::s3::Encryption::S3Managed,
                (true, Some(k)) => super::s3::Encryption::Kms(Some(k.clone())),
            };
            Ok(Box::new(super::S3Store::new(
                super::S3Store::client(&conf),
                handle,
                super::s3::S3Location {
                    bucket: bucket.clone(),
                    key: key.clone(),
                    encryption,
                },
                &config.stack,
                &config.env,
            )))
        }
    }
}

/// Parses and checks a snapshot read from `location`: format version, stack and env. The typed
/// parse runs first (no intermediate JSON tree for large states); only when it fails is the
/// text parsed loosely to tell a future format from a corrupt file.
pub(super) fn parse_state(
    text: &str,
    location: &Path,
    stack: &str,
    env: &str,
) -> Result<State, StateError> {
    let corrupt = |message: String| StateError::Corrupt {
        path: location.to_path_buf(),
        message,
    };
    let state: State = match super::parse_snapshot(text) {
        Ok(s) => check_state(s, location, stack, env)?,
        Err(typed) => {
            let json: serde_json::Value =
                serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
            return Err(match json.get("format_version") {
                Some(v) if v.as_u64() != Some(u64::from(FORMAT_VERSION)) => {
                    StateError::UnknownFormat {
                        path: location.to_path_buf(),
                        found: v.to_string(),
                        supported: FORMAT_VERSION,
                    }
                }
                Some(_) => corrupt(typed.to_string()),
                None => corrupt("no format_version field".into()),
            });
        }
    };
    Ok(state)
}

/// Checks a parsed snapshot read from `location`: its format version, stack and env.
pub(super) fn check_state(
    state: State,
    location: &Path,
    stack: &str,
    env: &str,
) -> Result<State, StateError> {
    if state.format_version != FORMAT_VERSION {
        return Err(StateError::UnknownFormat {
            path: location.to_path_buf(),
            found: state.format_version.to_string(),
            supported: FORMAT_VERSION,
        });
    }
    if state.stack != stack || state.env != env {
        return Err(StateError::Foreign {
            path: location.to_path_buf(),
            found_stack: state.stack,
            found_env: state.env,
            stack: stack.to_string(),
            env: env.to_string(),
        });
    }
    Ok(state)
}

/// Retries `attempt` with a growing pause (100 ms doubling to 2 s) until it succeeds, fails
/// with something other than [`StateError::Locked`], or `timeout` has passed.
pub(super) fn retry_lock(
    timeout: Duration,
    mut attempt: impl FnMut() -> Result<LockGuard, StateError>,
) -> Result<LockGuard, StateError> {
    let start = std::time::Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        match attempt() {
            Err(StateError::Locked { .. }) if start.elapsed() < timeout => {
                if pause == Duration::from_millis(100) {
                    tracing::info!("the state is locked by another run; waiting up to {timeout:?}");
                }
                std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            other => return other,
        }
    }
}
