//! What lowering shares across block kinds: the keys every block takes (`tags`, `depends_on`,
//! `lifecycle`), default physical names, tags, adding a resource with its dependencies, and a
//! block's exports.

use std::collections::{BTreeMap, BTreeSet};

use crate::addr::{Address, AddressSet};
use crate::resource::rules::IntRange;
use crate::resource::schema;
use crate::resource::{Attrs, Key, Lifecycle, Resource, ResourceKind, TemplatePart, Value};
use crate::spec::diag::{ErrorCode, Span, did_you_mean};
use crate::spec::fields::{Fields, Src};
use crate::spec::load::{BlockId, BlockKind, Exported, Loader, ScopeId};
use crate::spec::resolve::Deps;

pub(super) const LIFECYCLE_KEYS: &[&str] =
    &["prevent_destroy", "ignore_changes", "create_before_destroy"];

/// Joins strings and references into one value (a template when anything is unknown; a
/// secret when any part is one).
pub(super) fn concat(parts: &[Value]) -> Value {
    let mut out: Vec<TemplatePart> = Vec::new();
    let push = |out: &mut Vec<TemplatePart>, s: &str| {
        if let Some(TemplatePart::Lit(l)) = out.last_mut() {
            l.push_str(s);
        } else {
            out.push(TemplatePart::Lit(s.to_string()));
        }
    };
    // A string built around a secret is a secret.
    let mut sensitive = false;
    for p in parts {
        let p = match p {
            Value::Sensitive(inner) => {
                sensitive = true;
                inner.as_ref()
            }
            p => p,
        };
        match p {
            Value::Ref(r) => out.push(TemplatePart::Ref((**r).clone())),
            Value::Template(t) => {
                for x in t {
                    match x {
                        TemplatePart::Lit(s) => push(&mut out, s),
                        r => out.push(r.clone()),
                    }
                }
            }
            // Strings are appended as they are, without a copy of their own.
            Value::String(s) => push(&mut out, s),
            v => push(&mut out, &v.to_plain_string()),
        }
    }
    let joined = match out.as_mut_slice() {
        [] => Value::String(String::new()),
        [TemplatePart::Lit(s)] => Value::String(std::mem::take(s)),
        _ => Value::Template(out),
    };
    if sensitive {
        Value::Sensitive(Box::new(joined))
    } else {
        joined
    }
}

/// `<prefix><kind>.<name>.<role>`, as [`Address::resource`] spells it, built without
/// formatting machinery (every resource of a load is addressed this way).
pub(super) fn resource_address(prefix: &str, kind: &str, name: &str, role: &str) -> Address {
    let mut s = String::with_capacity(prefix.len() + kind.len() + name.len() + role.len() + 2);
    s.push_str(prefix);
    s.push_str(kind);
    s.push('.');
    s.push_str(name);
    s.push('.');
    s.push_str(role);
    Address::new(s)
}

/// Where `key.sub` of a table is written: the entry's value when the table is inline, else the
/// whole value of `key` (a reference, a module input).
pub(super) fn entry_span(f: &Fields<'_>, key: &str, sub: &str) -> Option<Span> {
    match f.src(key)? {
        Src::Node(n) => match &n.kind {
            crate::spec::raw::NodeKind::Table(es) => es
                .iter()
                .find(|e| e.key == sub)
                .map(|e| e.value.span.clone())
                .or_else(|| Some(n.span.clone())),
            _ => Some(n.span.clone()),
        },
        Src::Val(_, s) => Some(s.clone()),
    }
}

/// What one block exports, by attribute name: a handful of entries, each name once, looked up
/// by a scan (nothing iterates them in order).
#[derive(Debug, Default, Clone)]
pub(in crate::spec) struct Exports(Vec<(&'static str, Exported)>);

impl Exports {
    /// The value exported as `attr`.
    pub(in crate::spec) fn get(&self, attr: &str) -> Option<&Exported> {
        self.0.iter().find(|(k, _)| *k == attr).map(|(_, e)| e)
    }

    /// Exports `attr` (in place of what it exported before).
    pub(in crate::spec) fn insert(&mut self, attr: &'static str, e: Exported) {
        match self.0.iter_mut().find(|(k, _)| *k == attr) {
            Some(slot) => slot.1 = e,
            None => self.0.push((attr, e)),
        }
    }
}

/// What every resource of one block shares.
pub(super) struct Meta<'a> {
    pub(super) lifecycle: &'a Lifecycle,
    /// Maps a spec key named in `ignore_changes` to resource attributes.
    pub(super) ignore: &'a dyn Fn(&str) -> Vec<&'static str>,
    pub(super) tags: &'a BTreeMap<String, Value>,
}

pub(super) fn no_mapping(_: &str) -> Vec<&'static str> {
    Vec::new()
}

