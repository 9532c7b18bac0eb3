//! `pedestal apply` orchestration, for a plan already made and approved:
//!
//! 1. connect the provider the plan names (region, endpoint; path-style S3 with an endpoint);
//! 2. install the Ctrl-C handler: the first interrupt starts nothing new and lets in-flight
//!    calls finish, a second one abandons them;
//! 3. run [`crate::apply::apply`], persisting state after every resource;
//! 4. hand back the [`ApplyReport`]; the caller releases the lock and picks the exit code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::addr::Address;
use crate::apply::{self, ApplyObserver, ApplyOptions, ApplyReport, Persist};
use crate::plan::Plan;
use crate::provider::Provider;
use crate::provider::aws::{AwsOptions, AwsProvider};
use crate::state::State;

/// What the caller chooses.
#[derive(Clone, Debug)]
pub struct ExecuteOptions {
    pub parallelism: usize,
    pub still_interval: Duration,
    /// The stack directory (artifact sources are relative to it).
    pub root: PathBuf,
    /// Install a Ctrl-C handler (the CLI does; tests do not).
    pub handle_interrupts: bool,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            parallelism: 10,
            still_interval: Duration::from_secs(10),
            root: PathBuf::from("."),
            handle_interrupts: true,
        }
    }
}

/// The AWS provider for the region and endpoint recorded in the plan.
pub async fn provider_for(plan: &Plan, root: &Path) -> AwsProvider {
    AwsProvider::connect(
        &plan.provider,
        AwsOptions {
            root: root.to_path_buf(),
            ..AwsOptions::default()
        },
    )
    .await
}

/// Ctrl-C handling: the returned receiver turns `true` on the first interrupt; a second one
/// exits at once with 130 (state is already persisted resource by resource).
pub fn interrupt_channel() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\nInterrupt received: no new operations will start; waiting for the ones in flight \
                 (press Ctrl-C again to abandon them)."
            );
            let _ = tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("Second interrupt: abandoning in-flight operations.");
                std::process::exit(130);
            }
        }
    });
    rx
}

/// Applies an approved plan.
pub async fn execute(
    plan: &Plan,
    state: State,
    provider: Arc<dyn Provider>,
    persist: Arc<dyn Persist>,
    observer: Arc<dyn ApplyObserver>,
    opts: &ExecuteOptions,
) -> ApplyReport {
    let cancel = opts.handle_interrupts.then(interrupt_channel);
    apply::apply(
        plan,
        state,
        provider,
        persist,
        observer,
        ApplyOptions {
            parallelism: opts.parallelism.max(1),
            still_interval: opts.still_interval,
            cancel,
        },
    )
    .await
}

/// Persists state as a JSON file: every write goes to a temporary file that is fsynced and
/// renamed over the target (mode 0600), so a crash leaves the previous or the new state, never
/// half of one.
#[derive(Debug, Clone)]
pub struct FilePersist {
    pub path: PathBuf,
}

impl FilePersist {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FilePersist { path: path.into() }
    }

    fn write(&self, state: &State) -> Result<(), String> {
        let json = serde_json::to_vec_pretty(state).map_err(|e| e.to_string())?;
        write_atomic(&self.path, &json).map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

impl Persist for FilePersist {
    fn resource_done(&self, state: &State, _address: &Address) -> Result<(), String> {
        self.write(state)
    }

    fn finish(&self, state: &State) -> Result<(), String> {
        self.write(state)
    }
}

/// Writes `bytes` to `path` through a fsynced temporary file and a rename; mode 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_persist_writes_private_atomic_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/dev.json");
        let p = FilePersist::new(&path);
        let st = State::new("s", "dev");
        p.finish(&st).unwrap();
        let back: State = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back, st);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
    }
}
