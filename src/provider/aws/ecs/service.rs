//! ECS services: idempotent create, in-place updates, scale-to-zero + force delete + wait
//! INACTIVE, batched read-back; a new task definition waits for its release ([`super::rollout`]).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{
    AdvancedConfiguration, AssignPublicIp, AwsVpcConfiguration, CanaryConfiguration,
    CapacityProviderStrategyItem, DeploymentAlarms, DeploymentCircuitBreaker,
    DeploymentConfiguration, DeploymentStrategy, LaunchType, LinearConfiguration, LoadBalancer,
    NetworkConfiguration, PropagateTags, ServiceField,
};
use sha2::{Digest, Sha256};

use super::super::AwsProvider;
use super::super::error::map;
use super::rollout::{ReleaseWait, wait_for_release};
use super::{batch_names, batch_read_back, build_err, ecs_tags, retag, tags_map, tags_value};
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, ErrorKind, Found, LeftBehind, Owner, ProviderError};
use crate::resource::rules::{IntRange, ecs as ecs_rules};
use crate::resource::schema::ecs_service::{
    Alarms as AL, Attr as A, CapacityProviderItem as CP, DEFAULT_ALARM_ROLLBACK,
    DEFAULT_BAKE_MINUTES, DEFAULT_BASE, DEFAULT_CANARY_PERCENT, DEFAULT_CIRCUIT_BREAKER,
    DEFAULT_DESIRED_COUNT, DEFAULT_INTERVAL_MINUTES, DEFAULT_LAUNCH_TYPE, DEFAULT_MAX_PERCENT,
    DEFAULT_MIN_HEALTHY_PERCENT, DEFAULT_PUBLIC_IP, DEFAULT_STEP_PERCENT, DEFAULT_WAIT,
    DEFAULT_WEIGHT, Deployment as D, LoadBalancerItem as LBI, Network as N, STRATEGY_BLUE_GREEN,
    STRATEGY_CANARY, STRATEGY_LINEAR, STRATEGY_ROLLING,
};
use crate::resource::{Attrs, Value};

fn network_configuration(attrs: &Attrs) -> Result<Option<NetworkConfiguration>, ProviderError> {
    let Some(n) = attr::map(attrs, A::Network) else {
        return Ok(None);
    };
    let subnets = attr::strings(n, N::Subnets);
    if subnets.is_empty() {
        return Ok(None);
    }
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(subnets))
        .set_security_groups(Some(attr::strings(n, N::SecurityGroups)))
        .assign_public_ip(if attr::bool(n, N::PublicIp).unwrap_or(DEFAULT_PUBLIC_IP) {
            AssignPublicIp::Enabled
        } else {
            AssignPublicIp::Disabled
        })
        .build()
        .map_err(build_err)?;
    Ok(Some(
        NetworkConfiguration::builder()
            .awsvpc_configuration(vpc)
            .build(),
    ))
}

/// The alarms ECS watches during a release (the `alarms` attribute's names with `enable`);
/// with none wanted but some recorded (`before`), the alarms switched off; `None` otherwise.
fn deployment_alarms(
    attrs: &Attrs,
    before: Option<&Attrs>,
) -> Result<Option<DeploymentAlarms>, ProviderError> {
    let names = |a: &Attrs| {
        attr::map(a, A::Alarms)
            .map(|m| attr::strings(m, AL::Names))
            .unwrap_or_default()
    };
    let wanted = names(attrs);
    if !wanted.is_empty() {
        let rollback = attr::map(attrs, A::Alarms)
            .and_then(|m| attr::bool(m, AL::Rollback))
            .unwrap_or(DEFAULT_ALARM_ROLLBACK);
        return DeploymentAlarms::builder()
            .set_alarm_names(Some(wanted))
            .enable(true)
            .rollback(rollback)
            .build()
            .map(Some)
            .map_err(build_err);
    }
    if before.is_some_and(|b| !names(b).is_empty()) {
        return DeploymentAlarms::builder()
            .set_alarm_names(Some(Vec::new()))
            .enable(false)
            .rollback(false)
            .build()
            .map(Some)
            .map_err(build_err);
    }
    Ok(None)
}

/// The service's health check grace period: ECS takes up to 2,147,483,647 seconds.
static GRACE_PERIOD: IntRange = IntRange {
    field: "healthCheckGracePeriodSeconds",
    min: 0,
    max: i32::MAX as i64,
    source: ecs_rules::CREATE_SERVICE_SOURCE,
};

