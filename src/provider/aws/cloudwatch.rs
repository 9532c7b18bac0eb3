//! CloudWatch metric alarms (`cloudwatch_alarm`): PutMetricAlarm creates and updates (it
//! overwrites every setting of the named alarm), tags go through TagResource/UntagResource on
//! update (PutMetricAlarm ignores tags for an existing alarm), DescribeAlarms reads up to 100
//! alarms per call, DeleteAlarms deletes. The recorded id is the alarm name.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat, Statistic, Tag,
};

use super::AwsProvider;
use super::error::{deleted, map};
use super::retag;
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, Found, LeftBehind, ProviderError};
use crate::resource::schema::cloudwatch_alarm::{
    Attr as A, BATCH, DEFAULT_EVALUATION_PERIODS, DEFAULT_PERIOD, EXPRESSION_ID, GREATER_OR_EQUAL,
    Math, MathMetric, STATISTIC_AVERAGE,
};
use crate::resource::{Attrs, Value};

/// The alarm name: the recorded `name`, else the id (a name, or an alarm ARN).
fn alarm_name<'a>(id: &'a str, attrs: &'a Attrs) -> &'a str {
    if let Some(n) = attr::str(attrs, A::Name) {
        return n;
    }
    id.split_once(":alarm:").map_or(id, |(_, n)| n)
}

fn threshold(attrs: &Attrs) -> Option<f64> {
    match attr::get(attrs, A::Threshold)? {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn dimensions(dims: Option<&Attrs>) -> Vec<Dimension> {
    dims.map(|m| {
        m.iter()
            .filter_map(|(k, v)| {
                Some(
                    Dimension::builder()
                        .name(k.as_str())
                        .value(v.as_str()?)
                        .build(),
                )
            })
            .collect()
    })
    .unwrap_or_default()
}

fn cw_tags(attrs: &Attrs) -> Vec<Tag> {
    super::tag_pairs(attrs)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// A percentile statistic (`p99`, `p99.9`): sent as an extended statistic.
fn percentile(stat: &str) -> bool {
    stat.strip_prefix('p')
        .is_some_and(|n| !n.is_empty() && n.parse::<f64>().is_ok())
}

/// The queries of a metric math alarm: one per metric of its `math` (with its dimensions and
/// the alarm's namespace, statistic and period), then the expression, the one returned.
fn math_queries(
    attrs: &Attrs,
    math: &Attrs,
    namespace: &str,
) -> Result<Vec<MetricDataQuery>, ProviderError> {
    let stat = attr::str(attrs, A::Statistic).unwrap_or(STATISTIC_AVERAGE);
    let period = attr::int(attrs, A::Period).unwrap_or(DEFAULT_PERIOD) as i32;
    let mut out = Vec::new();
    if let Some(Value::Map(metrics)) = math.get(Math::Metrics.as_str()) {
        for (id, m) in metrics {
            let Some(m) = m.as_map() else { continue };
            let Some(name) = attr::str(m, MathMetric::Metric) else {
                continue;
            };
            let metric = Metric::builder()
                .namespace(namespace)
                .metric_name(name)
                .set_dimensions(Some(dimensions(attr::map(m, MathMetric::Dimensions))))
                .build();
            let stat = MetricStat::builder()
                .metric(metric)
                .period(period)
                .stat(stat)
                .build();
            out.push(
                MetricDataQuery::builder()
                    .id(id.as_str())
                    .metric_stat(stat)
                    .return_data(false)
                    .build(),
            );
        }
    }
    let expression = math
        .get(Math::Expression.as_str())
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::invalid("alarm math without an expression"))?;
    out.push(
        MetricDataQuery::builder()
            .id(EXPRESSION_ID)
            .expression(expression)
            .return_data(true)
            .build(),
    );
    Ok(out)
}

/// PutMetricAlarm with every setting; `tags` only on create (CloudWatch ignores them for an
/// existing alarm).
async fn put(p: &AwsProvider, r: &ApplyResource, with_tags: bool) -> Result<(), ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    let namespace = attr::req_str(&r.attrs, A::Namespace)?;
    let Some(threshold) = threshold(&r.attrs) else {
        return Err(ProviderError::invalid(format!(
            "alarm {name}: attribute `{}` is required",
            A::Threshold
        )));
    };
    let mut req = p.clients.cw.put_metric_alarm().alarm_name(name);
    req = match attr::map(&r.attrs, A::Math) {
        Some(math) => req.set_metrics(Some(math_queries(&r.attrs, math, namespace)?)),
        None => {
            let stat = attr::str(&r.attrs, A::Statistic).unwrap_or(STATISTIC_AVERAGE);
            let req = req
                .namespace(namespace)
                .metric_name(attr::req_str(&r.attrs, A::Metric)?)
                .set_dimensions(Some(dimensions(attr::map(&r.attrs, A::Dimensions))))
                .period(attr::int(&r.attrs, A::Period).unwrap_or(DEFAULT_PERIOD) as i32);
            if percentile(stat) {
                req.extended_statistic(stat)
            } else {
                req.statistic(Statistic::from(stat))
            }
        }
    };
    req = req
        .evaluation_periods(
            attr::int(&r.attrs, A::EvaluationPeriods).unwrap_or(DEFAULT_EVALUATION_PERIODS) as i32,
        )
        .threshold(threshold)
        .comparison_operator(ComparisonOperator::from(
            attr::str(&r.attrs, A::ComparisonOperator).unwrap_or(GREATER_OR_EQUAL),
        ))
        .set_alarm_actions(Some(attr::strings(&r.attrs, A::AlarmActions)));
    let tags = cw_tags(&r.attrs);
    if with_tags && !tags.is_empty() {
        req = req.set_tags(Some(tags));
    }
    req.send()
        .await
        .map(|_| ())
        .map_err(|e| map(&format!("PutMetricAlarm {name}"), e))
}

/// Up to [`BATCH`] alarms by name, keyed by name.
pub(super) async fn describe(
    p: &AwsProvider,
    names: &[String],
) -> Result<BTreeMap<String, MetricAlarm>, ProviderError> {
    let mut out = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let res = p
            .clients
            .cw
            .describe_alarms()
            .set_alarm_names(Some(names.to_vec()))
            .max_records(BATCH as i32)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| map(&format!("DescribeAlarms {}", names.join(", ")), e))?;
        for a in res.metric_alarms() {
            if let Some(n) = a.alarm_name() {
                out.insert(n.to_string(), a.clone());
            }
        }
        match res.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

async fn tags(p: &AwsProvider, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = p
        .clients
        .cw
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| map(&format!("ListTagsForResource {arn}"), e))?;
    Ok(out
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect())
}

