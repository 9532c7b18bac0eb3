//! `scaling_target` (`endpoint.X.scaling`): an Application Auto Scaling target on a service's
//! desired count with its target-tracking policies: average CPU, average memory, and (for a
//! routed endpoint) requests per target.

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
        /// Name of the CPU target-tracking policy (`<service>-cpu`); the memory and request
        /// policies are named alike (`-memory`, `-requests`).
        PolicyName = "policy_name",
        /// Average memory percentage the memory policy tracks; null for no policy.
        TargetMemory = "target_memory",
        /// Requests per target (per minute) the request policy tracks; null for no policy.
        TargetRequests = "target_requests",
        /// `<load balancer ARN suffix>/<target group ARN suffix>`: the target group whose
        /// requests are counted; null without a request policy.
        RequestLabel = "request_label",
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
            | Attr::PolicyName
            | Attr::TargetMemory
            | Attr::TargetRequests
            | Attr::RequestLabel => Rule::InPlace,
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

/// One target-tracking policy a scaling target can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// `target_cpu`: ECSServiceAverageCPUUtilization.
    Cpu,
    /// `target_memory`: ECSServiceAverageMemoryUtilization.
    Memory,
    /// `target_requests`: ALBRequestCountPerTarget of the endpoint's target group.
    Requests,
}

impl Policy {
    /// Every policy, in the order they are put.
    pub const ALL: [Policy; 3] = [Policy::Cpu, Policy::Memory, Policy::Requests];

    /// The attribute holding its target value.
    pub const fn target(self) -> Attr {
        match self {
            Policy::Cpu => Attr::TargetCpu,
            Policy::Memory => Attr::TargetMemory,
            Policy::Requests => Attr::TargetRequests,
        }
    }

    /// The suffix of its name after the service's (`-cpu`).
    pub const fn suffix(self) -> &'static str {
        match self {
            Policy::Cpu => POLICY_SUFFIX,
            Policy::Memory => "-memory",
            Policy::Requests => "-requests",
        }
    }
}

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
    /// [`Attr::TargetMemory`].
    pub target_memory: Value,
    /// [`Attr::TargetRequests`].
    pub target_requests: Value,
    /// [`Attr::RequestLabel`].
    pub request_label: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().map(|&k| {
            let v = match k {
                Attr::ResourceId => std::mem::take(&mut self.resource_id),
                Attr::Cluster => std::mem::take(&mut self.cluster),
                Attr::Service => std::mem::take(&mut self.service),
                Attr::Min => std::mem::take(&mut self.min),
                Attr::Max => std::mem::take(&mut self.max),
                Attr::TargetCpu => std::mem::take(&mut self.target_cpu),
                Attr::PolicyName => std::mem::take(&mut self.policy_name),
                Attr::TargetMemory => std::mem::take(&mut self.target_memory),
                Attr::TargetRequests => std::mem::take(&mut self.target_requests),
                Attr::RequestLabel => std::mem::take(&mut self.request_label),
            };
            (k.into(), v)
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}