fn deployment_configuration(
    attrs: &Attrs,
    before: Option<&Attrs>,
) -> Result<DeploymentConfiguration, ProviderError> {
    let empty = Attrs::new();
    let d = attr::map(attrs, A::Deployment).unwrap_or(&empty);
    let cb = attr::bool(d, D::CircuitBreaker).unwrap_or(DEFAULT_CIRCUIT_BREAKER);
    let min_healthy = attr::checked_i32(
        attr::int(d, D::MinHealthyPercent).unwrap_or(DEFAULT_MIN_HEALTHY_PERCENT),
        &ecs_rules::MIN_HEALTHY_PERCENT,
    )
    .map_err(ProviderError::invalid)?;
    let max_percent = attr::checked_i32(
        attr::int(d, D::MaxPercent).unwrap_or(DEFAULT_MAX_PERCENT),
        &ecs_rules::MAX_PERCENT,
    )
    .map_err(ProviderError::invalid)?;
    let builder = DeploymentConfiguration::builder();
    let builder = with_strategy(builder, d, before.and_then(|b| attr::map(b, A::Deployment)));
    Ok(builder
        .minimum_healthy_percent(min_healthy)
        .maximum_percent(max_percent)
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(cb)
                .rollback(cb)
                .build(),
        )
        .set_alarms(deployment_alarms(attrs, before)?)
        .build())
}

/// The release strategy of `d` (the `deployment` map): ECS's native blue/green, canary and
/// linear deployments with their traffic shifts and bake time. Without a strategy nothing is
/// sent, unless the recorded map (`before`) had one: then ROLLING switches it back.
fn with_strategy(
    b: aws_sdk_ecs::types::builders::DeploymentConfigurationBuilder,
    d: &Attrs,
    before: Option<&Attrs>,
) -> aws_sdk_ecs::types::builders::DeploymentConfigurationBuilder {
    let strategy = attr::str(d, D::Strategy);
    let had = before.and_then(|b| attr::str(b, D::Strategy)).is_some();
    let int = |k: D, default: i64| attr::int(d, k).unwrap_or(default);
    let interval = int(D::IntervalMinutes, DEFAULT_INTERVAL_MINUTES) as i32;
    let bake = int(D::BakeMinutes, DEFAULT_BAKE_MINUTES) as i32;
    match strategy {
        None if !had => b,
        None | Some(STRATEGY_ROLLING) => b.strategy(DeploymentStrategy::Rolling),
        Some(STRATEGY_BLUE_GREEN) => b
            .strategy(DeploymentStrategy::BlueGreen)
            .bake_time_in_minutes(bake),
        Some(STRATEGY_CANARY) => b
            .strategy(DeploymentStrategy::Canary)
            .bake_time_in_minutes(bake)
            .canary_configuration(
                CanaryConfiguration::builder()
                    .canary_percent(int(D::CanaryPercent, DEFAULT_CANARY_PERCENT) as f64)
                    .canary_bake_time_in_minutes(interval)
                    .build(),
            ),
        Some(STRATEGY_LINEAR) => b
            .strategy(DeploymentStrategy::Linear)
            .bake_time_in_minutes(bake)
            .linear_configuration(
                LinearConfiguration::builder()
                    .step_percent(int(D::StepPercent, DEFAULT_STEP_PERCENT) as f64)
                    .step_bake_time_in_minutes(interval)
                    .build(),
            ),
        Some(other) => b.strategy(DeploymentStrategy::from(
            other.to_ascii_uppercase().as_str(),
        )),
    }
}

/// The target groups the service registers its tasks in (`load_balancers`), with the
/// alternate target group, production listener rule and role of the releases ECS shifts
/// traffic in; `None` when the attribute is absent.
fn load_balancers(attrs: &Attrs) -> Result<Option<Vec<LoadBalancer>>, ProviderError> {
    let Some(list) = attr::get(attrs, A::LoadBalancers).and_then(Value::as_list) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for item in list {
        let Some(m) = item.as_map() else { continue };
        let advanced = match (
            attr::str(m, LBI::AlternateTargetGroupArn),
            attr::str(m, LBI::ProductionListenerRule),
        ) {
            (Some(alt), Some(rule)) => Some(
                AdvancedConfiguration::builder()
                    .alternate_target_group_arn(alt)
                    .production_listener_rule(rule)
                    .set_role_arn(attr::str(m, LBI::RoleArn).map(str::to_string))
                    .build(),
            ),
            _ => None,
        };
        out.push(
            LoadBalancer::builder()
                .target_group_arn(attr::req_str(m, LBI::TargetGroupArn)?)
                .container_name(attr::req_str(m, LBI::ContainerName)?)
                .set_container_port(attr::int(m, LBI::ContainerPort).map(|p| p as i32))
                .set_advanced_configuration(advanced)
                .build(),
        );
    }
    Ok(Some(out))
}