/// The ARN of a live alarm (DescribeAlarms after a put).
async fn arn_of(p: &AwsProvider, name: &str) -> Result<String, ProviderError> {
    Ok(describe(p, &[name.to_string()])
        .await?
        .get(name)
        .and_then(|a| a.alarm_arn())
        .unwrap_or_default()
        .to_string())
}

/// Creates the alarm (PutMetricAlarm) with its tags; the id is the alarm name.
pub async fn create_alarm(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    put(p, r, true).await?;
    let mut attrs = r.attrs.clone();
    let applied = Applied {
        id: name.to_string(),
        attrs: attrs.clone(),
    };
    let arn = arn_of(p, name)
        .await
        .map_err(|e| e.leaving(LeftBehind::Resource(applied)))?;
    attr::set(&mut attrs, A::Arn, Value::str(arn));
    Ok(Applied {
        id: name.to_string(),
        attrs,
    })
}

/// Rewrites the alarm (PutMetricAlarm replaces it whole), then re-tags it.
pub async fn update_alarm(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&after.attrs, A::Name)?;
    put(p, after, false).await?;
    let arn = match attr::str(before, A::Arn) {
        Some(a) if !a.is_empty() => a.to_string(),
        _ => arn_of(p, name).await?,
    };
    retag!(
        p.clients.cw,
        &arn,
        before,
        &after.attrs,
        cw_tags(&after.attrs)
    )
    .await?;
    let mut attrs = after.attrs.clone();
    attr::set(&mut attrs, A::Arn, Value::str(&arn));
    Ok(Applied {
        id: if id.is_empty() { name } else { id }.to_string(),
        attrs,
    })
}

