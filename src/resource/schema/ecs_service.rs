//! `ecs_service` (`endpoint.X.service`): runs the endpoint's task definition; a new task
//! definition is a release the provider waits for.
//!
//! Nested maps: [`Network`], [`Deployment`] and the [`CapacityProviderItem`]s of
//! `capacity_provider_strategy`.

use super::{Rule, attr_names, rule_lists};
use crate::resource::{KindSchema, ReplaceOrder};

attr_names! {
    /// Top-level attributes of an `ecs_service`.
    pub enum Attr {
        /// The service name (the physical name).
        Name = "name",
        /// The cluster it runs in.
        Cluster = "cluster",
        /// `FARGATE` or `EC2` (ignored when a capacity provider strategy is set).
        LaunchType = "launch_type",
        /// A list of [`CapacityProviderItem`] maps, or null.
        CapacityProviderStrategy = "capacity_provider_strategy",
        /// ARN of the task definition revision to run.
        TaskDefinition = "task_definition",
        /// Tasks to run; null when autoscaling owns the count.
        DesiredCount = "desired_count",
        /// A [`Network`] map.
        Network = "network",
        /// A [`Deployment`] map.
        Deployment = "deployment",
        /// Seconds load balancer health checks are ignored after a task starts; null for none.
        HealthCheckGracePeriod = "health_check_grace_period",
        /// The tag map.
        Tags = "tags",
        /// The service ARN.
        Arn = "arn",
    }
}

impl Attr {
    /// How the planner treats a change (the name stays reserved until the old service is
    /// INACTIVE, so replacements destroy first).
    pub const fn rule(self) -> Rule {
        match self {
            Attr::Name | Attr::Cluster | Attr::LaunchType => Rule::ForceNew,
            Attr::CapacityProviderStrategy
            | Attr::TaskDefinition
            | Attr::DesiredCount
            | Attr::Network
            | Attr::Deployment
            | Attr::HealthCheckGracePeriod
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
    // The name stays reserved until the old service is INACTIVE.
    replace_order: ReplaceOrder::DestroyBeforeCreate,
    versioned: false,
    name_attr: Attr::Name.as_str(),
};

attr_names! {
    /// The `network` map (awsvpc).
    pub enum Network {
        /// Subnet ids.
        Subnets = "subnets",
        /// Security group ids.
        SecurityGroups = "security_groups",
        /// Assign a public IP.
        PublicIp = "public_ip",
    }
}

attr_names! {
    /// The `deployment` map: rolling update bounds and how to wait for a release.
    pub enum Deployment {
        /// Lower bound of running tasks during a deployment, in percent of desired.
        MinHealthyPercent = "min_healthy_percent",
        /// Upper bound of running tasks during a deployment, in percent of desired.
        MaxPercent = "max_percent",
        /// Deployment circuit breaker with rollback.
        CircuitBreaker = "circuit_breaker",
        /// Wait for the release to complete.
        Wait = "wait",
        /// How long to wait, in seconds.
        TimeoutSeconds = "timeout_seconds",
    }
}

attr_names! {
    /// One map of the `capacity_provider_strategy` list.
    pub enum CapacityProviderItem {
        /// The capacity provider name.
        CapacityProvider = "capacity_provider",
        /// Relative share of tasks.
        Weight = "weight",
        /// Tasks placed here first.
        Base = "base",
    }
}

/// `launch_type` when unset.
pub const DEFAULT_LAUNCH_TYPE: &str = "FARGATE";
/// `desired_count` at creation when unset (autoscaling takes over after).
pub const DEFAULT_DESIRED_COUNT: i64 = 1;
/// [`Network::PublicIp`] when unset.
pub const DEFAULT_PUBLIC_IP: bool = false;
/// [`Deployment::MinHealthyPercent`] when unset.
pub const DEFAULT_MIN_HEALTHY_PERCENT: i64 = 100;
/// [`Deployment::MaxPercent`] when unset.
pub const DEFAULT_MAX_PERCENT: i64 = 200;
/// [`Deployment::CircuitBreaker`] when unset.
pub const DEFAULT_CIRCUIT_BREAKER: bool = true;
/// [`Deployment::Wait`] when unset.
pub const DEFAULT_WAIT: bool = true;
/// [`Deployment::TimeoutSeconds`] when unset.
pub const DEFAULT_TIMEOUT_SECONDS: i64 = 900;
/// [`CapacityProviderItem::Weight`] when unset.
pub const DEFAULT_WEIGHT: i64 = 1;
/// [`CapacityProviderItem::Base`] when unset.
pub const DEFAULT_BASE: i64 = 0;
