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

/// `git rev-parse HEAD` in a stack's directory, when it is inside a git work tree (best effort),
/// running in the background: started before planning, read after, so the
/// few milliseconds git takes to start overlap with the plan instead of adding to it.
#[derive(Debug)]
pub struct GitCommit(Option<std::process::Child>);

impl GitCommit {
    /// Starts `git rev-parse HEAD` in `dir` (nothing when git cannot start).
    pub fn start(dir: &Path) -> GitCommit {
        let child = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "HEAD"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok();
        GitCommit(child)
    }

    /// The commit, when git found one.
    pub fn finish(self) -> Option<String> {
        let out = self.0?.wait_with_output().ok()?;
        let sha = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && sha.len() >= 7).then_some(sha)
    }
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
    }
}
