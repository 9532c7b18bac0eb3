//! ECS: clusters (described before created: CreateCluster on an existing name must not run),
//! task definitions (a new revision per change, the last few kept ACTIVE), services (idempotent
//! create, in-place updates, scale-to-zero + force delete + wait INACTIVE) and release waiting:
//! a release is done only when the PRIMARY deployment runs the new revision with rollout state
//! COMPLETED and running == desired; a circuit-breaker rollback fails loudly.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, ClusterField,
    ClusterSetting, ClusterSettingName, Compatibility, ContainerDefinition,
    DeploymentCircuitBreaker, DeploymentConfiguration, HealthCheck, KeyValuePair, LaunchType,
    LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode, PortMapping, PropagateTags,
    ResourceRequirement, ResourceType, Secret, ServiceField, Tag, TaskDefinitionField,
    TaskDefinitionStatus, TransportProtocol,
};
use sha2::{Digest, Sha256};

use super::AwsProvider;
use super::error::{deleted, map};
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, ErrorKind, Found, LeftBehind, Owner, ProviderError};
use crate::resource::{Attrs, Value};

fn build_err(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::invalid(e.to_string())
}

fn ecs_tags(attrs: &Attrs) -> Vec<Tag> {
    super::tag_pairs(attrs)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn tags_value(tags: &[Tag]) -> Value {
    Value::Map(
        tags.iter()
            .filter_map(|t| Some((t.key()?.to_string(), Value::str(t.value()?))))
            .collect(),
    )
}

fn tags_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect()
}

/// Replaces a resource's tag set: tags added or changed, keys removed.
async fn retag(
    p: &AwsProvider,
    arn: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    let old = crate::provider::tags_of(before);
    let new = crate::provider::tags_of(after);
    if old == new {
        return Ok(());
    }
    let removed: Vec<String> = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    if !removed.is_empty() {
        p.clients
            .ecs
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| map(&format!("UntagResource {arn}"), e))?;
    }
    if !new.is_empty() {
        p.clients
            .ecs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(ecs_tags(after)))
            .send()
            .await
            .map_err(|e| map(&format!("TagResource {arn}"), e))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- clusters

fn insights_setting(on: bool) -> ClusterSetting {
    ClusterSetting::builder()
        .name(ClusterSettingName::ContainerInsights)
        .value(if on { "enabled" } else { "disabled" })
        .build()
}

pub async fn find_cluster(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let name = attr::req_str(&r.attrs, "name")?;
    let out = p
        .clients
        .ecs
        .describe_clusters()
        .clusters(name)
        .include(ClusterField::Tags)
        .send()
        .await
        .map_err(|e| map(&format!("DescribeClusters {name}"), e))?;
    Ok(out
        .clusters()
        .iter()
        .find(|c| c.status() == Some("ACTIVE") && c.cluster_name() == Some(name))
        .map(|c| Found {
            id: c.cluster_arn().unwrap_or(name).to_string(),
            tags: tags_map(c.tags()),
        }))
}

pub async fn create_cluster(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&r.attrs, "name")?;
    // CreateCluster on an existing name must never run (some endpoints replace the cluster).
    if let Some(found) = find_cluster(p, r).await? {
        let owner = Owner::classify(&found.tags, "", "", &r.address);
        return Err(ProviderError::new(
            ErrorKind::AlreadyExists { owner },
            format!("cluster {name} already exists"),
        ));
    }
    let mut req = p
        .clients
        .ecs
        .create_cluster()
        .cluster_name(name)
        .settings(insights_setting(
            attr::bool(&r.attrs, "container_insights").unwrap_or(false),
        ))
        .set_tags(Some(ecs_tags(&r.attrs)));
    let cps = attr::strings(&r.attrs, "capacity_providers");
    if !cps.is_empty() {
        req = req.set_capacity_providers(Some(cps));
    }
    let out = req
        .send()
        .await
        .map_err(|e| map(&format!("CreateCluster {name}"), e))?;
    let arn = out
        .cluster()
        .and_then(|c| c.cluster_arn())
        .unwrap_or(name)
        .to_string();
    let mut attrs = r.attrs.clone();
    attrs.insert("arn".into(), Value::str(&arn));
    Ok(Applied { id: arn, attrs })
}

