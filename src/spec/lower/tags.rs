//! Tags checked against AWS's limits of every service a block's resources live in (from
//! [`crate::resource::rules`]): key and value length and characters, the reserved `aws:`
//! prefix, the `pedestal:` keys pedestal sets itself, and the number of tags once stack tags,
//! block tags and pedestal's own are merged (an S3 object carries at most 10).

use std::collections::{BTreeMap, BTreeSet};

use super::common::entry_span;
use crate::resource::rules::{self, TagRules};
use crate::resource::{ResourceKind, Value, schema};
use crate::spec::diag::{ErrorCode, Span};
use crate::spec::fields::Fields;
use crate::spec::load::{BlockId, BlockKind, Loader};
use crate::spec::raw::{Node, NodeKind};

/// The tags pedestal adds to every resource (`pedestal:stack`, `pedestal:env`,
/// `pedestal:address`).
pub(super) const PEDESTAL_TAGS: usize = 3;
/// The prefix of the tags pedestal sets itself.
const PEDESTAL_PREFIX: &str = "pedestal:";

/// The kinds a block lowers to that carry tags.
fn tagged_kinds(kind: BlockKind) -> &'static [ResourceKind] {
    match kind {
        BlockKind::Storage => &[ResourceKind::S3Bucket],
        BlockKind::Artifact => &[ResourceKind::S3Object],
        BlockKind::Compute => &[ResourceKind::EcsCluster],
        BlockKind::Endpoint => &[
            ResourceKind::LogGroup,
            ResourceKind::EcsTaskDefinition,
            ResourceKind::EcsService,
            ResourceKind::CloudwatchAlarm,
            ResourceKind::TargetGroup,
            ResourceKind::ListenerRule,
            ResourceKind::IamRole,
            ResourceKind::SsmParameter,
        ],
        BlockKind::Gateway => &[ResourceKind::LoadBalancer, ResourceKind::LbListener],
        BlockKind::Module => &[],
    }
}

/// The tag rules of `kinds`, each once.
fn rules_of(kinds: &[ResourceKind]) -> Vec<&'static TagRules> {
    let mut out: Vec<&'static TagRules> = Vec::new();
    for k in kinds {
        if let Some(r) = rules::tag_rules(*k)
            && !out.iter().any(|x| std::ptr::eq(*x, r))
        {
            out.push(r);
        }
    }
    out
}

/// The tag rules of the kinds a block of `kind` lowers to ([`rules_of`] its
/// [`tagged_kinds`]), worked out once per block kind.
fn block_rules(kind: BlockKind) -> &'static [&'static TagRules] {
    static RULES: std::sync::LazyLock<Vec<Vec<&'static TagRules>>> =
        std::sync::LazyLock::new(|| {
            BlockKind::ALL
                .iter()
                .map(|k| rules_of(tagged_kinds(*k)))
                .collect()
        });
    BlockKind::ALL
        .iter()
        .position(|k| *k == kind)
        .map_or(&[], |i| RULES[i].as_slice())
}

