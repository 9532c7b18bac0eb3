//! The artifact digest cache: the SHA-256 of each artifact file, kept in
//! `.pedestal/cache/digests.json` beside `pedestal.toml` (a directory that ignores itself in
//! git), so an unchanged multi-gigabyte model is hashed once, not on every `validate`, `graph`
//! and `plan`.
//!
//! An entry is used only when the file's path, size, modification time and inode are all as
//! recorded; anything else hashes again. A file modified within the last two seconds is not
//! recorded (its modification time may not yet tell a later write apart). A cache that does not
//! parse is ignored and rewritten, never trusted. Files larger than [`PROGRESS_THRESHOLD`] are
//! hashed with progress reported to a [`HashObserver`], which can also cancel any hash (Ctrl-C):
//! the flag is read before every chunk, and a cancelled hash ends in [`HashError::Cancelled`].
//! Files are opened without blocking and must be regular files (never a FIFO or a device).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::state::{Existing, write_private};

/// Files larger than this are hashed with progress.
pub const PROGRESS_THRESHOLD: u64 = 100 * 1024 * 1024;

/// The cache directory, relative to the stack directory.
pub const CACHE_DIR: &str = ".pedestal/cache";

/// Why a file could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The observer asked to stop (Ctrl-C) before the file was read to its end.
    #[error("hashing was cancelled")]
    Cancelled,
    /// The file could not be opened or read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Told while a large file is hashed (the CLI draws a progress bar on a terminal).
pub trait HashObserver: Send + Sync + fmt::Debug {
    /// Hashing of `path` (of `size` bytes) starts.
    fn start(&self, path: &Path, size: u64);
    /// `bytes` more were hashed.
    fn advance(&self, bytes: u64);
    /// The file is hashed (or hashing stopped).
    fn finish(&self);
    /// Whether the user asked to stop (Ctrl-C): hashing then ends with
    /// [`HashError::Cancelled`] before the next chunk. Asked of every file, large or not.
    fn cancelled(&self) -> bool {
        false
    }
}

/// The observer of every load that names none (set once per process).
static PROCESS_OBSERVER: std::sync::OnceLock<Arc<dyn HashObserver>> = std::sync::OnceLock::new();

/// Sets the observer of every load that names none, for the rest of the process (the first
/// call wins).
pub fn set_process_observer(observer: Arc<dyn HashObserver>) {
    let _ = PROCESS_OBSERVER.set(observer);
}

/// The observer set by [`set_process_observer`], if any.
pub fn process_observer() -> Option<Arc<dyn HashObserver>> {
    PROCESS_OBSERVER.get().cloned()
}

/// What identifies an unchanged file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    size: u64,
    /// Modification time, nanoseconds since the epoch.
    mtime_ns: u128,
    inode: u64,
    sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    /// Absolute path → entry.
    files: BTreeMap<String, Entry>,
}

const VERSION: u32 = 1;

/// The cache of one load: what was read, and what this load used or hashed (only that is
/// written back, so entries of files no longer used fall away). The default one has no file:
/// it hashes everything and keeps nothing.
#[derive(Debug, Default)]
pub struct DigestCache {
    path: PathBuf,
    known: BTreeMap<String, Entry>,
    used: BTreeMap<String, Entry>,
    changed: bool,
    observer: Option<Arc<dyn HashObserver>>,
    /// Files larger than this are hashed with progress ([`PROGRESS_THRESHOLD`]).
    pub progress_threshold: u64,
    /// Files hashed (not found in the cache) by this load, for tests and logs.
    pub hashed: usize,
}