pub async fn update_cluster(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&after.attrs, "name")?;
    let ecs = &p.clients.ecs;
    if attr::bool(before, "container_insights") != attr::bool(&after.attrs, "container_insights") {
        ecs.update_cluster_settings()
            .cluster(name)
            .settings(insights_setting(
                attr::bool(&after.attrs, "container_insights").unwrap_or(false),
            ))
            .send()
            .await
            .map_err(|e| map(&format!("UpdateClusterSettings {name}"), e))?;
    }
    let cps = attr::strings(&after.attrs, "capacity_providers");
    if attr::strings(before, "capacity_providers") != cps {
        ecs.put_cluster_capacity_providers()
            .cluster(name)
            .set_capacity_providers(Some(cps))
            .set_default_capacity_provider_strategy(Some(Vec::new()))
            .send()
            .await
            .map_err(|e| map(&format!("PutClusterCapacityProviders {name}"), e))?;
    }
    retag(p, id, before, &after.attrs).await?;
    let mut attrs = after.attrs.clone();
    attrs.insert("arn".into(), Value::str(id));
    Ok(Applied {
        id: id.to_string(),
        attrs,
    })
}

pub async fn delete_cluster(p: &AwsProvider, id: &str) -> Result<(), ProviderError> {
    deleted(
        &format!("DeleteCluster {id}"),
        p.clients.ecs.delete_cluster().cluster(id).send().await,
    )
}

/// Live attributes of up to 100 clusters, in request order (`None`: gone).
pub async fn read_clusters(
    p: &AwsProvider,
    items: &[(&str, &Attrs)],
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let names: Vec<String> = items
        .iter()
        .map(|(id, a)| attr::str(a, "name").unwrap_or(id).to_string())
        .collect();
    let out = p
        .clients
        .ecs
        .describe_clusters()
        .set_clusters(Some(names.clone()))
        .include(ClusterField::Tags)
        .include(ClusterField::Settings)
        .send()
        .await
        .map_err(|e| map("DescribeClusters", e))?;
    let live: BTreeMap<&str, &aws_sdk_ecs::types::Cluster> = out
        .clusters()
        .iter()
        .filter(|c| c.status() == Some("ACTIVE"))
        .filter_map(|c| Some((c.cluster_name()?, c)))
        .collect();
    Ok(items
        .iter()
        .zip(&names)
        .map(|((_, recorded), name)| {
            let c = live.get(name.as_str())?;
            let mut a = (*recorded).clone();
            if let Some(arn) = c.cluster_arn() {
                a.insert("arn".into(), Value::str(arn));
            }
            let insights = c
                .settings()
                .iter()
                .find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights))
                .and_then(|s| s.value())
                .map(|v| v != "disabled");
            if let Some(on) = insights {
                a.insert("container_insights".into(), Value::Bool(on));
            }
            let mut cps: Vec<String> = c.capacity_providers().to_vec();
            let recorded_cps = attr::strings(recorded, "capacity_providers");
            let mut sorted_recorded = recorded_cps.clone();
            sorted_recorded.sort();
            cps.sort();
            if cps != sorted_recorded {
                a.insert(
                    "capacity_providers".into(),
                    Value::List(cps.into_iter().map(Value::String).collect()),
                );
            }
            a.insert("tags".into(), tags_value(c.tags()));
            Some(a)
        })
        .collect())
}

// ---------------------------------------------------------------- task definitions

