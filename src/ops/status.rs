//! `pedestal status [ENDPOINT]`: what runs now, read live and read-only (no lock, no state
//! write). Per endpoint: the release running (matched to the release history by task
//! definition), desired/running/pending, the PRIMARY deployment's rollout state, the last 5
//! service events, autoscaling bounds and each alarm's state; per cluster and bucket their
//! essentials. Reads are batched (DescribeServices 10 at a time, DescribeClusters 100,
//! DescribeScalableTargets 50, DescribeAlarms 100).
//! The JSON form is documented in `docs/status-json.md`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::OpsError;
use super::state::StateRequest;
use crate::provider::aws::status::{
    self as live, AlarmStatus, BucketStatus, ClusterStatus, ScalingStatus, ServiceEvent,
    ServiceStatus, TargetCounts,
};
use crate::resource::schema::{
    cloudwatch_alarm, ecs_cluster, ecs_service as svc, lb_listener, listener_rule, load_balancer,
    s3_bucket, scaling_target, target_group,
};
use crate::resource::{ResourceKind, Value};
use crate::state::{self, State};

/// One endpoint's live status.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointStatus {
    /// The endpoint block address.
    pub endpoint: String,
    /// The cluster name.
    pub cluster: String,
    /// The service name.
    pub service: String,
    /// `ACTIVE`, `DRAINING`, `INACTIVE` or `MISSING`.
    pub service_status: String,
    /// The release whose revision the service runs (from the history), if recorded.
    pub release: Option<String>,
    /// The task definition ARN the service runs.
    pub task_definition: String,
    /// Its revision number.
    pub revision: Option<i64>,
    /// Tasks the service wants.
    pub desired: i32,
    /// Tasks running.
    pub running: i32,
    /// Tasks starting.
    pub pending: i32,
    /// The PRIMARY deployment's rollout state (`IN_PROGRESS`, `COMPLETED`, `FAILED`).
    pub rollout_state: Option<String>,
    /// Why the rollout is in that state, when ECS says.
    pub rollout_reason: Option<String>,
    /// Other deployments still draining or starting.
    pub other_deployments: usize,
    /// The last service events, newest first.
    pub events: Vec<ServiceEvent>,
    /// Autoscaling bounds, when the endpoint autoscales.
    pub autoscaling: Option<Autoscaling>,
    /// The endpoint's alarms in state, by name, with their live state.
    pub alarms: Vec<AlarmStatus>,
    /// Where clients call a routed endpoint (`http://<gateway DNS name>/fraud/`); `None`
    /// without a route.
    pub url: Option<String>,
    /// Its targets by health, over its target groups (`None` without a route).
    pub targets: Option<TargetCounts>,
}

/// Autoscaling bounds and the current desired count.
#[derive(Clone, Debug, Serialize)]
pub struct Autoscaling {
    /// The minimum task count.
    pub min: i32,
    /// The maximum task count.
    pub max: i32,
    /// The desired count now.
    pub current: i32,
}

/// The whole status.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// The status JSON format (`1`).
    pub format_version: &'static str,
    /// The stack name.
    pub stack: String,
    /// The environment.
    pub env: String,
    /// Every endpoint shown, by address.
    pub endpoints: Vec<EndpointStatus>,
    /// The stack's clusters (all endpoints only).
    pub clusters: Vec<ClusterStatus>,
    /// The stack's buckets (all endpoints only).
    pub buckets: Vec<BucketStatus>,
}

fn attr_str<'a>(st: &'a State, addr: &crate::addr::Address, key: &str) -> Option<&'a str> {
    st.resources
        .get(addr)?
        .attrs
        .get(key)
        .and_then(Value::as_str)
}

