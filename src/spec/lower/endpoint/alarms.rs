//! An endpoint's `alarms = { cpu_high, memory_high, http_5xx_percent, p99_latency_ms,
//! unhealthy_targets, rollback, notify }`: thresholds on the service's average CPU and memory
//! and (for a routed endpoint) on its target groups' 5xx share, 99th percentile response time
//! and unhealthy targets, over three periods of 60 s, each lowered to a CloudWatch metric alarm
//! at `endpoint.X.alarm.<key>` that the service lists in its deployment configuration, so ECS
//! fails (and by default rolls back) a release that trips one. The load balancer metrics are
//! dimensioned by the gateway's and target groups' ARN suffixes, known once they exist.

use crate::resource::rules;
use std::collections::BTreeMap;

use super::resources::Names;
use super::{Endpoint, EndpointDeps};
use crate::addr::Address;
use crate::resource::schema::cloudwatch_alarm::{self as cw, EndpointAlarm};
use crate::resource::schema::ecs_service as svc;
use crate::resource::schema::load_balancer as lb_schema;
use crate::resource::schema::target_group as tg_schema;
use crate::resource::{ResourceKind, Value};
use crate::spec::diag::{ErrorCode, Span};
use crate::spec::fields::Fields;
use crate::spec::load::{Loader, ScopeId};
use crate::spec::lower::common::Meta;
use crate::spec::lower::common::resource_address;
use crate::spec::resolve::Deps;

/// The keys `alarms` takes.
const KEYS: &[&str] = &[
    "cpu_high",
    "memory_high",
    "http_5xx_percent",
    "p99_latency_ms",
    "unhealthy_targets",
    "rollback",
    "notify",
];

/// One alarm an endpoint asked for.
pub(super) struct AlarmSpec {
    pub(super) which: EndpointAlarm,
    /// Percent, milliseconds or targets.
    pub(super) threshold: i64,
    /// The physical alarm name.
    pub(super) name: String,
    /// Where the threshold is written.
    pub(super) span: Span,
}

/// What `alarms` says, validated.
pub(super) struct Alarms {
    /// In [`EndpointAlarm::ALL`] order; never empty.
    pub(super) list: Vec<AlarmSpec>,
    pub(super) rollback: bool,
    /// SNS topic ARNs notified when an alarm fires.
    pub(super) notify: Vec<Value>,
    /// The `alarms` key: where the service's dependency on its alarms comes from.
    pub(super) span: Span,
}

impl Alarms {
    /// The service's `alarms` attribute: the names ECS watches and whether it rolls back.
    pub(super) fn service_attr(&self) -> Value {
        let mut names: Vec<String> = self.list.iter().map(|a| a.name.clone()).collect();
        names.sort();
        Value::Map(
            BTreeMap::from([
                (
                    svc::Alarms::Names.into(),
                    Value::List(names.into_iter().map(Value::String).collect()),
                ),
                (svc::Alarms::Rollback.into(), Value::Bool(self.rollback)),
            ])
            .into(),
        )
    }
}

/// The address of one endpoint alarm: `<prefix>endpoint.<name>.alarm.<key>`.
pub(super) fn alarm_address(prefix: &str, endpoint: &str, which: EndpointAlarm) -> Address {
    resource_address(
        prefix,
        "endpoint",
        endpoint,
        &format!("alarm.{}", which.key()),
    )
}

/// Whether `s` looks like an SNS topic ARN: `arn:<partition>:sns:<region>:<account>:<topic>`.
fn sns_topic_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    let [arn, partition, service, region, account, topic] = parts.as_slice() else {
        return false;
    };
    *arn == "arn"
        && partition.starts_with("aws")
        && *service == "sns"
        && !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && !topic.is_empty()
        && topic.len() <= 256
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

