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
        /// The metric name (`CPUUtilization`, `MemoryUtilization`).
        Metric = "metric",
        /// Dimension name → value (`ClusterName`, `ServiceName`).
        Dimensions = "dimensions",
        /// How datapoints are aggregated over a period (`Average`).
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
/// The dimension naming the cluster of an ECS service metric.
pub const DIMENSION_CLUSTER: &str = "ClusterName";
/// The dimension naming the service of an ECS service metric.
pub const DIMENSION_SERVICE: &str = "ServiceName";
/// `statistic` of the endpoint alarms.
pub const STATISTIC_AVERAGE: &str = "Average";
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
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let mut out = Attrs::new();
        for &k in Attr::ALL {
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
                Attr::Tags | Attr::Arn => continue,
            };
            out.insert(k.into(), v);
        }
        out
    }
}

/// The service metrics an endpoint can alarm on, one per `alarms` threshold key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EndpointAlarm {
    /// `cpu_high`: average CPU at or above a percentage.
    CpuHigh,
    /// `memory_high`: average memory at or above a percentage.
    MemoryHigh,
}

impl EndpointAlarm {
    /// Every endpoint alarm, in the order they are lowered.
    pub const ALL: [EndpointAlarm; 2] = [EndpointAlarm::CpuHigh, EndpointAlarm::MemoryHigh];

    /// The `alarms` key that sets its threshold, also its address role (`alarm.cpu_high`).
    pub const fn key(self) -> &'static str {
        match self {
            EndpointAlarm::CpuHigh => "cpu_high",
            EndpointAlarm::MemoryHigh => "memory_high",
        }
    }

    /// The metric it watches.
    pub const fn metric(self) -> &'static str {
        match self {
            EndpointAlarm::CpuHigh => METRIC_CPU,
            EndpointAlarm::MemoryHigh => METRIC_MEMORY,
        }
    }
}
