//! Saved plans (`pedestal plan --out FILE`): a JSON file wrapping the [`Plan`] with its own
//! format version, and the staleness check `apply FILE` runs before touching anything.
//!
//! A saved plan is refused when the state it was made against has moved on (different lineage,
//! or a different serial) or when the spec or variables changed (different digest) — Terraform
//! checks only the state and silently applies a snapshot of the old config; pedestal names which
//! of the three moved.
//!
//! The file also records the plan's inputs, the variable values it was made with (secrets as
//! their digest only), so `apply FILE` needs no `--var`: the values are put back
//! ([`crate::spec::LoadOptions::pinned`]), and each sensitive value, read again from the usual
//! sources, must match its recorded digest ([`check_secrets`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Plan;
use crate::resource::Value;
use crate::spec::Config;
use crate::state::State;

/// Version of the saved-plan envelope.
pub const FILE_FORMAT_VERSION: u32 = 1;

/// The on-disk envelope.
#[derive(Debug, Serialize, Deserialize)]
struct SavedPlan {
    /// Always `"pedestal-plan"`, so a random JSON file is not mistaken for a plan.
    kind: String,
    file_format_version: u32,
    /// The pedestal version that wrote the file.
    pedestal_version: String,
    plan: Plan,
    /// The variable values the plan was made with; sensitive ones serialise as their digest
    /// (`{"$sensitive": "sha256:…"}`). Absent from files written before it was recorded.
    #[serde(default)]
    variables: BTreeMap<String, Value>,
}

/// A plan file as read: the plan and the variable values it was made with (sensitive ones as
/// [`Value::Redacted`] digests).
#[derive(Debug, Clone)]
pub struct Saved {
    /// The plan.
    pub plan: Plan,
    /// The variable values it was made with.
    pub variables: BTreeMap<String, Value>,
}

impl Saved {
    /// The recorded values of the non-sensitive variables, to load the spec with.
    pub fn pinned(&self) -> BTreeMap<String, Value> {
        self.variables
            .iter()
            .filter(|(_, v)| !v.is_sensitive())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
/// Why a plan file could not be read or written.
pub enum PlanFileError {
    #[error("cannot {action} plan file {path}: {source}")]
    /// The file could not be read or written.
    Io {
        /// What was being done.
        action: &'static str,
        /// The plan file.
        path: PathBuf,
        #[source]
        /// The I/O error.
        source: std::io::Error,
    },
    #[error("{path} is not a pedestal plan file: {message}")]
    /// The file is not a plan.
    NotAPlan {
        /// The file.
        path: PathBuf,
        /// What the parser reported.
        message: String,
    },
    #[error(
        "plan file {path} has format {found}, which this pedestal (format {supported}) cannot read; re-run `pedestal plan --out`"
    )]
    /// The plan file has a format this pedestal does not read.
    UnknownFormat {
        /// The plan file.
        path: PathBuf,
        /// The format it has.
        found: String,
        /// The format this pedestal writes.
        supported: String,
    },
}

