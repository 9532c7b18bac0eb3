//! The per-stack key under which secrets are digested in plans and state: HMAC-SHA-256, so a
//! state or plan file cannot be used to guess a secret (a bare hash of a guessable value can be
//! reversed with a dictionary).
//!
//! The key of a stack comes from, in order:
//! - `PEDESTAL_SECRET_KEY`: a passphrase; the key is HMAC-SHA-256(passphrase, stack name), so one
//!   passphrase gives every stack its own key (CI sets it from its secret store);
//! - a key file outside the repository, `<dir>/<stack>` with `<dir>` = `PEDESTAL_KEY_DIR`, else
//!   `$XDG_CONFIG_HOME/pedestal/keys`, else `~/.config/pedestal/keys`; created on first use with 32
//!   random bytes (hex), mode 0600 in a 0700 directory.
//!
//! The key is never written to state or plans. A process works on one stack: the command line
//! names it with [`use_stack`] and the key is resolved the first time a digest is needed (a stack
//! without secrets never creates a key file). Without a stack (library use) the process uses a
//! random key of its own: its digests then only compare within the process.
//!
//! When a stack has no key (no passphrase, and its key file cannot be read or made), secrets are
//! digested with a salted slow hash instead: PBKDF2-HMAC-SHA-256 with a random 16-byte salt and
//! [`SLOW_ITERATIONS`] iterations, written `pbkdf2-sha256:<iterations>:<salt>:<hex>`. It
//! compares across runs (the salt and count are in the digest) and makes every guess cost as
//! much as the hash did.
//!
//! Keyed digests are written `hmac-sha256:<hex>`. Digests written before keys existed
//! (`sha256:<hex>`) are still compared as they were, and replaced the next time state is
//! written.

use std::path::PathBuf;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// The environment variable holding a passphrase the per-stack keys derive from.
pub const ENV_PASSPHRASE: &str = "PEDESTAL_SECRET_KEY";
/// The environment variable naming the directory of key files.
pub const ENV_KEY_DIR: &str = "PEDESTAL_KEY_DIR";
/// The prefix of keyed digests.
pub const KEYED_PREFIX: &str = "hmac-sha256:";
/// The prefix of the unkeyed digests of earlier versions (compared, never written).
pub const LEGACY_PREFIX: &str = "sha256:";
/// The prefix of salted slow-hash digests (a stack without a key).
pub const SLOW_PREFIX: &str = "pbkdf2-sha256:";
/// PBKDF2 iterations of a slow-hash digest (OWASP's recommendation for PBKDF2-HMAC-SHA-256).
pub const SLOW_ITERATIONS: u32 = 600_000;

/// PBKDF2-HMAC-SHA-256 (RFC 8018) with one 32-byte output block.
pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac_sha256(password, &block);
    let mut out = u;
    for _ in 1..iterations.max(1) {
        u = hmac_sha256(password, &u);
        for (o, x) in out.iter_mut().zip(u) {
            *o ^= x;
        }
    }
    out
}

/// `pbkdf2-sha256:<iterations>:<salt hex>:<hex>` of `data` with a fresh random salt.
pub fn slow_digest(data: &[u8], iterations: u32) -> String {
    let salt = &Key::random().0[..16];
    format!(
        "{SLOW_PREFIX}{iterations}:{}:{}",
        hex::encode(salt),
        hex::encode(pbkdf2_sha256(data, salt, iterations))
    )
}

/// Whether `digest`, a slow-hash digest, is that of `data` (false for anything malformed).
pub fn slow_matches(data: &[u8], digest: &str) -> bool {
    let Some(rest) = digest.strip_prefix(SLOW_PREFIX) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(n), Some(salt), Some(hash)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    // A forged count must not make a comparison hang: at most ten times the default.
    let (Ok(n), Ok(salt)) = (n.parse::<u32>(), hex::decode(salt)) else {
        return false;
    };
    if n == 0 || n > SLOW_ITERATIONS.saturating_mul(10) {
        return false;
    }
    hex::encode(pbkdf2_sha256(data, &salt, n)) == hash
}

/// A 32-byte HMAC key.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

/// HMAC-SHA-256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(data);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