fn capacity_strategy(
    attrs: &Attrs,
) -> Result<Option<Vec<CapacityProviderStrategyItem>>, ProviderError> {
    let Some(list) = attr::get(attrs, A::CapacityProviderStrategy)
        .and_then(Value::as_list)
        .filter(|l| !l.is_empty())
    else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for item in list {
        let Some(m) = item.as_map() else { continue };
        out.push(
            CapacityProviderStrategyItem::builder()
                .capacity_provider(attr::req_str(m, CP::CapacityProvider)?)
                .weight(attr::int(m, CP::Weight).unwrap_or(DEFAULT_WEIGHT) as i32)
                .base(attr::int(m, CP::Base).unwrap_or(DEFAULT_BASE) as i32)
                .build()
                .map_err(build_err)?,
        );
    }
    Ok(Some(out))
}

/// How to wait for a service's release, from its `deployment` attribute.
fn wait_settings(p: &AwsProvider, attrs: &Attrs) -> Option<Duration> {
    let empty = Attrs::new();
    let d = attr::map(attrs, A::Deployment).unwrap_or(&empty);
    if !attr::bool(d, D::Wait).unwrap_or(DEFAULT_WAIT) {
        return None;
    }
    Some(
        attr::int(d, D::TimeoutSeconds)
            .map(|s| Duration::from_secs(s.max(0) as u64))
            .unwrap_or(p.opts.default_release_timeout),
    )
}

/// The service of this name in its cluster (unless INACTIVE), with its tags.
pub async fn find_service(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    let cluster = attr::req_str(&r.attrs, A::Cluster)?;
    let out = match p
        .clients
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .include(ServiceField::Tags)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => {
            let err = map(&format!("DescribeServices {cluster}/{name}"), e);
            return if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            };
        }
    };
    Ok(out
        .services()
        .iter()
        .find(|s| s.status() != Some("INACTIVE") && s.service_name() == Some(name))
        .map(|s| Found {
            id: s.service_arn().unwrap_or(name).to_string(),
            tags: tags_map(s.tags()),
        }))
}

/// Creates the service and, when the deployment waits, waits for the release to finish.
pub async fn create_service(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    let cluster = attr::req_str(&r.attrs, A::Cluster)?;
    let task_def = attr::req_str(&r.attrs, A::TaskDefinition)?;
    // Some endpoints silently replace a service created twice: look first.
    if let Some(found) = find_service(p, r).await? {
        let owner = Owner::classify(&found.tags, "", "", &r.address);
        return Err(ProviderError::new(
            ErrorKind::AlreadyExists { owner },
            format!("service {name} already exists in cluster {cluster}"),
        ));
    }
    let token = hex::encode(Sha256::digest(
        format!("{cluster}/{name}/{task_def}").as_bytes(),
    ));
    let desired = attr::checked_i32(
        attr::int(&r.attrs, A::DesiredCount).unwrap_or(DEFAULT_DESIRED_COUNT),
        &ecs_rules::DESIRED_COUNT,
    )
    .map_err(|m| ProviderError::invalid(format!("desired count of {name}: {m}")))?;
    let mut req = p
        .clients
        .ecs
        .create_service()
        .cluster(cluster)
        .service_name(name)
        .task_definition(task_def)
        .desired_count(desired)
        .client_token(&token[..32])
        .deployment_configuration(deployment_configuration(&r.attrs, None)?)
        .set_network_configuration(network_configuration(&r.attrs)?)
        .set_load_balancers(load_balancers(&r.attrs)?)
        .propagate_tags(PropagateTags::Service)
        .enable_ecs_managed_tags(true);
    match capacity_strategy(&r.attrs)? {
        Some(s) => req = req.set_capacity_provider_strategy(Some(s)),
        None => {
            req = req.launch_type(LaunchType::from(
                attr::str(&r.attrs, A::LaunchType).unwrap_or(DEFAULT_LAUNCH_TYPE),
            ))
        }
    }
    if let Some(g) = attr::int_in(&r.attrs, A::HealthCheckGracePeriod, &GRACE_PERIOD)? {
        req = req.health_check_grace_period_seconds(g);
    }
    let tags = ecs_tags(&r.attrs);
    if !tags.is_empty() {
        req = req.set_tags(Some(tags));
    }
    let out = super::while_role_propagates(&super::ROLE_PROPAGATION_DELAYS, || {
        let req = req.clone();
        async move {
            req.send()
                .await
                .map_err(|e| map(&format!("CreateService {cluster}/{name}"), e))
        }
    })
    .await?;
    let arn = out
        .service()
        .and_then(|s| s.service_arn())
        .unwrap_or(name)
        .to_string();
    let mut attrs = r.attrs.clone();
    attrs.insert(A::Arn.into(), Value::str(&arn));
    let applied = Applied { id: arn, attrs };
    if let Some(timeout) = wait_settings(p, &r.attrs) {
        let w = ReleaseWait {
            cluster: cluster.to_string(),
            service: name.to_string(),
            task_definition: task_def.to_string(),
            timeout,
            poll: p.opts.poll_interval,
        };
        if let Err(e) = wait_for_release(&p.clients.ecs, &w).await {
            let e = blame_alarms(p, &w, &r.attrs, e).await;
            return Err(e.leaving(LeftBehind::Resource(applied)));
        }
    }
    Ok(applied)
}