/// Why a saved plan can no longer be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StalePlan {
    #[error(
        "saved plan is for stack `{plan_stack}` env `{plan_env}`, not stack `{stack}` env `{env}`"
    )]
    /// The plan is for another stack or environment.
    WrongStack {
        /// The plan's stack.
        plan_stack: String,
        /// The plan's environment.
        plan_env: String,
        /// The stack being applied.
        stack: String,
        /// The environment being applied.
        env: String,
    },
    #[error(
        "saved plan does not match the state: it was made against state lineage {planned}, but the state now has lineage {current}\n(the state was replaced or belongs to another environment; run `pedestal plan` again)"
    )]
    /// The state was replaced since the plan was made.
    LineageChanged {
        /// The lineage the plan was made against.
        planned: String,
        /// The lineage now.
        current: String,
    },
    #[error(
        "saved plan does not match the state: it was made against state lineage {planned}, but no state exists any more\n(run `pedestal plan` again)"
    )]
    /// The state was deleted since the plan was made.
    StateGone {
        /// The lineage the plan was made against.
        planned: String,
    },
    #[error(
        "saved plan is stale: the state moved on from serial {from} to serial {to} since the plan was made (another apply or state change ran)\n(run `pedestal plan` again)"
    )]
    /// The state was written since the plan was made.
    SerialMoved {
        /// The serial the plan was made against.
        from: u64,
        /// The serial now.
        to: u64,
    },
    #[error(
        "saved plan is stale: the spec or variables of stack `{stack}` env `{env}` changed since the plan was made (spec digest {planned} → {current})\n(run `pedestal plan` again)"
    )]
    /// The spec or its variables changed since the plan was made.
    SpecChanged {
        /// The stack.
        stack: String,
        /// The environment.
        env: String,
        /// The spec digest the plan was made from.
        planned: String,
        /// The spec digest now.
        current: String,
    },
    #[error(
        "sensitive variable `{name}` has a different value than the saved plan was made with\n(supply the value the plan was made with through env/{env}.toml, PEDESTAL_VAR_{name} or --var, or run `pedestal plan` again)"
    )]
    /// A sensitive variable has another value than the plan was made with.
    SecretChanged {
        /// The variable.
        name: String,
        /// The environment (where its file is).
        env: String,
    },
    #[error(
        "the saved plan needs sensitive variable `{name}`, which has no value\n(set it in env/{env}.toml, export PEDESTAL_VAR_{name} or pass --var {name}=...)"
    )]
    /// A sensitive variable the plan needs has no value.
    SecretMissing {
        /// The variable.
        name: String,
        /// The environment (where its file is).
        env: String,
    },
}

/// Writes `plan` and the `variables` it was made with to `path` atomically (pretty JSON,
/// sorted keys, mode 0600: a plan describes infrastructure, though never secrets in clear).
pub fn write(
    path: &Path,
    plan: &Plan,
    variables: &BTreeMap<String, Value>,
) -> Result<(), PlanFileError> {
    let saved = SavedPlan {
        kind: "pedestal-plan".into(),
        file_format_version: FILE_FORMAT_VERSION,
        pedestal_version: env!("CARGO_PKG_VERSION").into(),
        plan: plan.clone(),
        variables: variables.clone(),
    };
    let io = |action, source| PlanFileError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    let text = crate::state::to_canonical_string(&saved)
        .map_err(|e| io("serialise", std::io::Error::other(e)))?;
    crate::state::write_private(path, text.as_bytes(), crate::state::Existing::Replace)
        .map_err(|e| io("write", e))
}

/// Reads a plan file, checking its kind and both format versions.
pub fn read(path: &Path) -> Result<Plan, PlanFileError> {
    read_saved(path).map(|s| s.plan)
}

/// [`read`], with the variable values the plan was made with.
pub fn read_saved(path: &Path) -> Result<Saved, PlanFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| PlanFileError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    let not_a_plan = |message: String| PlanFileError::NotAPlan {
        path: path.to_path_buf(),
        message,
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| not_a_plan(e.to_string()))?;
    if json.get("kind").and_then(|k| k.as_str()) != Some("pedestal-plan") {
        return Err(not_a_plan("missing \"kind\": \"pedestal-plan\"".into()));
    }
    let file_version = json.get("file_format_version").cloned().unwrap_or_default();
    let plan_version = json
        .get("plan")
        .and_then(|p| p.get("format_version"))
        .cloned()
        .unwrap_or_default();
    if file_version.as_u64() != Some(u64::from(FILE_FORMAT_VERSION))
        || plan_version.as_str() != Some(super::FORMAT_VERSION)
    {
        return Err(PlanFileError::UnknownFormat {
            path: path.to_path_buf(),
            found: format!("{file_version}/{plan_version}"),
            supported: format!("{FILE_FORMAT_VERSION}/\"{}\"", super::FORMAT_VERSION),
        });
    }
    let saved: SavedPlan = serde_json::from_value(json).map_err(|e| not_a_plan(e.to_string()))?;
    Ok(Saved {
        plan: saved.plan,
        variables: saved.variables,
    })
}

