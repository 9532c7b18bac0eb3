//! `ssm_parameter` (`endpoint.X.secret.<NAME>`): an SSM Parameter Store `SecureString` holding
//! one sensitive value a container reads through its task definition's `secrets`. The value is
//! sent to SSM only; plans and state hold its keyed digest (see [`crate::resource::value`]).

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of an `ssm_parameter`.
    pub enum Attr {
        /// The parameter name, a path (the physical name).
        Name = "name",
        /// The parameter type (always [`SECURE_STRING`]).
        Type = "type",
        /// The value: always sensitive.
        Value = "value",
        /// The KMS key encrypting the value; null for the account's `aws/ssm` key.
        KeyId = "key_id",
        /// A description shown in the SSM console.
        Description = "description",
        /// The tag map.
        Tags = "tags",
        /// The parameter ARN.
        Arn = "arn",
        /// The parameter version SSM gave the value.
        Version = "version",
    }
}

impl Attr {
    /// How the planner treats a change.
    pub const fn rule(self) -> Rule {
        match self {
            Attr::Name | Attr::Type => Rule::ForceNew,
            Attr::Value | Attr::KeyId | Attr::Description | Attr::Tags => Rule::InPlace,
            Attr::Arn | Attr::Version => Rule::Computed,
        }
    }
}

rule_lists!(Attr);

/// The kind's facts for the planner and the provider.
pub const SCHEMA: KindSchema = KindSchema {
    force_new: &FORCE_NEW,
    computed: &COMPUTED,
    replace_order: ReplaceOrder::DestroyBeforeCreate,
    versioned: false,
    name_attr: Attr::Name.as_str(),
};

/// The only parameter type pedestal writes.
pub const SECURE_STRING: &str = "SecureString";
/// The longest parameter name SSM accepts (a fully qualified path).
pub const MAX_NAME_LEN: usize = 1011;

/// What spec lowering fills in: one field per attribute it sets. Tags are added for every kind
/// by lowering itself and computed attributes by the cloud. Lowering builds this with a struct
/// literal and [`Desired::into_attrs`] matches every [`Attr`], so a new attribute does not
/// compile until both say what it holds.
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Name`].
    pub name: Value,
    /// [`Attr::Value`]: a [`Value::Sensitive`].
    pub value: Value,
    /// [`Attr::KeyId`].
    pub key_id: Value,
    /// [`Attr::Description`].
    pub description: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().filter_map(|&k| {
            let v = match k {
                Attr::Name => std::mem::take(&mut self.name),
                Attr::Type => Value::str(SECURE_STRING),
                Attr::Value => std::mem::take(&mut self.value),
                Attr::KeyId => std::mem::take(&mut self.key_id),
                Attr::Description => std::mem::take(&mut self.description),
                Attr::Tags | Attr::Arn | Attr::Version => return None,
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}
