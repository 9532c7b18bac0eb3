//! Variables: `[variables.*]` and module `[inputs.*]` declarations, and the values the root
//! variables take from (lowest to highest precedence) their default, the environment file
//! `env/<name>.toml` (flat `name = value` pairs), `PEDESTAL_VAR_<name>` and `--var name=value`.
//! Values given as text (environment variables, `--var`) are parsed per declared type.

use std::collections::BTreeMap;
use std::path::Path;

use super::diag::{ErrorCode, FileId, Span, SpecError, did_you_mean};
use super::load::{Loader, VarDecl, VarType, valid_name};
use super::raw::{Entry, Node, NodeKind, parse_value};
use crate::resource::Key;
use crate::resource::Value;

const DECL_KEYS: &[&str] = &["type", "description", "default", "sensitive"];

/// A plain (reference-free) node as a value.
pub(super) fn literal_value(n: &Node) -> Value {
    match &n.kind {
        NodeKind::Str { text, .. } => Value::String(text.clone()),
        NodeKind::Int(i) => Value::Int(*i),
        NodeKind::Float(f) => Value::Float(*f),
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Datetime(d) => Value::String(d.clone()),
        NodeKind::Array(items) => Value::List(items.iter().map(literal_value).collect()),
        NodeKind::Table(es) => Value::Map(
            es.iter()
                .map(|e| (Key::from(e.key.clone()), literal_value(&e.value)))
                .collect(),
        ),
    }
}

/// The name of a value's type, for messages.
pub(super) fn value_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) => "an integer",
        Value::Float(_) => "a number",
        Value::String(_) | Value::Template(_) => "a string",
        Value::List(_) => "a list",
        Value::Map(_) => "a map",
        Value::Unknown | Value::Ref(_) => "a value known after apply",
        Value::Sensitive(inner) => value_type(inner),
        Value::Redacted(_) => "a sensitive value",
    }
}

/// Whether `v` fits a declared type (values known after apply fit any scalar type).
pub(super) fn fits(ty: VarType, v: &Value) -> bool {
    match (ty, v) {
        (_, Value::Sensitive(inner)) => fits(ty, inner),
        (_, Value::Unknown | Value::Ref(_)) => true,
        (VarType::String, Value::String(_) | Value::Template(_)) => true,
        (VarType::Number, Value::Int(_) | Value::Float(_)) => true,
        (VarType::Bool, Value::Bool(_)) => true,
        (VarType::List, Value::List(_)) => true,
        (VarType::Map, Value::Map(_)) => true,
        _ => false,
    }
}

