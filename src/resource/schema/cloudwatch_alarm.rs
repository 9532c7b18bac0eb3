//! `cloudwatch_alarm` (`endpoint.X.alarm.<name>`): a CloudWatch metric alarm on one of an
//! endpoint service's metrics. The service lists its alarms in its deployment configuration, so
//! ECS fails (and rolls back) a release during which one goes to ALARM.

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of a `cloudwatch_alarm`.
    pub enum Attr {
        /// The alarm name (the physical name).
        Name = "name",
        /// The metric's namespace (`AWS/ECS`).
        Namespace = "namespace",
        /// The metric name (`CPUUtilization`, `MemoryUtilization`); null when the alarm watches
        /// a [`Math`] expression.
        Metric = "metric",
        /// Dimension name → value (`ClusterName`, `ServiceName`; `LoadBalancer`, `TargetGroup`).
        Dimensions = "dimensions",
        /// How datapoints are aggregated over a period (`Average`, `Sum`, `Maximum`, or a
        /// percentile such as `p99`).
        Statistic = "statistic",
        /// Seconds per period.
        Period = "period",
        /// Consecutive periods over the threshold before the alarm fires.
        EvaluationPeriods = "evaluation_periods",
        /// The threshold the statistic is compared with.
        Threshold = "threshold",
        /// How the statistic is compared with the threshold.
        ComparisonOperator = "comparison_operator",
        /// ARNs notified when the alarm fires (SNS topics).
        AlarmActions = "alarm_actions",
        /// A [`Math`] map: the alarm watches a metric math expression over several metrics
        /// (each with its own dimensions, and the alarm's namespace, statistic and period);
        /// null for a single-metric alarm.
        Math = "math",
        /// The tag map.
        Tags = "tags",
        /// The alarm ARN.
        Arn = "arn",
    }
}

impl Attr {
    /// How the planner treats a change (PutMetricAlarm overwrites every setting of an alarm
    /// in place; only a new name is a new alarm).
    pub const fn rule(self) -> Rule {
        match self {
            Attr::Name => Rule::ForceNew,
            Attr::Namespace
            | Attr::Metric
            | Attr::Dimensions
            | Attr::Statistic
            | Attr::Period
            | Attr::EvaluationPeriods
            | Attr::Threshold
            | Attr::ComparisonOperator
            | Attr::AlarmActions
            | Attr::Math
            | Attr::Tags => Rule::InPlace,
            Attr::Arn => Rule::Computed,
        }
    }
}

rule_lists!(Attr);

attr_names! {
    /// The `math` map of an alarm on a metric math expression.
    pub enum Math {
        /// The expression the alarm compares with its threshold (`100 * FILL(m1, 0) / m2`).
        Expression = "expression",
        /// Query id (`m1`) → a [`MathMetric`] map: the metrics the expression names.
        Metrics = "metrics",
    }
}

/// The kind's facts for the planner and the provider.
pub const SCHEMA: KindSchema = KindSchema {
    force_new: &FORCE_NEW,
    computed: &COMPUTED,
    // A replacement has a new name: the new alarm can exist before the old one goes, so the
    // service never lists an alarm that does not exist.
    replace_order: ReplaceOrder::CreateBeforeDestroy,
    versioned: false,
    name_attr: Attr::Name.as_str(),
};

/// The namespace of ECS service metrics.
pub const NAMESPACE_ECS: &str = "AWS/ECS";
/// Average CPU of a service's tasks, in percent of what they reserve.
pub const METRIC_CPU: &str = "CPUUtilization";
/// Average memory of a service's tasks, in percent of what they reserve.
pub const METRIC_MEMORY: &str = "MemoryUtilization";
attr_names! {
    /// One metric of a [`Math`] expression (with the alarm's namespace, statistic and period).
    pub enum MathMetric {
        /// The metric name.
        Metric = "metric",
        /// Dimension name → value.
        Dimensions = "dimensions",
    }
}

