//! Application Auto Scaling for endpoint services: a scalable target on the service's desired
//! count and one target-tracking policy on average CPU. Deleting removes the policy first.

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};

use super::AwsProvider;
use super::error::{deleted, map};
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, Found, LeftBehind, ProviderError};
use crate::resource::schema::scaling_target::{Attr as A, DEFAULT_MIN, POLICY_SUFFIX};
use crate::resource::{Attrs, Value};

fn resource_id(attrs: &Attrs) -> Result<String, ProviderError> {
    if let Some(id) = attr::str(attrs, A::ResourceId) {
        return Ok(id.to_string());
    }
    let cluster = attr::req_str(attrs, A::Cluster)?;
    let service = attr::req_str(attrs, A::Service)?;
    let cluster = cluster.rsplit('/').next().unwrap_or(cluster);
    let service = service.rsplit('/').next().unwrap_or(service);
    Ok(format!("service/{cluster}/{service}"))
}

fn policy_name(attrs: &Attrs, rid: &str) -> String {
    attr::str(attrs, A::PolicyName)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}{POLICY_SUFFIX}", rid.replace('/', "-")))
}

/// Registers (or re-registers) the target and puts the policy: both calls are idempotent.
pub async fn put(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let rid = resource_id(&r.attrs)?;
    let min = attr::int(&r.attrs, A::Min).unwrap_or(DEFAULT_MIN) as i32;
    let max = attr::int(&r.attrs, A::Max).unwrap_or(min as i64) as i32;
    p.clients
        .aas
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&rid)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(min)
        .max_capacity(max)
        .send()
        .await
        .map_err(|e| map(&format!("RegisterScalableTarget {rid}"), e))?;
    let applied = Applied {
        id: rid.clone(),
        attrs: r.attrs.clone(),
    };
    if let Some(target) = attr::int(&r.attrs, A::TargetCpu) {
        let name = policy_name(&r.attrs, &rid);
        let conf = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(target as f64)
            .predefined_metric_specification(
                PredefinedMetricSpecification::builder()
                    .predefined_metric_type(MetricType::EcsServiceAverageCpuUtilization)
                    .build()
                    .map_err(|e| ProviderError::invalid(e.to_string()))?,
            )
            .build()
            .map_err(|e| ProviderError::invalid(e.to_string()))?;
        p.clients
            .aas
            .put_scaling_policy()
            .policy_name(&name)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&rid)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(conf)
            .send()
            .await
            .map_err(|e| {
                map(&format!("PutScalingPolicy {name}"), e)
                    .leaving(LeftBehind::Resource(applied.clone()))
            })?;
    }
    Ok(applied)
}

/// Removes the scaling policy and deregisters the scalable target (either already gone is fine).
pub async fn delete(p: &AwsProvider, attrs: &Attrs) -> Result<(), ProviderError> {
    let rid = resource_id(attrs)?;
    let name = policy_name(attrs, &rid);
    if let Err(e) = p
        .clients
        .aas
        .delete_scaling_policy()
        .policy_name(&name)
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&rid)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
    {
        let err = map(&format!("DeleteScalingPolicy {name}"), e);
        if !err.is_not_found() {
            return Err(err);
        }
    }
    deleted(
        &format!("DeregisterScalableTarget {rid}"),
        p.clients
            .aas
            .deregister_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&rid)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
            .await,
    )
}

/// The scalable target and its policy as AWS reports them (`None` when the target is gone).
pub async fn read(p: &AwsProvider, recorded: &Attrs) -> Result<Option<Attrs>, ProviderError> {
    let rid = resource_id(recorded)?;
    let out = p
        .clients
        .aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(&rid)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .map_err(|e| map(&format!("DescribeScalableTargets {rid}"), e))?;
    let Some(t) = out.scalable_targets().first() else {
        return Ok(None);
    };
    let mut a = recorded.clone();
    // Exhaustive: a new attribute has to say whether refresh reads it back.
    for &k in A::ALL {
        match k {
            // Found by these; the policy name is how the policy is looked up.
            A::ResourceId | A::Cluster | A::Service | A::PolicyName => {}
            A::Min => attr::set(&mut a, k, Value::Int(i64::from(t.min_capacity()))),
            A::Max => attr::set(&mut a, k, Value::Int(i64::from(t.max_capacity()))),
            A::TargetCpu if recorded.contains_key(k.as_str()) => {
                let live = target_cpu(p, &rid, &policy_name(recorded, &rid)).await?;
                attr::set(&mut a, k, live.map_or(Value::Null, Value::Int));
            }
            A::TargetCpu => {}
        }
    }
    Ok(Some(a))
}

/// The target value of the CPU policy, if there is one.
async fn target_cpu(p: &AwsProvider, rid: &str, name: &str) -> Result<Option<i64>, ProviderError> {
    let pols = p
        .clients
        .aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(rid)
        .policy_names(name)
        .send()
        .await
        .map_err(|e| map(&format!("DescribeScalingPolicies {rid}"), e))?;
    Ok(pols
        .scaling_policies()
        .first()
        .and_then(|p| p.target_tracking_scaling_policy_configuration())
        .map(|c| c.target_value() as i64))
}

/// The scalable target for the service, by its resource id.
pub async fn find(p: &AwsProvider, r: &ApplyResource) -> Result<Option<Found>, ProviderError> {
    let rid = resource_id(&r.attrs)?;
    let out = p
        .clients
        .aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(&rid)
        .send()
        .await
        .map_err(|e| map(&format!("DescribeScalableTargets {rid}"), e))?;
    Ok(out.scalable_targets().first().map(|_| Found {
        id: rid,
        tags: Default::default(),
    }))
}
