//! `iam_role` (`endpoint.X.execution_role`, `endpoint.X.task_role`): an IAM role pedestal makes
//! for one endpoint, with its trust policy and one inline policy granting only what the
//! endpoint needs (the execution role: image pulls, its log group, its secrets; the task role:
//! its model artifact and the spec's `task_policy` statements).

use std::sync::LazyLock;

use super::{Rule, attr_names, rule_lists};
use crate::resource::Key;
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of an `iam_role`.
    pub enum Attr {
        /// The role name (the physical name, at most 64 characters).
        Name = "name",
        /// The trust policy document (who may assume the role), as a JSON map.
        AssumeRolePolicy = "assume_role_policy",
        /// The inline policy document (named [`INLINE_POLICY_NAME`]), as a JSON map; null for none.
        Policy = "policy",
        /// The tag map.
        Tags = "tags",
        /// The role ARN.
        Arn = "arn",
    }
}

impl Attr {
    /// How the planner treats a change.
    pub const fn rule(self) -> Rule {
        match self {
            Attr::Name => Rule::ForceNew,
            Attr::AssumeRolePolicy | Attr::Policy | Attr::Tags => Rule::InPlace,
            Attr::Arn => Rule::Computed,
        }
    }
}

rule_lists!(Attr);

/// The kind's facts for the planner and the provider.
pub const SCHEMA: KindSchema = KindSchema {
    force_new: &FORCE_NEW,
    computed: &COMPUTED,
    replace_order: ReplaceOrder::CreateBeforeDestroy,
    versioned: false,
    name_attr: Attr::Name.as_str(),
};

/// The name of the one inline policy pedestal puts on a role it makes.
pub const INLINE_POLICY_NAME: &str = "pedestal";
/// The longest role name IAM accepts.
pub const MAX_NAME_LEN: usize = 64;
/// The IAM policy language version every document pedestal writes uses.
pub const POLICY_VERSION: &str = "2012-10-17";
/// The service principal ECS tasks assume their roles as.
pub const ECS_TASKS_PRINCIPAL: &str = "ecs-tasks.amazonaws.com";

/// A policy document `{ Version, Statement }` from its statements.
pub fn document(statements: Vec<Value>) -> Value {
    Value::Map(Attrs::from([
        (Key::from("Statement"), Value::List(statements)),
        (Key::from("Version"), Value::str(POLICY_VERSION)),
    ]))
}

/// One `Allow` statement: `Sid`, `Action` (sorted list), `Resource` (list) and, when given,
/// `Condition`.
pub fn allow(
    sid: &str,
    actions: &[&str],
    resources: Vec<Value>,
    condition: Option<Value>,
) -> Value {
    let mut actions: Vec<&str> = actions.to_vec();
    actions.sort_unstable();
    // Built in name order (Action, Condition, Effect, Resource, Sid): nothing to sort.
    let mut entries = Vec::with_capacity(5);
    entries.push((
        Key::from("Action"),
        Value::List(actions.into_iter().map(Value::str).collect()),
    ));
    if let Some(c) = condition {
        entries.push((Key::from("Condition"), c));
    }
    entries.push((Key::from("Effect"), Value::str("Allow")));
    entries.push((Key::from("Resource"), Value::List(resources)));
    entries.push((Key::from("Sid"), Value::str(sid)));
    Value::Map(Attrs::from_sorted(entries))
}

/// The trust policy letting ECS tasks assume the role (built once: every role pedestal makes
/// shares it, and cloning the map only counts a reference).
pub fn ecs_tasks_trust() -> Value {
    static TRUST: LazyLock<Value> = LazyLock::new(|| {
        document(vec![Value::Map(Attrs::from([
            (Key::from("Effect"), Value::str("Allow")),
            (
                Key::from("Principal"),
                Value::Map(Attrs::from([(
                    Key::from("Service"),
                    Value::str(ECS_TASKS_PRINCIPAL),
                )])),
            ),
            (Key::from("Action"), Value::str("sts:AssumeRole")),
        ]))])
    });
    TRUST.clone()
}

/// A role name of at most [`MAX_NAME_LEN`] characters: `base` + `suffix` when it fits, else
/// `base` cut short and followed by 8 hex digits of its SHA-256 (so two long names stay apart).
pub fn role_name(base: &str, suffix: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut full = String::with_capacity(base.len() + suffix.len());
    full.push_str(base);
    full.push_str(suffix);
    if full.len() <= MAX_NAME_LEN {
        return full;
    }
    let h = hex::encode(Sha256::digest(full.as_bytes()));
    let keep = MAX_NAME_LEN - suffix.len() - 9;
    let cut: String = base.chars().take(keep).collect();
    format!("{}-{}{suffix}", cut.trim_end_matches('-'), &h[..8])
}

/// What spec lowering fills in: one field per attribute it sets. Tags are added for every kind
/// by lowering itself and computed attributes by the cloud. Lowering builds this with a struct
/// literal and [`Desired::into_attrs`] matches every [`Attr`], so a new attribute does not
/// compile until both say what it holds.
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Name`].
    pub name: Value,
    /// [`Attr::AssumeRolePolicy`].
    pub assume_role_policy: Value,
    /// [`Attr::Policy`].
    pub policy: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().filter_map(|&k| {
            let v = match k {
                Attr::Name => std::mem::take(&mut self.name),
                Attr::AssumeRolePolicy => std::mem::take(&mut self.assume_role_policy),
                Attr::Policy => std::mem::take(&mut self.policy),
                Attr::Tags | Attr::Arn => return None,
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_role_names_are_cut_with_a_hash() {
        assert_eq!(
            role_name("shop-prod-scorer", "-exec"),
            "shop-prod-scorer-exec"
        );
        let long = "a".repeat(70);
        let a = role_name(&long, "-exec");
        assert_eq!(a.len(), MAX_NAME_LEN);
        assert!(a.ends_with("-exec"));
        let b = role_name(&format!("{long}b"), "-exec");
        assert_ne!(a, b, "two long names stay apart");
        assert!(b.len() <= MAX_NAME_LEN);
    }
}
