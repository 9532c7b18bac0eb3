//! Typed reading of a block's keys: each getter evaluates one key, checks its type, records the
//! resources it came from, and reports problems (unknown keys with a suggestion, wrong types,
//! missing required keys) at the right span. Tables may be written inline or come from a
//! reference (`network = "${var.network}"`); both read the same way.

use std::borrow::Cow;

use super::diag::{ErrorCode, Span, did_you_mean};
use super::load::{Loader, ScopeId};
use super::raw::{Node, NodeKind};
use super::resolve::Deps;
use super::vars::value_type;
use crate::resource::{Attrs, Value};

/// Where a key's value comes from: the spec text, or an already evaluated value.
#[derive(Clone, Debug)]
pub(super) enum Src<'n> {
    Node(&'n Node),
    Val(Value, Span),
}

impl Src<'_> {
    pub fn span(&self) -> &Span {
        match self {
            Src::Node(n) => &n.span,
            Src::Val(_, s) => s,
        }
    }

    pub fn is_array(&self) -> bool {
        match self {
            Src::Node(n) => matches!(n.kind, NodeKind::Array(_)),
            Src::Val(v, _) => matches!(v, Value::List(_)),
        }
    }

    pub fn literal_str(&self) -> Option<&str> {
        match self {
            Src::Node(n) => n.literal_str(),
            Src::Val(..) => None,
        }
    }
}

/// The keys of one table being read.
#[derive(Debug)]
pub(super) struct Fields<'n> {
    pub scope: ScopeId,
    /// `endpoint.fraud` or `endpoint.fraud.health_check`, for messages.
    pub what: String,
    /// Where to point when a required key is missing.
    pub span: Span,
    /// Keys written in the spec are borrowed from it; keys of an evaluated map are owned.
    entries: Vec<(Cow<'n, str>, Span, Src<'n>)>,
}

impl<'n> Fields<'n> {
    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _, _)| k == key)
    }

    pub fn src(&self, key: &str) -> Option<&Src<'n>> {
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, s)| s)
    }
}

fn string_like(v: &Value) -> bool {
    match v {
        Value::String(_) | Value::Template(_) | Value::Ref(_) | Value::Unknown => true,
        Value::Sensitive(inner) => string_like(inner),
        _ => false,
    }
}

/// A sensitive variable left without a value by `validate` or `graph`: nothing can be checked
/// about it beyond what its declaration says, so getters that need a known value skip it.
fn placeholder(v: &Value) -> bool {
    matches!(v, Value::Sensitive(inner) if matches!(**inner, Value::Unknown))
}