/// Updates the service in place, re-tags it, and waits for a new revision's release.
pub async fn update_service(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&after.attrs, A::Name)?;
    let cluster = attr::req_str(&after.attrs, A::Cluster)?;
    let task_def = attr::req_str(&after.attrs, A::TaskDefinition)?;
    let mut req = p
        .clients
        .ecs
        .update_service()
        .cluster(cluster)
        .service(name)
        .task_definition(task_def)
        .deployment_configuration(deployment_configuration(&after.attrs, Some(before))?)
        .set_network_configuration(network_configuration(&after.attrs)?);
    // A null desired count means autoscaling owns it: never send it.
    if let Some(d) = attr::int_in(&after.attrs, A::DesiredCount, &ecs_rules::DESIRED_COUNT)? {
        req = req.desired_count(d);
    }
    if let Some(s) = capacity_strategy(&after.attrs)? {
        req = req.set_capacity_provider_strategy(Some(s));
    }
    // Target groups are sent when they change; a route removed empties the list.
    if attr::changed(before, &after.attrs, A::LoadBalancers) {
        req = req.set_load_balancers(Some(load_balancers(&after.attrs)?.unwrap_or_default()));
    }
    if let Some(g) = attr::int_in(&after.attrs, A::HealthCheckGracePeriod, &GRACE_PERIOD)? {
        req = req.health_check_grace_period_seconds(g);
    }
    req.send()
        .await
        .map_err(|e| map(&format!("UpdateService {cluster}/{name}"), e))?;
    retag(p, id, before, &after.attrs).await?;
    let mut attrs = after.attrs.clone();
    attrs.insert(A::Arn.into(), Value::str(id));
    let new_release = attr::str(before, A::TaskDefinition) != Some(task_def);
    if new_release && let Some(timeout) = wait_settings(p, &after.attrs) {
        let w = ReleaseWait {
            cluster: cluster.to_string(),
            service: name.to_string(),
            task_definition: task_def.to_string(),
            timeout,
            poll: p.opts.poll_interval,
        };
        if let Err(e) = wait_for_release(&p.clients.ecs, &w).await {
            return Err(blame_alarms(p, &w, &after.attrs, e).await);
        }
    }
    Ok(Applied {
        id: id.to_string(),
        attrs,
    })
}

