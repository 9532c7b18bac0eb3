//! Live, read-only status reads for `pedestal status`: services with their deployments and
//! recent events (DescribeServices, 10 at a time), scalable targets (DescribeScalableTargets,
//! 50 resource ids at a time), clusters (DescribeClusters, 100 at a time), alarms
//! (DescribeAlarms, 100 at a time) and buckets (HeadBucket, GetBucketVersioning). Nothing here
//! writes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::AwsProvider;
use super::error::map;
use crate::provider::ProviderError;

/// One deployment of a service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeploymentStatus {
    /// `PRIMARY`, `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// The task definition ARN it runs.
    pub task_definition: String,
    /// `IN_PROGRESS`, `COMPLETED` or `FAILED`.
    pub rollout_state: Option<String>,
    /// Why the rollout is in that state, when ECS says.
    pub rollout_state_reason: Option<String>,
    /// Tasks it wants.
    pub desired: i32,
    /// Tasks running.
    pub running: i32,
    /// Tasks starting.
    pub pending: i32,
    /// Tasks that failed to start.
    pub failed_tasks: i32,
}

/// One service event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServiceEvent {
    /// When the event happened (RFC 3339).
    pub at: Option<String>,
    /// What ECS said.
    pub message: String,
}

/// A service as ECS reports it now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServiceStatus {
    /// The cluster name.
    pub cluster: String,
    /// The service name.
    pub name: String,
    /// `ACTIVE`, `DRAINING`, `INACTIVE`, or `MISSING` when ECS does not know it.
    pub status: String,
    /// The task definition ARN the service runs.
    pub task_definition: String,
    /// Tasks the service wants.
    pub desired: i32,
    /// Tasks running.
    pub running: i32,
    /// Tasks starting.
    pub pending: i32,
    /// Every deployment, as ECS lists them.
    pub deployments: Vec<DeploymentStatus>,
    /// The 5 most recent events, newest first.
    pub events: Vec<ServiceEvent>,
}

/// Min/max capacity of a scalable target.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScalingStatus {
    /// The minimum capacity.
    pub min: i32,
    /// The maximum capacity.
    pub max: i32,
}

/// A cluster's essentials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClusterStatus {
    /// The cluster name.
    pub name: String,
    /// `ACTIVE`, `INACTIVE`, or `MISSING` when ECS does not know it.
    pub status: String,
    /// Services running in it.
    pub active_services: i32,
    /// Tasks running in it.
    pub running_tasks: i32,
    /// Tasks starting in it.
    pub pending_tasks: i32,
}

/// A CloudWatch alarm's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AlarmStatus {
    /// The alarm name.
    pub name: String,
    /// `OK`, `ALARM`, `INSUFFICIENT_DATA`, or `MISSING` when CloudWatch does not know it.
    pub state: String,
    /// CloudWatch's reason for the state.
    pub reason: Option<String>,
    /// When the state last changed (RFC 3339).
    pub since: Option<String>,
}

/// A bucket's essentials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BucketStatus {
    /// The bucket name.
    pub name: String,
    /// Whether the bucket exists.
    pub exists: bool,
    /// `Enabled`, `Suspended`, or `None` when never enabled.
    pub versioning: Option<String>,
}

fn ts(d: Option<&aws_sdk_ecs::primitives::DateTime>) -> Option<String> {
    d.and_then(|d| {
        d.fmt(aws_sdk_ecs::primitives::DateTimeFormat::DateTime)
            .ok()
    })
}