/// The namespace of Application Load Balancer metrics.
pub const NAMESPACE_ELB: &str = "AWS/ApplicationELB";
/// The dimension naming the load balancer of an ELB metric (its ARN suffix).
pub const DIMENSION_LOAD_BALANCER: &str = "LoadBalancer";
/// The dimension naming the target group of an ELB metric (its ARN suffix).
pub const DIMENSION_TARGET_GROUP: &str = "TargetGroup";
/// The dimension naming the cluster of an ECS service metric.
pub const DIMENSION_CLUSTER: &str = "ClusterName";
/// The dimension naming the service of an ECS service metric.
pub const DIMENSION_SERVICE: &str = "ServiceName";
/// `statistic` of the endpoint alarms on service metrics.
pub const STATISTIC_AVERAGE: &str = "Average";
/// The id of the expression query of a [`Math`] alarm.
pub const EXPRESSION_ID: &str = "e1";
/// `period` of the endpoint alarms, in seconds.
pub const DEFAULT_PERIOD: i64 = 60;
/// `evaluation_periods` of the endpoint alarms.
pub const DEFAULT_EVALUATION_PERIODS: i64 = 3;
/// `comparison_operator` of the endpoint alarms (botocore's `ComparisonOperator` enum).
pub const GREATER_OR_EQUAL: &str = "GreaterThanOrEqualToThreshold";
/// The longest alarm name CloudWatch accepts.
pub const MAX_NAME_LEN: usize = 255;
/// The most actions one alarm state takes.
pub const MAX_ACTIONS: usize = 5;
/// The most alarm names one DescribeAlarms or DeleteAlarms call takes.
pub const BATCH: usize = 100;