/// Names the deployment alarms that failed a release, when it failed and the service watches
/// alarms: those ECS names in the rollout reason or the latest service events, else (unless
/// the reason blames the circuit breaker) those in the ALARM state now. The error keeps its
/// kind, carries the names in its `alarms` and says which alarms in its reason and message.
async fn blame_alarms(
    p: &AwsProvider,
    w: &ReleaseWait,
    attrs: &Attrs,
    mut err: ProviderError,
) -> ProviderError {
    let (reason, alarms) = match &mut err.kind {
        ErrorKind::RolledBack { reason, alarms, .. }
        | ErrorKind::RolloutFailed { reason, alarms } => (reason, alarms),
        _ => return err,
    };
    let watched = attr::map(attrs, A::Alarms)
        .map(|m| attr::strings(m, AL::Names))
        .unwrap_or_default();
    if watched.is_empty() {
        return err;
    }
    let mentioned = |text: &str| -> Vec<String> {
        watched
            .iter()
            .filter(|n| text.contains(n.as_str()))
            .cloned()
            .collect()
    };
    let mut named = mentioned(reason);
    if named.is_empty() {
        named = mentioned(&recent_events(p, w).await.join("\n"));
    }
    if named.is_empty() && !reason.to_ascii_lowercase().contains("circuit breaker") {
        // The alarms are the other thing that fails a release: ask CloudWatch which fired.
        named = super::super::cloudwatch::firing(p, &watched)
            .await
            .unwrap_or_default();
    }
    if named.is_empty() {
        return err;
    }
    named.sort();
    named.dedup();
    let which = if named.len() == 1 {
        format!("alarm {} went to ALARM", named[0])
    } else {
        format!("alarms {} went to ALARM", named.join(", "))
    };
    let old = std::mem::take(reason);
    *reason = if old.is_empty() {
        which
    } else {
        format!("{which} ({old})")
    };
    *alarms = named;
    err.message = match &err.kind {
        ErrorKind::RolledBack { to, reason, .. } => format!("ECS rolled back to {to}: {reason}"),
        ErrorKind::RolloutFailed { reason, .. } => {
            format!("ECS rollout of {} failed: {reason}", w.task_definition)
        }
        _ => err.message,
    };
    err
}

/// The messages of the service's latest events, newest first (empty when they cannot be read).
async fn recent_events(p: &AwsProvider, w: &ReleaseWait) -> Vec<String> {
    let Ok(out) = p
        .clients
        .ecs
        .describe_services()
        .cluster(&w.cluster)
        .services(&w.service)
        .send()
        .await
    else {
        return Vec::new();
    };
    out.services()
        .iter()
        .filter(|s| s.service_name() == Some(w.service.as_str()))
        .flat_map(|s| s.events().iter().take(10))
        .filter_map(|e| e.message().map(str::to_string))
        .collect()
}

/// Scales the service to zero, deletes it and waits until it is INACTIVE.
pub async fn delete_service(p: &AwsProvider, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let name = attr::str(attrs, A::Name).unwrap_or(id);
    let Some(cluster) = attr::str(attrs, A::Cluster) else {
        return Err(ProviderError::invalid(format!(
            "service {name}: no cluster recorded"
        )));
    };
    let ecs = &p.clients.ecs;
    let gone = |e: &ProviderError| e.is_not_found();
    match ecs
        .update_service()
        .cluster(cluster)
        .service(name)
        .desired_count(0)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) => {
            let err = map(&format!("UpdateService {cluster}/{name}"), e);
            if gone(&err) {
                return Ok(());
            }
            // An INACTIVE service cannot be updated: treat like gone once describe agrees.
            if service_status(p, cluster, name).await?.is_none() {
                return Ok(());
            }
        }
    }
    if let Err(e) = ecs
        .delete_service()
        .cluster(cluster)
        .service(name)
        .force(true)
        .send()
        .await
    {
        let err = map(&format!("DeleteService {cluster}/{name}"), e);
        if !gone(&err) {
            return Err(err);
        }
    }
    let started = Instant::now();
    loop {
        match service_status(p, cluster, name).await? {
            None => return Ok(()),
            Some(_) if started.elapsed() >= p.opts.inactive_timeout => {
                return Err(ProviderError::new(
                    ErrorKind::Timeout,
                    format!(
                        "service {cluster}/{name} did not become INACTIVE within {}",
                        humantime::format_duration(p.opts.inactive_timeout)
                    ),
                )
                .leaving(LeftBehind::Unknown));
            }
            Some(_) => tokio::time::sleep(p.opts.poll_interval.min(Duration::from_secs(5))).await,
        }
    }
}