impl Loader<'_> {
    /// Reports `storage = "x"` / `compute = "x"` naming a block of `kind` that the scope lacks,
    /// with a "did you mean" or the list of blocks declared.
    pub(super) fn unknown_named_block(
        &mut self,
        scope: ScopeId,
        kind: BlockKind,
        (owner_kind, owner): (&str, &str),
        name: &str,
        span: &Span,
    ) {
        let kind_name = kind.as_str();
        let mut names: Vec<String> = self
            .scope(scope)
            .blocks
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n.clone())
            .collect();
        names.sort();
        let help = did_you_mean(name, names.iter().map(String::as_str))
            .unwrap_or_else(|| format!("declared {kind_name} blocks: {}", names.join(", ")));
        self.err(
            ErrorCode::UnknownReference,
            span,
            format!("{owner_kind} `{owner}` names {kind_name} `{name}`, which is not declared"),
            format!("no such {kind_name} block"),
        )
        .help = Some(help);
    }

    /// Default physical name: `<stack>-<env>-<module…>-<name>`, `_` → `-` (the one naming
    /// rule; log groups join the same parts as a path, buckets are lowercased).
    pub(super) fn default_name(&self, scope: ScopeId, name: &str) -> String {
        self.joined_name(scope, name, '-', String::new())
    }

    /// The parts of a default physical name (stack, environment, module calls, block name,
    /// each with `_` → `-`) appended to `out`, `sep` between them.
    pub(super) fn joined_name(
        &self,
        scope: ScopeId,
        name: &str,
        sep: char,
        mut out: String,
    ) -> String {
        let qual = &self.scope(scope).qual;
        out.reserve(
            self.stack().len()
                + self.env().len()
                + name.len()
                + qual.iter().map(|q| q.len() + 1).sum::<usize>()
                + 2,
        );
        let parts = [self.stack(), self.env()]
            .into_iter()
            .chain(qual.iter().map(String::as_str))
            .chain([name]);
        for (i, p) in parts.enumerate() {
            if i > 0 {
                out.push(sep);
            }
            let mut rest = p;
            while let Some(at) = rest.find('_') {
                out.push_str(&rest[..at]);
                out.push('-');
                rest = &rest[at + 1..];
            }
            out.push_str(rest);
        }
        out
    }

    /// Stack tags, then block tags, then the `pedestal:*` ones (a later one of the same key
    /// wins), collected once into the tag map.
    fn tags_for(&self, block_tags: &BTreeMap<String, Value>, address: &Address) -> Value {
        use crate::provider::{TAG_ADDRESS, TAG_ENV, TAG_STACK};
        const OWN: [&str; 3] = [TAG_ADDRESS, TAG_ENV, TAG_STACK];
        let own = [
            (Key::from(TAG_ADDRESS), Value::str(address.as_str())),
            (Key::from(TAG_ENV), Value::str(self.env())),
            (Key::from(TAG_STACK), Value::str(self.stack())),
        ];
        if block_tags.is_empty() && self.tags().is_empty() {
            // Only pedestal's own, already in name order.
            return Value::Map(Attrs::from_sorted(Vec::from(own)));
        }
        let stack = self
            .tags()
            .iter()
            .filter(|(k, _)| !block_tags.contains_key(*k) && !OWN.contains(&k.as_str()))
            .map(|(k, v)| (Key::from(k.clone()), Value::String(v.clone())));
        let block = block_tags
            .iter()
            .filter(|(k, _)| !OWN.contains(&k.as_str()))
            .map(|(k, v)| (Key::from(k.clone()), v.clone()));
        Value::Map(stack.chain(block).chain(own).collect())
    }

    pub(super) fn add_resource(
        &mut self,
        address: Address,
        kind: ResourceKind,
        mut attrs: Attrs,
        mut deps: Deps,
        meta: &Meta<'_>,
    ) {
        let (lifecycle, ignore_map, block_tags) = (meta.lifecycle, meta.ignore, meta.tags);
        if kind.taggable() {
            attrs.insert(schema::TAGS.into(), self.tags_for(block_tags, &address));
        }
        deps.remove(&address);
        let depends_on: AddressSet = deps.keys().cloned().collect();
        // Where each dependency was written is looked up only when a cycle is reported: kept
        // as a sorted slice, which holds less than the map it was collected in.
        let origin = (address.clone(), deps.into_iter().collect());
        self.lowered_mut().dep_origin.push(origin);
        let mut lc = lifecycle.clone();
        let mut ignore: Vec<String> = Vec::new();
        for name in &lifecycle.ignore_changes {
            let mapped = ignore_map(name);
            let names: Vec<String> = if mapped.is_empty() {
                vec![name.clone()]
            } else {
                mapped.iter().map(|s| s.to_string()).collect()
            };
            for n in names {
                if attrs.contains_key(&n) && !ignore.contains(&n) {
                    ignore.push(n);
                }
            }
        }
        ignore.sort();
        lc.ignore_changes = ignore;
        if kind == ResourceKind::S3Object {
            self.lowered_mut()
                .objects
                .insert(address.clone(), attrs.clone());
        }
        self.lowered_mut().added.push(Resource {
            address,
            kind,
            attrs,
            depends_on,
            lifecycle: lc,
        });
    }

    /// Checks an integer against AWS's range for the field it sets (no clamping: a value out
    /// of range is reported at its location and `None` returned).
    pub(super) fn in_range(
        &mut self,
        v: Option<(i64, Span)>,
        rule: &IntRange,
        key: &str,
        what: &str,
    ) -> Option<i64> {
        let (n, span) = v?;
        if rule.contains(n) {
            return Some(n);
        }
        self.err(
            ErrorCode::InvalidValue,
            &span,
            format!(
                "`{key}` in {what} must be between {} and {}, found {n}",
                rule.min, rule.max
            ),
            "out of range",
        )
        .help = Some(format!(
            "AWS accepts a {} from {} to {} ({})",
            rule.field, rule.min, rule.max, rule.source
        ));
        None
    }

    /// The span of each item of a list written inline under `key` (`None` when the list is a
    /// reference or not written).
    pub(super) fn item_spans(f: &Fields<'_>, key: &str) -> Option<Vec<Span>> {
        match f.src(key)? {
            Src::Node(n) => match &n.kind {
                crate::spec::raw::NodeKind::Array(items) => {
                    Some(items.iter().map(|i| i.span.clone()).collect())
                }
                _ => None,
            },
            Src::Val(..) => None,
        }
    }

    /// The spans of each entry (key, value) of a table written inline under `key`.
    pub(super) fn entry_spans(f: &Fields<'_>, key: &str) -> BTreeMap<String, (Span, Span)> {
        match f.src(key) {
            Some(Src::Node(n)) => n
                .entries()
                .map(|es| {
                    es.iter()
                        .map(|e| (e.key.clone(), (e.key_span.clone(), e.value.span.clone())))
                        .collect()
                })
                .unwrap_or_default(),
            _ => BTreeMap::new(),
        }
    }

    /// Reads the keys every block shares: tags, depends_on, lifecycle.
    pub(super) fn common(
        &mut self,
        block: BlockId,
        f: &Fields<'_>,
        allowed: &[&str],
        deps: &mut Deps,
    ) -> (BTreeMap<String, Value>, Lifecycle) {
        let b = self.block(block).clone();
        let (mut tags, tags_span) = self
            .v_str_map(f, schema::TAGS, deps)
            .map_or_else(|| (BTreeMap::new(), None), |(m, s)| (m.into_map(), Some(s)));
        self.drop_sensitive_tags(&b.addr, f, &mut tags);
        let spans = Self::entry_spans(f, schema::TAGS);
        self.check_block_tags(block, &tags, &spans, tags_span.as_ref());
        let mut lc = Lifecycle::default();
        let meta = f
            .src("lifecycle")
            .is_some_and(|s| !(b.kind == BlockKind::Storage && s.is_array()));
        if meta {
            let mut d = Deps::new();
            if let Some(l) = self.sub(f, "lifecycle", LIFECYCLE_KEYS, &mut d) {
                lc.prevent_destroy = self
                    .v_bool(&l, "prevent_destroy", &mut d)
                    .is_some_and(|x| x.0);
                lc.create_before_destroy = self
                    .v_bool(&l, "create_before_destroy", &mut d)
                    .is_some_and(|x| x.0);
                if let Some((names, span)) = self.v_plain_str_list(&l, "ignore_changes", &mut d) {
                    let keys: Vec<&str> = allowed
                        .iter()
                        .copied()
                        .filter(|k| !["depends_on", "lifecycle"].contains(k))
                        .collect();
                    for n in names {
                        if keys.contains(&n.as_str()) {
                            lc.ignore_changes.push(n);
                        } else {
                            let help =
                                did_you_mean(&n, keys.iter().copied()).unwrap_or_else(|| {
                                    format!("keys of {}: {}", b.addr, keys.join(", "))
                                });
                            self.err(
                                ErrorCode::InvalidValue,
                                &span,
                                format!(
                                    "ignore_changes names `{n}`, which is not a key of {}",
                                    b.addr
                                ),
                                "unknown key",
                            )
                            .help = Some(help);
                        }
                    }
                }
            }
        }
        let src = f.src("depends_on").cloned();
        self.depends_on(block, src);
        (tags, lc)
    }

    /// Reads `depends_on = ["kind.name", "module.name"]` of a block (or module call): each
    /// target must be declared in the same scope.
    pub fn depends_on(&mut self, block: BlockId, src: Option<Src<'_>>) {
        let b = self.block(block).clone();
        if let Some(src) = src {
            let list: Option<Vec<(String, Span)>> = match &src {
                Src::Node(n) => match &n.kind {
                    crate::spec::raw::NodeKind::Array(items) => items
                        .iter()
                        .map(|i| i.literal_str().map(|s| (s.to_string(), i.span.clone())))
                        .collect(),
                    _ => None,
                },
                Src::Val(..) => None,
            };
            match list {
                Some(items) => {
                    for (t, span) in items {
                        if self.depends_on_target_exists(b.scope, &t) {
                            self.lowered_mut().explicit_deps.push((block, t, span));
                        } else {
                            let sc = self.scope(b.scope).clone();
                            let mut known: Vec<String> = sc
                                .blocks
                                .keys()
                                .map(|(k, n)| format!("{}.{n}", k.as_str()))
                                .collect();
                            known.sort();
                            let help = did_you_mean(&t, known.iter().map(String::as_str))
                                .unwrap_or_else(|| {
                                    "depends_on lists block addresses such as \"storage.models\" or \"module.churn\"".into()
                                });
                            self.err(
                                ErrorCode::DependsOn,
                                &span,
                                format!("depends_on names `{t}`, which is not declared"),
                                "unknown block",
                            )
                            .help = Some(help);
                        }
                    }
                }
                None => {
                    let span = src.span().clone();
                    self.err(
                        ErrorCode::WrongType,
                        &span,
                        format!(
                            "`depends_on` in {} must be a list of block addresses",
                            b.addr
                        ),
                        "expected a list of strings",
                    )
                    .help = Some("for example: depends_on = [\"storage.models\"]".into());
                }
            }
        }
    }

    pub(super) fn depends_on_target_exists(&self, scope: ScopeId, t: &str) -> bool {
        let parts: Vec<&str> = t.split('.').collect();
        if parts.len() < 2 {
            return false;
        }
        let Some(kind) = BlockKind::parse(parts[0]) else {
            return false;
        };
        self.scope(scope)
            .blocks
            .contains_key(&(kind, parts[1].to_string()))
    }

    pub(super) fn open<'n>(
        &mut self,
        id: BlockId,
        node: &'n crate::spec::raw::Node,
        allowed: &[&str],
        deps: &mut Deps,
    ) -> Option<Fields<'n>> {
        let b = self.block(id).clone();
        self.fields(
            b.scope,
            &Src::Node(node),
            &b.name_span,
            &b.addr,
            allowed,
            deps,
        )
    }

    pub(super) fn export(
        &mut self,
        id: BlockId,
        producer: &Address,
        values: Vec<(&'static str, Value)>,
    ) {
        let deps = std::sync::Arc::new(BTreeSet::from([producer.clone()]));
        // Room for one more: an endpoint adds its `url` afterwards.
        let mut out = Vec::with_capacity(values.len() + 1);
        out.extend(values.into_iter().map(|(k, v)| {
            (
                k,
                Exported {
                    value: v,
                    deps: deps.clone(),
                },
            )
        }));
        self.lowered_mut().exports.insert(id, Exports(out));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_addresses_match_the_formatted_ones() {
        assert_eq!(
            resource_address("module.m.", "endpoint", "fraud", "secret.TOKEN"),
            Address::resource("module.m.", "endpoint", "fraud", "secret.TOKEN")
        );
        assert_eq!(
            resource_address("", "storage", "models", "bucket").as_str(),
            "storage.models.bucket"
        );
    }

    #[test]
    fn concat_keeps_references() {
        let r = Value::Ref(Box::new(crate::resource::Ref {
            address: Address::new("a.b.c"),
            attr: "arn".into(),
        }));
        assert_eq!(
            concat(&[Value::str("x"), Value::str("y")]),
            Value::str("xy")
        );
        assert!(matches!(concat(&[Value::str("x"), r]), Value::Template(_)));
        let secret = Value::Sensitive(Box::new(Value::str("hunter2")));
        assert_eq!(
            concat(&[Value::str("s3://"), secret]),
            Value::Sensitive(Box::new(Value::str("s3://hunter2")))
        );
    }
}
