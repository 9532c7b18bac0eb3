//! `target_group` (`endpoint.X.target_group`, and `endpoint.X.target_group_alt` for blue/green,
//! canary and linear releases): the ip targets of a routed endpoint's tasks, health checked by
//! the load balancer.

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of a `target_group`.
    pub enum Attr {
        /// The target group name (the physical name, at most 32 characters).
        Name = "name",
        /// The port targets listen on (the endpoint's container port).
        Port = "port",
        /// `HTTP`.
        Protocol = "protocol",
        /// `ip` (Fargate tasks register by address).
        TargetType = "target_type",
        /// The VPC of the gateway's load balancer.
        VpcId = "vpc_id",
        /// A [`HealthCheck`] map.
        HealthCheck = "health_check",
        /// Seconds a deregistering target keeps its connections.
        DeregistrationDelay = "deregistration_delay",
        /// The tag map.
        Tags = "tags",
        /// The target group ARN.
        Arn = "arn",
        /// The ARN's resource part (`targetgroup/<name>/<id>`): the `TargetGroup` dimension
        /// of its CloudWatch metrics.
        ArnSuffix = "arn_suffix",
    }
}

impl Attr {
    /// How the planner treats a change (ModifyTargetGroup sets the health check in place;
    /// the port, protocol, target type and VPC are fixed at creation).
    pub const fn rule(self) -> Rule {
        match self {
            Attr::Name | Attr::Port | Attr::Protocol | Attr::TargetType | Attr::VpcId => {
                Rule::ForceNew
            }
            Attr::HealthCheck | Attr::DeregistrationDelay | Attr::Tags => Rule::InPlace,
            Attr::Arn | Attr::ArnSuffix => Rule::Computed,
        }
    }
}

rule_lists!(Attr);

/// The kind's facts for the planner and the provider.
pub const SCHEMA: KindSchema = KindSchema {
    force_new: &FORCE_NEW,
    computed: &COMPUTED,
    // The name is unique per account and region.
    replace_order: ReplaceOrder::DestroyBeforeCreate,
    versioned: false,
    name_attr: Attr::Name.as_str(),
};

/// The `TargetGroup` metric dimension of a target group ARN
/// (`arn:…:targetgroup/<name>/<id>` → `targetgroup/<name>/<id>`).
pub fn arn_suffix(arn: &str) -> Option<&str> {
    arn.rfind(":targetgroup/").map(|i| &arn[i + 1..])
}

attr_names! {
    /// The `health_check` map: how the load balancer probes each target.
    pub enum HealthCheck {
        /// The HTTP path probed.
        Path = "path",
        /// Seconds between probes.
        Interval = "interval",
        /// Seconds a probe may take.
        Timeout = "timeout",
        /// Consecutive successes that make a target healthy.
        HealthyThreshold = "healthy_threshold",
        /// Consecutive failures that make a target unhealthy.
        UnhealthyThreshold = "unhealthy_threshold",
        /// The HTTP codes that count as success (`200`, `200-299`).
        Matcher = "matcher",
    }
}

/// `protocol` of endpoint target groups.
pub const PROTOCOL_HTTP: &str = "HTTP";
/// `target_type` of endpoint target groups.
pub const TARGET_TYPE_IP: &str = "ip";
/// [`HealthCheck::HealthyThreshold`] when unset.
pub const DEFAULT_HEALTHY_THRESHOLD: i64 = 2;
/// [`HealthCheck::Matcher`] when unset.
pub const DEFAULT_MATCHER: &str = "200-399";
/// `deregistration_delay` when unset, in seconds.
pub const DEFAULT_DEREGISTRATION_DELAY: i64 = 30;
/// Shortest probe interval ELB accepts, in seconds.
pub const MIN_INTERVAL: i64 = 5;
/// Longest probe interval ELB accepts, in seconds.
pub const MAX_INTERVAL: i64 = 300;
/// The target group attribute holding the deregistration delay.
pub const ATTR_DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";

/// What spec lowering fills in (tags are added by lowering, the ARN by the cloud).
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Name`].
    pub name: Value,
    /// [`Attr::Port`].
    pub port: Value,
    /// [`Attr::Protocol`].
    pub protocol: Value,
    /// [`Attr::TargetType`].
    pub target_type: Value,
    /// [`Attr::VpcId`].
    pub vpc_id: Value,
    /// [`Attr::HealthCheck`].
    pub health_check: Value,
    /// [`Attr::DeregistrationDelay`].
    pub deregistration_delay: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().filter_map(|&k| {
            let v = match k {
                Attr::Name => std::mem::take(&mut self.name),
                Attr::Port => std::mem::take(&mut self.port),
                Attr::Protocol => std::mem::take(&mut self.protocol),
                Attr::TargetType => std::mem::take(&mut self.target_type),
                Attr::VpcId => std::mem::take(&mut self.vpc_id),
                Attr::HealthCheck => std::mem::take(&mut self.health_check),
                Attr::DeregistrationDelay => std::mem::take(&mut self.deregistration_delay),
                Attr::Tags | Attr::Arn | Attr::ArnSuffix => return None,
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}