/// The service's status unless it is INACTIVE or missing.
async fn service_status(
    p: &AwsProvider,
    cluster: &str,
    name: &str,
) -> Result<Option<String>, ProviderError> {
    match p
        .clients
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .services()
            .iter()
            .find(|s| s.service_name() == Some(name))
            .and_then(|s| s.status())
            .filter(|s| *s != "INACTIVE")
            .map(str::to_string)),
        Err(e) => {
            let err = map(&format!("DescribeServices {cluster}/{name}"), e);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// Live attributes of up to 10 services of one cluster, in request order.
pub async fn read_services(
    p: &AwsProvider,
    items: &[(&str, &Attrs)],
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let Some(cluster) = items.first().and_then(|(_, a)| attr::str(a, A::Cluster)) else {
        return Ok(items.iter().map(|_| None).collect());
    };
    let names = batch_names(items, |a| attr::str(a, A::Name));
    let out = match p
        .clients
        .ecs
        .describe_services()
        .cluster(cluster)
        .set_services(Some(names.clone()))
        .include(ServiceField::Tags)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => {
            let err = map(&format!("DescribeServices {cluster}"), e);
            return if err.is_not_found() {
                Ok(items.iter().map(|_| None).collect())
            } else {
                Err(err)
            };
        }
    };
    let live = out
        .services()
        .iter()
        .filter(|s| s.status() != Some("INACTIVE"))
        .filter_map(|s| Some((s.service_name()?, s)));
    Ok(batch_read_back(items, &names, live, read_back))
}

/// The recorded attributes updated with what the service reports.
fn read_back(s: &aws_sdk_ecs::types::Service, recorded: &Attrs) -> Attrs {
    let mut a = recorded.clone();
    // Exhaustive: a new attribute has to say whether refresh reads it back.
    for &k in A::ALL {
        match k {
            A::Arn => {
                if let Some(arn) = s.service_arn() {
                    attr::set(&mut a, k, Value::str(arn));
                }
            }
            A::TaskDefinition => {
                if let Some(td) = s.task_definition() {
                    attr::set(&mut a, k, Value::str(td));
                }
            }
            // Null: autoscaling owns the count, so its changes are not drift.
            A::DesiredCount => {
                if matches!(attr::get(recorded, k), Some(Value::Int(_))) {
                    attr::set(&mut a, k, Value::Int(i64::from(s.desired_count())));
                }
            }
            A::Network => {
                if let Some(vpc) = s
                    .network_configuration()
                    .and_then(|n| n.awsvpc_configuration())
                    && let Some(Value::Map(net)) = a.get_mut(k.as_str())
                {
                    read_back_network(net, vpc);
                }
            }
            A::Tags => attr::set(&mut a, k, tags_value(s.tags())),
            // A service that reports no deployment configuration at all says nothing about its
            // alarms: the recorded value stands.
            A::Alarms => {
                if let Some(dc) = s.deployment_configuration() {
                    let live = read_back_alarms(dc.alarms());
                    if live != Value::Null || attr::get(recorded, k).is_some() {
                        attr::set(&mut a, k, live);
                    }
                }
            }
            // A service that reports no target groups while some are recorded lost its
            // route; otherwise the recorded value stands (ECS swaps blue and green).
            A::LoadBalancers => {
                if s.load_balancers().is_empty() && attr::get(recorded, k).is_some() {
                    attr::set(&mut a, k, Value::Null);
                }
            }
            // Found by these, or settings the recorded value stands for.
            A::Name
            | A::Cluster
            | A::LaunchType
            | A::CapacityProviderStrategy
            | A::Deployment
            | A::HealthCheckGracePeriod => {}
        }
    }
    a
}

/// The `alarms` attribute of enabled deployment alarms (names sorted); null when off.
fn read_back_alarms(alarms: Option<&DeploymentAlarms>) -> Value {
    match alarms {
        Some(al) if al.enable() && !al.alarm_names().is_empty() => {
            let mut names: Vec<String> = al.alarm_names().to_vec();
            names.sort();
            Value::Map(
                [
                    (
                        AL::Names.into(),
                        Value::List(names.into_iter().map(Value::String).collect()),
                    ),
                    (AL::Rollback.into(), Value::Bool(al.rollback())),
                ]
                .into_iter()
                .collect(),
            )
        }
        _ => Value::Null,
    }
}

/// Subnets and security groups as the service reports them (compared as sets).
fn read_back_network(net: &mut Attrs, vpc: &aws_sdk_ecs::types::AwsVpcConfiguration) {
    for &k in N::ALL {
        let live = match k {
            N::Subnets => vpc.subnets(),
            N::SecurityGroups => vpc.security_groups(),
            N::PublicIp => continue,
        };
        let rec: BTreeSet<String> = attr::strings(net, k).into_iter().collect();
        let live_set: BTreeSet<String> = live.iter().cloned().collect();
        if rec != live_set {
            let list = live_set.into_iter().map(Value::String).collect();
            attr::set(net, k, Value::List(list));
        }
    }
}