impl Key {
    /// The key of `stack` derived from a passphrase.
    pub fn from_passphrase(stack: &str, passphrase: &str) -> Key {
        Key(hmac_sha256(
            passphrase.as_bytes(),
            format!("pedestal-secret-key/{stack}").as_bytes(),
        ))
    }

    /// A fresh random key.
    pub fn random() -> Key {
        let mut b = [0u8; 32];
        let read = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b));
        if read.is_err() {
            b[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
            b[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        }
        Key(b)
    }

    /// `hmac-sha256:<hex>` of `data` under this key.
    pub fn digest(&self, data: &[u8]) -> String {
        format!("{KEYED_PREFIX}{}", hex::encode(hmac_sha256(&self.0, data)))
    }
}

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Neither `PEDESTAL_KEY_DIR`, `XDG_CONFIG_HOME` nor `HOME` is set.
    #[error("no directory for key files: set {ENV_SECRET}, {ENV_KEY_DIR} or HOME", ENV_SECRET = ENV_PASSPHRASE)]
    NoDirectory,
    /// The key file could not be read or created.
    #[error("key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The key file does not hold 64 hex digits.
    #[error("key file {0} does not hold a key (64 hex digits)")]
    Malformed(PathBuf),
}

/// The directory key files live in.
pub fn key_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var(ENV_KEY_DIR)
        .or_else(|| var("XDG_CONFIG_HOME").map(|d| d.join("pedestal/keys")))
        .or_else(|| var("HOME").map(|d| d.join(".config/pedestal/keys")))
}

/// Reads the key file of `stack` in `dir`, creating it (0600, directory 0700) when missing.
pub fn key_file(dir: &std::path::Path, stack: &str) -> Result<Key, KeyError> {
    let path = dir.join(stack);
    let io = |source| KeyError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Malformed(path.clone()))?;
            let b: [u8; 32] = bytes
                .try_into()
                .map_err(|_| KeyError::Malformed(path.clone()))?;
            Ok(Key(b))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(io)?;
            let key = Key::random();
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            match opts.open(&path) {
                Ok(mut f) => {
                    std::io::Write::write_all(
                        &mut f,
                        format!("{}\n", hex::encode(key.0)).as_bytes(),
                    )
                    .map_err(io)?;
                    Ok(key)
                }
                // Another process made it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => key_file(dir, stack),
                Err(e) => Err(io(e)),
            }
        }
        Err(e) => Err(io(e)),
    }
}

/// The key of `stack`: from [`ENV_PASSPHRASE`], else its key file.
pub fn resolve(stack: &str) -> Result<Key, KeyError> {
    if let Some(p) = std::env::var_os(ENV_PASSPHRASE).filter(|v| !v.is_empty()) {
        return Ok(Key::from_passphrase(stack, &p.to_string_lossy()));
    }
    key_file(&key_dir().ok_or(KeyError::NoDirectory)?, stack)
}

/// How this process digests secrets.
#[derive(Clone, Debug)]
pub enum Digester {
    /// HMAC-SHA-256 under the stack's key.
    Keyed(Key),
    /// The salted slow hash of a stack without a key.
    Slow,
}

/// Slow-hash results of this process, so each secret costs one slow hash per run however often
/// state is written (held in memory only, like the secrets themselves).
static SLOW_CACHE: Mutex<Vec<(Vec<u8>, String)>> = Mutex::new(Vec::new());

fn slow_cached(data: &[u8], digest: Option<&str>) -> Option<String> {
    let cache = SLOW_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .iter()
        .find(|(d, s)| d == data && digest.is_none_or(|x| x == s))
        .map(|(_, s)| s.clone())
}

fn slow_remember(data: &[u8], digest: &str) {
    let mut cache = SLOW_CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.push((data.to_vec(), digest.to_string()));
}

impl Digester {
    /// The digest of `data`.
    pub fn digest(&self, data: &[u8]) -> String {
        match self {
            Digester::Keyed(k) => k.digest(data),
            Digester::Slow => slow_cached(data, None).unwrap_or_else(|| {
                let d = slow_digest(data, SLOW_ITERATIONS);
                slow_remember(data, &d);
                d
            }),
        }
    }

