//! `ecs_cluster` (`compute.X.cluster`).

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of an `ecs_cluster`.
    pub enum Attr {
        /// The cluster name (the physical name).
        Name = "name",
        /// CloudWatch Container Insights on or off.
        ContainerInsights = "container_insights",
        /// Capacity providers attached to the cluster (empty: Fargate only).
        CapacityProviders = "capacity_providers",
        /// The tag map.
        Tags = "tags",
        /// The cluster ARN.
        Arn = "arn",
    }
}

impl Attr {
    /// How the planner treats a change.
    pub const fn rule(self) -> Rule {
        match self {
            Attr::Name => Rule::ForceNew,
            Attr::ContainerInsights | Attr::CapacityProviders | Attr::Tags => Rule::InPlace,
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

/// `container_insights` when unset.
pub const DEFAULT_CONTAINER_INSIGHTS: bool = false;

/// What spec lowering fills in: one field per attribute it sets. Tags are added for every kind
/// by lowering itself and computed attributes by the cloud. Lowering builds this with a struct
/// literal and [`Desired::into_attrs`] matches every [`Attr`], so a new attribute does not
/// compile until both say what it holds.
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Name`].
    pub name: Value,
    /// [`Attr::ContainerInsights`].
    pub container_insights: Value,
    /// [`Attr::CapacityProviders`].
    pub capacity_providers: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().filter_map(|&k| {
            let v = match k {
                Attr::Name => std::mem::take(&mut self.name),
                Attr::ContainerInsights => std::mem::take(&mut self.container_insights),
                Attr::CapacityProviders => std::mem::take(&mut self.capacity_providers),
                Attr::Tags | Attr::Arn => return None,
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}
