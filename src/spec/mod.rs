//! The spec: `pedestal.toml`, its environment files and modules, resolved into a validated
//! [`Config`] — the desired world that `graph` and `plan` consume.
//!
//! Flow: `load` reads files (and module files) into `raw` trees with spans → `vars` resolves
//! variables by precedence → `resolve` checks references and orders blocks (cycles reported
//! with every edge's location) → `lower` turns each user block into provider [`Resource`]s with
//! their own addresses. Every error of a run is collected into [`Diagnostics`]; nothing panics
//! on bad input.
//!
//! Public entry point: [`load`].
//!
//! # Language notes
//! - Environment files `env/<name>.toml` hold flat `name = value` pairs for declared variables
//!   (literal values, no `${...}`). Precedence: default < env file < `PEDESTAL_VAR_<name>` <
//!   `--var name=value`; textual values are parsed per declared type (`number`: integer or
//!   float, `bool`: true/false, `list`/`map`: a TOML value such as `["a"]` or `{ k = "v" }`).
//!   A missing env file is fine unless `env/` holds other environments (then it is a typo).
//! - Variable `type` defaults to the default's type, else `string`. Defaults are literal.
//! - `artifact.storage` and `endpoint.compute` name a block of the same scope (`"models"`);
//!   written as an expression (`"${var.compute}"`) the value is the bucket / cluster name itself
//!   (GPU placement can then not be checked).
//! - Artifact `source` is relative to the stack directory, in modules too.
//! - `lifecycle` on `[storage.*]` is the S3 rule list when it is an array and the meta-argument
//!   table (`prevent_destroy`, ...) when it is a table.
//! - Modules: `<dir>/module.toml` (or `pedestal.toml`) with `[inputs.*]`, resource blocks,
//!   nested `[module.*]` and `[outputs]` (`name = "${...}"` or `{ value = ..., sensitive = true }`);
//!   `source` is relative to the declaring file's directory. Module calls take `source`,
//!   `inputs` and `depends_on`. Addresses are prefixed `module.<name>.`; default physical names
//!   are `<stack>-<env>-<module…>-<name>` and log groups `/pedestal/<stack>/<env>/<module…>/<name>`.
//! - Region: `[stack] region`, else `[provider.aws] region`, else `us-east-1`.
//! - Endpoint `alarms = { cpu_high, memory_high, rollback, notify }`: each threshold (a percentage,
//!   1–100) lowers to a CloudWatch alarm `endpoint.X.alarm.<key>` named
//!   `<stack>-<env>-<module…>-<name>-cpu-high` (`-memory-high`); `rollback` defaults to true;
//!   `notify` takes at most five SNS topic ARNs. An empty table (a module's default) means none.
//! - `[policy]` holds built-in rules (each off until set); `policy = "path"` at the top level
//!   reads them from a shared file instead (its top-level keys, path relative to the stack
//!   directory). Violations are errors at the offending value; `max_monthly_cost_delta` is
//!   checked by the planner.

pub mod artifact_source;
mod diag;
pub mod digest_cache;
mod fields;
mod inputs;
mod load;
mod lower;
mod policy;
mod raw;
mod resolve;
mod vars;

pub mod fmt;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use diag::{Diagnostics, ErrorCode, SpecError};
pub use inputs::{VarArgError, env_vars, parse_var_arg, parse_var_args};
pub use lower::{bucket_name_problem, fargate_memory};

use serde::{Deserialize, Serialize};

use crate::addr::Address;
use crate::resource::{Resource, Value};

/// Where state lives for this stack and environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Backend {
    /// `state/<env>.json` next to `pedestal.toml` unless `path` says otherwise (relative to the
    /// stack directory).
    Local {
        /// The state file.
        path: PathBuf,
    },
    /// `bucket`, `key` (`${env}` allowed), `region` (else the provider's), `encrypt` (default
    /// true: SSE-S3, or SSE-KMS with `kms_key_id`).
    S3 {
        /// The bucket holding the state object.
        bucket: String,
        /// The state object's key.
        key: String,
        /// The bucket's region, when not the provider's.
        region: Option<String>,
        /// Whether the state object is encrypted at rest.
        encrypt: bool,
        /// The KMS key for SSE-KMS; SSE-S3 when absent.
        kms_key_id: Option<String>,
    },
}