    /// Whether `digest` (keyed or slow, as recorded) is that of `data`.
    pub fn matches(&self, data: &[u8], digest: &str) -> bool {
        if digest.starts_with(SLOW_PREFIX) {
            if slow_cached(data, Some(digest)).is_some() {
                return true;
            }
            let ok = slow_matches(data, digest);
            if ok {
                slow_remember(data, digest);
            }
            return ok;
        }
        match self {
            Digester::Keyed(k) => k.digest(data) == digest,
            Digester::Slow => false,
        }
    }
}

/// The process's stack and, once resolved, how it digests.
struct Current {
    stack: Option<String>,
    key: Option<Digester>,
}

static CURRENT: Mutex<Current> = Mutex::new(Current {
    stack: None,
    key: None,
});

fn current() -> std::sync::MutexGuard<'static, Current> {
    CURRENT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Names the stack this process works on: its key is resolved when first needed.
pub fn use_stack(stack: &str) {
    let mut c = current();
    if c.stack.as_deref() != Some(stack) {
        c.stack = Some(stack.to_string());
        c.key = None;
    }
}

/// Uses `key` for every digest this process makes from now on.
pub fn install(key: Key) {
    current().key = Some(Digester::Keyed(key));
}

/// Uses the salted slow hash for every digest this process makes from now on (as for a stack
/// without a key).
pub fn install_slow() {
    current().key = Some(Digester::Slow);
}

/// How digests are made now.
pub fn digester() -> Digester {
    let mut c = current();
    if let Some(k) = &c.key {
        return k.clone();
    }
    let k = match c.stack.as_deref().map(resolve) {
        Some(Ok(k)) => Digester::Keyed(k),
        Some(Err(e)) => {
            tracing::warn!(
                "{e}; secrets are digested with a salted slow hash instead (set {ENV_PASSPHRASE} or {ENV_KEY_DIR} for keyed digests)"
            );
            Digester::Slow
        }
        None => Digester::Keyed(Key::random()),
    };
    c.key = Some(k.clone());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let long_key = [0xaa_u8; 131];
        assert_eq!(
            hex::encode(hmac_sha256(
                &long_key,
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn pbkdf2_matches_rfc_7914() {
        // RFC 7914 section 11, PBKDF2-HMAC-SHA256 (first 32 bytes).
        assert_eq!(
            hex::encode(pbkdf2_sha256(b"passwd", b"salt", 1)),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }

    #[test]
    fn slow_digests_are_salted_and_compare_across_runs() {
        let a = slow_digest(b"hunter2", 1000);
        let b = slow_digest(b"hunter2", 1000);
        assert_ne!(a, b, "a fresh salt each time");
        assert!(a.starts_with("pbkdf2-sha256:1000:"), "{a}");
        assert!(slow_matches(b"hunter2", &a) && slow_matches(b"hunter2", &b));
        assert!(!slow_matches(b"hunter3", &a));
        assert!(!slow_matches(b"hunter2", "pbkdf2-sha256:0:00:00"));
        assert!(!slow_matches(b"hunter2", "pbkdf2-sha256:4294967295:00:00"));
        assert!(!slow_matches(b"hunter2", "pbkdf2-sha256:x"));
        // A keyed digester still recognises a slow digest recorded earlier.
        assert!(Digester::Keyed(Key::random()).matches(b"hunter2", &a));
    }

    #[test]
    fn passphrase_keys_differ_per_stack() {
        let a = Key::from_passphrase("shop", "pass");
        let b = Key::from_passphrase("fraud", "pass");
        assert_ne!(a.digest(b"x"), b.digest(b"x"));
        assert_eq!(
            a.digest(b"x"),
            Key::from_passphrase("shop", "pass").digest(b"x")
        );
        assert!(a.digest(b"x").starts_with(KEYED_PREFIX));
        assert_eq!(format!("{a:?}"), "Key(…)", "a key never prints");
    }

    #[test]
    fn key_files_are_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let a = key_file(&keys, "shop").unwrap();
        let b = key_file(&keys, "shop").unwrap();
        assert_eq!(a, b, "the file is read back");
        assert_ne!(a, key_file(&keys, "other").unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&keys.join("shop")), 0o600);
            assert_eq!(mode(&keys), 0o700);
        }
        std::fs::write(keys.join("bad"), "not hex").unwrap();
        assert!(matches!(
            key_file(&keys, "bad"),
            Err(KeyError::Malformed(_))
        ));
    }
}
