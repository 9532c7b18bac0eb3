//! `scaling_target` (`endpoint.X.scaling`): an Application Auto Scaling target on a service's
//! desired count with one CPU target-tracking policy.

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of a `scaling_target`.
    pub enum Attr {
        /// `service/<cluster>/<service>` (the physical name).
        ResourceId = "resource_id",
        /// The service's cluster.
        Cluster = "cluster",
        /// The service name.
        Service = "service",
        /// Fewest tasks.
        Min = "min",
        /// Most tasks.
        Max = "max",
        /// Average CPU percentage the policy tracks; null for no policy.
        TargetCpu = "target_cpu",
        /// Name of the target-tracking policy.
        PolicyName = "policy_name",
    }
}

impl Attr {
    /// How the planner treats a change.
    pub const fn rule(self) -> Rule {
        match self {
            Attr::ResourceId => Rule::ForceNew,
            Attr::Cluster
            | Attr::Service
            | Attr::Min
            | Attr::Max
            | Attr::TargetCpu
            | Attr::PolicyName => Rule::InPlace,
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
    name_attr: Attr::ResourceId.as_str(),
};

/// `min` when unset.
pub const DEFAULT_MIN: i64 = 1;
/// Suffix of the default policy name (`<service>-cpu`).
pub const POLICY_SUFFIX: &str = "-cpu";

/// What spec lowering fills in: one field per attribute it sets. Tags are added for every kind
/// by lowering itself and computed attributes by the cloud. Lowering builds this with a struct
/// literal and [`Desired::into_attrs`] matches every [`Attr`], so a new attribute does not
/// compile until both say what it holds.
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::ResourceId`].
    pub resource_id: Value,
    /// [`Attr::Cluster`].
    pub cluster: Value,
    /// [`Attr::Service`].
    pub service: Value,
    /// [`Attr::Min`].
    pub min: Value,
    /// [`Attr::Max`].
    pub max: Value,
    /// [`Attr::TargetCpu`].
    pub target_cpu: Value,
    /// [`Attr::PolicyName`].
    pub policy_name: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let mut out = Attrs::new();
        for &k in Attr::ALL {
            let v = match k {
                Attr::ResourceId => std::mem::take(&mut self.resource_id),
                Attr::Cluster => std::mem::take(&mut self.cluster),
                Attr::Service => std::mem::take(&mut self.service),
                Attr::Min => std::mem::take(&mut self.min),
                Attr::Max => std::mem::take(&mut self.max),
                Attr::TargetCpu => std::mem::take(&mut self.target_cpu),
                Attr::PolicyName => std::mem::take(&mut self.policy_name),
            };
            out.insert(k.into(), v);
        }
        out
    }
}