impl Loader<'_> {
    /// Opens a table for reading; reports keys outside `allowed`.
    pub fn fields<'n>(
        &mut self,
        scope: ScopeId,
        src: &Src<'n>,
        name_span: &Span,
        what: &str,
        allowed: &[&str],
        deps: &mut Deps,
    ) -> Option<Fields<'n>> {
        let mut entries: Vec<(Cow<'n, str>, Span, Src<'n>)> = Vec::new();
        match src {
            Src::Node(n) => match &n.kind {
                NodeKind::Table(es) => {
                    entries.reserve_exact(es.len());
                    for e in es {
                        entries.push((
                            Cow::Borrowed(e.key.as_str()),
                            e.key_span.clone(),
                            Src::Node(&e.value),
                        ));
                    }
                }
                NodeKind::Str { tpl: Some(_), .. } => {
                    let v = self.eval(scope, n, deps)?;
                    return self.fields(
                        scope,
                        &Src::Val(v, n.span.clone()),
                        name_span,
                        what,
                        allowed,
                        deps,
                    );
                }
                _ => {
                    let found = n.type_name();
                    self.err(
                        ErrorCode::WrongType,
                        &n.span,
                        format!("`{what}` must be a table, found {found}"),
                        "expected a table",
                    );
                    return None;
                }
            },
            Src::Val(Value::Map(m), span) => {
                entries.reserve_exact(m.len());
                for (k, v) in m {
                    entries.push((
                        Cow::Owned(k.to_string()),
                        span.clone(),
                        Src::Val(v.clone(), span.clone()),
                    ));
                }
            }
            Src::Val(v, _) if placeholder(v) => return None,
            Src::Val(v, span) => {
                let found = value_type(v);
                self.err(
                    ErrorCode::WrongType,
                    span,
                    format!("`{what}` must be a table, found {found}"),
                    "expected a table",
                );
                return None;
            }
        }
        for (k, ks, _) in &entries {
            if !allowed.contains(&k.as_ref()) {
                let help = did_you_mean(k, allowed.iter().copied())
                    .unwrap_or_else(|| format!("allowed keys: {}", allowed.join(", ")));
                self.err(
                    ErrorCode::UnknownKey,
                    ks,
                    format!("unknown key `{k}` in {what}"),
                    "unknown key",
                )
                .help = Some(help);
            }
        }
        Some(Fields {
            scope,
            what: what.to_string(),
            span: name_span.clone(),
            entries,
        })
    }

    /// A nested table (`health_check = { ... }`).
    pub fn sub<'n>(
        &mut self,
        f: &Fields<'n>,
        key: &str,
        allowed: &[&str],
        deps: &mut Deps,
    ) -> Option<Fields<'n>> {
        let (ks, src) = f
            .entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, ks, s)| (ks.clone(), s.clone()))?;
        let mut what = String::with_capacity(f.what.len() + 1 + key.len());
        what.push_str(&f.what);
        what.push('.');
        what.push_str(key);
        self.fields(f.scope, &src, &ks, &what, allowed, deps)
    }

    pub fn missing(&mut self, f: &Fields<'_>, key: &str, help: &str) {
        let span = f.span.clone();
        self.err(
            ErrorCode::MissingKey,
            &span,
            format!("missing required key `{key}` in {}", f.what),
            format!("`{key}` is required here"),
        )
        .help = Some(help.to_string());
    }

    fn wrong(&mut self, f: &Fields<'_>, key: &str, span: &Span, expected: &str, v: &Value) {
        let found = value_type(v);
        self.err(
            ErrorCode::WrongType,
            span,
            format!("`{key}` in {} must be {expected}, found {found}", f.what),
            format!("expected {expected}"),
        );
    }

    /// Any value.
    pub fn value(&mut self, f: &Fields<'_>, key: &str, deps: &mut Deps) -> Option<(Value, Span)> {
        let src = f.src(key)?.clone();
        match src {
            Src::Node(n) => {
                let v = self.eval(f.scope, n, deps)?;
                Some((v, n.span.clone()))
            }
            Src::Val(v, s) => Some((v, s)),
        }
    }

    /// A string, possibly known only after apply or sensitive.
    pub fn v_str(&mut self, f: &Fields<'_>, key: &str, deps: &mut Deps) -> Option<(Value, Span)> {
        let (v, s) = self.value(f, key, deps)?;
        if string_like(&v) {
            Some((v, s))
        } else {
            self.wrong(f, key, &s, "a string", &v);
            None
        }
    }

    /// A string known at plan time.
    pub fn v_plain_str(
        &mut self,
        f: &Fields<'_>,
        key: &str,
        deps: &mut Deps,
    ) -> Option<(String, Span)> {
        let (v, s) = self.value(f, key, deps)?;
        match v {
            v if placeholder(&v) => None,
            Value::String(x) => Some((x, s)),
            Value::Sensitive(inner) if matches!(*inner, Value::String(_)) => {
                inner.as_str().map(|x| (x.to_string(), s))
            }
            v if string_like(&v) => {
                self.err(
                    ErrorCode::InvalidValue,
                    &s,
                    format!("`{key}` in {} must be known before apply", f.what),
                    "known only after apply",
                );
                None
            }
            v => {
                self.wrong(f, key, &s, "a string", &v);
                None
            }
        }
    }

    pub fn v_int(&mut self, f: &Fields<'_>, key: &str, deps: &mut Deps) -> Option<(i64, Span)> {
        let (v, s) = self.value(f, key, deps)?;
        match v {
            v if placeholder(&v) => None,
            Value::Int(i) => Some((i, s)),
            Value::Sensitive(inner) if matches!(*inner, Value::Int(_)) => {
                inner.as_i64().map(|i| (i, s))
            }
            Value::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Some((x as i64, s)),
            v => {
                self.wrong(f, key, &s, "an integer", &v);
                None
            }
        }
    }

    pub fn v_bool(&mut self, f: &Fields<'_>, key: &str, deps: &mut Deps) -> Option<(bool, Span)> {
        let (v, s) = self.value(f, key, deps)?;
        match v {
            v if placeholder(&v) => None,
            Value::Bool(b) => Some((b, s)),
            v => {
                self.wrong(f, key, &s, "true or false", &v);
                None
            }
        }
    }

    /// A list of strings.
    pub fn v_str_list(
        &mut self,
        f: &Fields<'_>,
        key: &str,
        deps: &mut Deps,
    ) -> Option<(Vec<Value>, Span)> {
        let (v, s) = self.value(f, key, deps)?;
        match v {
            v if placeholder(&v) => None,
            Value::List(items) if items.iter().all(string_like) => Some((items, s)),
            v => {
                self.wrong(f, key, &s, "a list of strings", &v);
                None
            }
        }
    }

    /// A list of strings known at plan time.
    pub fn v_plain_str_list(
        &mut self,
        f: &Fields<'_>,
        key: &str,
        deps: &mut Deps,
    ) -> Option<(Vec<String>, Span)> {
        let (v, s) = self.value(f, key, deps)?;
        match &v {
            v if placeholder(v) => None,
            Value::List(items) if items.iter().all(|i| matches!(i, Value::String(_))) => Some((
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect(),
                s,
            )),
            _ => {
                self.wrong(f, key, &s, "a list of strings", &v);
                None
            }
        }
    }

    /// A map of strings (numbers and booleans are written as text).
    pub fn v_str_map(
        &mut self,
        f: &Fields<'_>,
        key: &str,
        deps: &mut Deps,
    ) -> Option<(Attrs, Span)> {
        let (v, s) = self.value(f, key, deps)?;
        let Value::Map(mut m) = v else {
            if placeholder(&v) {
                return None;
            }
            self.wrong(f, key, &s, "a table of strings", &v);
            return None;
        };
        let scalar = |x: &Value| matches!(x, Value::Int(_) | Value::Float(_) | Value::Bool(_));
        if let Some((k, x)) = m.iter().find(|(_, x)| !scalar(x) && !string_like(x)) {
            let found = value_type(x);
            let message = format!("`{key}.{k}` in {} must be a string, found {found}", f.what);
            self.err(ErrorCode::WrongType, &s, message, "expected strings");
            return None;
        }
        // The map is kept as evaluated (shared, not copied) unless numbers or booleans in it
        // become strings.
        if m.values().any(scalar) {
            for x in m.values_mut().filter(|x| scalar(x)) {
                *x = Value::String(x.to_plain_string());
            }
        }
        Some((m, s))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{LoadOptions, load_files};

    #[test]
    fn nested_tables_report_unknown_keys_wrong_types_and_missing_keys() {
        let text = "[stack]\nname = \"f\"\n[compute.c]\n[endpoint.e]\ncompute = \"c\"\nimage = \"i\"\nmodel = { version = \"1\" }\nnetwork = { subnet = [\"s\"] }\nhealth_check = { interval = \"often\" }\ndeployment = 5\n";
        let out = match load_files(&[("pedestal.toml", text)], &LoadOptions::env("dev")) {
            Ok(_) => panic!("expected errors"),
            Err(d) => d.render(false, 200),
        };
        assert!(
            out.contains("unknown key `subnet` in endpoint.e.network"),
            "{out}"
        );
        assert!(out.contains("did you mean `subnets`?"), "{out}");
        assert!(
            out.contains("missing required key `subnets` in endpoint.e.network"),
            "{out}"
        );
        assert!(
            out.contains(
                "`interval` in endpoint.e.health_check must be an integer, found a string"
            ),
            "{out}"
        );
        assert!(
            out.contains("`endpoint.e.deployment` must be a table, found an integer"),
            "{out}"
        );
    }
}