impl Loader<'_> {
    /// Reads and validates `alarms`: thresholds 1–100 percent, alarm names within CloudWatch's
    /// limit, `notify` a list of at most five SNS topic ARNs. `None` when absent, empty or
    /// without a threshold.
    pub(super) fn endpoint_alarms(
        &mut self,
        f: &Fields<'_>,
        (scope, block_name): (ScopeId, &str),
        alarm_deps: &mut Deps,
    ) -> Option<Alarms> {
        let span = f.src("alarms")?.span().clone();
        let a = self.sub(f, "alarms", KEYS, alarm_deps)?;
        let what = a.what.clone();
        let base = self.default_name(scope, block_name);
        let mut list = Vec::new();
        for which in EndpointAlarm::ALL {
            let key = which.key();
            let Some((t, tspan)) = self.v_int(&a, key, alarm_deps) else {
                continue;
            };
            let (lo, hi) = which.range();
            if !(lo..=hi).contains(&t) {
                let range = if hi == 100 {
                    format!("a percentage between {lo} and {hi}")
                } else {
                    format!("between {lo} and {hi}")
                };
                self.err(
                    ErrorCode::InvalidValue,
                    &tspan,
                    format!("`{key}` in {what} must be {range}"),
                    "out of range",
                )
                .help = Some(which.meaning().to_string());
                continue;
            }
            let name = format!("{base}-{}", key.replace('_', "-"));
            if let Some(problem) = rules::cloudwatch::ALARM_NAME.problem(&name) {
                self.err(
                    ErrorCode::InvalidValue,
                    &tspan,
                    format!("the alarm name {name:?} is not one CloudWatch accepts"),
                    "invalid alarm name",
                )
                .help = Some(format!(
                    "{problem}; shorten the stack, environment, module or endpoint name ({})",
                    rules::cloudwatch::PUT_METRIC_ALARM_SOURCE
                ));
                continue;
            }
            list.push(AlarmSpec {
                which,
                threshold: t,
                name,
                span: tspan,
            });
        }
        let rollback = self
            .v_bool(&a, "rollback", alarm_deps)
            .map_or(svc::DEFAULT_ALARM_ROLLBACK, |x| x.0);
        let notify = match self.v_str_list(&a, "notify", alarm_deps) {
            Some((items, nspan)) => {
                self.check_notify(&items, &nspan, &what);
                items
            }
            None => Vec::new(),
        };
        if list.is_empty() {
            return None;
        }
        Some(Alarms {
            list,
            rollback,
            notify,
            span,
        })
    }

    /// `notify`: at most five SNS topic ARNs (values known only after apply are not checked).
    fn check_notify(&mut self, items: &[Value], span: &Span, what: &str) {
        if items.len() > cw::MAX_ACTIONS {
            self.err(
                ErrorCode::InvalidValue,
                span,
                format!(
                    "`notify` in {what} lists {} topics; a CloudWatch alarm notifies at most {}",
                    items.len(),
                    cw::MAX_ACTIONS
                ),
                "too many topics",
            );
        }
        for item in items {
            if let Value::String(s) = item
                && !sns_topic_arn(s)
            {
                self.err(
                    ErrorCode::InvalidValue,
                    span,
                    format!("`notify` in {what}: {s:?} is not an SNS topic ARN"),
                    "not an SNS topic ARN",
                )
                .help = Some("for example \"arn:aws:sns:us-east-1:123456789012:releases\"".into());
            }
        }
    }

    /// Reports the load balancer alarms of an endpoint without a route.
    pub(super) fn check_alarms_need_route(&mut self, what: &str, alarms: Option<&Alarms>) {
        for a in alarms.map_or(&[][..], |a| &a.list[..]) {
            if !a.which.needs_route() {
                continue;
            }
            let key = a.which.key();
            self.err(
                ErrorCode::InvalidValue,
                &a.span,
                format!("`{key}` in {what}.alarms watches the endpoint's route, and it has none"),
                "needs a route",
            )
            .help = Some(format!(
                "{key} is measured by the gateway's load balancer: add route = {{ gateway = \"<gateway>\", path = \"/<name>/*\" }}, or use cpu_high / memory_high"
            ));
        }
    }

    /// Adds one CloudWatch alarm per threshold: on the service's metric (dimensions: its
    /// cluster and service names), or on its target groups' (with the load balancer's).
    pub(super) fn endpoint_alarm_resources(
        &mut self,
        n: &Names,
        e: &Endpoint,
        deps: &EndpointDeps,
        meta: &Meta<'_>,
    ) {
        let Some(alarms) = &e.alarms else { return };
        let mut all = deps.alarm.clone();
        all.extend(deps.common.clone());
        let groups = route_groups(n, e);
        for a in &alarms.list {
            let mut alarm_deps = all.clone();
            let (metric, dimensions, math) = if a.which.needs_route() {
                let Some((route, _)) = &e.route else { continue };
                alarm_deps.insert(route.gateway.lb.clone(), a.span.clone());
                for g in &groups {
                    alarm_deps.insert(g.clone(), a.span.clone());
                }
                lb_metric(a.which, &route.gateway.lb, &groups)
            } else {
                let metric = if a.which == EndpointAlarm::CpuHigh {
                    cw::METRIC_CPU
                } else {
                    cw::METRIC_MEMORY
                };
                let dimensions = Value::Map(
                    BTreeMap::from([
                        (cw::DIMENSION_CLUSTER.to_string(), e.cluster.clone()),
                        (cw::DIMENSION_SERVICE.to_string(), n.name.clone()),
                    ])
                    .into(),
                );
                (Value::str(metric), dimensions, Value::Null)
            };
            self.add_resource(
                alarm_address(&n.prefix, &n.block, a.which),
                ResourceKind::CloudwatchAlarm,
                cw::Desired {
                    name: Value::String(a.name.clone()),
                    namespace: Value::str(a.which.namespace()),
                    metric,
                    dimensions,
                    statistic: Value::str(a.which.statistic()),
                    period: Value::Int(cw::DEFAULT_PERIOD),
                    evaluation_periods: Value::Int(cw::DEFAULT_EVALUATION_PERIODS),
                    threshold: Value::Int(a.threshold),
                    comparison_operator: Value::str(cw::GREATER_OR_EQUAL),
                    alarm_actions: Value::List(alarms.notify.clone()),
                    math,
                }
                .into_attrs(),
                alarm_deps,
                meta,
            );
        }
    }
}

