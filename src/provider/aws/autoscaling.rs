//! Application Auto Scaling for endpoint services: a scalable target on the service's desired
//! count and its target-tracking policies (average CPU, average memory, requests per target of
//! the endpoint's target group). Deleting removes the policies first.

use std::collections::BTreeMap;

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};

use super::AwsProvider;
use super::error::{deleted, map};
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, Found, LeftBehind, ProviderError};
use crate::resource::schema::scaling_target::{Attr as A, DEFAULT_MIN, POLICY_SUFFIX, Policy};
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

/// The CPU policy's name: the recorded one, else `<resource id with dashes>-cpu`.
fn policy_name(attrs: &Attrs, rid: &str) -> String {
    attr::str(attrs, A::PolicyName)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}{POLICY_SUFFIX}", rid.replace('/', "-")))
}

/// The name of one of the target's policies: the CPU policy's with its suffix swapped.
fn name_of(attrs: &Attrs, rid: &str, policy: Policy) -> String {
    let cpu = policy_name(attrs, rid);
    let base = cpu.strip_suffix(POLICY_SUFFIX).unwrap_or(&cpu);
    format!("{base}{}", policy.suffix())
}

/// The predefined metric a policy tracks (with the request policy's target group label).
fn metric_spec(
    policy: Policy,
    attrs: &Attrs,
) -> Result<PredefinedMetricSpecification, ProviderError> {
    let (kind, label) = match policy {
        Policy::Cpu => (MetricType::EcsServiceAverageCpuUtilization, None),
        Policy::Memory => (MetricType::EcsServiceAverageMemoryUtilization, None),
        Policy::Requests => (
            MetricType::AlbRequestCountPerTarget,
            Some(attr::req_str(attrs, A::RequestLabel)?.to_string()),
        ),
    };
    PredefinedMetricSpecification::builder()
        .predefined_metric_type(kind)
        .set_resource_label(label)
        .build()
        .map_err(|e| ProviderError::invalid(e.to_string()))
}

/// Puts one target-tracking policy.
async fn put_policy(
    p: &AwsProvider,
    rid: &str,
    attrs: &Attrs,
    policy: Policy,
    target: i64,
) -> Result<(), ProviderError> {
    let name = name_of(attrs, rid, policy);
    let conf = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(target as f64)
        .predefined_metric_specification(metric_spec(policy, attrs)?)
        .build()
        .map_err(|e| ProviderError::invalid(e.to_string()))?;
    p.clients
        .aas
        .put_scaling_policy()
        .policy_name(&name)
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(rid)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(conf)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| map(&format!("PutScalingPolicy {name}"), e))
}

/// Deletes one policy (already gone is fine).
async fn delete_policy(
    p: &AwsProvider,
    rid: &str,
    attrs: &Attrs,
    policy: Policy,
) -> Result<(), ProviderError> {
    let name = name_of(attrs, rid, policy);
    match p
        .clients
        .aas
        .delete_scaling_policy()
        .policy_name(&name)
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(rid)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let err = map(&format!("DeleteScalingPolicy {name}"), e);
            if err.is_not_found() { Ok(()) } else { Err(err) }
        }
    }
}

/// Registers (or re-registers) the target and puts each policy with a target value; on an
/// update (`before`), deletes the policies that no longer have one. Every call is idempotent.
pub async fn put(
    p: &AwsProvider,
    before: Option<&Attrs>,
    r: &ApplyResource,
) -> Result<Applied, ProviderError> {
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
    let left = |e: ProviderError| e.leaving(LeftBehind::Resource(applied.clone()));
    for policy in Policy::ALL {
        match attr::int(&r.attrs, policy.target()) {
            Some(target) => put_policy(p, &rid, &r.attrs, policy, target)
                .await
                .map_err(left)?,
            None if before.is_some_and(|b| attr::int(b, policy.target()).is_some()) => {
                delete_policy(p, &rid, &r.attrs, policy)
                    .await
                    .map_err(left)?
            }
            None => {}
        }
    }
    Ok(applied)
}

/// Removes the scaling policies and deregisters the scalable target (either already gone is
/// fine).
pub async fn delete(p: &AwsProvider, attrs: &Attrs) -> Result<(), ProviderError> {
    let rid = resource_id(attrs)?;
    for policy in Policy::ALL {
        if attr::int(attrs, policy.target()).is_some() {
            delete_policy(p, &rid, attrs, policy).await?;
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

/// The scalable target and its policies as AWS reports them (`None` when the target is gone).
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
    let recorded_policy = |k: A| recorded.contains_key(k.as_str());
    let policies = if [A::TargetCpu, A::TargetMemory, A::TargetRequests]
        .into_iter()
        .any(recorded_policy)
    {
        live_policies(p, &rid, recorded).await?
    } else {
        BTreeMap::new()
    };
    // Exhaustive: a new attribute has to say whether refresh reads it back.
    for &k in A::ALL {
        match k {
            // Found by these; the policy name is how the policies are looked up.
            A::ResourceId | A::Cluster | A::Service | A::PolicyName => {}
            A::Min => attr::set(&mut a, k, Value::Int(i64::from(t.min_capacity()))),
            A::Max => attr::set(&mut a, k, Value::Int(i64::from(t.max_capacity()))),
            A::TargetCpu | A::TargetMemory | A::TargetRequests if recorded_policy(k) => {
                let live = Policy::ALL
                    .into_iter()
                    .find(|p| p.target() == k)
                    .and_then(|p| policies.get(p.suffix()))
                    .map(|x| x.0);
                attr::set(&mut a, k, live.map_or(Value::Null, Value::Int));
            }
            A::RequestLabel if recorded_policy(A::TargetRequests) => {
                let label = policies
                    .get(Policy::Requests.suffix())
                    .and_then(|x| x.1.clone());
                attr::set(&mut a, k, label.map_or(Value::Null, Value::String));
            }
            A::TargetCpu | A::TargetMemory | A::TargetRequests | A::RequestLabel => {}
        }
    }
    Ok(Some(a))
}

/// The target's policies by name suffix (`-cpu`): target value and resource label.
async fn live_policies(
    p: &AwsProvider,
    rid: &str,
    recorded: &Attrs,
) -> Result<BTreeMap<&'static str, (i64, Option<String>)>, ProviderError> {
    let names: Vec<(String, &'static str)> = Policy::ALL
        .into_iter()
        .map(|pol| (name_of(recorded, rid, pol), pol.suffix()))
        .collect();
    let pols = p
        .clients
        .aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(rid)
        .set_policy_names(Some(names.iter().map(|n| n.0.clone()).collect()))
        .send()
        .await
        .map_err(|e| map(&format!("DescribeScalingPolicies {rid}"), e))?;
    let mut out = BTreeMap::new();
    for pol in pols.scaling_policies() {
        let Some((_, suffix)) = names.iter().find(|n| n.0 == pol.policy_name()) else {
            continue;
        };
        let Some(c) = pol.target_tracking_scaling_policy_configuration() else {
            continue;
        };
        let label = c
            .predefined_metric_specification()
            .and_then(|m| m.resource_label())
            .map(str::to_string);
        out.insert(*suffix, (c.target_value() as i64, label));
    }
    Ok(out)
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