/// The container definition for an endpoint's task definition.
fn container_definition(
    p: &AwsProvider,
    attrs: &Attrs,
) -> Result<ContainerDefinition, ProviderError> {
    let empty = Attrs::new();
    let c = attr::map(attrs, "container").unwrap_or(&empty);
    let family = attr::req_str(attrs, "family")?;
    let name = attr::str(c, "name").unwrap_or(family);
    let image = attr::req_str(c, "image")?;
    let mut b = ContainerDefinition::builder()
        .name(name)
        .image(image)
        .essential(true);
    let port = attr::int(c, "port");
    if let Some(port) = port {
        b = b.port_mappings(
            PortMapping::builder()
                .container_port(port as i32)
                .protocol(TransportProtocol::Tcp)
                .build(),
        );
    }
    // Environment: the user's, plus the model identity so a new model is a new revision.
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    if let Some(m) = attr::map(attrs, "model") {
        for (k, var) in [
            ("name", "MODEL_NAME"),
            ("version", "MODEL_VERSION"),
            ("artifact", "MODEL_URI"),
            ("sha256", "MODEL_SHA256"),
        ] {
            if let Some(v) = m.get(k).and_then(attr::reveal) {
                env.insert(var.to_string(), v);
            }
        }
    }
    if let Some(e) = attr::map(c, "environment") {
        for (k, v) in e {
            if let Some(v) = attr::reveal(v) {
                env.insert(k.clone(), v);
            }
        }
    }
    for (k, v) in env {
        b = b.environment(KeyValuePair::builder().name(k).value(v).build());
    }
    if let Some(s) = attr::map(c, "secrets") {
        for (k, v) in s {
            if let Some(v) = attr::reveal(v) {
                b = b.secrets(
                    Secret::builder()
                        .name(k)
                        .value_from(v)
                        .build()
                        .map_err(build_err)?,
                );
            }
        }
    }
    if let Some(hc) = attr::map(c, "health_check") {
        // Lowering renders the command; a bare `path` gets the usual curl probe.
        let mut command = attr::strings(hc, "command");
        if command.is_empty() {
            let path = attr::str(hc, "path").unwrap_or("/");
            let port = port.unwrap_or(80);
            command = vec![
                "CMD-SHELL".to_string(),
                format!("curl -fsS http://localhost:{port}{path} || exit 1"),
            ];
        }
        let mut h = HealthCheck::builder().set_command(Some(command));
        if let Some(i) = attr::int(hc, "interval") {
            h = h.interval(i as i32);
        }
        if let Some(r) = attr::int(hc, "retries") {
            h = h.retries(r as i32);
        }
        if let Some(t) = attr::int(hc, "timeout") {
            h = h.timeout(t as i32);
        }
        if let Some(g) = attr::int(hc, "start_period").or_else(|| attr::int(hc, "grace_period")) {
            h = h.start_period(g.clamp(0, 300) as i32);
        }
        b = b.health_check(h.build().map_err(build_err)?);
    }
    if let Some(group) = attr::str(c, "log_group") {
        let region = attr::str(c, "region").unwrap_or(&p.region);
        b = b.log_configuration(
            LogConfiguration::builder()
                .log_driver(LogDriver::Awslogs)
                .options("awslogs-group", group)
                .options("awslogs-region", region)
                .options("awslogs-stream-prefix", name)
                .build()
                .map_err(build_err)?,
        );
    }
    let gpu = attr::int(attrs, "gpu").unwrap_or(0);
    if gpu > 0 {
        b = b.resource_requirements(
            ResourceRequirement::builder()
                .r#type(ResourceType::Gpu)
                .value(gpu.to_string())
                .build()
                .map_err(build_err)?,
        );
    }
    Ok(b.build())
}

fn num_string(attrs: &Attrs, k: &str) -> Option<String> {
    match attrs.get(k) {
        Some(Value::Int(i)) => Some(i.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Float(f)) => Some((*f as i64).to_string()),
        _ => None,
    }
}

/// Registers a new revision (create and every update) and deregisters revisions of the family
/// beyond the newest `keep_revisions`.
pub async fn register_task_definition(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let family = attr::req_str(&r.attrs, "family")?;
    let network_mode = attr::str(&r.attrs, "network_mode").unwrap_or("awsvpc");
    let mut compat = attr::strings(&r.attrs, "requires_compatibilities");
    if compat.is_empty() {
        compat.push("FARGATE".into());
    }
    let mut req = p
        .clients
        .ecs
        .register_task_definition()
        .family(family)
        .network_mode(NetworkMode::from(network_mode))
        .set_requires_compatibilities(Some(
            compat
                .iter()
                .map(|c| Compatibility::from(c.as_str()))
                .collect(),
        ))
        .container_definitions(container_definition(p, &r.attrs)?)
        .set_cpu(num_string(&r.attrs, "cpu"))
        .set_memory(num_string(&r.attrs, "memory"))
        .set_execution_role_arn(attr::str(&r.attrs, "execution_role").map(str::to_string))
        .set_task_role_arn(attr::str(&r.attrs, "task_role").map(str::to_string));
    let tags = ecs_tags(&r.attrs);
    if !tags.is_empty() {
        req = req.set_tags(Some(tags));
    }
    let out = req
        .send()
        .await
        .map_err(|e| map(&format!("RegisterTaskDefinition {family}"), e))?;
    let td = out.task_definition().ok_or_else(|| {
        ProviderError::other(format!("RegisterTaskDefinition {family}: empty response"))
    })?;
    let arn = td.task_definition_arn().unwrap_or_default().to_string();
    let mut attrs = r.attrs.clone();
    attrs.insert("arn".into(), Value::str(&arn));
    attrs.insert("revision".into(), Value::Int(i64::from(td.revision())));
    let applied = Applied { id: arn, attrs };
    prune_revisions(p, family, &applied.id)
        .await
        .map_err(|e| e.leaving(LeftBehind::Resource(applied.clone())))?;
    Ok(applied)
}

fn revision_of(arn: &str) -> Option<(String, i64)> {
    let tail = arn.rsplit('/').next()?;
    let (fam, rev) = tail.rsplit_once(':')?;
    Some((fam.to_string(), rev.parse().ok()?))
}

async fn family_revisions(
    p: &AwsProvider,
    family: &str,
    status: TaskDefinitionStatus,
) -> Result<Vec<(i64, String)>, ProviderError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let resp = p
            .clients
            .ecs
            .list_task_definitions()
            .family_prefix(family)
            .status(status.clone())
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| map(&format!("ListTaskDefinitions {family}"), e))?;
        for arn in resp.task_definition_arns() {
            if let Some((fam, rev)) = revision_of(arn)
                && fam == family
            {
                out.push((rev, arn.clone()));
            }
        }
        match resp.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    out.sort();
    Ok(out)
}

