//! `scaling_target` (`endpoint.X.scaling`): an Application Auto Scaling target on a service's
//! desired count with one CPU target-tracking policy.

use super::{Rule, attr_names, rule_lists};
use crate::resource::{KindSchema, ReplaceOrder};

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