/// The target groups of a routed endpoint: its own, and the alternate one of the releases ECS
/// shifts traffic in (which of the two serves changes with every release).
pub(super) fn route_groups(n: &Names, e: &Endpoint) -> Vec<Address> {
    if e.route.is_none() {
        return Vec::new();
    }
    let mut v = vec![resource_address(
        &n.prefix,
        "endpoint",
        &n.block,
        "target_group",
    )];
    if e.role.is_some() {
        v.push(resource_address(
            &n.prefix,
            "endpoint",
            &n.block,
            "target_group_alt",
        ));
    }
    v
}

/// The metric (or null), dimensions and math of a load balancer alarm over `groups`: one
/// target group is watched directly where a single metric says it (unhealthy targets), the
/// others, and a pair of groups, through metric math — the share of 5xx answers over both
/// groups' requests, the worse of their 99th percentiles (in milliseconds), the sum of their
/// unhealthy targets.
fn lb_metric(which: EndpointAlarm, lb: &Address, groups: &[Address]) -> (Value, Value, Value) {
    let dims = |tg: &Address| {
        Value::Map(
            BTreeMap::from([
                (
                    cw::DIMENSION_LOAD_BALANCER.to_string(),
                    Loader::reference(lb, lb_schema::Attr::ArnSuffix.as_str()),
                ),
                (
                    cw::DIMENSION_TARGET_GROUP.to_string(),
                    Loader::reference(tg, tg_schema::Attr::ArnSuffix.as_str()),
                ),
            ])
            .into(),
        )
    };
    if which == EndpointAlarm::UnhealthyTargets && groups.len() == 1 {
        return (
            Value::str(cw::METRIC_UNHEALTHY),
            dims(&groups[0]),
            Value::Null,
        );
    }
    let mut metrics = BTreeMap::new();
    let mut ids = |metric: &str| -> Vec<String> {
        groups
            .iter()
            .map(|tg| {
                let id = format!("m{}", metrics.len() + 1);
                metrics.insert(
                    id.clone(),
                    Value::Map(
                        BTreeMap::from([
                            (cw::MathMetric::Metric.into(), Value::str(metric)),
                            (cw::MathMetric::Dimensions.into(), dims(tg)),
                        ])
                        .into(),
                    ),
                );
                id
            })
            .collect()
    };
    let sum = |ids: &[String]| {
        ids.iter()
            .map(|i| format!("FILL({i}, 0)"))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let expression = match which {
        // No 5xx datapoint in a period with requests means none failed.
        EndpointAlarm::Http5xxPercent => {
            let errors = ids(cw::METRIC_TARGET_5XX);
            let requests = ids(cw::METRIC_REQUESTS);
            if groups.len() == 1 {
                format!("100 * FILL({}, 0) / {}", errors[0], requests[0])
            } else {
                format!("100 * ({}) / ({})", sum(&errors), sum(&requests))
            }
        }
        // TargetResponseTime is in seconds.
        EndpointAlarm::P99LatencyMs => {
            let times = ids(cw::METRIC_RESPONSE_TIME);
            if times.len() == 1 {
                format!("1000 * {}", times[0])
            } else {
                format!("1000 * MAX([{}])", times.join(", "))
            }
        }
        _ => sum(&ids(cw::METRIC_UNHEALTHY)),
    };
    let math = Value::Map(
        BTreeMap::from([
            (cw::Math::Expression.into(), Value::String(expression)),
            (cw::Math::Metrics.into(), Value::Map(metrics.into())),
        ])
        .into(),
    );
    (Value::Null, Value::Map(BTreeMap::new().into()), math)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sns_arns() {
        assert!(sns_topic_arn("arn:aws:sns:us-east-1:123456789012:releases"));
        assert!(sns_topic_arn(
            "arn:aws-us-gov:sns:us-gov-west-1:123456789012:a.fifo"
        ));
        assert!(!sns_topic_arn(
            "arn:aws:sqs:us-east-1:123456789012:releases"
        ));
        assert!(!sns_topic_arn("arn:aws:sns:us-east-1:1234:releases"));
        assert!(!sns_topic_arn("arn:aws:sns:us-east-1:123456789012:"));
        assert!(!sns_topic_arn("releases"));
    }
}
