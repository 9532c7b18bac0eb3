//! `ecs_service` (`endpoint.X.service`): runs the endpoint's task definition; a new task
//! definition is a release the provider waits for.
//!
//! Nested maps: [`Network`], [`Deployment`], [`Alarms`] and the [`CapacityProviderItem`]s of
//! `capacity_provider_strategy`.

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

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
        /// An [`Alarms`] map (the deployment alarms ECS watches during a release), or null.
        Alarms = "alarms",
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
            | Attr::Alarms
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
    /// The `alarms` map: CloudWatch alarms that fail a release when one goes to ALARM during
    /// it (sent as `deploymentConfiguration.alarms` with `enable = true`).
    pub enum Alarms {
        /// The alarm names, sorted.
        Names = "names",
        /// Whether ECS rolls a failed release back to the last completed one.
        Rollback = "rollback",
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
/// [`Alarms::Rollback`] when the endpoint's `alarms` do not say.
pub const DEFAULT_ALARM_ROLLBACK: bool = true;
/// [`CapacityProviderItem::Weight`] when unset.
pub const DEFAULT_WEIGHT: i64 = 1;
/// [`CapacityProviderItem::Base`] when unset.
pub const DEFAULT_BASE: i64 = 0;

/// What spec lowering fills in: one field per attribute it sets. Tags are added for every kind
/// by lowering itself and computed attributes by the cloud. Lowering builds this with a struct
/// literal and [`Desired::into_attrs`] matches every [`Attr`], so a new attribute does not
/// compile until both say what it holds.
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Name`].
    pub name: Value,
    /// [`Attr::Cluster`].
    pub cluster: Value,
    /// [`Attr::LaunchType`].
    pub launch_type: Value,
    /// [`Attr::CapacityProviderStrategy`].
    pub capacity_provider_strategy: Value,
    /// [`Attr::TaskDefinition`].
    pub task_definition: Value,
    /// [`Attr::DesiredCount`].
    pub desired_count: Value,
    /// [`Attr::Network`].
    pub network: Value,
    /// [`Attr::Deployment`].
    pub deployment: Value,
    /// [`Attr::HealthCheckGracePeriod`].
    pub health_check_grace_period: Value,
    /// [`Attr::Alarms`].
    pub alarms: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let mut out = Attrs::new();
        for &k in Attr::ALL {
            let v = match k {
                Attr::Name => std::mem::take(&mut self.name),
                Attr::Cluster => std::mem::take(&mut self.cluster),
                Attr::LaunchType => std::mem::take(&mut self.launch_type),
                Attr::CapacityProviderStrategy => {
                    std::mem::take(&mut self.capacity_provider_strategy)
                }
                Attr::TaskDefinition => std::mem::take(&mut self.task_definition),
                Attr::DesiredCount => std::mem::take(&mut self.desired_count),
                Attr::Network => std::mem::take(&mut self.network),
                Attr::Deployment => std::mem::take(&mut self.deployment),
                Attr::HealthCheckGracePeriod => std::mem::take(&mut self.health_check_grace_period),
                Attr::Alarms => std::mem::take(&mut self.alarms),
                Attr::Tags | Attr::Arn => continue,
            };
            out.insert(k.into(), v);
        }
        out
    }
}

/// The `deployment` map with every default filled in.
pub fn default_deployment() -> Attrs {
    Deployment::ALL
        .iter()
        .map(|&k| {
            let v = match k {
                Deployment::MinHealthyPercent => Value::Int(DEFAULT_MIN_HEALTHY_PERCENT),
                Deployment::MaxPercent => Value::Int(DEFAULT_MAX_PERCENT),
                Deployment::CircuitBreaker => Value::Bool(DEFAULT_CIRCUIT_BREAKER),
                Deployment::Wait => Value::Bool(DEFAULT_WAIT),
                Deployment::TimeoutSeconds => Value::Int(DEFAULT_TIMEOUT_SECONDS),
            };
            (k.into(), v)
        })
        .collect()
}