/// Checks every sensitive value recorded in `saved` against the one `config` was loaded with
/// (by digest; neither value is ever shown).
pub fn check_secrets(saved: &Saved, config: &Config) -> Result<(), StalePlan> {
    for (name, recorded) in &saved.variables {
        let Value::Redacted(digest) = recorded else {
            continue;
        };
        let env = config.env.clone();
        match config.variables.get(name) {
            Some(Value::Sensitive(inner)) if matches!(**inner, Value::Unknown) => {
                return Err(StalePlan::SecretMissing {
                    name: name.clone(),
                    env,
                });
            }
            Some(Value::Sensitive(inner)) if Value::digest_matches(inner, digest) => {}
            // Declared no more, or no longer sensitive: the spec digest says the spec changed.
            None => {}
            Some(v) if !v.is_sensitive() => {}
            Some(_) => {
                return Err(StalePlan::SecretChanged {
                    name: name.clone(),
                    env,
                });
            }
        }
    }
    Ok(())
}

/// Checks that `plan` still applies to `config` and the current `state`.
pub fn verify(plan: &Plan, config: &Config, state: Option<&State>) -> Result<(), StalePlan> {
    if plan.stack != config.stack || plan.env != config.env {
        return Err(StalePlan::WrongStack {
            plan_stack: plan.stack.clone(),
            plan_env: plan.env.clone(),
            stack: config.stack.clone(),
            env: config.env.clone(),
        });
    }
    let current_serial = state.map_or(0, |s| s.serial);
    match (&plan.prior_state.lineage, state) {
        (Some(planned), Some(s)) if *planned != s.lineage => {
            return Err(StalePlan::LineageChanged {
                planned: planned.clone(),
                current: s.lineage.clone(),
            });
        }
        (Some(planned), None) => {
            return Err(StalePlan::StateGone {
                planned: planned.clone(),
            });
        }
        _ => {}
    }
    if plan.prior_state.serial != current_serial {
        return Err(StalePlan::SerialMoved {
            from: plan.prior_state.serial,
            to: current_serial,
        });
    }
    if plan.spec_digest != config.digest {
        return Err(StalePlan::SpecChanged {
            stack: config.stack.clone(),
            env: config.env.clone(),
            planned: plan.spec_digest.clone(),
            current: config.digest.clone(),
        });
    }
    Ok(())
}

/// A saved plan keeps secrets only as digests ([`Value::Redacted`]). Puts back, from `config`
/// (verified against the plan, so its spec and variables are the ones planned with), every
/// sensitive value at the same place of each change's and output's `after`, so that applying a saved plan
/// sends the same secrets as applying a fresh one.
pub fn restore_secrets(plan: &mut Plan, config: &Config) {
    for change in &mut plan.changes {
        let (Some(after), Some(desired)) =
            (change.after.as_mut(), config.resources.get(&change.address))
        else {
            continue;
        };
        for (k, v) in after.iter_mut() {
            if let Some(want) = desired.attrs.get(k) {
                restore(v, want);
            }
        }
    }
    for (name, change) in &mut plan.outputs {
        if let (Some(after), Some(desired)) = (change.after.as_mut(), config.outputs.get(name)) {
            restore(after, &desired.value);
        }
    }
}

fn restore(planned: &mut Value, desired: &Value) {
    match (planned, desired) {
        (p @ Value::Redacted(_), Value::Sensitive(_)) => *p = desired.clone(),
        (Value::Map(p), Value::Map(d)) => {
            for (k, v) in p.iter_mut() {
                if let Some(want) = d.get(k) {
                    restore(v, want);
                }
            }
        }
        (Value::List(p), Value::List(d)) => {
            for (v, want) in p.iter_mut().zip(d) {
                restore(v, want);
            }
        }
        _ => {}
    }
}