impl DigestCache {
    /// Reads the cache of the stack in `root`; a missing or unreadable cache is empty.
    pub fn open(root: &Path, observer: Option<Arc<dyn HashObserver>>) -> DigestCache {
        let path = root.join(CACHE_DIR).join("digests.json");
        let known = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<CacheFile>(&b).ok())
            .filter(|c| c.version == VERSION)
            .map(|c| c.files)
            .unwrap_or_default();
        DigestCache {
            path,
            known,
            used: BTreeMap::new(),
            changed: false,
            observer,
            progress_threshold: PROGRESS_THRESHOLD,
            hashed: 0,
        }
    }

    /// The SHA-256 (hex) and size of the file at `path`, from the cache when the file is
    /// unchanged, else hashed.
    pub fn hash_file(&mut self, path: &Path) -> Result<(String, u64), HashError> {
        let meta = std::fs::metadata(path)?;
        if !meta.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", path.display()),
            )
            .into());
        }
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let key = abs.to_string_lossy().into_owned();
        let mtime = meta.modified().ok();
        let identity = |sha256: String| Entry {
            size: meta.len(),
            mtime_ns: mtime
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos()),
            inode: inode(&meta),
            sha256,
        };
        if let Some(e) = self.known.get(&key)
            && *e == identity(e.sha256.clone())
            && e.mtime_ns != 0
            && is_hex_sha256(&e.sha256)
        {
            self.used.insert(key, e.clone());
            return Ok((e.sha256.clone(), meta.len()));
        }
        let progress = self
            .observer
            .clone()
            .filter(|_| meta.len() > self.progress_threshold);
        if meta.len() > self.progress_threshold {
            tracing::info!("hashing {} ({} bytes)", path.display(), meta.len());
        }
        let (hex, size) = hash(path, progress.as_deref(), self.observer.as_deref())?;
        self.hashed += 1;
        let settled = mtime.is_some_and(|t| {
            SystemTime::now()
                .duration_since(t)
                .is_ok_and(|age| age > Duration::from_secs(2))
        });
        // Hashed size differs from the metadata: the file changed while it was read.
        if settled && size == meta.len() {
            self.used.insert(key, identity(hex.clone()));
            self.changed = true;
        }
        Ok((hex, size))
    }

    /// Writes the cache back when this load hashed something new or stopped using an entry.
    /// Failing to write it only costs a later load the time to hash again.
    pub fn save(&self) {
        if self.path.as_os_str().is_empty() || !self.changed && self.used.len() == self.known.len()
        {
            return;
        }
        let file = CacheFile {
            version: VERSION,
            files: self.used.clone(),
        };
        let Ok(json) = serde_json::to_vec_pretty(&file) else {
            return;
        };
        if let Some(dir) = self.path.parent().and_then(Path::parent) {
            let ignore = dir.join(".gitignore");
            if !ignore.exists() {
                let _ = write_private(&ignore, b"*\n", Existing::Keep);
            }
        }
        if let Err(e) = write_private(&self.path, &json, Existing::Replace) {
            tracing::debug!(
                "could not write the digest cache {}: {e}",
                self.path.display()
            );
        }
    }
}

fn is_hex_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.ino()
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> u64 {
    0
}

/// Opens a file for hashing without blocking (a FIFO swapped in after the source was checked
/// would otherwise block the open) and refuses anything but a regular file.
fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let f = opts.open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok(f)
}