impl Loader<'_> {
    /// Reads `[variables.*]` (what = "variable") or `[inputs.*]` (what = "input").
    pub fn var_decls_of(&mut self, e: &Entry, what: &str) -> BTreeMap<String, VarDecl> {
        let mut out = BTreeMap::new();
        let section = if what == "variable" {
            "[variables]"
        } else {
            "[inputs]"
        };
        let Some(entries) = self.table_entries(e, section) else {
            return out;
        };
        for v in &entries {
            if let Some(d) = self.var_decl(v, what, section) {
                out.insert(v.key.clone(), d);
            }
        }
        out
    }

    /// Reads one declaration `[<section>.<name>]`.
    fn var_decl(&mut self, v: &Entry, what: &str, section: &str) -> Option<VarDecl> {
        if !valid_name(&v.key) {
            self.err(
                ErrorCode::InvalidValue,
                &v.key_span,
                format!("invalid {what} name {:?}", v.key),
                "not a valid name",
            );
            return None;
        }
        let fields = self.table_entries(v, &format!("{section}.{}", v.key))?;
        let mut ty = None;
        let mut default = None;
        let mut sensitive = false;
        for f in &fields {
            match f.key.as_str() {
                "type" => ty = self.var_type(f, what, &v.key).or(ty),
                "description" => {
                    if !matches!(f.value.kind, NodeKind::Str { .. }) {
                        self.err(
                            ErrorCode::WrongType,
                            &f.value.span,
                            "`description` must be a string",
                            "expected a string",
                        );
                    }
                }
                "default" => {
                    let mut refs = Vec::new();
                    f.value.refs(&mut refs);
                    if let Some(r) = refs.first() {
                        let span = r.span.clone();
                        self.err(
                            ErrorCode::InvalidValue,
                            &span,
                            format!("the default of {what} `{}` cannot use references", v.key),
                            "a reference",
                        )
                        .help = Some(
                            "defaults are literal values; write `$${` for a literal `${`".into(),
                        );
                    } else {
                        default = Some(f.value.clone());
                    }
                }
                "sensitive" => match f.value.kind {
                    NodeKind::Bool(b) => sensitive = b,
                    _ => {
                        self.err(
                            ErrorCode::WrongType,
                            &f.value.span,
                            "`sensitive` must be true or false",
                            "expected a boolean",
                        );
                    }
                },
                k => self.unknown_key(f, k, DECL_KEYS, &format!("{section}.{}", v.key)),
            }
        }
        let ty = ty.unwrap_or_else(|| match default.as_ref().map(literal_value) {
            Some(Value::Int(_) | Value::Float(_)) => VarType::Number,
            Some(Value::Bool(_)) => VarType::Bool,
            Some(Value::List(_)) => VarType::List,
            Some(Value::Map(_)) => VarType::Map,
            _ => VarType::String,
        });
        if let Some(d) = &default {
            let value = literal_value(d);
            if !fits(ty, &value) {
                // A sensitive default is shown as `(sensitive)`, at its place.
                let span = if sensitive {
                    self.redacted(&d.span)
                } else {
                    d.span.clone()
                };
                self.err(
                    ErrorCode::VariableType,
                    &span,
                    format!(
                        "the default of {what} `{}` is {}, not a {}",
                        v.key,
                        value_type(&value),
                        ty.as_str()
                    ),
                    format!("expected a {}", ty.as_str()),
                );
            }
        }
        Some(VarDecl {
            name: v.key.clone(),
            span: v.key_span.clone(),
            ty,
            default,
            sensitive,
        })
    }

    /// `type = "string" | "number" | "bool" | "list" | "map"`; reports any other.
    fn var_type(&mut self, f: &Entry, what: &str, name: &str) -> Option<VarType> {
        match f.value.literal_str() {
            Some("string") => Some(VarType::String),
            Some("number") => Some(VarType::Number),
            Some("bool") => Some(VarType::Bool),
            Some("list") => Some(VarType::List),
            Some("map") => Some(VarType::Map),
            other => {
                let help = other
                    .and_then(|o| did_you_mean(o, ["string", "number", "bool", "list", "map"]))
                    .unwrap_or_else(|| "types are string, number, bool, list and map".into());
                self.err(
                    ErrorCode::InvalidValue,
                    &f.value.span,
                    format!("unknown type for {what} `{name}`"),
                    "not a type",
                )
                .help = Some(help);
                None
            }
        }
    }

    /// Resolves every root variable by precedence; wraps sensitive ones.
    pub fn resolve_variables(&mut self) {
        let mut values: BTreeMap<String, Value> = BTreeMap::new();
        let decls = self.var_decls().clone();
        for (name, d) in &decls {
            if let Some(n) = &d.default {
                values.insert(name.clone(), literal_value(n));
            }
        }
        // 1. The environment file.
        self.env_file_values(&decls, &mut values);
        // 2. PEDESTAL_VAR_<name> (undeclared names are ignored, as Terraform does for TF_VAR_).
        let env_vars: Vec<(String, String)> = self
            .opts()
            .env_vars
            .iter()
            .map(|(k, v)| {
                (
                    k.strip_prefix("PEDESTAL_VAR_").unwrap_or(k).to_string(),
                    v.clone(),
                )
            })
            .collect();
        for (name, raw) in env_vars {
            if let Some(d) = decls.get(&name) {
                let file = self.add_source(format!("PEDESTAL_VAR_{name}"), raw.clone());
                if let Some(v) = self.parse_typed(d, file, 0) {
                    values.insert(name, v);
                }
            }
        }
        // 3. --var name=value.
        let cli_vars = self.opts().vars.clone();
        for (name, raw) in cli_vars {
            let text = format!("{name}={raw}");
            let file = self.add_source("--var", text);
            match decls.get(&name) {
                Some(d) => {
                    if let Some(v) = self.parse_typed(d, file, name.len() + 1) {
                        values.insert(name, v);
                    }
                }
                None => {
                    let help = did_you_mean(&name, decls.keys().map(String::as_str))
                        .unwrap_or_else(|| {
                            "declare it in pedestal.toml under [variables.<name>]".into()
                        });
                    self.err(
                        ErrorCode::UnknownReference,
                        &Span::new(file, 0..name.len()),
                        format!("--var sets `{name}`, which is not a declared variable"),
                        "undeclared variable",
                    )
                    .help = Some(help);
                }
            }
        }
        // 4. Values a saved plan was made with.
        self.pinned_values(&decls, &mut values);
        // Missing values and sensitivity.
        let placeholders = self.opts().sensitive_placeholders;
        for (name, d) in &decls {
            match values.remove(name) {
                None if d.sensitive && placeholders => {
                    // Not given (a check without secrets): known only when planned for real.
                    self.lowered_mut()
                        .vars
                        .insert(name.clone(), Value::Sensitive(Box::new(Value::Unknown)));
                }
                Some(v) => {
                    let v = if d.sensitive {
                        Value::Sensitive(Box::new(v))
                    } else {
                        v
                    };
                    self.lowered_mut().vars.insert(name.clone(), v);
                }
                None => {
                    let env = self.env().to_string();
                    self.err(
                        ErrorCode::MissingVariable,
                        &d.span,
                        format!("no value for required variable `{name}`"),
                        "declared here without a default",
                    )
                    .help = Some(format!(
                        "set `{name} = ...` in env/{env}.toml, pass --var {name}=..., or export PEDESTAL_VAR_{name}"
                    ));
                }
            }
        }
    }

    /// The values of a saved plan ([`super::LoadOptions::pinned`]) replace what the other
    /// sources gave; a `--var` that disagrees with one is reported (the plan was reviewed with
    /// the recorded value). Names no longer declared are skipped: the spec digest then tells
    /// that the spec changed.
    fn pinned_values(
        &mut self,
        decls: &BTreeMap<String, VarDecl>,
        values: &mut BTreeMap<String, Value>,
    ) {
        let pinned = self.opts().pinned.clone();
        let cli: BTreeMap<String, String> = self.opts().vars.iter().cloned().collect();
        for (name, v) in pinned {
            let Some(d) = decls.get(&name) else { continue };
            if d.sensitive || !fits(d.ty, &v) {
                continue;
            }
            if let Some(raw) = cli.get(&name) {
                let given = values.get(&name);
                if given.is_some_and(|g| !g.same_as(&v)) {
                    let text = format!("{name}={raw}");
                    let file = self.add_source("--var", text);
                    self.err(
                        ErrorCode::InvalidValue,
                        &Span::new(file, name.len() + 1..name.len() + 1 + raw.len()),
                        format!(
                            "--var sets `{name}` to another value than the saved plan was made with ({v})"
                        ),
                        "differs from the saved plan",
                    )
                    .help = Some(format!(
                        "a saved plan applies with the values it recorded; drop --var {name}, or run `pedestal plan` again with the new value"
                    ));
                    continue;
                }
            }
            values.insert(name, v);
        }
    }

    /// Values from `env/<env>.toml`; a missing file is an error only when `env/` holds
    /// other environments.
    fn env_file_values(
        &mut self,
        decls: &BTreeMap<String, VarDecl>,
        values: &mut BTreeMap<String, Value>,
    ) {
        let env_rel = format!("env/{}.toml", self.env());
        let env_path = self.root().join(&env_rel);
        if env_path.is_file() {
            match self.read_source(Path::new(&env_rel)) {
                Ok(file) => {
                    if let Some(doc) = self.parse_source(file, false) {
                        for e in doc.entries().unwrap_or_default() {
                            self.env_file_entry(e, decls, values);
                        }
                    }
                }
                Err(err) => self.push_error(SpecError::bare(
                    ErrorCode::Io,
                    format!("cannot read {env_rel}: {err}"),
                )),
            }
        } else if env_path.is_dir() {
            let env = self.env().to_string();
            let shown = self.display_name(Path::new(&env_rel));
            self.push_error(
                SpecError::bare(
                    ErrorCode::Environment,
                    format!("environment `{env}`: {shown} is a directory, not a file"),
                )
                .with_help(format!(
                    "the variables of environment `{env}` go in a TOML file at {env_rel}"
                )),
            );
        } else {
            self.unknown_environment(&env_rel);
        }
    }

    /// Reports an environment without a file when `env/` holds others (a typo).
    fn unknown_environment(&mut self, env_rel: &str) {
        let mut known: Vec<String> = std::fs::read_dir(self.root().join("env"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let p = e.path();
                        (p.extension().is_some_and(|x| x == "toml"))
                            .then(|| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                            .flatten()
                    })
                    .collect()
            })
            .unwrap_or_default();
        known.sort();
        if !known.is_empty() {
            let help = did_you_mean(self.env(), known.iter().map(String::as_str))
                .unwrap_or_else(|| format!("known environments: {}", known.join(", ")));
            self.push_error(
                SpecError::bare(
                    ErrorCode::Environment,
                    format!(
                        "unknown environment `{}`: {} does not exist",
                        self.env(),
                        self.display_name(Path::new(env_rel))
                    ),
                )
                .with_help(help),
            );
        }
    }

    fn env_file_entry(
        &mut self,
        e: &Entry,
        decls: &BTreeMap<String, VarDecl>,
        values: &mut BTreeMap<String, Value>,
    ) {
        let Some(d) = decls.get(&e.key) else {
            let help = did_you_mean(&e.key, decls.keys().map(String::as_str)).unwrap_or_else(
                || {
                    "environment files hold flat `name = value` pairs for variables declared in pedestal.toml".into()
                },
            );
            self.err(
                ErrorCode::UnknownKey,
                &e.key_span,
                format!("`{}` is not a declared variable", e.key),
                "undeclared variable",
            )
            .help = Some(help);
            return;
        };
        let v = literal_value(&e.value);
        if !fits(d.ty, &v) {
            let span = if d.sensitive {
                self.redacted(&e.value.span)
            } else {
                e.value.span.clone()
            };
            self.err(
                ErrorCode::VariableType,
                &span,
                format!(
                    "variable `{}` is a {}, but this value is {}",
                    e.key,
                    d.ty.as_str(),
                    value_type(&v)
                ),
                format!("expected a {}", d.ty.as_str()),
            )
            .label(&d.span, "declared here")
            .help = Some(format!(
                "`{}` is declared with type = \"{}\"",
                e.key,
                d.ty.as_str()
            ));
            return;
        }
        values.insert(e.key.clone(), v);
    }

    /// A copy of `span`'s file with the spanned text replaced by `(sensitive)`, and the span
    /// of that placeholder: a diagnostic about a sensitive value keeps its `file:line:col`
    /// without showing the value.
    fn redacted(&mut self, span: &Span) -> Span {
        const PLACEHOLDER: &str = "(sensitive)";
        let f = self.sources().get(span.file);
        let (name, text) = (f.name.clone(), f.text.clone());
        let (start, end) = (span.range.start, span.range.end.min(text.len()));
        let copy = format!(
            "{}{PLACEHOLDER}{}",
            text.get(..start).unwrap_or(""),
            text.get(end..).unwrap_or("")
        );
        let file = self.add_source(name, copy);
        Span::new(file, start..start + PLACEHOLDER.len())
    }

    /// Parses a textual value (from `--var` or the environment) per the declared type;
    /// `offset` is where the value starts inside `file`.
    fn parse_typed(&mut self, d: &VarDecl, file: FileId, offset: usize) -> Option<Value> {
        let text = self
            .sources()
            .text(file)
            .get(offset..)
            .unwrap_or("")
            .to_string();
        let span = Span::new(file, offset..offset + text.len());
        let trimmed = text.trim();
        let parsed = match d.ty {
            VarType::String => Some(Value::String(text.clone())),
            VarType::Number => trimmed.parse::<i64>().map(Value::Int).ok().or_else(|| {
                trimmed
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(Value::Float)
            }),
            VarType::Bool => match trimmed {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            VarType::List | VarType::Map => {
                let name = self.sources().get(file).name.clone();
                let vfile = self.add_source(name, text.clone());
                let mut quiet = super::diag::Diagnostics::default();
                parse_value(self.sources(), vfile, &mut quiet)
                    .map(|n| literal_value(&n))
                    .filter(|v| fits(d.ty, v))
            }
        };
        if parsed.is_none() {
            let example = match d.ty {
                VarType::String => "text",
                VarType::Number => "3",
                VarType::Bool => "true",
                VarType::List => "[\"a\", \"b\"]",
                VarType::Map => "{ key = \"value\" }",
            };
            let (span, shown) = if d.sensitive {
                (
                    self.redacted(&span),
                    "the sensitive value given".to_string(),
                )
            } else {
                (span, format!("{text:?}"))
            };
            self.err(
                ErrorCode::VariableType,
                &span,
                format!(
                    "variable `{}` is a {}, but {shown} is not",
                    d.name,
                    d.ty.as_str()
                ),
                format!("expected a {}", d.ty.as_str()),
            )
            .help = Some(format!("for example: {}={example}", d.name));
        }
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_fit() {
        assert!(fits(VarType::Number, &Value::Int(1)));
        assert!(fits(VarType::Number, &Value::Float(1.5)));
        assert!(!fits(VarType::Number, &Value::str("1")));
        assert!(fits(
            VarType::String,
            &Value::Sensitive(Box::new(Value::str("x")))
        ));
        assert!(!fits(
            VarType::Bool,
            &Value::Sensitive(Box::new(Value::Int(1)))
        ));
        assert!(fits(VarType::List, &Value::List(vec![])));
        assert!(!fits(VarType::Map, &Value::List(vec![])));
        assert_eq!(value_type(&Value::Map(Default::default())), "a map");
    }
}