/// The commit a stack's directory is checked out at, as `git rev-parse HEAD` gives it, when it
/// is inside a git work tree (best effort). The common cases are read from the repository's
/// files (`.git/HEAD`, the branch's ref, `packed-refs`): no process to start. Anything else (a
/// linked work tree or submodule, a bare repository, refs kept in a reftable, a symbolic ref to
/// a ref, `GIT_*` variables that move the repository) runs `git rev-parse HEAD` in the
/// background: started before planning, read after, so the few milliseconds git takes overlap
/// with the plan. Like git, the search for a repository stops at a file-system boundary.
#[derive(Debug)]
pub struct GitCommit(Head);

/// Where the commit comes from.
#[derive(Debug)]
enum Head {
    /// Read from the repository's files (or no repository above the directory).
    Read(Option<String>),
    /// Left to `git rev-parse HEAD` (nothing when git could not start).
    Git(Option<std::process::Child>),
}

impl GitCommit {
    /// Finds the commit of `dir`, or starts `git rev-parse HEAD` there when the files alone
    /// cannot say.
    pub fn start(dir: &Path) -> GitCommit {
        if let Some(read) = read_head(dir) {
            return GitCommit(Head::Read(read));
        }
        let child = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "HEAD"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok();
        GitCommit(Head::Git(child))
    }

    /// The commit, when there is one.
    pub fn finish(self) -> Option<String> {
        match self.0 {
            Head::Read(sha) => sha,
            Head::Git(child) => {
                let out = child?.wait_with_output().ok()?;
                let sha = String::from_utf8(out.stdout).ok()?.trim().to_string();
                (out.status.success() && sha.len() >= 7).then_some(sha)
            }
        }
    }
}

/// The variables with which git finds its repository somewhere else than by walking up.
const GIT_LOCATION_VARS: [&str; 5] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_COMMON_DIR",
];

/// `Some(commit)` or `Some(None)` when the files settle it (`Some(None)`: no repository above
/// `dir`, or one with no commit yet), `None` when git must be asked.
fn read_head(dir: &Path) -> Option<Option<String>> {
    if GIT_LOCATION_VARS
        .iter()
        .any(|v| std::env::var_os(v).is_some())
    {
        return None;
    }
    let start = dir.canonicalize().ok()?;
    let device = |p: &Path| -> Option<u64> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(p).ok().map(|m| m.dev())
        }
        #[cfg(not(unix))]
        {
            let _ = p;
            None
        }
    };
    let first_device = device(&start)?;
    for at in start.ancestors() {
        // Git stops looking at a file-system boundary, and finds no repository.
        if device(at)? != first_device {
            return Some(None);
        }
        let dot_git = at.join(".git");
        match std::fs::symlink_metadata(&dot_git) {
            Ok(m) if m.is_dir() => return commit_in(&dot_git),
            // A linked work tree or a submodule (`.git` is a file), or a link.
            Ok(_) => return None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => return None,
        }
        // A bare repository is its own git directory.
        if at.join("HEAD").exists() && at.join("objects").is_dir() {
            return None;
        }
    }
    Some(None)
}