async fn prune_revisions(
    p: &AwsProvider,
    family: &str,
    keep_arn: &str,
) -> Result<(), ProviderError> {
    let active = family_revisions(p, family, TaskDefinitionStatus::Active).await?;
    let excess = active.len().saturating_sub(p.opts.keep_revisions.max(1));
    for (_, arn) in active.iter().take(excess) {
        if arn == keep_arn {
            continue;
        }
        p.clients
            .ecs
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|e| map(&format!("DeregisterTaskDefinition {arn}"), e))?;
    }
    Ok(())
}

/// Destroy: every revision of the family is deregistered, then deleted.
pub async fn deregister_task_definition(
    p: &AwsProvider,
    id: &str,
    attrs: &Attrs,
) -> Result<(), ProviderError> {
    let family = match attr::str(attrs, "family") {
        Some(f) => f.to_string(),
        None => revision_of(id).map(|(f, _)| f).unwrap_or_default(),
    };
    let mut arns: Vec<String> = family_revisions(p, &family, TaskDefinitionStatus::Active)
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    if !arns.contains(&id.to_string()) && id.starts_with("arn:") {
        arns.push(id.to_string());
    }
    for arn in &arns {
        if let Err(e) = p
            .clients
            .ecs
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
        {
            let err = map(&format!("DeregisterTaskDefinition {arn}"), e);
            if !(err.is_not_found() || err.kind == ErrorKind::Invalid) {
                return Err(err);
            }
        }
    }
    let inactive: Vec<String> = family_revisions(p, &family, TaskDefinitionStatus::Inactive)
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    for chunk in inactive.chunks(10) {
        // Best effort: some endpoints keep INACTIVE revisions around.
        let _ = p
            .clients
            .ecs
            .delete_task_definitions()
            .set_task_definitions(Some(chunk.to_vec()))
            .send()
            .await;
    }
    Ok(())
}

pub async fn read_task_definition(
    p: &AwsProvider,
    id: &str,
    recorded: &Attrs,
) -> Result<Option<Attrs>, ProviderError> {
    let out = match p
        .clients
        .ecs
        .describe_task_definition()
        .task_definition(id)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => {
            let err = map(&format!("DescribeTaskDefinition {id}"), e);
            // ECS answers an unknown revision with ClientException.
            return if err.is_not_found() || err.kind == ErrorKind::Invalid {
                Ok(None)
            } else {
                Err(err)
            };
        }
    };
    let Some(td) = out.task_definition() else {
        return Ok(None);
    };
    if td.status() == Some(&TaskDefinitionStatus::Inactive) {
        return Ok(None);
    }
    let mut a = recorded.clone();
    for (k, live) in [("cpu", td.cpu()), ("memory", td.memory())] {
        if let Some(live) = live {
            let v = match recorded.get(k) {
                Some(Value::Int(_)) => live.parse().map(Value::Int).unwrap_or(Value::str(live)),
                _ => Value::str(live),
            };
            a.insert(k.into(), v);
        }
    }
    if let (Some(Value::Map(c)), Some(cd)) =
        (a.get_mut("container"), td.container_definitions().first())
        && let Some(img) = cd.image()
    {
        c.insert("image".into(), Value::str(img));
    }
    if !out.tags().is_empty() || recorded.contains_key("tags") {
        a.insert("tags".into(), tags_value(out.tags()));
    }
    a.insert(
        "arn".into(),
        Value::str(td.task_definition_arn().unwrap_or(id)),
    );
    a.insert("revision".into(), Value::Int(i64::from(td.revision())));
    Ok(Some(a))
}

// ---------------------------------------------------------------- services

fn network_configuration(attrs: &Attrs) -> Result<Option<NetworkConfiguration>, ProviderError> {
    let Some(n) = attr::map(attrs, "network") else {
        return Ok(None);
    };
    let subnets = attr::strings(n, "subnets");
    if subnets.is_empty() {
        return Ok(None);
    }
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(subnets))
        .set_security_groups(Some(attr::strings(n, "security_groups")))
        .assign_public_ip(if attr::bool(n, "public_ip").unwrap_or(false) {
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

fn deployment_configuration(attrs: &Attrs) -> DeploymentConfiguration {
    let empty = Attrs::new();
    let d = attr::map(attrs, "deployment").unwrap_or(&empty);
    let cb = attr::bool(d, "circuit_breaker").unwrap_or(true);
    DeploymentConfiguration::builder()
        .minimum_healthy_percent(attr::int(d, "min_healthy_percent").unwrap_or(100) as i32)
        .maximum_percent(attr::int(d, "max_percent").unwrap_or(200) as i32)
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(cb)
                .rollback(cb)
                .build(),
        )
        .build()
}

fn capacity_strategy(
    attrs: &Attrs,
) -> Result<Option<Vec<CapacityProviderStrategyItem>>, ProviderError> {
    let Some(list) = attrs
        .get("capacity_provider_strategy")
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
                .capacity_provider(attr::req_str(m, "capacity_provider")?)
                .weight(attr::int(m, "weight").unwrap_or(1) as i32)
                .base(attr::int(m, "base").unwrap_or(0) as i32)
                .build()
                .map_err(build_err)?,
        );
    }
    Ok(Some(out))
}