/// `[provider.aws]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderConfig {
    /// The region resources are made in.
    pub region: String,
    /// `endpoint = "http://127.0.0.1:5000"`; `AWS_ENDPOINT_URL` also applies.
    pub endpoint: Option<String>,
    /// `attempt_timeout = "30s"`: the most one attempt of an AWS call may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_timeout: Option<std::time::Duration>,
    /// `operation_timeout = "1m"`: the most an AWS call may take, retries included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_timeout: Option<std::time::Duration>,
}

/// An `[outputs]` entry after resolution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Output {
    /// The resolved value (references to resources stay references until apply).
    pub value: Value,
    /// Whether the value is shown only as `(sensitive)`.
    pub sensitive: bool,
}

/// `[policy]` settings the planner checks (the others are checked while loading).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {
    /// `max_monthly_cost_delta`: the most a plan may add to the monthly cost.
    pub max_monthly_cost_delta: Option<CostLimit>,
}

/// A monthly cost limit and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct CostLimit {
    /// The limit in cents.
    pub cents: i64,
    /// As written (`500`).
    pub written: String,
    /// `file:line:col` of the value.
    pub location: String,
}

/// The resolved, validated desired world for one stack and environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The stack directory (holding `pedestal.toml`).
    pub root: PathBuf,
    /// The stack name (`[stack] name`).
    pub stack: String,
    /// The environment (`--env`).
    pub env: String,
    /// The region resources are made in.
    pub region: String,
    /// Stack-wide tags (without the `pedestal:*` ones, which lowering adds per resource).
    pub tags: BTreeMap<String, String>,
    /// Where the state is kept (`[backend]`).
    pub backend: Backend,
    /// How to reach AWS (`[provider.aws]`).
    pub provider: ProviderConfig,
    /// Every provider resource, by address.
    pub resources: BTreeMap<Address, Resource>,
    /// Stack outputs by name.
    pub outputs: BTreeMap<String, Output>,
    /// Resolved variables (sensitive ones wrapped in [`Value::Sensitive`]).
    pub variables: BTreeMap<String, Value>,
    /// `[policy]` settings the planner checks.
    pub policy: Policy,
    /// `sha256:<hex>` over the spec files read and the variable values (secrets by digest): a
    /// saved plan is refused when it no longer matches.
    pub digest: String,
}

/// What a load needs besides the stack directory.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Environment name: reads `env/<env>.toml`.
    pub env: String,
    /// `--var K=V`, in command-line order (later wins).
    pub vars: Vec<(String, String)>,
    /// `PEDESTAL_VAR_<name>` values taken from the process environment by the caller (keys
    /// with or without the `PEDESTAL_VAR_` prefix).
    pub env_vars: BTreeMap<String, String>,
    /// Told while a large artifact is hashed (see [`digest_cache`]).
    pub hash_observer: Option<std::sync::Arc<dyn digest_cache::HashObserver>>,
    /// Values recorded in a saved plan (non-sensitive variables only): they take precedence over
    /// every other source, and a `--var` giving the same variable another value is an error.
    pub pinned: BTreeMap<String, Value>,
    /// A sensitive variable with no value becomes an unknown placeholder instead of an error
    /// (`validate` and `graph`, which run in checks that hold no secrets).
    pub sensitive_placeholders: bool,
}

impl LoadOptions {
    /// Options for `env` with no variables set.
    pub fn env(env: impl Into<String>) -> Self {
        LoadOptions {
            env: env.into(),
            ..Default::default()
        }
    }
}

/// Loads, resolves and validates the stack in `dir` for one environment. Returns every error
/// found, not just the first.
pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Config, Diagnostics> {
    load::Loader::new(dir, opts).run()
}

/// Loads a stack written to a temporary directory (unit tests of the spec modules).
#[cfg(test)]
pub(crate) fn load_files(
    files: &[(&str, &str)],
    opts: &LoadOptions,
) -> Result<Config, Diagnostics> {
    let dir = tempfile::tempdir().map_err(|e| {
        let mut d = Diagnostics::default();
        d.push(SpecError::bare(ErrorCode::Io, e.to_string()));
        d
    })?;
    for (path, text) in files {
        let p = dir.path().join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).ok();
        }
        std::fs::write(p, text).ok();
    }
    load(dir.path(), opts)
}
