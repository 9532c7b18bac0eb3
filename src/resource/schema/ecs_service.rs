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
        /// A list of [`LoadBalancerItem`] maps (a routed endpoint's target groups), or null.
        LoadBalancers = "load_balancers",
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
            | Attr::LoadBalancers
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
        /// `rolling`, `blue_green`, `canary` or `linear` (absent: rolling).
        Strategy = "strategy",
        /// Canary releases: percent of traffic the new revision gets first.
        CanaryPercent = "canary_percent",
        /// Linear releases: percent of traffic shifted per step.
        StepPercent = "step_percent",
        /// Canary and linear releases: minutes between traffic shifts.
        IntervalMinutes = "interval_minutes",
        /// Minutes the new revision runs with all traffic before the old one stops.
        BakeMinutes = "bake_minutes",
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
    /// One map of the `load_balancers` list: the target group the service registers its tasks
    /// in and, for blue/green, canary and linear releases, what ECS shifts traffic with.
    pub enum LoadBalancerItem {
        /// The target group ARN.
        TargetGroupArn = "target_group_arn",
        /// The container receiving traffic.
        ContainerName = "container_name",
        /// Its port.
        ContainerPort = "container_port",
        /// The target group the new revision starts in (null for rolling releases).
        AlternateTargetGroupArn = "alternate_target_group_arn",
        /// The listener rule ECS shifts traffic with (null for rolling releases).
        ProductionListenerRule = "production_listener_rule",
        /// The role ECS uses to change the listener rule (null for rolling releases).
        RoleArn = "role_arn",
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
    /// [`Attr::LoadBalancers`] (null: left out, so services without a route read as before).
    pub load_balancers: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().filter_map(|&k| {
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
                Attr::LoadBalancers if self.load_balancers == Value::Null => return None,
                Attr::LoadBalancers => std::mem::take(&mut self.load_balancers),
                Attr::Tags | Attr::Arn => return None,
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}

/// The `deployment` map with every default filled in.
pub fn default_deployment() -> Attrs {
    Deployment::sorted()
        .iter()
        .filter_map(|&k| {
            let v = match k {
                Deployment::MinHealthyPercent => Value::Int(DEFAULT_MIN_HEALTHY_PERCENT),
                Deployment::MaxPercent => Value::Int(DEFAULT_MAX_PERCENT),
                Deployment::CircuitBreaker => Value::Bool(DEFAULT_CIRCUIT_BREAKER),
                Deployment::Wait => Value::Bool(DEFAULT_WAIT),
                Deployment::TimeoutSeconds => Value::Int(DEFAULT_TIMEOUT_SECONDS),
                // Only written for the strategies that are not the default.
                Deployment::Strategy
                | Deployment::CanaryPercent
                | Deployment::StepPercent
                | Deployment::IntervalMinutes
                | Deployment::BakeMinutes => return None,
            };
            Some((k.into(), v))
        })
        .collect()
}

/// `strategy` of a release that replaces tasks batch by batch (the default).
pub const STRATEGY_ROLLING: &str = "rolling";
/// `strategy` of a release that starts the new revision beside the old and switches all
/// traffic at once.
pub const STRATEGY_BLUE_GREEN: &str = "blue_green";
/// `strategy` of a release that sends a share of traffic to the new revision first.
pub const STRATEGY_CANARY: &str = "canary";
/// `strategy` of a release that shifts traffic in equal steps.
pub const STRATEGY_LINEAR: &str = "linear";
/// Every strategy, as written in specs.
pub const STRATEGIES: [&str; 4] = [
    STRATEGY_ROLLING,
    STRATEGY_BLUE_GREEN,
    STRATEGY_CANARY,
    STRATEGY_LINEAR,
];
/// [`Deployment::CanaryPercent`] when unset.
pub const DEFAULT_CANARY_PERCENT: i64 = 10;
/// [`Deployment::StepPercent`] when unset.
pub const DEFAULT_STEP_PERCENT: i64 = 20;
/// [`Deployment::IntervalMinutes`] when unset.
pub const DEFAULT_INTERVAL_MINUTES: i64 = 5;
/// [`Deployment::BakeMinutes`] when unset.
pub const DEFAULT_BAKE_MINUTES: i64 = 0;
/// `health_check_grace_period` of a routed service whose health check does not set one.
pub const DEFAULT_ROUTED_GRACE_PERIOD: i64 = 60;

/// How a release shifts traffic, in words: `canary 10% for 5m, then 100%`, `linear 20% every
/// 5m`, `blue/green`, `rolling` (with `, bake 10m` when the old revision is kept a while).
pub fn describe_strategy(d: &Attrs) -> String {
    let int = |k: Deployment, default: i64| match d.get(k.as_str()) {
        Some(Value::Int(n)) => *n,
        _ => default,
    };
    let strategy = d
        .get(Deployment::Strategy.as_str())
        .and_then(Value::as_str)
        .unwrap_or(STRATEGY_ROLLING);
    let interval = int(Deployment::IntervalMinutes, DEFAULT_INTERVAL_MINUTES);
    let mut s = match strategy {
        STRATEGY_CANARY => format!(
            "canary {}% for {interval}m, then 100%",
            int(Deployment::CanaryPercent, DEFAULT_CANARY_PERCENT)
        ),
        STRATEGY_LINEAR => format!(
            "linear {}% every {interval}m",
            int(Deployment::StepPercent, DEFAULT_STEP_PERCENT)
        ),
        STRATEGY_BLUE_GREEN => "blue/green".to_string(),
        other => other.to_string(),
    };
    let bake = int(Deployment::BakeMinutes, DEFAULT_BAKE_MINUTES);
    if bake > 0 {
        s.push_str(&format!(", bake {bake}m"));
    }
    s
}