/// The URL of a routed endpoint as state records it: its rule's listener (scheme, port), that
/// listener's load balancer (DNS name) and the rule's first path pattern up to its wildcard.
fn route_url(st: &State, endpoint: &str) -> Option<String> {
    use lb_listener::Attr as L;
    use listener_rule::Attr as R;
    let find = |kind: ResourceKind, key: &str, value: &str| {
        st.resources
            .values()
            .find(|r| r.kind == kind && r.attrs.get(key).and_then(Value::as_str) == Some(value))
    };
    let rule = st
        .resources
        .iter()
        .find(|(a, r)| r.kind == ResourceKind::ListenerRule && a.block() == endpoint)?
        .1;
    let listener_arn = rule.attrs.get(R::ListenerArn.as_str())?.as_str()?;
    let listener = find(ResourceKind::LbListener, L::Arn.as_str(), listener_arn)?;
    let lb_arn = listener.attrs.get(L::LoadBalancerArn.as_str())?.as_str()?;
    let lb = find(
        ResourceKind::LoadBalancer,
        load_balancer::Attr::Arn.as_str(),
        lb_arn,
    )?;
    let dns = lb
        .attrs
        .get(load_balancer::Attr::DnsName.as_str())?
        .as_str()?;
    let https = listener
        .attrs
        .get(L::Protocol.as_str())
        .and_then(Value::as_str)
        == Some(lb_listener::PROTOCOL_HTTPS);
    let port = match (https, listener.attrs.get(L::Port.as_str())) {
        (true, Some(Value::Int(443))) | (false, Some(Value::Int(80))) | (_, None) => String::new(),
        (_, Some(p)) => format!(":{p}"),
    };
    let path = rule
        .attrs
        .get(R::PathPatterns.as_str())
        .and_then(Value::as_list)
        .and_then(|l| l.first())
        .and_then(Value::as_str)
        .map_or("/".to_string(), |p| {
            let cut = p.find(['*', '?']).map_or(p, |i| &p[..i]);
            if cut.is_empty() {
                "/".into()
            } else {
                cut.to_string()
            }
        });
    let scheme = if https { "https" } else { "http" };
    Some(format!("{scheme}://{dns}{port}{path}"))
}

