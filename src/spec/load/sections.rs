//! The stack file's sections that are not resource blocks: `[stack]` (name, region, tags),
//! `[backend]` and `[provider.aws]`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Loader, ScopeId};
use crate::spec::Backend;
use crate::spec::diag::{ErrorCode, Span, did_you_mean};
use crate::spec::raw::{Entry, Node, NodeKind};

/// `[backend]` string values by key, with where each was written.
type BackendFields = BTreeMap<String, (String, Span)>;

impl Loader<'_> {
    pub(super) fn stack_section(&mut self, e: &Entry) {
        let Some(entries) = self.table_entries(e, "[stack]") else {
            return;
        };
        let mut name_seen = false;
        for f in &entries {
            match f.key.as_str() {
                "name" => {
                    name_seen = true;
                    match f.value.literal_str() {
                        Some(n) => {
                            let ok = !n.is_empty()
                                && n.len() <= 40
                                && n.chars().all(|c| {
                                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
                                })
                                && !n.starts_with('-')
                                && !n.ends_with('-');
                            if !ok {
                                self.err(
                                    ErrorCode::StackName,
                                    &f.value.span,
                                    format!("invalid stack name {n:?}"),
                                    "not a valid stack name",
                                )
                                .help = Some(
                                    "stack names use lowercase letters, digits and `-` (at most 40 characters, not starting or ending with `-`); they prefix every physical name".into(),
                                );
                            }
                            self.stack = n.to_string();
                        }
                        None => {
                            let found = f.value.type_name();
                            self.err(
                                ErrorCode::WrongType,
                                &f.value.span,
                                format!("`name` in [stack] must be a plain string, found {found}"),
                                "expected a string without references",
                            );
                        }
                    }
                }
                "region" => match f.value.literal_str() {
                    Some(r) => self.region = r.to_string(),
                    None => {
                        self.err(
                            ErrorCode::WrongType,
                            &f.value.span,
                            "`region` in [stack] must be a plain string",
                            "expected a string",
                        );
                    }
                },
                "tags" => {
                    if let Some(tags) = self.literal_string_map(&f.value, "`tags`") {
                        self.tags = tags;
                        self.lowered_mut().stack_tags_span = Some(f.value.span.clone());
                        self.check_stack_tags(&f.value);
                    }
                }
                k => self.unknown_key(f, k, &["name", "region", "tags"], "[stack]"),
            }
        }
        if !name_seen {
            self.err(
                ErrorCode::MissingKey,
                &e.key_span,
                "missing `name` in [stack]",
                "this section needs a `name`",
            )
            .help = Some("add `name = \"my-stack\"` (lowercase letters, digits and `-`)".into());
        }
    }

    /// A table of plain strings (tags).
    pub fn literal_string_map(&mut self, n: &Node, what: &str) -> Option<BTreeMap<String, String>> {
        let Some(entries) = n.entries() else {
            let found = n.type_name();
            self.err(
                ErrorCode::WrongType,
                &n.span,
                format!("{what} must be a table of strings, found {found}"),
                "expected a table",
            );
            return None;
        };
        let mut out = BTreeMap::new();
        for e in entries {
            match &e.value.kind {
                NodeKind::Str { text, tpl: None } => {
                    out.insert(e.key.clone(), text.clone());
                }
                NodeKind::Str { tpl: Some(tpl), .. } => {
                    let found = if tpl.single().is_some() {
                        "a reference"
                    } else {
                        "a string with a reference in it"
                    };
                    self.err(
                        ErrorCode::WrongType,
                        &e.value.span,
                        format!("{what} values must be plain strings, found {found}"),
                        "`${...}` is not resolved here; write the value itself",
                    );
                }
                _ => {
                    let found = e.value.type_name();
                    self.err(
                        ErrorCode::WrongType,
                        &e.value.span,
                        format!("{what} values must be plain strings, found {found}"),
                        "expected a string",
                    );
                }
            }
        }
        Some(out)
    }

    pub(super) fn backend_section(&mut self, e: &Entry) {
        let Some(entries) = self.table_entries(e, "[backend]") else {
            return;
        };
        let (fields, encrypt) = self.backend_fields(&entries);
        let ty = fields.get("type").map(|(t, s)| (t.clone(), s.clone()));
        match ty.as_ref().map(|(t, s)| (t.as_str(), s)) {
            None | Some(("local", _)) => self.local_backend(&fields, encrypt.as_ref()),
            Some(("s3", _)) => {
                let written: Vec<String> = entries.iter().map(|f| f.key.clone()).collect();
                self.s3_backend(e, &written, &fields, encrypt.as_ref());
            }
            Some((other, span)) => {
                let span = span.clone();
                let help = did_you_mean(other, ["local", "s3"])
                    .unwrap_or_else(|| "use `local` or `s3`".into());
                self.err(
                    ErrorCode::InvalidValue,
                    &span,
                    format!("unknown backend type {other:?}"),
                    "not a backend type",
                )
                .help = Some(help);
            }
        }
    }

    /// The `[backend]` keys as static strings with their spans, and `encrypt` apart (a bool);
    /// unknown keys and values of the wrong type are reported.
    fn backend_fields(&mut self, entries: &[Entry]) -> (BackendFields, Option<(bool, Span)>) {
        const KEYS: [&str; 7] = [
            "type",
            "path",
            "bucket",
            "key",
            "region",
            "encrypt",
            "kms_key_id",
        ];
        let mut fields: BackendFields = BTreeMap::new();
        let mut encrypt: Option<(bool, Span)> = None;
        for f in entries {
            if !KEYS.contains(&f.key.as_str()) {
                self.unknown_key(f, &f.key, &KEYS, "[backend]");
                continue;
            }
            if f.key == "encrypt" {
                match &f.value.kind {
                    NodeKind::Bool(b) => encrypt = Some((*b, f.value.span.clone())),
                    _ => {
                        let found = f.value.type_name();
                        self.err(
                            ErrorCode::WrongType,
                            &f.value.span,
                            format!("`encrypt` must be true or false, found {found}"),
                            "expected a bool",
                        );
                    }
                }
                continue;
            }
            if let Some(v) = self.eval_static_string(&f.value) {
                fields.insert(f.key.clone(), (v, f.value.span.clone()));
            }
        }
        (fields, encrypt)
    }

    /// `type = "local"` (or no type): only `path` applies.
    fn local_backend(&mut self, fields: &BackendFields, encrypt: Option<&(bool, Span)>) {
        let s3_only = encrypt.map(|(_, s)| ("encrypt", s)).into_iter().chain(
            ["bucket", "key", "region", "kms_key_id"]
                .into_iter()
                .filter_map(|k| fields.get(k).map(|(_, s)| (k, s))),
        );
        for (k, s) in s3_only {
            self.err(
                ErrorCode::UnknownKey,
                s,
                format!("`{k}` is only used by the s3 backend"),
                "not a local backend setting",
            )
            .help = Some("set `type = \"s3\"`, or remove this key".into());
        }
        let path = fields
            .get("path")
            .map(|(p, _)| PathBuf::from(p))
            .unwrap_or_else(|| PathBuf::from(format!("state/{}.json", self.env)));
        self.backend = Backend::Local { path };
    }

    /// `type = "s3"`: `bucket` and `key` are required (`written` names the keys present, so a
    /// key written with a bad value is not also reported missing).
    fn s3_backend(
        &mut self,
        e: &Entry,
        written: &[String],
        fields: &BackendFields,
        encrypt: Option<&(bool, Span)>,
    ) {
        let mut get = |k: &str| -> Option<String> {
            match fields.get(k) {
                Some((v, _)) => Some(v.clone()),
                None if written.iter().any(|w| w == k) => None,
                None => {
                    self.err(
                        ErrorCode::MissingKey,
                        &e.key_span,
                        format!("the s3 backend needs `{k}`"),
                        "missing key",
                    );
                    None
                }
            }
        };
        let bucket = get("bucket");
        let key = get("key");
        let region = fields.get("region").map(|(r, _)| r.clone());
        let kms_key_id = fields.get("kms_key_id").map(|(k, _)| k.clone());
        if let (Some((false, span)), Some(_)) = (encrypt, &kms_key_id) {
            self.err(
                ErrorCode::InvalidValue,
                span,
                "`kms_key_id` needs `encrypt = true`",
                "encryption is off",
            )
            .help = Some("remove `encrypt = false`, or remove `kms_key_id`".into());
        }
        if let (Some(bucket), Some(key)) = (bucket, key) {
            self.backend = Backend::S3 {
                bucket,
                key,
                region,
                encrypt: encrypt.is_none_or(|(e, _)| *e),
                kms_key_id,
            };
        }
    }

    pub(super) fn provider_section(&mut self, e: &Entry) {
        let Some(entries) = self.table_entries(e, "[provider]") else {
            return;
        };
        for p in &entries {
            if p.key != "aws" {
                let help = did_you_mean(&p.key, ["aws"])
                    .unwrap_or_else(|| "the only provider is `aws`".into());
                self.err(
                    ErrorCode::UnknownKey,
                    &p.key_span,
                    format!("unknown provider `{}`", p.key),
                    "unknown provider",
                )
                .help = Some(help);
                continue;
            }
            let Some(fields) = self.table_entries(p, "[provider.aws]") else {
                continue;
            };
            for f in &fields {
                match f.key.as_str() {
                    "region" => {
                        if let Some(r) = self.eval_static_string(&f.value) {
                            self.provider.region = r;
                        }
                    }
                    "endpoint" => {
                        if let Some(r) = self.eval_static_string(&f.value) {
                            self.provider.endpoint = Some(r);
                        }
                    }
                    "network" => {
                        let mut deps = BTreeMap::new();
                        if self.check_static(&f.value)
                            && let Some(v) = self.eval(ScopeId::ROOT, &f.value, &mut deps)
                        {
                            self.network_default = Some((v, f.value.span.clone()));
                        }
                    }
                    "attempt_timeout" | "operation_timeout" => {
                        let Some(text) = self.eval_static_string(&f.value) else {
                            continue;
                        };
                        match humantime::parse_duration(&text) {
                            Ok(d) if !d.is_zero() => {
                                if f.key == "attempt_timeout" {
                                    self.provider.attempt_timeout = Some(d);
                                } else {
                                    self.provider.operation_timeout = Some(d);
                                }
                            }
                            _ => {
                                self.err(
                                    ErrorCode::InvalidValue,
                                    &f.value.span,
                                    format!("`{}` must be a duration above zero", f.key),
                                    "not a duration",
                                )
                                .help = Some("write it like \"30s\", \"2m\" or \"1m 30s\"".into());
                            }
                        }
                    }
                    "artifact_roots" => self.artifact_roots(&f.value),
                    k => self.unknown_key(
                        f,
                        k,
                        &[
                            "region",
                            "endpoint",
                            "network",
                            "artifact_roots",
                            "attempt_timeout",
                            "operation_timeout",
                        ],
                        "[provider.aws]",
                    ),
                }
            }
        }
    }

    /// `artifact_roots = ["/abs/dir", ...]`: existing absolute directories artifact sources
    /// may also come from.
    fn artifact_roots(&mut self, n: &Node) {
        let items: Vec<&Node> = match &n.kind {
            NodeKind::Array(items) => items.iter().collect(),
            _ => {
                self.err(
                    ErrorCode::WrongType,
                    &n.span,
                    "`artifact_roots` in [provider.aws] must be a list of absolute paths",
                    "expected a list of strings",
                )
                .help = Some("for example: artifact_roots = [\"/mnt/models\"]".into());
                return;
            }
        };
        for item in items {
            let Some(p) = item.literal_str() else {
                self.err(
                    ErrorCode::WrongType,
                    &item.span,
                    "each artifact root must be a plain string",
                    "expected a string",
                );
                continue;
            };
            let path = PathBuf::from(p);
            if !path.is_absolute() {
                self.err(
                    ErrorCode::InvalidValue,
                    &item.span,
                    format!("artifact root {p:?} is not an absolute path"),
                    "not absolute",
                )
                .help = Some("paths under the stack directory are always allowed; list only absolute directories outside it".into());
            } else if !path.is_dir() {
                self.err(
                    ErrorCode::InvalidValue,
                    &item.span,
                    format!("artifact root {p:?} is not a directory"),
                    "no such directory",
                );
            } else {
                self.lowered_mut().artifact_roots.push(path);
            }
        }
    }
}