/// DescribeServices for `names` in `cluster`, 10 per call; unknown services come back with
/// status `MISSING`.
pub async fn services(
    p: &AwsProvider,
    cluster: &str,
    names: &[String],
) -> Result<Vec<ServiceStatus>, ProviderError> {
    let mut out = Vec::with_capacity(names.len());
    for chunk in names.chunks(10) {
        let resp = p
            .clients
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| map(&format!("DescribeServices {cluster}"), e))?;
        for name in chunk {
            let Some(s) = resp
                .services()
                .iter()
                .find(|s| s.service_name() == Some(name.as_str()))
            else {
                out.push(ServiceStatus {
                    cluster: cluster.to_string(),
                    name: name.clone(),
                    status: "MISSING".into(),
                    ..ServiceStatus::default()
                });
                continue;
            };
            out.push(ServiceStatus {
                cluster: cluster.to_string(),
                name: name.clone(),
                status: s.status().unwrap_or_default().to_string(),
                task_definition: s.task_definition().unwrap_or_default().to_string(),
                desired: s.desired_count(),
                running: s.running_count(),
                pending: s.pending_count(),
                deployments: s
                    .deployments()
                    .iter()
                    .map(|d| DeploymentStatus {
                        status: d.status().unwrap_or_default().to_string(),
                        task_definition: d.task_definition().unwrap_or_default().to_string(),
                        rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
                        rollout_state_reason: d.rollout_state_reason().map(str::to_string),
                        desired: d.desired_count(),
                        running: d.running_count(),
                        pending: d.pending_count(),
                        failed_tasks: d.failed_tasks(),
                    })
                    .collect(),
                events: s
                    .events()
                    .iter()
                    .take(5)
                    .map(|e| ServiceEvent {
                        at: ts(e.created_at()),
                        message: e.message().unwrap_or_default().to_string(),
                    })
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// DescribeScalableTargets for ECS service resource ids (`service/CLUSTER/NAME`), 50 per call.
pub async fn scaling(
    p: &AwsProvider,
    resource_ids: &[String],
) -> Result<BTreeMap<String, ScalingStatus>, ProviderError> {
    use aws_sdk_applicationautoscaling::types::ServiceNamespace;
    let mut out = BTreeMap::new();
    for chunk in resource_ids.chunks(50) {
        let resp = p
            .clients
            .aas
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .set_resource_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| map("DescribeScalableTargets", e))?;
        for t in resp.scalable_targets() {
            out.insert(
                t.resource_id().to_string(),
                ScalingStatus {
                    min: t.min_capacity(),
                    max: t.max_capacity(),
                },
            );
        }
    }
    Ok(out)
}

/// DescribeClusters, 100 per call.
pub async fn clusters(
    p: &AwsProvider,
    names: &[String],
) -> Result<Vec<ClusterStatus>, ProviderError> {
    let mut out = Vec::new();
    for chunk in names.chunks(100) {
        let resp = p
            .clients
            .ecs
            .describe_clusters()
            .set_clusters(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| map("DescribeClusters", e))?;
        for name in chunk {
            let c = resp.clusters().iter().find(|c| {
                c.cluster_name() == Some(name.as_str()) || c.cluster_arn() == Some(name.as_str())
            });
            out.push(match c {
                Some(c) => ClusterStatus {
                    name: c.cluster_name().unwrap_or(name).to_string(),
                    status: c.status().unwrap_or_default().to_string(),
                    active_services: c.active_services_count(),
                    running_tasks: c.running_tasks_count(),
                    pending_tasks: c.pending_tasks_count(),
                },
                None => ClusterStatus {
                    name: name.clone(),
                    status: "MISSING".into(),
                    ..ClusterStatus::default()
                },
            });
        }
    }
    Ok(out)
}

/// HeadBucket and GetBucketVersioning.
pub async fn bucket(p: &AwsProvider, name: &str) -> Result<BucketStatus, ProviderError> {
    if let Err(e) = p.clients.s3.head_bucket().bucket(name).send().await {
        let err = map(&format!("HeadBucket {name}"), e);
        if err.is_not_found() {
            return Ok(BucketStatus {
                name: name.to_string(),
                exists: false,
                versioning: None,
            });
        }
        return Err(err);
    }
    // Through the provider's reader, which copes with endpoints whose answer the SDK cannot
    // parse.
    let enabled = super::s3::versioning_enabled(p, name).await?;
    Ok(BucketStatus {
        name: name.to_string(),
        exists: true,
        versioning: Some(if enabled { "Enabled" } else { "Suspended" }.to_string()),
    })
}

/// DescribeAlarms for `names`, 100 per call, in the order asked; unknown alarms come back with
/// state `MISSING`.
pub async fn alarms(p: &AwsProvider, names: &[String]) -> Result<Vec<AlarmStatus>, ProviderError> {
    use crate::resource::schema::cloudwatch_alarm::BATCH;
    let mut out = Vec::with_capacity(names.len());
    for chunk in names.chunks(BATCH) {
        let found = super::cloudwatch::describe(p, chunk).await?;
        for name in chunk {
            out.push(match found.get(name) {
                Some(a) => AlarmStatus {
                    name: name.clone(),
                    state: a
                        .state_value()
                        .map_or("INSUFFICIENT_DATA", |s| s.as_str())
                        .to_string(),
                    reason: a
                        .state_reason()
                        .map(str::to_string)
                        .filter(|r| !r.is_empty()),
                    since: a.state_updated_timestamp().and_then(|d| {
                        d.fmt(aws_sdk_cloudwatch::primitives::DateTimeFormat::DateTime)
                            .ok()
                    }),
                },
                None => AlarmStatus {
                    name: name.clone(),
                    state: "MISSING".into(),
                    ..AlarmStatus::default()
                },
            });
        }
    }
    Ok(out)
}
/// How many targets of a target group are healthy, unhealthy, or neither (initial, draining,
/// unused).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TargetCounts {
    /// Targets passing the load balancer's health check.
    pub healthy: i32,
    /// Targets failing it.
    pub unhealthy: i32,
    /// Targets registering, draining or unused.
    pub other: i32,
}

/// DescribeTargetHealth of one target group, counted by state.
pub async fn target_health(p: &AwsProvider, arn: &str) -> Result<TargetCounts, ProviderError> {
    use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum as S;
    let out = match p
        .clients
        .elb
        .describe_target_health()
        .target_group_arn(arn)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => {
            let err = map(&format!("DescribeTargetHealth {arn}"), e);
            return if err.is_not_found() {
                Ok(TargetCounts::default())
            } else {
                Err(err)
            };
        }
    };
    let mut c = TargetCounts::default();
    for d in out.target_health_descriptions() {
        match d.target_health().and_then(|h| h.state()) {
            Some(S::Healthy) => c.healthy += 1,
            Some(S::Unhealthy) => c.unhealthy += 1,
            _ => c.other += 1,
        }
    }
    Ok(c)
}
