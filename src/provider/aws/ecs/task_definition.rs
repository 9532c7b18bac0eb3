//! ECS task definitions: the container definition built from the schema, a new revision per
//! change (the newest few kept ACTIVE), every revision deregistered and deleted on destroy.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, HealthCheck, KeyValuePair, LogConfiguration, LogDriver,
    NetworkMode, PortMapping, ResourceRequirement, ResourceType, Secret, Tag, TaskDefinition,
    TaskDefinitionField, TaskDefinitionStatus, TransportProtocol,
};

use super::super::AwsProvider;
use super::super::error::map;
use super::{build_err, ecs_tags, tags_map, tags_value};
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, ErrorKind, LeftBehind, ProviderError};
use crate::resource::rules::ecs as ecs_rules;
use crate::resource::schema::ecs_task_definition::{
    Attr as A, Container as C, DEFAULT_COMPATIBILITY, DEFAULT_HEALTH_PATH, DEFAULT_PROBE_PORT,
    HealthCheck as H, Model as M, NETWORK_MODE_AWSVPC,
};
use crate::resource::{Attrs, Value};

/// The container definition for an endpoint's task definition.
fn container_definition(
    p: &AwsProvider,
    attrs: &Attrs,
) -> Result<ContainerDefinition, ProviderError> {
    let empty = Attrs::new();
    let c = attr::map(attrs, A::Container).unwrap_or(&empty);
    let family = attr::req_str(attrs, A::Family)?;
    let name = attr::str(c, C::Name).unwrap_or(family);
    let image = attr::req_str(c, C::Image)?;
    let mut b = ContainerDefinition::builder()
        .name(name)
        .image(image)
        .essential(true);
    let port = attr::int(c, C::Port);
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
    if let Some(m) = attr::map(attrs, A::Model) {
        for &k in M::ALL {
            if let Some(v) = attr::get(m, k).and_then(attr::reveal) {
                env.insert(k.env_var().to_string(), v);
            }
        }
    }
    if let Some(e) = attr::map(c, C::Environment) {
        for (k, v) in e {
            if let Some(v) = attr::reveal(v) {
                env.insert(k.to_string(), v);
            }
        }
    }
    for (k, v) in env {
        b = b.environment(KeyValuePair::builder().name(k.as_str()).value(v).build());
    }
    if let Some(s) = attr::map(c, C::Secrets) {
        for (k, v) in s {
            if let Some(v) = attr::reveal(v) {
                b = b.secrets(
                    Secret::builder()
                        .name(k.as_str())
                        .value_from(v)
                        .build()
                        .map_err(build_err)?,
                );
            }
        }
    }
    if let Some(hc) = attr::map(c, C::HealthCheck) {
        // Lowering renders the command; a bare `path` gets the usual curl probe (run without
        // a shell, and only for a plain URL path).
        let mut command = attr::strings(hc, H::Command);
        if command.is_empty() {
            let path = attr::str(hc, H::Path).unwrap_or(DEFAULT_HEALTH_PATH);
            if let Some(problem) = ecs_rules::health_path_problem(path) {
                return Err(ProviderError::invalid(format!(
                    "health check path: {problem}"
                )));
            }
            command = ecs_rules::health_command(port.unwrap_or(DEFAULT_PROBE_PORT), path);
        }
        let mut h = HealthCheck::builder().set_command(Some(command));
        if let Some(i) = attr::int_in(hc, H::Interval, &ecs_rules::HEALTH_INTERVAL)? {
            h = h.interval(i);
        }
        if let Some(r) = attr::int_in(hc, H::Retries, &ecs_rules::HEALTH_RETRIES)? {
            h = h.retries(r);
        }
        if let Some(t) = attr::int_in(hc, H::Timeout, &ecs_rules::HEALTH_TIMEOUT)? {
            h = h.timeout(t);
        }
        if let Some(g) = attr::int_in(hc, H::StartPeriod, &ecs_rules::HEALTH_START_PERIOD)? {
            h = h.start_period(g);
        }
        b = b.health_check(h.build().map_err(build_err)?);
    }
    if let Some(group) = attr::str(c, C::LogGroup) {
        let region = attr::str(c, C::Region).unwrap_or(&p.region);
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
    let gpu = attr::int(attrs, A::Gpu).unwrap_or(0);
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

fn num_string(attrs: &Attrs, k: A) -> Option<String> {
    match attr::get(attrs, k) {
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
    let family = attr::req_str(&r.attrs, A::Family)?;
    let network_mode = attr::str(&r.attrs, A::NetworkMode).unwrap_or(NETWORK_MODE_AWSVPC);
    let mut compat = attr::strings(&r.attrs, A::RequiresCompatibilities);
    if compat.is_empty() {
        compat.push(DEFAULT_COMPATIBILITY.into());
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
        .set_cpu(num_string(&r.attrs, A::Cpu))
        .set_memory(num_string(&r.attrs, A::Memory))
        .set_execution_role_arn(attr::str(&r.attrs, A::ExecutionRole).map(str::to_string))
        .set_task_role_arn(attr::str(&r.attrs, A::TaskRole).map(str::to_string));
    let tags = ecs_tags(&r.attrs);
    if !tags.is_empty() {
        req = req.set_tags(Some(tags.clone()));
    }
    let out = super::while_role_propagates(&super::ROLE_PROPAGATION_DELAYS, || {
        let req = req.clone();
        async move {
            req.send()
                .await
                .map_err(|e| map(&format!("RegisterTaskDefinition {family}"), e))
        }
    })
    .await?;
    let td = out.task_definition().ok_or_else(|| {
        ProviderError::other(format!("RegisterTaskDefinition {family}: empty response"))
    })?;
    let arn = td.task_definition_arn().unwrap_or_default().to_string();
    let mut attrs = r.attrs.clone();
    attrs.insert(A::Arn.into(), Value::str(&arn));
    attrs.insert(A::Revision.into(), Value::Int(i64::from(td.revision())));
    let applied = Applied { id: arn, attrs };
    let left = |e: ProviderError| e.leaving(LeftBehind::Resource(applied.clone()));
    deregister_duplicates(p, family, td, &tags)
        .await
        .map_err(left)?;
    prune_revisions(p, family, &applied.id)
        .await
        .map_err(left)?;
    Ok(applied)
}

/// The ACTIVE revisions registered just before `td` with the very same definition and tags:
/// what an earlier attempt registered when its answer was lost (the SDK retried the call), or
/// what a crashed apply registered and state never learnt about. They are deregistered, newest
/// first, up to the first revision that differs (an older release, kept for rollbacks).
async fn deregister_duplicates(
    p: &AwsProvider,
    family: &str,
    td: &TaskDefinition,
    tags: &[Tag],
) -> Result<(), ProviderError> {
    let active = family_revisions(p, family, TaskDefinitionStatus::Active).await?;
    for (rev, arn) in active.iter().rev() {
        if *rev >= i64::from(td.revision()) {
            continue;
        }
        let out = p
            .clients
            .ecs
            .describe_task_definition()
            .task_definition(arn)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
            .map_err(|e| map(&format!("DescribeTaskDefinition {arn}"), e))?;
        let Some(old) = out.task_definition() else {
            break;
        };
        if !same_definition(old, td) || tags_map(out.tags()) != tags_map(tags) {
            break;
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

/// Whether two revisions register the same thing (everything pedestal sets).
fn same_definition(a: &TaskDefinition, b: &TaskDefinition) -> bool {
    a.family() == b.family()
        && a.container_definitions() == b.container_definitions()
        && a.cpu() == b.cpu()
        && a.memory() == b.memory()
        && a.execution_role_arn() == b.execution_role_arn()
        && a.task_role_arn() == b.task_role_arn()
        && a.network_mode() == b.network_mode()
        && a.requires_compatibilities() == b.requires_compatibilities()
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
    let family = match attr::str(attrs, A::Family) {
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

/// The task definition revision as ECS reports it (`None` when it is INACTIVE or gone).
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
    // Exhaustive: a new attribute has to say whether refresh reads it back.
    for &k in A::ALL {
        match k {
            A::Cpu | A::Memory => {
                let live = if k == A::Cpu { td.cpu() } else { td.memory() };
                if let Some(live) = live {
                    let v = match attr::get(recorded, k) {
                        Some(Value::Int(_)) => {
                            live.parse().map(Value::Int).unwrap_or(Value::str(live))
                        }
                        _ => Value::str(live),
                    };
                    attr::set(&mut a, k, v);
                }
            }
            A::Container => {
                if let (Some(Value::Map(c)), Some(cd)) =
                    (a.get_mut(k.as_str()), td.container_definitions().first())
                {
                    if let Some(img) = cd.image() {
                        c.insert(C::Image.into(), Value::str(img));
                    }
                    // Where each secret comes from (an import starts from references to the
                    // parameters pedestal makes).
                    if c.contains_key(C::Secrets.as_str()) || !cd.secrets().is_empty() {
                        let from = cd
                            .secrets()
                            .iter()
                            .map(|s| (s.name().to_string().into(), Value::str(s.value_from())))
                            .collect();
                        c.insert(C::Secrets.into(), Value::Map(from));
                    }
                }
            }
            A::Tags => {
                if !out.tags().is_empty() || recorded.contains_key(k.as_str()) {
                    attr::set(&mut a, k, tags_value(out.tags()));
                }
            }
            A::Arn => attr::set(
                &mut a,
                k,
                Value::str(td.task_definition_arn().unwrap_or(id)),
            ),
            A::Revision => attr::set(&mut a, k, Value::Int(i64::from(td.revision()))),
            // Read back so an import (whose record starts from the spec, where a role pedestal
            // makes is only a reference) holds the ARNs the revision runs with.
            A::ExecutionRole | A::TaskRole => {
                let live = if k == A::ExecutionRole {
                    td.execution_role_arn()
                } else {
                    td.task_role_arn()
                };
                if live.is_some() || recorded.contains_key(k.as_str()) {
                    attr::set(&mut a, k, live.map_or(Value::Null, Value::str));
                }
            }
            // A revision is immutable: what was registered is what it holds.
            A::Family | A::Gpu | A::NetworkMode | A::RequiresCompatibilities | A::Model => {}
        }
    }
    Ok(Some(a))
}