impl Loader<'_> {
    /// `[stack] tags`: every key and value against every service's rules (stack tags go on
    /// every resource).
    pub(in crate::spec) fn check_stack_tags(&mut self, node: &Node) {
        let all = rules_of(&ResourceKind::ALL);
        for e in node.entries().unwrap_or_default() {
            let value = match &e.value.kind {
                NodeKind::Str { text, tpl: None } => Some(text.as_str()),
                _ => None,
            };
            self.check_tag(&e.key, value, (&e.key_span, &e.value.span), &all);
        }
    }

    /// Removes the tags of `addr` whose value is sensitive, each reported where it is written:
    /// tags are stored and listed in clear.
    pub(super) fn drop_sensitive_tags(
        &mut self,
        addr: &str,
        f: &Fields<'_>,
        tags: &mut BTreeMap<String, Value>,
    ) {
        let secret: Vec<String> = tags
            .iter()
            .filter(|(_, v)| v.is_sensitive())
            .map(|(k, _)| k.clone())
            .collect();
        for k in secret {
            tags.remove(&k);
            if let Some(span) = entry_span(f, schema::TAGS, &k) {
                self.err(
                    ErrorCode::Sensitive,
                    &span,
                    format!("tag `{k}` of {addr} holds a sensitive value"),
                    "tags are stored and shown in clear",
                )
                .help = Some(
                    "tags are visible to anyone who can list the resource: use a plain value, and pass secrets to containers through `secrets`"
                        .into(),
                );
            }
        }
    }

    /// A block's `tags`: each entry written inline, then the count of tags its resources
    /// will carry.
    pub(super) fn check_block_tags(
        &mut self,
        block: BlockId,
        tags: &BTreeMap<String, Value>,
        spans: &BTreeMap<String, (Span, Span)>,
        tags_span: Option<&Span>,
    ) {
        let b = self.block(block).clone();
        let rules = block_rules(b.kind);
        if rules.is_empty() {
            return;
        }
        for (k, v) in tags {
            let fallback = tags_span.unwrap_or(&b.name_span);
            let (ks, vs) = spans
                .get(k)
                .map_or((fallback, fallback), |(ks, vs)| (ks, vs));
            let value = match v {
                Value::String(s) => Some(s.as_str()),
                _ => None,
            };
            self.check_tag(k, value, (ks, vs), rules);
        }
        let keys: BTreeSet<String> = self
            .tags()
            .keys()
            .chain(tags.keys())
            .filter(|k| !k.starts_with(PEDESTAL_PREFIX))
            .cloned()
            .collect();
        let total = keys.len() + PEDESTAL_TAGS;
        for rule in rules {
            if total <= rule.max_count {
                continue;
            }
            let (span, at_stack) = match (tags_span, self.lowered().stack_tags_span.clone()) {
                (Some(s), _) => (s.clone(), false),
                (None, Some(s)) => (s, true),
                (None, None) => (b.name_span.clone(), false),
            };
            if at_stack && !self.lowered_mut().tag_counts_reported.insert(rule.what) {
                continue;
            }
            let who = if at_stack {
                "resources of this stack".to_string()
            } else {
                b.addr.clone()
            };
            self.err(
                ErrorCode::InvalidValue,
                &span,
                format!(
                    "{who} would carry {total} tags; AWS allows at most {} on {}",
                    rule.max_count, rule.what
                ),
                "too many tags",
            )
            .help = Some(format!(
                "{} from [stack] and the block, plus the {PEDESTAL_TAGS} `pedestal:` tags pedestal adds: remove {} ({})",
                keys.len(),
                total - rule.max_count,
                rule.source
            ));
        }
    }

    /// One tag: its key and (when known at plan time) value against each rule set.
    fn check_tag(
        &mut self,
        key: &str,
        value: Option<&str>,
        (key_span, value_span): (&Span, &Span),
        rules: &[&'static TagRules],
    ) {
        if key.starts_with(PEDESTAL_PREFIX) {
            self.err(
                ErrorCode::InvalidValue,
                key_span,
                format!("the tag `{key}` is set by pedestal"),
                "reserved tag key",
            )
            .help = Some(
                "pedestal:stack, pedestal:env and pedestal:address record which stack owns a resource; use another key".into(),
            );
            return;
        }
        for rule in rules {
            if let Some(problem) = rule.key_problem(key) {
                self.err(
                    ErrorCode::InvalidValue,
                    key_span,
                    format!("invalid tag key {key:?}"),
                    "invalid tag key",
                )
                .help = Some(format!("{problem} ({})", rule.source));
                return;
            }
            if let Some(v) = value
                && let Some(problem) = rule.value_problem(v)
            {
                self.err(
                    ErrorCode::InvalidValue,
                    value_span,
                    format!("invalid value for the tag `{key}`"),
                    "invalid tag value",
                )
                .help = Some(format!("{problem} ({})", rule.source));
                return;
            }
        }
    }
}