/// Deletes the alarm (already gone is fine).
pub async fn delete_alarm(p: &AwsProvider, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let name = alarm_name(id, attrs);
    deleted(
        &format!("DeleteAlarms {name}"),
        p.clients.cw.delete_alarms().alarm_names(name).send().await,
    )
}

/// Live attributes of up to [`BATCH`] alarms (one DescribeAlarms call, then each alarm's
/// tags), in request order; `None` for an alarm that is gone.
pub async fn read_alarms(
    p: &AwsProvider,
    items: &[(&str, &Attrs)],
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let names: Vec<String> = items
        .iter()
        .map(|(id, a)| alarm_name(id, a).to_string())
        .collect();
    let mut out = Vec::with_capacity(items.len());
    for chunk in names.chunks(BATCH).zip(items.chunks(BATCH)) {
        let (names, items) = chunk;
        let live = describe(p, names).await?;
        for (name, (_, recorded)) in names.iter().zip(items) {
            out.push(match live.get(name) {
                Some(alarm) => Some(read_back(p, alarm, recorded).await?),
                None => None,
            });
        }
    }
    Ok(out)
}

/// What a live alarm watches, in the terms of its attributes.
struct Watched {
    namespace: Option<String>,
    /// The metric name, or null for a metric math alarm.
    metric: Value,
    dimensions: BTreeMap<String, Value>,
    statistic: Option<String>,
    period: Option<i32>,
    /// The [`Math`] map, or null.
    math: Value,
}

fn dimension_map(dims: &[Dimension]) -> BTreeMap<String, Value> {
    dims.iter()
        .filter_map(|d| Some((d.name()?.to_string(), Value::str(d.value()?))))
        .collect()
}

/// A single-metric alarm's settings, or a metric math alarm's: its metrics' (they share
/// namespace, statistic and period; each has its dimensions) and its expression.
fn watched(alarm: &MetricAlarm) -> Watched {
    let queries = alarm.metrics();
    if queries.is_empty() {
        return Watched {
            namespace: alarm.namespace().map(str::to_string),
            metric: alarm.metric_name().map_or(Value::Null, Value::str),
            dimensions: dimension_map(alarm.dimensions()),
            statistic: alarm
                .statistic()
                .map(|s| s.as_str().to_string())
                .or_else(|| alarm.extended_statistic().map(str::to_string)),
            period: alarm.period(),
            math: Value::Null,
        };
    }
    let first = queries.iter().find_map(|q| q.metric_stat());
    let metric = first.and_then(|s| s.metric());
    let metrics: BTreeMap<String, Value> = queries
        .iter()
        .filter_map(|q| {
            let m = q.metric_stat()?.metric()?;
            let entry = BTreeMap::from([
                (MathMetric::Metric.into(), Value::str(m.metric_name()?)),
                (
                    MathMetric::Dimensions.into(),
                    Value::Map(dimension_map(m.dimensions()).into()),
                ),
            ]);
            Some((q.id()?.to_string(), Value::Map(entry.into())))
        })
        .collect();
    let expression = queries
        .iter()
        .find_map(|q| q.expression())
        .map_or(Value::Null, Value::str);
    Watched {
        namespace: metric.and_then(|m| m.namespace()).map(str::to_string),
        metric: Value::Null,
        dimensions: BTreeMap::new(),
        statistic: first.and_then(|s| s.stat()).map(str::to_string),
        period: first.and_then(|s| s.period()),
        math: Value::Map(
            BTreeMap::from([
                (Math::Expression.into(), expression),
                (Math::Metrics.into(), Value::Map(metrics.into())),
            ])
            .into(),
        ),
    }
}