/// Reads the live status of every endpoint in state (or the one named).
pub async fn status(
    dir: &Path,
    req: &StateRequest,
    endpoint: Option<&str>,
) -> Result<Status, OpsError> {
    let config = super::load_config(dir, &req.env, &req.vars)?;
    let store: std::sync::Arc<dyn state::StateStore> = std::sync::Arc::from(state::open(&config)?);
    let st = super::read_store(&store)
        .await?
        .unwrap_or_else(|| State::new(&config.stack, &config.env));
    let want = endpoint.map(super::releases::endpoint_block);
    let settings = super::provider_settings(&config.provider, &config.region);
    let p = super::connect(&settings, &config.root).await;
    let err = |e| OpsError::Status(Box::new(e));

    let by_cluster = services_by_cluster(&st, want.as_deref());
    if let Some(w) = &want
        && by_cluster.is_empty()
    {
        return Err(super::releases::RollbackError::NoService {
            endpoint: w.clone(),
        }
        .into());
    }
    let scaling_ids = recorded(
        &st,
        ResourceKind::ScalingTarget,
        scaling_target::Attr::ResourceId.as_str(),
    );
    let scaling: BTreeMap<String, ScalingStatus> = if scaling_ids.is_empty() {
        BTreeMap::new()
    } else {
        live::scaling(&p, &scaling_ids).await.map_err(err)?
    };

    let (alarm_names, mut alarm_states) = alarms(&p, &st, &by_cluster).await.map_err(err)?;

    let mut endpoints = Vec::new();
    for (cluster, list) in &by_cluster {
        let names: Vec<String> = list.iter().map(|(_, n)| n.clone()).collect();
        let found = live::services(&p, cluster, &names).await.map_err(err)?;
        for ((endpoint, _), s) in list.iter().zip(found) {
            let mut status = endpoint_status(&st, endpoint, cluster, s, &scaling);
            if let Some(names) = alarm_names.get(endpoint) {
                status.alarms = names
                    .iter()
                    .filter_map(|n| alarm_states.remove(n))
                    .collect();
                status.alarms.sort_by(|a, b| a.name.cmp(&b.name));
            }
            endpoints.push(status);
        }
    }
    endpoints.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    // Routed endpoints: their targets' health over their target groups.
    for e in &mut endpoints {
        let groups: Vec<String> = st
            .resources
            .iter()
            .filter(|(a, r)| r.kind == ResourceKind::TargetGroup && a.block() == e.endpoint)
            .filter_map(|(_, r)| {
                r.attrs
                    .get(target_group::Attr::Arn.as_str())
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        if groups.is_empty() {
            continue;
        }
        let mut total = TargetCounts::default();
        for g in &groups {
            let c = live::target_health(&p, g).await.map_err(err)?;
            total.healthy += c.healthy;
            total.unhealthy += c.unhealthy;
            total.other += c.other;
        }
        e.targets = Some(total);
    }

    let mut clusters = Vec::new();
    let mut buckets = Vec::new();
    if want.is_none() {
        let cluster_names = recorded(
            &st,
            ResourceKind::EcsCluster,
            ecs_cluster::Attr::Name.as_str(),
        );
        if !cluster_names.is_empty() {
            clusters = live::clusters(&p, &cluster_names).await.map_err(err)?;
        }
        for name in recorded(
            &st,
            ResourceKind::S3Bucket,
            s3_bucket::Attr::Bucket.as_str(),
        ) {
            buckets.push(live::bucket(&p, &name).await.map_err(err)?);
        }
    }
    Ok(Status {
        format_version: "1",
        stack: config.stack.clone(),
        env: config.env.clone(),
        endpoints,
        clusters,
        buckets,
    })
}

/// Cluster → (endpoint block, service name) of every service in state (or the one endpoint
/// `want` names).
fn services_by_cluster(st: &State, want: Option<&str>) -> BTreeMap<String, Vec<(String, String)>> {
    let mut by_cluster: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (addr, rs) in &st.resources {
        if rs.kind != ResourceKind::EcsService || want.is_some_and(|w| addr.block() != w) {
            continue;
        }
        let (Some(cluster), Some(name)) = (
            attr_str(st, addr, svc::Attr::Cluster.as_str()),
            attr_str(st, addr, svc::Attr::Name.as_str()),
        ) else {
            continue;
        };
        by_cluster
            .entry(cluster.to_string())
            .or_default()
            .push((addr.block().to_string(), name.to_string()));
    }
    by_cluster
}

/// The alarms in state of the endpoints shown (endpoint → alarm names) and their live state
/// by name, read together (DescribeAlarms, 100 a call).
async fn alarms(
    p: &crate::provider::aws::AwsProvider,
    st: &State,
    by_cluster: &BTreeMap<String, Vec<(String, String)>>,
) -> Result<(AlarmNames, BTreeMap<String, AlarmStatus>), crate::provider::ProviderError> {
    let mut alarm_names: AlarmNames = BTreeMap::new();
    for (addr, rs) in &st.resources {
        if rs.kind != ResourceKind::CloudwatchAlarm
            || !by_cluster
                .values()
                .flatten()
                .any(|(e, _)| e.as_str() == addr.block())
        {
            continue;
        }
        if let Some(name) = rs
            .attrs
            .get(cloudwatch_alarm::Attr::Name.as_str())
            .and_then(Value::as_str)
            .or(Some(rs.id.as_str()).filter(|id| !id.is_empty()))
        {
            alarm_names
                .entry(addr.block().to_string())
                .or_default()
                .push(name.to_string());
        }
    }
    let all_alarms: Vec<String> = alarm_names.values().flatten().cloned().collect();
    let states = if all_alarms.is_empty() {
        BTreeMap::new()
    } else {
        live::alarms(p, &all_alarms)
            .await?
            .into_iter()
            .map(|a| (a.name.clone(), a))
            .collect()
    };
    Ok((alarm_names, states))
}

/// Endpoint block → the names of its alarms in state.
type AlarmNames = BTreeMap<String, Vec<String>>;

/// The string attribute `key` of every recorded resource of `kind`, in address order.
fn recorded(st: &State, kind: ResourceKind, key: &str) -> Vec<String> {
    st.resources
        .values()
        .filter(|r| r.kind == kind)
        .filter_map(|r| r.attrs.get(key).and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// One endpoint's status from its live service, its release history and its scaling target.
fn endpoint_status(
    st: &State,
    endpoint: &str,
    cluster: &str,
    s: ServiceStatus,
    scaling: &BTreeMap<String, ScalingStatus>,
) -> EndpointStatus {
    let primary = s.deployments.iter().find(|d| d.status == "PRIMARY");
    let release = st
        .releases
        .get(endpoint)
        .and_then(|h| {
            h.iter()
                .rev()
                .find(|r| r.task_definition_arn == s.task_definition)
        })
        .map(|r| r.version.clone());
    let cluster_name = cluster.rsplit('/').next().unwrap_or(cluster);
    let autoscaling = scaling
        .get(&format!("service/{cluster_name}/{}", s.name))
        .map(|a| Autoscaling {
            min: a.min,
            max: a.max,
            current: s.desired,
        });
    EndpointStatus {
        endpoint: endpoint.to_string(),
        cluster: cluster_name.to_string(),
        service: s.name.clone(),
        service_status: s.status.clone(),
        release,
        revision: s
            .task_definition
            .rsplit(':')
            .next()
            .and_then(|r| r.parse().ok()),
        task_definition: s.task_definition.clone(),
        desired: s.desired,
        running: s.running,
        pending: s.pending,
        rollout_state: primary.and_then(|d| d.rollout_state.clone()),
        rollout_reason: primary
            .and_then(|d| d.rollout_state_reason.clone())
            .filter(|r| !r.is_empty()),
        other_deployments: s.deployments.len().saturating_sub(1),
        events: s.events,
        autoscaling,
        alarms: Vec::new(),
        url: route_url(st, endpoint),
        targets: None,
    }
}