/// The commit `HEAD` names in the git directory `git`: `Some(None)` for a branch with no commit
/// yet, `None` when anything is unusual.
fn commit_in(git: &Path) -> Option<Option<String>> {
    // Refs kept in a reftable (git 2.45's `--ref-format=reftable`) are not files to read.
    if git.join("reftable").exists() {
        return None;
    }
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim_end();
    let Some(name) = head.strip_prefix("ref: ") else {
        return is_object_id(head).then(|| Some(head.to_string()));
    };
    let safe = name.starts_with("refs/")
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if !safe {
        return None;
    }
    match std::fs::read_to_string(git.join(name)) {
        Ok(loose) => {
            let loose = loose.trim_end();
            is_object_id(loose).then(|| Some(loose.to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let packed = match std::fs::read_to_string(git.join("packed-refs")) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(_) => return None,
            };
            // `<id> <name>` lines; a branch in neither place has no commit yet.
            Some(packed.lines().find_map(|line| {
                let (id, n) = line.split_once(' ')?;
                (n == name && is_object_id(id)).then(|| id.to_string())
            }))
        }
        Err(_) => None,
    }
}

/// A full object id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
fn is_object_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::GitCommit;

    fn git(dir: &std::path::Path, args: &[&str]) {
        let ok = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("git runs")
            .status
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn records_the_commit_of_a_work_tree_and_nothing_outside_one() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(GitCommit::start(dir.path()).finish(), None);
        git(dir.path(), &["init", "-q"]);
        std::fs::write(dir.path().join("pedestal.toml"), "").unwrap();
        git(dir.path(), &["add", "."]);
        git(dir.path(), &["commit", "-q", "-m", "stack"]);
        let sha = GitCommit::start(dir.path()).finish().expect("a commit");
        assert_eq!(sha.len(), 40);
        assert!(sha.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(Some(sha), rev_parse(dir.path()));
    }

    /// What `git rev-parse HEAD` itself says in `dir`.
    fn rev_parse(dir: &std::path::Path) -> Option<String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "HEAD"])
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    #[test]
    fn reads_what_git_would_say_from_the_files_loose_packed_detached_and_unborn() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("stacks").join("fraud");
        std::fs::create_dir_all(&sub).unwrap();
        // `init -b` needs git 2.28; naming the branch through HEAD works with any git.
        git(dir.path(), &["init", "-q"]);
        git(dir.path(), &["symbolic-ref", "HEAD", "refs/heads/main"]);
        // No commit yet: git fails, and so does the reading.
        assert_eq!(super::read_head(&sub), Some(None));
        assert_eq!(rev_parse(&sub), None);
        std::fs::write(sub.join("pedestal.toml"), "").unwrap();
        git(dir.path(), &["add", "."]);
        git(dir.path(), &["commit", "-q", "-m", "one"]);
        // A loose ref, read from a subdirectory of the work tree.
        let loose = super::read_head(&sub).expect("read from the files");
        assert_eq!(loose, rev_parse(&sub));
        // Packed.
        git(dir.path(), &["pack-refs", "--all", "--prune"]);
        assert!(!dir.path().join(".git/refs/heads/main").exists());
        assert_eq!(super::read_head(&sub).expect("read"), rev_parse(&sub));
        // A second commit, loose again, then detached at the first.
        git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);
        assert_eq!(super::read_head(&sub).expect("read"), rev_parse(&sub));
        let first = loose.expect("a commit");
        git(dir.path(), &["checkout", "-q", "--detach", &first]);
        assert_eq!(super::read_head(&sub), Some(Some(first.clone())));
        assert_eq!(rev_parse(&sub), Some(first));
    }

    #[test]
    fn refs_kept_in_a_reftable_are_left_to_git() {
        // As `git init --ref-format=reftable` lays it out: HEAD names a placeholder and the
        // refs live in `reftable/`. With no ref file and no `packed-refs`, reading the files
        // would find a branch with no commit yet.
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        std::fs::create_dir_all(git.join("reftable")).unwrap();
        std::fs::write(git.join("HEAD"), "ref: refs/heads/.invalid\n").unwrap();
        assert_eq!(super::read_head(dir.path()), None, "git decides");
    }

    #[test]
    fn a_linked_work_tree_is_left_to_git() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main");
        std::fs::create_dir_all(&main).unwrap();
        git(&main, &["init", "-q"]);
        git(&main, &["commit", "-q", "--allow-empty", "-m", "one"]);
        let linked = dir.path().join("linked");
        git(&main, &["worktree", "add", "-q", linked.to_str().unwrap()]);
        assert_eq!(super::read_head(&linked), None, "git decides");
        let sha = GitCommit::start(&linked).finish();
        assert_eq!(sha, rev_parse(&linked));
        assert!(sha.is_some());
    }
}