/// The recorded attributes updated with what CloudWatch reports.
async fn read_back(
    p: &AwsProvider,
    alarm: &MetricAlarm,
    recorded: &Attrs,
) -> Result<Attrs, ProviderError> {
    let mut a = recorded.clone();
    let w = watched(alarm);
    // Exhaustive: a new attribute has to say whether refresh reads it back.
    for &k in A::ALL {
        match k {
            A::Name => {
                if let Some(n) = alarm.alarm_name() {
                    attr::set(&mut a, k, Value::str(n));
                }
            }
            A::Namespace => {
                if let Some(n) = &w.namespace {
                    attr::set(&mut a, k, Value::str(n));
                }
            }
            A::Metric => attr::set(&mut a, k, w.metric.clone()),
            A::Dimensions => attr::set(&mut a, k, Value::Map(w.dimensions.clone().into())),
            A::Statistic => {
                if let Some(s) = &w.statistic {
                    attr::set(&mut a, k, Value::str(s));
                }
            }
            A::Period => {
                if let Some(n) = w.period {
                    attr::set(&mut a, k, Value::Int(i64::from(n)));
                }
            }
            A::Math => attr::set(&mut a, k, w.math.clone()),
            A::EvaluationPeriods => {
                if let Some(n) = alarm.evaluation_periods() {
                    attr::set(&mut a, k, Value::Int(i64::from(n)));
                }
            }
            A::Threshold => {
                if let Some(t) = alarm.threshold() {
                    let v = if t.fract() == 0.0 && t.abs() < 9.0e15 {
                        Value::Int(t as i64)
                    } else {
                        Value::Float(t)
                    };
                    attr::set(&mut a, k, v);
                }
            }
            A::ComparisonOperator => {
                if let Some(c) = alarm.comparison_operator() {
                    attr::set(&mut a, k, Value::str(c.as_str()));
                }
            }
            // Compared as a set: the recorded order stands when the members agree.
            A::AlarmActions => {
                let live: BTreeSet<&str> =
                    alarm.alarm_actions().iter().map(String::as_str).collect();
                let rec = attr::strings(recorded, k);
                let rec_set: BTreeSet<&str> = rec.iter().map(String::as_str).collect();
                if live != rec_set {
                    let list = alarm.alarm_actions().iter().map(Value::str).collect();
                    attr::set(&mut a, k, Value::List(list));
                }
            }
            A::Tags => {
                if let Some(arn) = alarm.alarm_arn() {
                    let t = tags(p, arn).await?;
                    let t = t
                        .into_iter()
                        .map(|(k, v)| (k.into(), Value::String(v)))
                        .collect();
                    attr::set(&mut a, k, Value::Map(t));
                }
            }
            A::Arn => {
                if let Some(arn) = alarm.alarm_arn() {
                    attr::set(&mut a, k, Value::str(arn));
                }
            }
        }
    }
    Ok(a)
}

/// The alarm as CloudWatch reports it (`None` when it is gone).
pub async fn read_alarm(
    p: &AwsProvider,
    id: &str,
    recorded: &Attrs,
) -> Result<Option<Attrs>, ProviderError> {
    Ok(read_alarms(p, &[(id, recorded)]).await?.pop().flatten())
}

/// The alarm of this name, with its tags.
pub async fn find_alarm(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    let live = describe(p, &[name.to_string()]).await?;
    let Some(alarm) = live.get(name) else {
        return Ok(None);
    };
    let tags = match alarm.alarm_arn() {
        Some(arn) => tags(p, arn).await.unwrap_or_default(),
        None => BTreeMap::new(),
    };
    Ok(Some(Found {
        id: name.to_string(),
        tags,
    }))
}

/// Which of `names` are in the ALARM state now (the alarms that failed a release).
pub async fn firing(p: &AwsProvider, names: &[String]) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    for chunk in names.chunks(BATCH) {
        let live = describe(p, chunk).await?;
        out.extend(
            live.values()
                .filter(|a| a.state_value() == Some(&aws_sdk_cloudwatch::types::StateValue::Alarm))
                .filter_map(|a| a.alarm_name().map(str::to_string)),
        );
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_extended_statistics() {
        assert!(percentile("p99"));
        assert!(percentile("p99.9"));
        assert!(!percentile("Average"));
        assert!(!percentile("p"));
        assert!(!percentile("pX"));
    }
}
