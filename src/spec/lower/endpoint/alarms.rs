//! An endpoint's `alarms = { cpu_high, memory_high, rollback, notify }`: percent thresholds on
//! the service's average CPU and memory over three periods of 60 s, each lowered to a
//! CloudWatch metric alarm at `endpoint.X.alarm.<key>` that the service lists in its
//! deployment configuration, so ECS fails (and by default rolls back) a release that trips one.

use crate::resource::rules;
use std::collections::BTreeMap;

use super::resources::Names;
use super::{Endpoint, EndpointDeps};
use crate::addr::Address;
use crate::resource::schema::cloudwatch_alarm::{self as cw, EndpointAlarm};
use crate::resource::schema::ecs_service as svc;
use crate::resource::{ResourceKind, Value};
use crate::spec::diag::{ErrorCode, Span};
use crate::spec::fields::Fields;
use crate::spec::load::{Loader, ScopeId};
use crate::spec::lower::common::Meta;
use crate::spec::resolve::Deps;

/// The keys `alarms` takes.
const KEYS: &[&str] = &["cpu_high", "memory_high", "rollback", "notify"];

/// One alarm an endpoint asked for.
pub(super) struct AlarmSpec {
    pub(super) which: EndpointAlarm,
    /// Percent.
    pub(super) threshold: i64,
    /// The physical alarm name.
    pub(super) name: String,
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
        Value::Map(BTreeMap::from([
            (
                svc::Alarms::Names.into(),
                Value::List(names.into_iter().map(Value::String).collect()),
            ),
            (svc::Alarms::Rollback.into(), Value::Bool(self.rollback)),
        ]))
    }
}

/// The address of one endpoint alarm: `<prefix>endpoint.<name>.alarm.<key>`.
pub(super) fn alarm_address(prefix: &str, endpoint: &str, which: EndpointAlarm) -> Address {
    Address::resource(
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
            if !(1..=100).contains(&t) {
                self.err(
                    ErrorCode::InvalidValue,
                    &tspan,
                    format!("`{key}` in {what} must be a percentage between 1 and 100"),
                    "out of range",
                )
                .help = Some(format!(
                    "the alarm fires when the service's average {} stays at or above this many percent for 3 minutes",
                    which.metric()
                ));
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

    /// Adds one CloudWatch alarm per threshold on the service's metric (dimensions: its
    /// cluster and service names).
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
        for a in &alarms.list {
            let dimensions = Value::Map(BTreeMap::from([
                (cw::DIMENSION_CLUSTER.to_string(), e.cluster.clone()),
                (cw::DIMENSION_SERVICE.to_string(), n.name.clone()),
            ]));
            self.add_resource(
                alarm_address(&n.prefix, &n.block, a.which),
                ResourceKind::CloudwatchAlarm,
                cw::Desired {
                    name: Value::String(a.name.clone()),
                    namespace: Value::str(cw::NAMESPACE_ECS),
                    metric: Value::str(a.which.metric()),
                    dimensions,
                    statistic: Value::str(cw::STATISTIC_AVERAGE),
                    period: Value::Int(cw::DEFAULT_PERIOD),
                    evaluation_periods: Value::Int(cw::DEFAULT_EVALUATION_PERIODS),
                    threshold: Value::Int(a.threshold),
                    comparison_operator: Value::str(cw::GREATER_OR_EQUAL),
                    alarm_actions: Value::List(alarms.notify.clone()),
                }
                .into_attrs(),
                &all,
                meta,
            );
        }
    }
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
