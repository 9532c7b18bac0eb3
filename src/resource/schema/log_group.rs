//! `log_group` (`endpoint.X.log_group`): the CloudWatch Logs group of an endpoint.

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of a `log_group`.
    pub enum Attr {
        /// The group name (the physical name).
        Name = "name",
        /// Days events are kept; null keeps them forever.
        RetentionDays = "retention_days",
        /// The tag map.
        Tags = "tags",
        /// The group ARN (without the `:*` suffix).
        Arn = "arn",
    }
}

impl Attr {
    /// How the planner treats a change.
    pub const fn rule(self) -> Rule {
        match self {
            Attr::Name => Rule::ForceNew,
            Attr::RetentionDays | Attr::Tags => Rule::InPlace,
            Attr::Arn => Rule::Computed,
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

/// `retention_days` when the endpoint's `logs` block does not say.
pub const DEFAULT_RETENTION_DAYS: i64 = 30;

/// What spec lowering fills in: one field per attribute it sets. Tags are added for every kind
/// by lowering itself and computed attributes by the cloud. Lowering builds this with a struct
/// literal and [`Desired::into_attrs`] matches every [`Attr`], so a new attribute does not
/// compile until both say what it holds.
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Name`].
    pub name: Value,
    /// [`Attr::RetentionDays`].
    pub retention_days: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().filter_map(|&k| {
            let v = match k {
                Attr::Name => std::mem::take(&mut self.name),
                Attr::RetentionDays => std::mem::take(&mut self.retention_days),
                Attr::Tags | Attr::Arn => return None,
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}
