//! The `[policy]` section: built-in rules a team turns on, each off by default. Written inline
//! as a `[policy]` table in `pedestal.toml`, or kept in a shared file named at the top level
//! (`policy = "../../policy.toml"`, relative to the stack directory) whose top-level keys are
//! the rules. Each rule keeps the span it was written at so a violation can say which rule
//! refused it; `spec::policy` checks them against the lowered config.

use std::path::Path;

use super::{BlockKind, Loader, normalize};
use crate::spec::diag::{ErrorCode, Span};
use crate::spec::raw::{Entry, Node, NodeKind};

/// The rules a stack is held to, with where each was set.
#[derive(Debug, Default, Clone)]
pub(in crate::spec) struct PolicyRules {
    /// `require_encryption = true`: buckets use `aws:kms` with a customer key.
    pub require_encryption: Option<Span>,
    /// `deny_public_buckets = true`: every bucket blocks public access.
    pub deny_public_buckets: Option<Span>,
    /// `max_replicas = N`: no endpoint runs (or scales to) more than N tasks.
    pub max_replicas: Option<(i64, Span)>,
    /// `allowed_regions = [...]`.
    pub allowed_regions: Option<(Vec<String>, Span)>,
    /// `allowed_image_registries = [...]`: registry hosts, or host/path prefixes.
    pub allowed_image_registries: Option<(Vec<String>, Span)>,
    /// `require_prevent_destroy_on = ["storage", ...]`: block kinds that must set
    /// `lifecycle.prevent_destroy = true`.
    pub require_prevent_destroy_on: Option<(Vec<BlockKind>, Span)>,
    /// `max_monthly_cost_delta = 500` in dollars: (cents, as written, span); checked in plan.
    pub max_monthly_cost_delta: Option<(i64, String, Span)>,
}

/// The rule names, for unknown-key hints.
pub(in crate::spec) const POLICY_KEYS: &[&str] = &[
    "require_encryption",
    "deny_public_buckets",
    "max_replicas",
    "allowed_regions",
    "allowed_image_registries",
    "require_prevent_destroy_on",
    "max_monthly_cost_delta",
];

impl Loader<'_> {
    /// The top-level `policy` key: a table of rules, or the path of a shared rules file.
    pub(super) fn policy_section(&mut self, e: &Entry) {
        match &e.value.kind {
            NodeKind::Table(entries) => {
                let entries = entries.clone();
                self.policy_rules(&entries, "[policy]");
            }
            NodeKind::Str { text, tpl: None } => {
                let rel = normalize(Path::new(text));
                let file = match self.read_source(&rel) {
                    Ok(f) => f,
                    Err(err) => {
                        let shown = self.display_name(&rel);
                        self.err(
                            ErrorCode::Io,
                            &e.value.span,
                            format!("cannot read the policy file {shown}: {err}"),
                            "policy file not readable",
                        )
                        .help = Some(
                            "`policy` is a path relative to the stack directory, e.g. \"../../policy.toml\"".into(),
                        );
                        return;
                    }
                };
                let Some(doc) = self.parse_source(file, false) else {
                    return;
                };
                let entries = doc.entries().unwrap_or_default().to_vec();
                self.policy_rules(&entries, "the policy file");
            }
            _ => {
                let found = e.value.type_name();
                self.err(
                    ErrorCode::WrongType,
                    &e.value.span,
                    format!("`policy` must be a [policy] table or a file path, found {found}"),
                    "expected a table or a path",
                );
            }
        }
    }

    fn policy_rules(&mut self, entries: &[Entry], within: &str) {
        for f in entries {
            let v = &f.value;
            match f.key.as_str() {
                "require_encryption" => {
                    if self.policy_bool(v, &f.key) {
                        self.policy_mut().require_encryption = Some(v.span.clone());
                    }
                }
                "deny_public_buckets" => {
                    if self.policy_bool(v, &f.key) {
                        self.policy_mut().deny_public_buckets = Some(v.span.clone());
                    }
                }
                "max_replicas" => match v.kind {
                    NodeKind::Int(n) if n >= 0 => {
                        self.policy_mut().max_replicas = Some((n, v.span.clone()));
                    }
                    _ => self.policy_type(v, &f.key, "a non-negative integer"),
                },
                "allowed_regions" => {
                    if let Some(l) = self.policy_strings(v, &f.key) {
                        self.policy_mut().allowed_regions = Some((l, v.span.clone()));
                    }
                }
                "allowed_image_registries" => {
                    if let Some(l) = self.policy_strings(v, &f.key) {
                        self.policy_mut().allowed_image_registries = Some((l, v.span.clone()));
                    }
                }
                "require_prevent_destroy_on" => {
                    let Some(l) = self.policy_strings(v, &f.key) else {
                        continue;
                    };
                    let mut kinds = Vec::new();
                    for k in &l {
                        match BlockKind::parse(k).filter(|k| *k != BlockKind::Module) {
                            Some(kind) => kinds.push(kind),
                            None => {
                                self.err(
                                    ErrorCode::InvalidValue,
                                    &v.span,
                                    format!("unknown block kind {k:?} in require_prevent_destroy_on"),
                                    "not a block kind",
                                )
                                .help = Some(
                                    "use block kinds: \"storage\", \"artifact\", \"compute\", \"endpoint\"".into(),
                                );
                            }
                        }
                    }
                    self.policy_mut().require_prevent_destroy_on = Some((kinds, v.span.clone()));
                }
                "max_monthly_cost_delta" => {
                    let (cents, written) = match v.kind {
                        NodeKind::Int(n) if n >= 0 => (n.saturating_mul(100), n.to_string()),
                        NodeKind::Float(x) if x >= 0.0 && x.is_finite() => {
                            ((x * 100.0).round() as i64, x.to_string())
                        }
                        _ => {
                            self.policy_type(v, &f.key, "a non-negative number of dollars");
                            continue;
                        }
                    };
                    self.policy_mut().max_monthly_cost_delta =
                        Some((cents, written, v.span.clone()));
                }
                k => self.unknown_key(f, k, POLICY_KEYS, within),
            }
        }
    }

    fn policy_bool(&mut self, v: &Node, key: &str) -> bool {
        match v.kind {
            NodeKind::Bool(b) => b,
            _ => {
                self.policy_type(v, key, "true or false");
                false
            }
        }
    }

    fn policy_strings(&mut self, v: &Node, key: &str) -> Option<Vec<String>> {
        let NodeKind::Array(items) = &v.kind else {
            self.policy_type(v, key, "a list of strings");
            return None;
        };
        let mut out = Vec::new();
        for i in items {
            match i.literal_str() {
                Some(s) => out.push(s.to_string()),
                None => {
                    self.policy_type(i, key, "a list of strings");
                    return None;
                }
            }
        }
        Some(out)
    }

    fn policy_type(&mut self, v: &Node, key: &str, expected: &str) {
        let found = v.type_name();
        self.err(
            ErrorCode::WrongType,
            &v.span,
            format!("`{key}` in [policy] must be {expected}, found {found}"),
            format!("expected {expected}"),
        );
    }
}
