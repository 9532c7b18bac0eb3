//! Opening a stack for a workflow that reads its state: load the spec, open and lock the state
//! store its `[backend]` names, read the recorded state ([`open_locked`]). The state snapshot
//! is read ahead on another thread (the runtime's worker) while the spec loads (see
//! [`crate::state::Prefetch`]);
//! what the user sees, errors included and in their order, is what doing the steps one after
//! the other gives.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::OpsError;
use crate::spec::Config;
use crate::state::{self, LockGuard, Prefetch, State, StateStore};

/// A stack's spec, its state store locked, and the state recorded in it.
pub(crate) struct Opened {
    /// The spec loaded.
    pub config: Config,
    /// The store its `[backend]` names.
    pub store: Arc<dyn StateStore>,
    /// The store's lock, held until dropped.
    pub lock: LockGuard,
    /// The recorded state; `None` when there is none yet.
    pub prior: Option<State>,
}

/// Loads the spec of the stack in `dir` with `load` (for `env`), opens the store it names,
/// takes its lock for `operation` (waiting up to `lock_timeout`) and reads the recorded state.
/// The lock is taken only once the spec has loaded, so a spec error leaves no lock behind.
pub(crate) async fn open_locked(
    dir: &Path,
    env: &str,
    operation: &str,
    lock_timeout: std::time::Duration,
    load: impl FnOnce() -> Result<Config, OpsError>,
) -> Result<Opened, OpsError> {
    let prefetch = likely_state_path(dir, env).map_or_else(Prefetch::default, Prefetch::start);
    let config = load()?;
    let store: Arc<dyn StateStore> = Arc::from(state::open(&config)?);
    let started = Instant::now();
    let lock = super::lock_store(&store, operation, lock_timeout).await?;
    tracing::info!(
        "locked state {} in {:.0?}",
        store.describe(),
        started.elapsed()
    );
    let started = Instant::now();
    let prior = {
        let store = store.clone();
        super::blocking_here(move || store.read_prefetched(prefetch)).await?
    };
    log_read(store.as_ref(), prior.as_ref(), started);
    Ok(Opened {
        config,
        store,
        lock,
        prior,
    })
}

/// Logs what reading the state found and how long it took.
pub(crate) fn log_read(store: &dyn StateStore, prior: Option<&State>, started: Instant) {
    tracing::info!(
        "read state {}: {} in {:.0?}",
        store.describe(),
        prior.map_or("none recorded yet".to_string(), |s| format!(
            "serial {}, {} resources",
            s.serial,
            s.resources.len()
        )),
        started.elapsed()
    );
}

/// Where the state of the stack in `dir` most likely is for `env`, found without loading the
/// spec: the `path` of `pedestal.toml`'s `[backend]` when written as a plain string (`${env}`
/// allowed), else the default `state/<env>.json`. `None` when the backend is not local or the
/// path is not plain. Only a guess: the state read ahead from it is used only when the loaded
/// spec names the same file.
fn likely_state_path(dir: &Path, env: &str) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dir.join("pedestal.toml")).ok()?;
    let (mut kind, mut path) = (None, None);
    if let Some(body) = backend_body(&text) {
        for line in body.lines().map(str::trim) {
            if line.starts_with('[') {
                break;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            match key.trim() {
                "type" => kind = Some(plain_string(value)?),
                "path" => path = Some(plain_string(value)?),
                _ => {}
            }
        }
    }
    if kind.is_some_and(|k| k != "local") {
        return None;
    }
    let path = match path {
        Some(p) => p.replace("${env}", env),
        None => format!("state/{env}.json"),
    };
    (!path.contains("${")).then(|| dir.join(path))
}

/// The text after the first `[backend]` header line (a line that reads `[backend]`, with
/// blanks or a comment around it), found by searching for the header rather than walking
/// every line: a large spec is mostly other blocks.
fn backend_body(text: &str) -> Option<&str> {
    let mut from = 0;
    while let Some(at) = text[from..].find("[backend]").map(|i| from + i) {
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let header = text[start..end].split('#').next().map(str::trim);
        if header == Some("[backend]") {
            return Some(&text[end..]);
        }
        from = at + "[backend]".len();
    }
    None
}

/// The text of a TOML string written without escapes (`"…"` or `'…'`), with nothing but a
/// comment after it.
fn plain_string(value: &str) -> Option<&str> {
    let value = value.trim();
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let (text, rest) = value[1..].split_once(quote)?;
    let rest = rest.trim();
    (!text.contains('\\') && (rest.is_empty() || rest.starts_with('#'))).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guess(toml: &str) -> Option<PathBuf> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pedestal.toml"), toml).unwrap();
        likely_state_path(dir.path(), "prod").map(|p| p.strip_prefix(dir.path()).unwrap().into())
    }

    #[test]
    fn the_likely_state_path_follows_a_plain_local_backend() {
        let stack = "[stack]\nname = \"s\"\n";
        assert_eq!(guess(stack), Some("state/prod.json".into()));
        let local =
            "[backend]\ntype = \"local\"\npath = \"st/${env}.json\" # here\n[x]\npath = \"no\"";
        assert_eq!(guess(local), Some("st/prod.json".into()));
        assert_eq!(
            guess("[backend] # kept here\npath = 'a.json'\n"),
            Some("a.json".into())
        );
        assert_eq!(guess("[backend]\ntype = \"s3\"\nbucket = \"b\"\n"), None);
        assert_eq!(guess("[backend]\npath = \"${stack}/x.json\"\n"), None);
        assert_eq!(guess("[backend]\npath = \"a\\\\b.json\"\n"), None);
        assert_eq!(guess("[backend]\npath = \"a.json\" + 1\n"), None);
        // Only a header line counts: not the name inside a string or after other text.
        let quoted = "[stack]\nnote = \"[backend]\"\n[backend]\npath = \"b.json\"\n";
        assert_eq!(guess(quoted), Some("b.json".into()));
        let indented = "[x]\n  [backend]  # c\r\npath = \"c.json\"\r\n[y]\npath = \"no\"\n";
        assert_eq!(guess(indented), Some("c.json".into()));
        assert_eq!(
            guess("[backends]\npath = \"no.json\"\n"),
            Some("state/prod.json".into())
        );
    }
}