/// How to wait for a service's release, from its `deployment` attribute.
fn wait_settings(p: &AwsProvider, attrs: &Attrs) -> Option<Duration> {
    let empty = Attrs::new();
    let d = attr::map(attrs, "deployment").unwrap_or(&empty);
    if !attr::bool(d, "wait").unwrap_or(true) {
        return None;
    }
    Some(
        attr::int(d, "timeout_seconds")
            .map(|s| Duration::from_secs(s.max(0) as u64))
            .unwrap_or(p.opts.default_release_timeout),
    )
}

pub async fn find_service(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let name = attr::req_str(&r.attrs, "name")?;
    let cluster = attr::req_str(&r.attrs, "cluster")?;
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

pub async fn create_service(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&r.attrs, "name")?;
    let cluster = attr::req_str(&r.attrs, "cluster")?;
    let task_def = attr::req_str(&r.attrs, "task_definition")?;
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
    let desired = attr::int(&r.attrs, "desired_count")
        .or_else(|| attr::int(&r.attrs, "initial_count"))
        .unwrap_or(1);
    let mut req = p
        .clients
        .ecs
        .create_service()
        .cluster(cluster)
        .service_name(name)
        .task_definition(task_def)
        .desired_count(desired as i32)
        .client_token(&token[..32])
        .deployment_configuration(deployment_configuration(&r.attrs))
        .set_network_configuration(network_configuration(&r.attrs)?)
        .propagate_tags(PropagateTags::Service)
        .enable_ecs_managed_tags(true);
    match capacity_strategy(&r.attrs)? {
        Some(s) => req = req.set_capacity_provider_strategy(Some(s)),
        None => {
            req = req.launch_type(LaunchType::from(
                attr::str(&r.attrs, "launch_type").unwrap_or("FARGATE"),
            ))
        }
    }
    if let Some(g) = attr::int(&r.attrs, "health_check_grace_period") {
        req = req.health_check_grace_period_seconds(g as i32);
    }
    let tags = ecs_tags(&r.attrs);
    if !tags.is_empty() {
        req = req.set_tags(Some(tags));
    }
    let out = req
        .send()
        .await
        .map_err(|e| map(&format!("CreateService {cluster}/{name}"), e))?;
    let arn = out
        .service()
        .and_then(|s| s.service_arn())
        .unwrap_or(name)
        .to_string();
    let mut attrs = r.attrs.clone();
    attrs.insert("arn".into(), Value::str(&arn));
    let applied = Applied { id: arn, attrs };
    if let Some(timeout) = wait_settings(p, &r.attrs) {
        let w = ReleaseWait {
            cluster: cluster.to_string(),
            service: name.to_string(),
            task_definition: task_def.to_string(),
            timeout,
            poll: p.opts.poll_interval,
        };
        wait_for_release(&p.clients.ecs, &w)
            .await
            .map_err(|e| e.leaving(LeftBehind::Resource(applied.clone())))?;
    }
    Ok(applied)
}

pub async fn update_service(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&after.attrs, "name")?;
    let cluster = attr::req_str(&after.attrs, "cluster")?;
    let task_def = attr::req_str(&after.attrs, "task_definition")?;
    let mut req = p
        .clients
        .ecs
        .update_service()
        .cluster(cluster)
        .service(name)
        .task_definition(task_def)
        .deployment_configuration(deployment_configuration(&after.attrs))
        .set_network_configuration(network_configuration(&after.attrs)?);
    // A null desired count means autoscaling owns it: never send it.
    if let Some(d) = attr::int(&after.attrs, "desired_count") {
        req = req.desired_count(d as i32);
    }
    if let Some(s) = capacity_strategy(&after.attrs)? {
        req = req.set_capacity_provider_strategy(Some(s));
    }
    if let Some(g) = attr::int(&after.attrs, "health_check_grace_period") {
        req = req.health_check_grace_period_seconds(g as i32);
    }
    req.send()
        .await
        .map_err(|e| map(&format!("UpdateService {cluster}/{name}"), e))?;
    retag(p, id, before, &after.attrs).await?;
    let mut attrs = after.attrs.clone();
    attrs.insert("arn".into(), Value::str(id));
    let new_release = attr::str(before, "task_definition") != Some(task_def);
    if new_release && let Some(timeout) = wait_settings(p, &after.attrs) {
        let w = ReleaseWait {
            cluster: cluster.to_string(),
            service: name.to_string(),
            task_definition: task_def.to_string(),
            timeout,
            poll: p.opts.poll_interval,
        };
        wait_for_release(&p.clients.ecs, &w).await?;
    }
    Ok(Applied {
        id: id.to_string(),
        attrs,
    })
}

