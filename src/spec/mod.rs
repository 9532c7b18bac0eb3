//! The spec: `pedestal.toml`, its environment files and modules, resolved into a validated
//! [`Config`] — the desired world that `graph` and `plan` consume.
//!
//! Flow: `raw` (serde types with spans) → `resolve` (variables, references, defaults, validation)
//! → lowering of each user block into provider [`Resource`]s with their own addresses.

pub mod fmt;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::addr::Address;
use crate::resource::{Resource, Value};

/// Where state lives for this stack and environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Backend {
    /// `state/<env>.json` next to `pedestal.toml` unless `path` says otherwise (relative to the
    /// stack directory).
    Local { path: PathBuf },
    S3 {
        bucket: String,
        key: String,
        region: Option<String>,
    },
}

/// `[provider.aws]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderConfig {
    pub region: String,
    /// `endpoint = "http://127.0.0.1:5000"`; `AWS_ENDPOINT_URL` also applies.
    pub endpoint: Option<String>,
}

/// An `[outputs]` entry after resolution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub value: Value,
    pub sensitive: bool,
}

/// The resolved, validated desired world for one stack and environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The stack directory (holding `pedestal.toml`).
    pub root: PathBuf,
    pub stack: String,
    pub env: String,
    pub region: String,
    /// Stack-wide tags (without the `pedestal:*` ones, which lowering adds per resource).
    pub tags: BTreeMap<String, String>,
    pub backend: Backend,
    pub provider: ProviderConfig,
    /// Every provider resource, by address.
    pub resources: BTreeMap<Address, Resource>,
    pub outputs: BTreeMap<String, Output>,
    /// Resolved variables (sensitive ones wrapped in [`Value::Sensitive`]).
    pub variables: BTreeMap<String, Value>,
    /// `sha256:<hex>` over the spec files read and the variable values (secrets by digest): a
    /// saved plan is refused when it no longer matches.
    pub digest: String,
}