/// Streams a file through SHA-256, telling `progress` how far it got; stops as soon as
/// `cancel` says so.
fn hash(
    path: &Path,
    progress: Option<&dyn HashObserver>,
    cancel: Option<&dyn HashObserver>,
) -> Result<(String, u64), HashError> {
    let observer = progress;
    let mut f = open_regular(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    let mut size = 0u64;
    if let Some(o) = observer {
        o.start(path, f.metadata().map_or(0, |m| m.len()));
    }
    loop {
        if cancel.is_some_and(|c| c.cancelled()) {
            if let Some(o) = observer {
                o.finish();
            }
            return Err(HashError::Cancelled);
        }
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
        if let Some(o) = observer {
            o.advance(n as u64);
        }
    }
    if let Some(o) = observer {
        o.finish();
    }
    Ok((hex::encode(h.finalize()), size))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A file last modified a minute ago (so it may be cached).
    fn settled(path: &Path, text: &[u8]) {
        std::fs::write(path, text).unwrap();
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(60))
            .unwrap();
    }

    const HELLO: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn an_unchanged_file_is_hashed_once() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("model.bin");
        settled(&f, b"hello");
        let mut c = DigestCache::open(dir.path(), None);
        assert_eq!(c.hash_file(&f).unwrap(), (HELLO.to_string(), 5));
        assert_eq!(c.hashed, 1);
        c.save();
        let cache = dir.path().join(CACHE_DIR).join("digests.json");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".pedestal/.gitignore")).unwrap(),
            "*\n"
        );
        let mut again = DigestCache::open(dir.path(), None);
        assert_eq!(again.hash_file(&f).unwrap(), (HELLO.to_string(), 5));
        assert_eq!(again.hashed, 0, "served from the cache");
    }

    #[test]
    fn any_change_of_the_key_hashes_again() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("model.bin");
        settled(&f, b"hello");
        let mut c = DigestCache::open(dir.path(), None);
        c.hash_file(&f).unwrap();
        c.save();
        // Same size, other content, other mtime.
        settled(&f, b"world");
        let f2 = std::fs::File::options().write(true).open(&f).unwrap();
        f2.set_modified(SystemTime::now() - Duration::from_secs(30))
            .unwrap();
        let mut c = DigestCache::open(dir.path(), None);
        let (hex, _) = c.hash_file(&f).unwrap();
        assert_ne!(hex, HELLO);
        assert_eq!(c.hashed, 1);
        c.save();
        // Same size and mtime but another inode (another file renamed over it).
        let mtime = std::fs::metadata(&f).unwrap().modified().unwrap();
        let other = dir.path().join("other.bin");
        std::fs::write(&other, b"HELLO").unwrap();
        let o = std::fs::File::options().write(true).open(&other).unwrap();
        o.set_modified(mtime).unwrap();
        std::fs::rename(&other, &f).unwrap();
        let mut c = DigestCache::open(dir.path(), None);
        let (hex2, _) = c.hash_file(&f).unwrap();
        assert_ne!(hex2, hex);
        assert_eq!(c.hashed, 1);
    }

    #[test]
    fn a_recently_modified_file_is_not_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("fresh.bin");
        std::fs::write(&f, b"hello").unwrap();
        let mut c = DigestCache::open(dir.path(), None);
        c.hash_file(&f).unwrap();
        c.save();
        let mut c = DigestCache::open(dir.path(), None);
        c.hash_file(&f).unwrap();
        assert_eq!(c.hashed, 1);
    }

    #[test]
    fn a_corrupt_or_forged_cache_is_never_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("model.bin");
        settled(&f, b"hello");
        let cache = dir.path().join(CACHE_DIR).join("digests.json");
        std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
        for junk in ["{not json", "[]", "{\"version\": 1, \"files\": 3}"] {
            std::fs::write(&cache, junk).unwrap();
            let mut c = DigestCache::open(dir.path(), None);
            assert_eq!(c.hash_file(&f).unwrap().0, HELLO);
            assert_eq!(c.hashed, 1);
        }
        // An entry with a digest that is not one is hashed again.
        let mut c = DigestCache::open(dir.path(), None);
        c.hash_file(&f).unwrap();
        c.save();
        let text = std::fs::read_to_string(&cache).unwrap();
        std::fs::write(&cache, text.replace(HELLO, "not-a-digest")).unwrap();
        let mut c = DigestCache::open(dir.path(), None);
        assert_eq!(c.hash_file(&f).unwrap().0, HELLO);
        assert_eq!(c.hashed, 1);
    }

    #[derive(Debug, Default)]
    struct Seen(Mutex<Vec<String>>);

    impl HashObserver for Seen {
        fn start(&self, path: &Path, size: u64) {
            let name = path.file_name().unwrap().to_string_lossy();
            self.0.lock().unwrap().push(format!("start {name} {size}"));
        }
        fn advance(&self, _bytes: u64) {}
        fn finish(&self) {
            self.0.lock().unwrap().push("finish".into());
        }
    }

    #[test]
    fn only_large_files_report_progress() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.bin");
        settled(&small, b"hello");
        let large = dir.path().join("large.bin");
        settled(&large, &[7; 4096]);
        let seen = Arc::new(Seen::default());
        let mut c = DigestCache::open(dir.path(), Some(seen.clone()));
        c.progress_threshold = 4095;
        c.hash_file(&small).unwrap();
        c.hash_file(&large).unwrap();
        assert_eq!(*seen.0.lock().unwrap(), ["start large.bin 4096", "finish"]);
    }

    /// Cancels after `after` chunks.
    #[derive(Debug)]
    struct CancelAfter(std::sync::atomic::AtomicUsize);

    impl HashObserver for CancelAfter {
        fn start(&self, _path: &Path, _size: u64) {}
        fn advance(&self, _bytes: u64) {}
        fn finish(&self) {}
        fn cancelled(&self) -> bool {
            self.0
                .fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |n| n.checked_sub(1),
                )
                .is_err()
        }
    }

    #[test]
    fn hashing_stops_when_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.bin");
        settled(&big, &vec![1u8; 3 * 1024 * 1024]);
        let stop = Arc::new(CancelAfter(std::sync::atomic::AtomicUsize::new(1)));
        let mut c = DigestCache::open(dir.path(), Some(stop));
        let e = c.hash_file(&big).unwrap_err();
        assert!(matches!(e, HashError::Cancelled), "{e:?}");
        assert_eq!(c.hashed, 0, "nothing is recorded for a cancelled hash");
    }

    /// Counts hashed bytes; cancelled once `stop` is set.
    #[derive(Debug, Default)]
    struct Flag {
        stop: std::sync::atomic::AtomicBool,
        bytes: std::sync::atomic::AtomicU64,
    }

    impl HashObserver for Flag {
        fn start(&self, _path: &Path, _size: u64) {}
        fn advance(&self, bytes: u64) {
            self.bytes
                .fetch_add(bytes, std::sync::atomic::Ordering::SeqCst);
        }
        fn finish(&self) {}
        fn cancelled(&self) -> bool {
            self.stop.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    #[test]
    fn a_large_file_stops_promptly_mid_hash_when_the_flag_is_set() {
        let dir = tempfile::tempdir().unwrap();
        let huge = dir.path().join("huge.bin");
        // 64 GiB, sparse: minutes to hash to the end, so stopping within seconds is mid-hash.
        let size = 64u64 << 30;
        std::fs::File::create(&huge).unwrap().set_len(size).unwrap();
        let flag = Arc::new(Flag::default());
        let setter = {
            let flag = flag.clone();
            std::thread::spawn(move || {
                // Set once hashing is under way.
                while flag.bytes.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                    std::thread::sleep(Duration::from_millis(5));
                }
                flag.stop.store(true, std::sync::atomic::Ordering::SeqCst);
                std::time::Instant::now()
            })
        };
        let mut c = DigestCache::open(dir.path(), Some(flag.clone()));
        let e = c.hash_file(&huge).unwrap_err();
        let stopped = std::time::Instant::now();
        let set_at = setter.join().unwrap();
        assert!(matches!(e, HashError::Cancelled), "{e:?}");
        assert!(
            stopped.duration_since(set_at) < Duration::from_secs(10),
            "stopped {:?} after the flag was set",
            stopped.duration_since(set_at)
        );
        let hashed = flag.bytes.load(std::sync::atomic::Ordering::SeqCst);
        assert!(hashed > 0 && hashed < size, "{hashed} of {size} bytes");
        assert_eq!(c.hashed, 0);
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = DigestCache::open(dir.path(), None);
        let e = c.hash_file(Path::new("/dev/zero")).unwrap_err();
        assert!(
            matches!(&e, HashError::Io(io) if io.kind() == std::io::ErrorKind::InvalidInput),
            "{e:?}"
        );
        let fifo = dir.path().join("pipe");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        // Opened without blocking, then refused.
        assert!(open_regular(&fifo).is_err());
        assert!(c.hash_file(&fifo).is_err());
    }
}