pub async fn delete_service(p: &AwsProvider, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let name = attr::str(attrs, "name").unwrap_or(id);
    let Some(cluster) = attr::str(attrs, "cluster") else {
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
    let Some(cluster) = items.first().and_then(|(_, a)| attr::str(a, "cluster")) else {
        return Ok(items.iter().map(|_| None).collect());
    };
    let names: Vec<String> = items
        .iter()
        .map(|(id, a)| attr::str(a, "name").unwrap_or(id).to_string())
        .collect();
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
    let live: BTreeMap<&str, &aws_sdk_ecs::types::Service> = out
        .services()
        .iter()
        .filter(|s| s.status() != Some("INACTIVE"))
        .filter_map(|s| Some((s.service_name()?, s)))
        .collect();
    Ok(items
        .iter()
        .zip(&names)
        .map(|((_, recorded), name)| {
            let s = live.get(name.as_str())?;
            let mut a = (*recorded).clone();
            if let Some(arn) = s.service_arn() {
                a.insert("arn".into(), Value::str(arn));
            }
            if let Some(td) = s.task_definition() {
                a.insert("task_definition".into(), Value::str(td));
            }
            if matches!(recorded.get("desired_count"), Some(Value::Int(_))) {
                a.insert(
                    "desired_count".into(),
                    Value::Int(i64::from(s.desired_count())),
                );
            }
            if let Some(vpc) = s
                .network_configuration()
                .and_then(|n| n.awsvpc_configuration())
                && let Some(Value::Map(net)) = a.get_mut("network")
            {
                for (k, live) in [
                    ("subnets", vpc.subnets()),
                    ("security_groups", vpc.security_groups()),
                ] {
                    let rec: BTreeSet<String> = net
                        .get(k)
                        .and_then(Value::as_list)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect();
                    let live_set: BTreeSet<String> = live.iter().cloned().collect();
                    if rec != live_set {
                        net.insert(
                            k.into(),
                            Value::List(live_set.into_iter().map(Value::String).collect()),
                        );
                    }
                }
            }
            a.insert("tags".into(), tags_value(s.tags()));
            Some(a)
        })
        .collect())
}

// ---------------------------------------------------------------- release waiting

/// What to wait for after a service create or update.
#[derive(Clone, Debug)]
pub struct ReleaseWait {
    pub cluster: String,
    pub service: String,
    /// The task definition revision ARN the release must run.
    pub task_definition: String,
    pub timeout: Duration,
    pub poll: Duration,
}

/// One poll's verdict.
#[derive(Debug, PartialEq)]
enum Verdict {
    Done,
    Pending(String),
    RolledBack { to: String, reason: String },
    Failed(String),
}

fn judge(service: &aws_sdk_ecs::types::Service, want: &str) -> Verdict {
    let deployments = service.deployments();
    let Some(primary) = deployments.iter().find(|d| d.status() == Some("PRIMARY")) else {
        return Verdict::Pending("no PRIMARY deployment yet".into());
    };
    let primary_td = primary.task_definition().unwrap_or_default();
    let primary_reason = primary.rollout_state_reason().unwrap_or_default();
    let ours_failed = deployments.iter().find(|d| {
        d.task_definition() == Some(want)
            && d.rollout_state() == Some(&aws_sdk_ecs::types::DeploymentRolloutState::Failed)
    });
    // A circuit-breaker rollback marks our deployment FAILED and points the service (and a new
    // PRIMARY deployment) back at the previous revision.
    let service_td = service.task_definition().filter(|t| !t.is_empty());
    let rolled_back_to = match (ours_failed, service_td) {
        (Some(_), _) if primary_td != want => Some(primary_td),
        (_, Some(td)) if td != want => Some(td),
        _ => None,
    };
    if let Some(to) = rolled_back_to {
        let reason = ours_failed
            .and_then(|d| d.rollout_state_reason())
            .filter(|r| !r.is_empty())
            .unwrap_or(if primary_reason.is_empty() {
                "the service no longer runs this release"
            } else {
                primary_reason
            });
        return Verdict::RolledBack {
            to: to.to_string(),
            reason: reason.to_string(),
        };
    }
    if primary_td != want {
        return Verdict::Pending(format!("the PRIMARY deployment still runs {primary_td}"));
    }
    let state = primary.rollout_state();
    if state == Some(&aws_sdk_ecs::types::DeploymentRolloutState::Failed) {
        return Verdict::Failed(if primary_reason.is_empty() {
            "rollout FAILED".into()
        } else {
            primary_reason.to_string()
        });
    }
    if primary_reason.to_ascii_lowercase().contains("rolling back")
        || primary_reason.to_ascii_lowercase().contains("rolled back")
    {
        return Verdict::Failed(primary_reason.to_string());
    }
    let running = primary.running_count();
    let desired = primary.desired_count();
    if state == Some(&aws_sdk_ecs::types::DeploymentRolloutState::Completed)
        && running == desired
        && service.running_count() == service.desired_count()
    {
        return Verdict::Done;
    }
    Verdict::Pending(format!(
        "rollout {}, running {running}/{desired}",
        state.map(|s| s.as_str()).unwrap_or("unknown")
    ))
}

/// Polls DescribeServices until the release is done, rolled back, failed or out of time.
/// Never trusts "services stable" alone: a rollback is stable too.
pub async fn wait_for_release(
    ecs: &aws_sdk_ecs::Client,
    w: &ReleaseWait,
) -> Result<(), ProviderError> {
    let started = Instant::now();
    let mut last: String;
    loop {
        match ecs
            .describe_services()
            .cluster(&w.cluster)
            .services(&w.service)
            .send()
            .await
        {
            Ok(out) => {
                let Some(s) = out
                    .services()
                    .iter()
                    .find(|s| s.service_name() == Some(w.service.as_str()))
                else {
                    return Err(ProviderError::not_found(format!(
                        "service {}/{} disappeared while waiting for its release",
                        w.cluster, w.service
                    )));
                };
                if s.status() == Some("INACTIVE") {
                    return Err(ProviderError::other(format!(
                        "service {}/{} became INACTIVE while waiting for its release",
                        w.cluster, w.service
                    )));
                }
                match judge(s, &w.task_definition) {
                    Verdict::Done => return Ok(()),
                    Verdict::Pending(status) => last = status,
                    Verdict::RolledBack { to, reason } => {
                        return Err(ProviderError::new(
                            ErrorKind::RolloutFailed {
                                reason: reason.clone(),
                            },
                            format!("ECS rolled back to {to}: {reason}"),
                        ));
                    }
                    Verdict::Failed(reason) => {
                        return Err(ProviderError::new(
                            ErrorKind::RolloutFailed {
                                reason: reason.clone(),
                            },
                            format!("ECS rollout of {} failed: {reason}", w.task_definition),
                        ));
                    }
                }
            }
            Err(e) => {
                let err = map(&format!("DescribeServices {}/{}", w.cluster, w.service), e);
                // Throttling outlasting the SDK's own retries: keep polling within the timeout.
                if err.kind != ErrorKind::Throttled {
                    return Err(err);
                }
                last = "throttled".into();
            }
        }
        if started.elapsed() + w.poll > w.timeout {
            return Err(ProviderError::new(
                ErrorKind::Timeout,
                format!(
                    "release {} did not complete within {}: {last}",
                    w.task_definition,
                    humantime::format_duration(w.timeout)
                ),
            ));
        }
        tokio::time::sleep(w.poll).await;
    }
}

#[cfg(test)]
mod tests {
    //! Release waiting against scripted DescribeServices responses: completion, circuit-breaker
    //! rollback, timeout, throttling then success.

    use std::time::Duration;

    use aws_sdk_ecs::config::retry::RetryConfig;
    use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
    use aws_sdk_ecs::types::{Deployment, DeploymentRolloutState, Service};
    use aws_smithy_mocks::{
        MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock,
    };

    use super::*;

    const NEW: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/fraud:7";
    const OLD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/fraud:6";

    fn client(rules: &[&Rule], attempts: u32) -> aws_sdk_ecs::Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
        for r in rules {
            interceptor = interceptor.with_rule(r);
        }
        let conf = aws_sdk_ecs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("k", "s", None, None, "test"))
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(attempts)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .build();
        aws_sdk_ecs::Client::from_conf(conf)
    }

    fn deployment(
        td: &str,
        status: &str,
        state: DeploymentRolloutState,
        running: i32,
        reason: &str,
    ) -> Deployment {
        Deployment::builder()
            .status(status)
            .task_definition(td)
            .rollout_state(state)
            .rollout_state_reason(reason)
            .running_count(running)
            .desired_count(2)
            .build()
    }

    fn services(deployments: Vec<Deployment>, running: i32) -> DescribeServicesOutput {
        DescribeServicesOutput::builder()
            .services(
                Service::builder()
                    .service_name("fraud")
                    .status("ACTIVE")
                    .running_count(running)
                    .desired_count(2)
                    .set_deployments(Some(deployments))
                    .build(),
            )
            .build()
    }

    fn wait(timeout_ms: u64) -> ReleaseWait {
        ReleaseWait {
            cluster: "serving".into(),
            service: "fraud".into(),
            task_definition: NEW.into(),
            timeout: Duration::from_millis(timeout_ms),
            poll: Duration::from_millis(2),
        }
    }

    #[tokio::test]
    async fn completes_when_primary_runs_the_new_revision() {
        let rule = mock!(aws_sdk_ecs::Client::describe_services)
            .sequence()
            .output(|| {
                services(
                    vec![
                        deployment(NEW, "PRIMARY", DeploymentRolloutState::InProgress, 0, ""),
                        deployment(OLD, "ACTIVE", DeploymentRolloutState::Completed, 2, ""),
                    ],
                    2,
                )
            })
            .times(3)
            .output(|| {
                services(
                    vec![deployment(
                        NEW,
                        "PRIMARY",
                        DeploymentRolloutState::Completed,
                        2,
                        "",
                    )],
                    2,
                )
            })
            .build();
        let ecs = client(&[&rule], 1);
        wait_for_release(&ecs, &wait(5_000)).await.unwrap();
        assert_eq!(rule.num_calls(), 4, "polled until COMPLETED");
    }

    #[tokio::test]
    async fn circuit_breaker_rollback_fails_loudly() {
        let rule = mock!(aws_sdk_ecs::Client::describe_services)
            .sequence()
            .output(|| {
                services(
                    vec![
                        deployment(NEW, "PRIMARY", DeploymentRolloutState::InProgress, 0, ""),
                        deployment(OLD, "ACTIVE", DeploymentRolloutState::Completed, 2, ""),
                    ],
                    2,
                )
            })
            .output(|| {
                // Stable again — on the old revision. The services-stable waiter calls this success.
                services(
                    vec![
                        deployment(OLD, "PRIMARY", DeploymentRolloutState::Completed, 2, ""),
                        deployment(
                            NEW,
                            "ACTIVE",
                            DeploymentRolloutState::Failed,
                            0,
                            "ECS deployment circuit breaker: tasks failed to start.",
                        ),
                    ],
                    2,
                )
            })
            .build();
        let ecs = client(&[&rule], 1);
        let err = wait_for_release(&ecs, &wait(5_000)).await.unwrap_err();
        assert!(
            matches!(err.kind, ErrorKind::RolloutFailed { .. }),
            "{err:?}"
        );
        assert_eq!(
            err.message,
            format!(
                "ECS rolled back to {OLD}: ECS deployment circuit breaker: tasks failed to start."
            )
        );
    }

    #[tokio::test]
    async fn times_out_while_rollout_stays_in_progress() {
        let rule = mock!(aws_sdk_ecs::Client::describe_services)
            .sequence()
            .output(|| {
                services(
                    vec![deployment(
                        NEW,
                        "PRIMARY",
                        DeploymentRolloutState::InProgress,
                        1,
                        "",
                    )],
                    1,
                )
            })
            .repeatedly()
            .build();
        let ecs = client(&[&rule], 1);
        let err = wait_for_release(&ecs, &wait(40)).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Timeout);
        assert!(
            err.message.contains("rollout IN_PROGRESS, running 1/2"),
            "{}",
            err.message
        );
        assert!(rule.num_calls() >= 2);
    }

    #[tokio::test]
    async fn throttling_then_success() {
        let throttle = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
        let rule = mock!(aws_sdk_ecs::Client::describe_services)
            .sequence()
            .http_status(400, Some(throttle.to_string()))
            .times(3)
            .output(|| {
                services(
                    vec![deployment(
                        NEW,
                        "PRIMARY",
                        DeploymentRolloutState::Completed,
                        2,
                        "",
                    )],
                    2,
                )
            })
            .build();
        // Two attempts per call: the first call exhausts its retries on throttling, the loop
        // keeps polling, the second call retries once and succeeds.
        let ecs = client(&[&rule], 2);
        wait_for_release(&ecs, &wait(5_000)).await.unwrap();
        assert_eq!(rule.num_calls(), 4);
    }

    #[test]
    fn judge_in_progress_is_pending() {
        let s = services(
            vec![deployment(
                NEW,
                "PRIMARY",
                DeploymentRolloutState::InProgress,
                0,
                "",
            )],
            0,
        );
        assert!(matches!(judge(&s.services()[0], NEW), Verdict::Pending(_)));
    }
}