/// What spec lowering fills in: one field per attribute it sets. Tags are added for every kind
/// by lowering itself and computed attributes by the cloud. Lowering builds this with a struct
/// literal and [`Desired::into_attrs`] matches every [`Attr`], so a new attribute does not
/// compile until both say what it holds.
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Name`].
    pub name: Value,
    /// [`Attr::Namespace`].
    pub namespace: Value,
    /// [`Attr::Metric`].
    pub metric: Value,
    /// [`Attr::Dimensions`].
    pub dimensions: Value,
    /// [`Attr::Statistic`].
    pub statistic: Value,
    /// [`Attr::Period`].
    pub period: Value,
    /// [`Attr::EvaluationPeriods`].
    pub evaluation_periods: Value,
    /// [`Attr::Threshold`].
    pub threshold: Value,
    /// [`Attr::ComparisonOperator`].
    pub comparison_operator: Value,
    /// [`Attr::AlarmActions`].
    pub alarm_actions: Value,
    /// [`Attr::Math`].
    pub math: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().filter_map(|&k| {
            let v = match k {
                Attr::Name => std::mem::take(&mut self.name),
                Attr::Namespace => std::mem::take(&mut self.namespace),
                Attr::Metric => std::mem::take(&mut self.metric),
                Attr::Dimensions => std::mem::take(&mut self.dimensions),
                Attr::Statistic => std::mem::take(&mut self.statistic),
                Attr::Period => std::mem::take(&mut self.period),
                Attr::EvaluationPeriods => std::mem::take(&mut self.evaluation_periods),
                Attr::Threshold => std::mem::take(&mut self.threshold),
                Attr::ComparisonOperator => std::mem::take(&mut self.comparison_operator),
                Attr::AlarmActions => std::mem::take(&mut self.alarm_actions),
                Attr::Math => std::mem::take(&mut self.math),
                Attr::Tags | Attr::Arn => return None,
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}

/// What an endpoint can alarm on, one per `alarms` threshold key: its service's metrics, and
/// (for a routed endpoint) its target group's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EndpointAlarm {
    /// `cpu_high`: average CPU at or above a percentage.
    CpuHigh,
    /// `memory_high`: average memory at or above a percentage.
    MemoryHigh,
    /// `http_5xx_percent`: the share of requests the targets answer with a 5xx status, at or
    /// above a percentage.
    Http5xxPercent,
    /// `p99_latency_ms`: the targets' 99th percentile response time, at or above this many
    /// milliseconds.
    P99LatencyMs,
    /// `unhealthy_targets`: at least this many targets failing their health checks.
    UnhealthyTargets,
}

/// `HTTPCode_Target_5XX_Count`: responses with a 5xx status from the targets.
pub const METRIC_TARGET_5XX: &str = "HTTPCode_Target_5XX_Count";
/// `RequestCount`: requests the load balancer routed.
pub const METRIC_REQUESTS: &str = "RequestCount";
/// `TargetResponseTime`: seconds from a request leaving the load balancer to its answer.
pub const METRIC_RESPONSE_TIME: &str = "TargetResponseTime";
/// `UnHealthyHostCount`: targets failing their health checks.
pub const METRIC_UNHEALTHY: &str = "UnHealthyHostCount";

impl EndpointAlarm {
    /// Every endpoint alarm, in the order they are lowered.
    pub const ALL: [EndpointAlarm; 5] = [
        EndpointAlarm::CpuHigh,
        EndpointAlarm::MemoryHigh,
        EndpointAlarm::Http5xxPercent,
        EndpointAlarm::P99LatencyMs,
        EndpointAlarm::UnhealthyTargets,
    ];

    /// The `alarms` key that sets its threshold, also its address role (`alarm.cpu_high`).
    pub const fn key(self) -> &'static str {
        match self {
            EndpointAlarm::CpuHigh => "cpu_high",
            EndpointAlarm::MemoryHigh => "memory_high",
            EndpointAlarm::Http5xxPercent => "http_5xx_percent",
            EndpointAlarm::P99LatencyMs => "p99_latency_ms",
            EndpointAlarm::UnhealthyTargets => "unhealthy_targets",
        }
    }

    /// Whether it watches the load balancer's metrics of a routed endpoint.
    pub const fn needs_route(self) -> bool {
        !matches!(self, EndpointAlarm::CpuHigh | EndpointAlarm::MemoryHigh)
    }

    /// The thresholds it accepts.
    pub const fn range(self) -> (i64, i64) {
        match self {
            EndpointAlarm::CpuHigh | EndpointAlarm::MemoryHigh | EndpointAlarm::Http5xxPercent => {
                (1, 100)
            }
            // The longest a target may take is the load balancer's longest idle timeout.
            EndpointAlarm::P99LatencyMs => (1, 4_000_000),
            EndpointAlarm::UnhealthyTargets => (1, 5000),
        }
    }

    /// What the threshold means, for messages.
    pub const fn meaning(self) -> &'static str {
        match self {
            EndpointAlarm::CpuHigh => {
                "the alarm fires when the service's average CPUUtilization stays at or above this many percent for 3 minutes"
            }
            EndpointAlarm::MemoryHigh => {
                "the alarm fires when the service's average MemoryUtilization stays at or above this many percent for 3 minutes"
            }
            EndpointAlarm::Http5xxPercent => {
                "the alarm fires when this many percent of the route's requests get a 5xx answer from the targets for 3 minutes"
            }
            EndpointAlarm::P99LatencyMs => {
                "the alarm fires when the targets' 99th percentile response time stays at or above this many milliseconds for 3 minutes"
            }
            EndpointAlarm::UnhealthyTargets => {
                "the alarm fires when at least this many targets fail the load balancer's health check for 3 minutes"
            }
        }
    }

    /// The namespace of the metrics it watches.
    pub const fn namespace(self) -> &'static str {
        if self.needs_route() {
            NAMESPACE_ELB
        } else {
            NAMESPACE_ECS
        }
    }

    /// How each period's datapoints are aggregated.
    pub const fn statistic(self) -> &'static str {
        match self {
            EndpointAlarm::CpuHigh | EndpointAlarm::MemoryHigh => STATISTIC_AVERAGE,
            EndpointAlarm::Http5xxPercent => "Sum",
            EndpointAlarm::P99LatencyMs => "p99",
            EndpointAlarm::UnhealthyTargets => "Maximum",
        }
    }
}
