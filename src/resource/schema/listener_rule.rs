//! `listener_rule` (`endpoint.X.listener_rule`): sends requests matching a routed endpoint's
//! path and host conditions to its target group (with an alternate target group, weighted
//! 100/0, for the releases ECS shifts traffic in).

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of a `listener_rule`.
    pub enum Attr {
        /// pedestal's name for the rule, `<load balancer>:<port>/<endpoint>` (ELB rules have no name; it is
        /// not sent).
        Name = "name",
        /// The listener ARN.
        ListenerArn = "listener_arn",
        /// Evaluation order on the listener (lower first), unique per listener.
        Priority = "priority",
        /// Path patterns matched (`/fraud/*`); empty for any path.
        PathPatterns = "path_patterns",
        /// Host headers matched; empty for any host.
        Hosts = "hosts",
        /// The target group requests are forwarded to.
        TargetGroupArn = "target_group_arn",
        /// The alternate target group of blue/green, canary and linear releases (weight 0
        /// until ECS shifts traffic), or null.
        AlternateTargetGroupArn = "alternate_target_group_arn",
        /// The tag map.
        Tags = "tags",
        /// The rule ARN.
        Arn = "arn",
    }
}

impl Attr {
    /// How the planner treats a change (ModifyRule changes conditions and actions in place,
    /// SetRulePriorities the priority; another listener is another rule).
    pub const fn rule(self) -> Rule {
        match self {
            Attr::Name | Attr::ListenerArn => Rule::ForceNew,
            Attr::Priority
            | Attr::PathPatterns
            | Attr::Hosts
            | Attr::TargetGroupArn
            | Attr::AlternateTargetGroupArn
            | Attr::Tags => Rule::InPlace,
            Attr::Arn => Rule::Computed,
        }
    }
}

rule_lists!(Attr);

/// The kind's facts for the planner and the provider.
pub const SCHEMA: KindSchema = KindSchema {
    force_new: &FORCE_NEW,
    computed: &COMPUTED,
    // A priority takes one rule per listener: the old rule goes first.
    replace_order: ReplaceOrder::DestroyBeforeCreate,
    versioned: false,
    name_attr: Attr::Name.as_str(),
};

/// The first priority given to routes that do not set one.
pub const AUTO_PRIORITY_START: i64 = 100;
/// The gap between automatically given priorities.
pub const AUTO_PRIORITY_STEP: i64 = 10;
/// The highest priority ELB accepts.
pub const MAX_PRIORITY: i64 = 50000;

/// What spec lowering fills in (tags are added by lowering, the ARN by the cloud).
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Name`].
    pub name: Value,
    /// [`Attr::ListenerArn`].
    pub listener_arn: Value,
    /// [`Attr::Priority`].
    pub priority: Value,
    /// [`Attr::PathPatterns`].
    pub path_patterns: Value,
    /// [`Attr::Hosts`].
    pub hosts: Value,
    /// [`Attr::TargetGroupArn`].
    pub target_group_arn: Value,
    /// [`Attr::AlternateTargetGroupArn`].
    pub alternate_target_group_arn: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().filter_map(|&k| {
            let v = match k {
                Attr::Name => std::mem::take(&mut self.name),
                Attr::ListenerArn => std::mem::take(&mut self.listener_arn),
                Attr::Priority => std::mem::take(&mut self.priority),
                Attr::PathPatterns => std::mem::take(&mut self.path_patterns),
                Attr::Hosts => std::mem::take(&mut self.hosts),
                Attr::TargetGroupArn => std::mem::take(&mut self.target_group_arn),
                Attr::AlternateTargetGroupArn => {
                    std::mem::take(&mut self.alternate_target_group_arn)
                }
                Attr::Tags | Attr::Arn => return None,
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}
