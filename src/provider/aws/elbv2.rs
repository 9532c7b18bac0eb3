//! Elastic Load Balancing v2 (a gateway's `load_balancer` and `lb_listener`s, a routed
//! endpoint's `target_group` and `listener_rule`): create with tags, in-place updates
//! (SetSubnets, SetSecurityGroups, ModifyListener, ModifyTargetGroup, ModifyRule,
//! SetRulePriorities), deletes that treat a resource already gone as deleted, read-back in
//! batches (Describe* and DescribeTags by up to 20 ARNs), and lookups by name or by the
//! `pedestal:address` tag for crash adoption. Every recorded id is the resource's ARN.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, ForwardActionConfig,
    HostHeaderConditionConfig, Listener, LoadBalancer, LoadBalancerAttribute,
    LoadBalancerSchemeEnum, LoadBalancerTypeEnum, Matcher, PathPatternConditionConfig,
    ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum, Rule, RuleCondition,
    RulePriorityPair, Tag, TargetGroup, TargetGroupAttribute, TargetGroupTuple, TargetTypeEnum,
};

use super::AwsProvider;
use super::error::{deleted, map};
use crate::provider::attr;
use crate::provider::{
    Applied, ApplyResource, ErrorKind, Found, LeftBehind, ProviderError, TAG_ADDRESS,
};
use crate::resource::schema::lb_listener::{self as li, Attr as LI};
use crate::resource::schema::listener_rule::Attr as RU;
use crate::resource::schema::load_balancer::{self as lb, Attr as LB};
use crate::resource::schema::target_group::{self as tg, Attr as TG, HealthCheck as HC};
use crate::resource::{Attrs, ResourceKind, Value};

/// The most ARNs one Describe* or DescribeTags call takes.
pub const BATCH: usize = lb::BATCH;
/// How long a target group still in use (ECS deregistering its tasks) is retried on delete.
const IN_USE_TIMEOUT: Duration = Duration::from_secs(120);

fn elb_tags(attrs: &Attrs) -> Vec<Tag> {
    super::tag_pairs(attrs)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn tags_value(tags: &BTreeMap<String, String>) -> Value {
    Value::Map(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::str(v)))
            .collect(),
    )
}

fn strs(list: &[String]) -> Value {
    let mut v: Vec<String> = list.to_vec();
    v.sort();
    Value::List(v.into_iter().map(Value::String).collect())
}

fn sorted_strings(a: &Attrs, k: impl crate::resource::schema::AttrName) -> Vec<String> {
    let mut v = attr::strings(a, k);
    v.sort();
    v
}

/// Tags of up to [`BATCH`] resources, by ARN.
async fn describe_tags(
    p: &AwsProvider,
    arns: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, ProviderError> {
    let mut out = BTreeMap::new();
    for chunk in arns.chunks(BATCH) {
        let res = p
            .clients
            .elb
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| map("DescribeTags", e))?;
        for d in res.tag_descriptions() {
            let Some(arn) = d.resource_arn() else {
                continue;
            };
            out.insert(
                arn.to_string(),
                d.tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// Replaces a resource's tag set: keys removed, tags added or changed.
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
            .elb
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| map(&format!("RemoveTags {arn}"), e))?;
    }
    if !new.is_empty() {
        p.clients
            .elb
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(elb_tags(after)))
            .send()
            .await
            .map_err(|e| map(&format!("AddTags {arn}"), e))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Load balancers

fn idle_attribute(attrs: &Attrs) -> LoadBalancerAttribute {
    LoadBalancerAttribute::builder()
        .key("idle_timeout.timeout_seconds")
        .value(
            attr::int(attrs, LB::IdleTimeout)
                .unwrap_or(lb::DEFAULT_IDLE_TIMEOUT)
                .to_string(),
        )
        .build()
}

async fn describe_load_balancers(
    p: &AwsProvider,
    arns: Option<Vec<String>>,
    names: Option<Vec<String>>,
) -> Result<Vec<LoadBalancer>, ProviderError> {
    match p
        .clients
        .elb
        .describe_load_balancers()
        .set_load_balancer_arns(arns)
        .set_names(names)
        .send()
        .await
    {
        Ok(o) => Ok(o.load_balancers().to_vec()),
        Err(e) => {
            let err = map("DescribeLoadBalancers", e);
            if err.is_not_found() {
                Ok(Vec::new())
            } else {
                Err(err)
            }
        }
    }
}

fn lb_computed(attrs: &mut Attrs, l: &LoadBalancer) {
    for &k in LB::ALL {
        let v = match k {
            LB::Arn => l.load_balancer_arn(),
            LB::DnsName => l.dns_name(),
            LB::VpcId => l.vpc_id(),
            _ => continue,
        };
        if let Some(v) = v {
            attr::set(attrs, k, Value::str(v));
        }
    }
}

/// Creates an Application Load Balancer with its tags and idle timeout.
pub async fn create_load_balancer(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&r.attrs, LB::Name)?;
    let scheme = attr::str(&r.attrs, LB::Scheme).unwrap_or(lb::SCHEME_INTERNAL);
    let out = p
        .clients
        .elb
        .create_load_balancer()
        .name(name)
        .r#type(LoadBalancerTypeEnum::Application)
        .scheme(LoadBalancerSchemeEnum::from(scheme))
        .set_subnets(Some(attr::strings(&r.attrs, LB::Subnets)))
        .set_security_groups(Some(attr::strings(&r.attrs, LB::SecurityGroups)))
        .set_tags(Some(elb_tags(&r.attrs)))
        .send()
        .await
        .map_err(|e| map(&format!("CreateLoadBalancer {name}"), e))?;
    let Some(l) = out.load_balancers().first() else {
        return Err(ProviderError::other(format!(
            "CreateLoadBalancer {name}: no load balancer in the answer"
        ))
        .leaving(LeftBehind::Unknown));
    };
    let mut attrs = r.attrs.clone();
    lb_computed(&mut attrs, l);
    let arn = l.load_balancer_arn().unwrap_or_default().to_string();
    let applied = Applied {
        id: arn.clone(),
        attrs,
    };
    p.clients
        .elb
        .modify_load_balancer_attributes()
        .load_balancer_arn(&arn)
        .attributes(idle_attribute(&r.attrs))
        .send()
        .await
        .map_err(|e| {
            map(&format!("ModifyLoadBalancerAttributes {name}"), e)
                .leaving(LeftBehind::Resource(applied.clone()))
        })?;
    Ok(applied)
}

/// Sets a load balancer's subnets, security groups, idle timeout and tags where they changed.
pub async fn update_load_balancer(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let a = &after.attrs;
    if sorted_strings(before, LB::Subnets) != sorted_strings(a, LB::Subnets) {
        p.clients
            .elb
            .set_subnets()
            .load_balancer_arn(id)
            .set_subnets(Some(attr::strings(a, LB::Subnets)))
            .send()
            .await
            .map_err(|e| map(&format!("SetSubnets {id}"), e))?;
    }
    if sorted_strings(before, LB::SecurityGroups) != sorted_strings(a, LB::SecurityGroups) {
        p.clients
            .elb
            .set_security_groups()
            .load_balancer_arn(id)
            .set_security_groups(Some(attr::strings(a, LB::SecurityGroups)))
            .send()
            .await
            .map_err(|e| map(&format!("SetSecurityGroups {id}"), e))?;
    }
    if attr::changed(before, a, LB::IdleTimeout) {
        p.clients
            .elb
            .modify_load_balancer_attributes()
            .load_balancer_arn(id)
            .attributes(idle_attribute(a))
            .send()
            .await
            .map_err(|e| map(&format!("ModifyLoadBalancerAttributes {id}"), e))?;
    }
    retag(p, id, before, a).await?;
    let mut attrs = a.clone();
    if let Some(l) = describe_load_balancers(p, Some(vec![id.to_string()]), None)
        .await?
        .first()
    {
        lb_computed(&mut attrs, l);
    }
    Ok(Applied {
        id: id.to_string(),
        attrs,
    })
}

/// Deletes a load balancer (already gone counts as deleted).
pub async fn delete_load_balancer(p: &AwsProvider, id: &str) -> Result<(), ProviderError> {
    deleted(
        &format!("DeleteLoadBalancer {id}"),
        p.clients
            .elb
            .delete_load_balancer()
            .load_balancer_arn(id)
            .send()
            .await,
    )
}

/// The load balancer the desired name names, with its tags.
pub async fn find_load_balancer(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let name = attr::req_str(&r.attrs, LB::Name)?;
    let found = describe_load_balancers(p, None, Some(vec![name.to_string()])).await?;
    let Some(arn) = found.first().and_then(|l| l.load_balancer_arn()) else {
        return Ok(None);
    };
    let tags = describe_tags(p, &[arn.to_string()]).await?;
    Ok(Some(Found {
        id: arn.to_string(),
        tags: tags.get(arn).cloned().unwrap_or_default(),
    }))
}

/// Live attributes of load balancers by ARN (the recorded id), in request order.
pub async fn read_load_balancers(
    p: &AwsProvider,
    items: &[(&str, &Attrs)],
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(BATCH) {
        let (arns, by_name): (Vec<_>, Vec<_>) =
            chunk.iter().partition(|(id, _)| id.starts_with("arn:"));
        let mut live: BTreeMap<String, LoadBalancer> = BTreeMap::new();
        // One call per way of naming them (imports may name a load balancer).
        for (list, names) in [(arns, false), (by_name, true)] {
            if list.is_empty() {
                continue;
            }
            let ids: Vec<String> = list.iter().map(|(id, _)| id.to_string()).collect();
            let found = if names {
                // DescribeLoadBalancers fails the whole call for one missing name: ask one by one.
                let mut v = Vec::new();
                for n in &ids {
                    v.extend(describe_load_balancers(p, None, Some(vec![n.clone()])).await?);
                }
                v
            } else {
                let mut v = Vec::new();
                // A missing ARN fails the whole call too: retry one by one when that happens.
                let all = describe_load_balancers(p, Some(ids.clone()), None).await?;
                if all.len() == ids.len() {
                    v = all;
                } else {
                    for a in &ids {
                        v.extend(describe_load_balancers(p, Some(vec![a.clone()]), None).await?);
                    }
                }
                v
            };
            for l in found {
                if let Some(arn) = l.load_balancer_arn() {
                    live.insert(arn.to_string(), l.clone());
                }
                if let Some(n) = l.load_balancer_name() {
                    live.insert(n.to_string(), l.clone());
                }
            }
        }
        let arns: Vec<String> = chunk
            .iter()
            .filter_map(|(id, _)| {
                live.get(*id)
                    .and_then(|l| l.load_balancer_arn())
                    .map(str::to_string)
            })
            .collect();
        let tags = describe_tags(p, &arns).await?;
        for (id, recorded) in chunk {
            out.push(live.get(*id).map(|l| {
                let arn = l.load_balancer_arn().unwrap_or_default();
                read_back_lb(l, tags.get(arn), recorded)
            }));
        }
    }
    Ok(out)
}

fn read_back_lb(
    l: &LoadBalancer,
    tags: Option<&BTreeMap<String, String>>,
    recorded: &Attrs,
) -> Attrs {
    let mut a = recorded.clone();
    for &k in LB::ALL {
        match k {
            LB::Name => {
                if let Some(n) = l.load_balancer_name() {
                    attr::set(&mut a, k, Value::str(n));
                }
            }
            LB::Scheme => {
                if let Some(s) = l.scheme() {
                    attr::set(&mut a, k, Value::str(s.as_str()));
                }
            }
            LB::Subnets => {
                let mut subnets: Vec<String> = l
                    .availability_zones()
                    .iter()
                    .filter_map(|z| z.subnet_id().map(str::to_string))
                    .collect();
                subnets.sort();
                if subnets != sorted_strings(recorded, k) {
                    attr::set(&mut a, k, strs(&subnets));
                }
            }
            LB::SecurityGroups => {
                let mut live = l.security_groups().to_vec();
                live.sort();
                if live != sorted_strings(recorded, k) {
                    attr::set(&mut a, k, strs(&live));
                }
            }
            LB::Tags => {
                if let Some(t) = tags {
                    attr::set(&mut a, k, tags_value(t));
                }
            }
            LB::Arn | LB::DnsName | LB::VpcId => {
                let v = match k {
                    LB::Arn => l.load_balancer_arn(),
                    LB::DnsName => l.dns_name(),
                    _ => l.vpc_id(),
                };
                if let Some(v) = v {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            // Read with the load balancer's attributes, which refresh does not fetch: the
            // recorded value stands.
            LB::IdleTimeout => {}
        }
    }
    a
}

// ---------------------------------------------------------------------------------------------
// Listeners

fn default_actions(attrs: &Attrs) -> Vec<Action> {
    match attr::str(attrs, LI::DefaultAction) {
        Some(li::ACTION_REDIRECT_HTTPS) => vec![
            Action::builder()
                .r#type(ActionTypeEnum::Redirect)
                .redirect_config(
                    RedirectActionConfig::builder()
                        .protocol("HTTPS")
                        .port("443")
                        .status_code(RedirectActionStatusCodeEnum::Http301)
                        .build(),
                )
                .build(),
        ],
        _ => vec![
            Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    FixedResponseActionConfig::builder()
                        .status_code("404")
                        .content_type("text/plain")
                        .message_body(li::NOT_FOUND_BODY)
                        .build(),
                )
                .build(),
        ],
    }
}

fn certificates(attrs: &Attrs) -> Option<Vec<Certificate>> {
    attr::str(attrs, LI::CertificateArn)
        .filter(|c| !c.is_empty())
        .map(|c| vec![Certificate::builder().certificate_arn(c).build()])
}

/// Creates a listener with its default action and tags.
pub async fn create_listener(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let lb_arn = attr::req_str(&r.attrs, LI::LoadBalancerArn)?;
    let port = attr::int(&r.attrs, LI::Port)
        .ok_or_else(|| ProviderError::invalid(format!("attribute `{}` is required", LI::Port)))?;
    let protocol = attr::str(&r.attrs, LI::Protocol).unwrap_or(li::PROTOCOL_HTTP);
    let out = p
        .clients
        .elb
        .create_listener()
        .load_balancer_arn(lb_arn)
        .port(port as i32)
        .protocol(ProtocolEnum::from(protocol))
        .set_certificates(certificates(&r.attrs))
        .set_default_actions(Some(default_actions(&r.attrs)))
        .set_tags(Some(elb_tags(&r.attrs)))
        .send()
        .await
        .map_err(|e| map(&format!("CreateListener {lb_arn}:{port}"), e))?;
    let arn = out
        .listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .unwrap_or_default()
        .to_string();
    let mut attrs = r.attrs.clone();
    attr::set(&mut attrs, LI::Arn, Value::str(&arn));
    Ok(Applied { id: arn, attrs })
}

/// Changes a listener's protocol, certificate, default action and tags where they changed.
pub async fn update_listener(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let a = &after.attrs;
    if [LI::Protocol, LI::CertificateArn, LI::DefaultAction]
        .into_iter()
        .any(|k| attr::changed(before, a, k))
    {
        p.clients
            .elb
            .modify_listener()
            .listener_arn(id)
            .protocol(ProtocolEnum::from(
                attr::str(a, LI::Protocol).unwrap_or(li::PROTOCOL_HTTP),
            ))
            .set_certificates(certificates(a))
            .set_default_actions(Some(default_actions(a)))
            .send()
            .await
            .map_err(|e| map(&format!("ModifyListener {id}"), e))?;
    }
    retag(p, id, before, a).await?;
    let mut attrs = a.clone();
    attr::set(&mut attrs, LI::Arn, Value::str(id));
    Ok(Applied {
        id: id.to_string(),
        attrs,
    })
}

/// Deletes a listener (already gone counts as deleted).
pub async fn delete_listener(p: &AwsProvider, id: &str) -> Result<(), ProviderError> {
    deleted(
        &format!("DeleteListener {id}"),
        p.clients
            .elb
            .delete_listener()
            .listener_arn(id)
            .send()
            .await,
    )
}

/// The listener on the desired port of the desired load balancer, with its tags.
pub async fn find_listener(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let Some(lb_arn) = attr::str(&r.attrs, LI::LoadBalancerArn) else {
        return Ok(None);
    };
    let port = attr::int(&r.attrs, LI::Port);
    let listeners = match p
        .clients
        .elb
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .send()
        .await
    {
        Ok(o) => o.listeners().to_vec(),
        Err(e) => {
            let err = map(&format!("DescribeListeners {lb_arn}"), e);
            return if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            };
        }
    };
    let Some(arn) = listeners
        .iter()
        .find(|l| l.port().map(i64::from) == port)
        .and_then(|l| l.listener_arn())
    else {
        return Ok(None);
    };
    let tags = describe_tags(p, &[arn.to_string()]).await?;
    Ok(Some(Found {
        id: arn.to_string(),
        tags: tags.get(arn).cloned().unwrap_or_default(),
    }))
}

/// Live attributes of listeners by ARN, in request order.
pub async fn read_listeners(
    p: &AwsProvider,
    items: &[(&str, &Attrs)],
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(BATCH) {
        let ids: Vec<String> = chunk.iter().map(|(id, _)| id.to_string()).collect();
        let mut live: BTreeMap<String, Listener> = BTreeMap::new();
        let all = describe_listeners(p, ids.clone()).await?;
        let found = if all.len() == ids.len() {
            all
        } else {
            let mut v = Vec::new();
            for a in &ids {
                v.extend(describe_listeners(p, vec![a.clone()]).await?);
            }
            v
        };
        for l in found {
            if let Some(arn) = l.listener_arn() {
                live.insert(arn.to_string(), l.clone());
            }
        }
        let arns: Vec<String> = live.keys().cloned().collect();
        let tags = describe_tags(p, &arns).await?;
        for (id, recorded) in chunk {
            out.push(
                live.get(*id)
                    .map(|l| read_back_listener(l, tags.get(*id), recorded)),
            );
        }
    }
    Ok(out)
}

async fn describe_listeners(
    p: &AwsProvider,
    arns: Vec<String>,
) -> Result<Vec<Listener>, ProviderError> {
    match p
        .clients
        .elb
        .describe_listeners()
        .set_listener_arns(Some(arns))
        .send()
        .await
    {
        Ok(o) => Ok(o.listeners().to_vec()),
        Err(e) => {
            let err = map("DescribeListeners", e);
            if err.is_not_found() {
                Ok(Vec::new())
            } else {
                Err(err)
            }
        }
    }
}

fn read_back_listener(
    l: &Listener,
    tags: Option<&BTreeMap<String, String>>,
    recorded: &Attrs,
) -> Attrs {
    let mut a = recorded.clone();
    for &k in LI::ALL {
        match k {
            LI::LoadBalancerArn => {
                if let Some(v) = l.load_balancer_arn() {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            LI::Port => {
                if let Some(v) = l.port() {
                    attr::set(&mut a, k, Value::Int(i64::from(v)));
                }
            }
            LI::Protocol => {
                if let Some(v) = l.protocol() {
                    attr::set(&mut a, k, Value::str(v.as_str()));
                }
            }
            LI::CertificateArn => {
                let live = l.certificates().first().and_then(|c| c.certificate_arn());
                attr::set(&mut a, k, live.map_or(Value::Null, Value::str));
            }
            LI::DefaultAction => {
                let live = match l.default_actions().first().and_then(|x| x.r#type()) {
                    Some(ActionTypeEnum::Redirect) => li::ACTION_REDIRECT_HTTPS,
                    _ => li::ACTION_FIXED_404,
                };
                attr::set(&mut a, k, Value::str(live));
            }
            LI::Tags => {
                if let Some(t) = tags {
                    attr::set(&mut a, k, tags_value(t));
                }
            }
            LI::Arn => {
                if let Some(v) = l.listener_arn() {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            // pedestal's own name, never sent.
            LI::Name => {}
        }
    }
    a
}

// ---------------------------------------------------------------------------------------------
// Target groups

fn health(attrs: &Attrs) -> Attrs {
    attr::map(attrs, TG::HealthCheck)
        .cloned()
        .unwrap_or_default()
}

/// Creates a target group with its health check, tags and deregistration delay.
pub async fn create_target_group(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&r.attrs, TG::Name)?;
    let h = health(&r.attrs);
    let port = attr::int(&r.attrs, TG::Port)
        .ok_or_else(|| ProviderError::invalid(format!("attribute `{}` is required", TG::Port)))?;
    let out = p
        .clients
        .elb
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::from(
            attr::str(&r.attrs, TG::Protocol).unwrap_or(tg::PROTOCOL_HTTP),
        ))
        .port(port as i32)
        .target_type(TargetTypeEnum::from(
            attr::str(&r.attrs, TG::TargetType).unwrap_or(tg::TARGET_TYPE_IP),
        ))
        .set_vpc_id(attr::str(&r.attrs, TG::VpcId).map(str::to_string))
        .health_check_enabled(true)
        .set_health_check_path(attr::str(&h, HC::Path).map(str::to_string))
        .set_health_check_interval_seconds(attr::int(&h, HC::Interval).map(|x| x as i32))
        .set_health_check_timeout_seconds(attr::int(&h, HC::Timeout).map(|x| x as i32))
        .set_healthy_threshold_count(attr::int(&h, HC::HealthyThreshold).map(|x| x as i32))
        .set_unhealthy_threshold_count(attr::int(&h, HC::UnhealthyThreshold).map(|x| x as i32))
        .set_matcher(attr::str(&h, HC::Matcher).map(|m| Matcher::builder().http_code(m).build()))
        .set_tags(Some(elb_tags(&r.attrs)))
        .send()
        .await
        .map_err(|e| map(&format!("CreateTargetGroup {name}"), e))?;
    let arn = out
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .unwrap_or_default()
        .to_string();
    let mut attrs = r.attrs.clone();
    attr::set(&mut attrs, TG::Arn, Value::str(&arn));
    let applied = Applied {
        id: arn.clone(),
        attrs,
    };
    set_deregistration_delay(p, &arn, &r.attrs)
        .await
        .map_err(|e| e.leaving(LeftBehind::Resource(applied.clone())))?;
    Ok(applied)
}

async fn set_deregistration_delay(
    p: &AwsProvider,
    arn: &str,
    attrs: &Attrs,
) -> Result<(), ProviderError> {
    let delay =
        attr::int(attrs, TG::DeregistrationDelay).unwrap_or(tg::DEFAULT_DEREGISTRATION_DELAY);
    p.clients
        .elb
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(
            TargetGroupAttribute::builder()
                .key(tg::ATTR_DEREGISTRATION_DELAY)
                .value(delay.to_string())
                .build(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| map(&format!("ModifyTargetGroupAttributes {arn}"), e))
}

/// Changes a target group's health check, deregistration delay and tags where they changed.
pub async fn update_target_group(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let a = &after.attrs;
    if attr::changed(before, a, TG::HealthCheck) {
        let h = health(a);
        p.clients
            .elb
            .modify_target_group()
            .target_group_arn(id)
            .health_check_enabled(true)
            .set_health_check_path(attr::str(&h, HC::Path).map(str::to_string))
            .set_health_check_interval_seconds(attr::int(&h, HC::Interval).map(|x| x as i32))
            .set_health_check_timeout_seconds(attr::int(&h, HC::Timeout).map(|x| x as i32))
            .set_healthy_threshold_count(attr::int(&h, HC::HealthyThreshold).map(|x| x as i32))
            .set_unhealthy_threshold_count(attr::int(&h, HC::UnhealthyThreshold).map(|x| x as i32))
            .set_matcher(
                attr::str(&h, HC::Matcher).map(|m| Matcher::builder().http_code(m).build()),
            )
            .send()
            .await
            .map_err(|e| map(&format!("ModifyTargetGroup {id}"), e))?;
    }
    if attr::changed(before, a, TG::DeregistrationDelay) {
        set_deregistration_delay(p, id, a).await?;
    }
    retag(p, id, before, a).await?;
    let mut attrs = a.clone();
    attr::set(&mut attrs, TG::Arn, Value::str(id));
    Ok(Applied {
        id: id.to_string(),
        attrs,
    })
}

/// Deletes a target group, retrying while it is still in use (a listener rule or a service
/// being deleted still holds it).
pub async fn delete_target_group(p: &AwsProvider, id: &str) -> Result<(), ProviderError> {
    let started = Instant::now();
    loop {
        let r = deleted(
            &format!("DeleteTargetGroup {id}"),
            p.clients
                .elb
                .delete_target_group()
                .target_group_arn(id)
                .send()
                .await,
        );
        match r {
            Err(e) if e.kind == ErrorKind::Conflict && started.elapsed() < IN_USE_TIMEOUT => {
                tokio::time::sleep(p.opts.poll_interval.min(Duration::from_secs(5))).await;
            }
            other => return other,
        }
    }
}

async fn describe_target_groups(
    p: &AwsProvider,
    arns: Option<Vec<String>>,
    names: Option<Vec<String>>,
) -> Result<Vec<TargetGroup>, ProviderError> {
    match p
        .clients
        .elb
        .describe_target_groups()
        .set_target_group_arns(arns)
        .set_names(names)
        .send()
        .await
    {
        Ok(o) => Ok(o.target_groups().to_vec()),
        Err(e) => {
            let err = map("DescribeTargetGroups", e);
            if err.is_not_found() {
                Ok(Vec::new())
            } else {
                Err(err)
            }
        }
    }
}

/// The target group the desired name names, with its tags.
pub async fn find_target_group(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let name = attr::req_str(&r.attrs, TG::Name)?;
    let found = describe_target_groups(p, None, Some(vec![name.to_string()])).await?;
    let Some(arn) = found.first().and_then(|t| t.target_group_arn()) else {
        return Ok(None);
    };
    let tags = describe_tags(p, &[arn.to_string()]).await?;
    Ok(Some(Found {
        id: arn.to_string(),
        tags: tags.get(arn).cloned().unwrap_or_default(),
    }))
}

/// Live attributes of target groups by ARN (or name, for imports), in request order.
pub async fn read_target_groups(
    p: &AwsProvider,
    items: &[(&str, &Attrs)],
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(BATCH) {
        let mut live: BTreeMap<String, TargetGroup> = BTreeMap::new();
        let arns: Vec<String> = chunk
            .iter()
            .filter(|(id, _)| id.starts_with("arn:"))
            .map(|(id, _)| id.to_string())
            .collect();
        let mut found = Vec::new();
        if !arns.is_empty() {
            let all = describe_target_groups(p, Some(arns.clone()), None).await?;
            if all.len() == arns.len() {
                found = all;
            } else {
                for a in &arns {
                    found.extend(describe_target_groups(p, Some(vec![a.clone()]), None).await?);
                }
            }
        }
        for (id, _) in chunk.iter().filter(|(id, _)| !id.starts_with("arn:")) {
            found.extend(describe_target_groups(p, None, Some(vec![id.to_string()])).await?);
        }
        for t in found {
            if let Some(arn) = t.target_group_arn() {
                live.insert(arn.to_string(), t.clone());
            }
            if let Some(n) = t.target_group_name() {
                live.insert(n.to_string(), t.clone());
            }
        }
        let tag_arns: Vec<String> = chunk
            .iter()
            .filter_map(|(id, _)| {
                live.get(*id)
                    .and_then(|t| t.target_group_arn())
                    .map(str::to_string)
            })
            .collect();
        let tags = describe_tags(p, &tag_arns).await?;
        for (id, recorded) in chunk {
            out.push(live.get(*id).map(|t| {
                let arn = t.target_group_arn().unwrap_or_default();
                read_back_tg(t, tags.get(arn), recorded)
            }));
        }
    }
    Ok(out)
}

fn read_back_tg(
    t: &TargetGroup,
    tags: Option<&BTreeMap<String, String>>,
    recorded: &Attrs,
) -> Attrs {
    let mut a = recorded.clone();
    for &k in TG::ALL {
        match k {
            TG::Name => {
                if let Some(v) = t.target_group_name() {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            TG::Port => {
                if let Some(v) = t.port() {
                    attr::set(&mut a, k, Value::Int(i64::from(v)));
                }
            }
            TG::Protocol => {
                if let Some(v) = t.protocol() {
                    attr::set(&mut a, k, Value::str(v.as_str()));
                }
            }
            TG::TargetType => {
                if let Some(v) = t.target_type() {
                    attr::set(&mut a, k, Value::str(v.as_str()));
                }
            }
            TG::VpcId => {
                if let Some(v) = t.vpc_id() {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            TG::HealthCheck => {
                let mut h = health(recorded);
                for &hk in HC::ALL {
                    let v = match hk {
                        HC::Path => t.health_check_path().map(Value::str),
                        HC::Interval => t
                            .health_check_interval_seconds()
                            .map(|x| Value::Int(x.into())),
                        HC::Timeout => t
                            .health_check_timeout_seconds()
                            .map(|x| Value::Int(x.into())),
                        HC::HealthyThreshold => {
                            t.healthy_threshold_count().map(|x| Value::Int(x.into()))
                        }
                        HC::UnhealthyThreshold => {
                            t.unhealthy_threshold_count().map(|x| Value::Int(x.into()))
                        }
                        HC::Matcher => t.matcher().and_then(|m| m.http_code()).map(Value::str),
                    };
                    if let Some(v) = v {
                        attr::set(&mut h, hk, v);
                    }
                }
                attr::set(&mut a, k, Value::Map(h));
            }
            TG::Tags => {
                if let Some(tags) = tags {
                    attr::set(&mut a, k, tags_value(tags));
                }
            }
            TG::Arn => {
                if let Some(v) = t.target_group_arn() {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            // A target group attribute refresh does not fetch: the recorded value stands.
            TG::DeregistrationDelay => {}
        }
    }
    a
}

// ---------------------------------------------------------------------------------------------
// Listener rules

fn conditions(attrs: &Attrs) -> Vec<RuleCondition> {
    let mut out = Vec::new();
    let paths = attr::strings(attrs, RU::PathPatterns);
    if !paths.is_empty() {
        out.push(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(
                    PathPatternConditionConfig::builder()
                        .set_values(Some(paths))
                        .build(),
                )
                .build(),
        );
    }
    let hosts = attr::strings(attrs, RU::Hosts);
    if !hosts.is_empty() {
        out.push(
            RuleCondition::builder()
                .field("host-header")
                .host_header_config(
                    HostHeaderConditionConfig::builder()
                        .set_values(Some(hosts))
                        .build(),
                )
                .build(),
        );
    }
    out
}

/// Forward to the target group; with an alternate one, to both weighted 100/0 (ECS shifts
/// the weights during a release).
fn rule_actions(attrs: &Attrs) -> Result<Vec<Action>, ProviderError> {
    let target = attr::req_str(attrs, RU::TargetGroupArn)?;
    let action = match attr::str(attrs, RU::AlternateTargetGroupArn).filter(|s| !s.is_empty()) {
        Some(alt) => Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn(target)
                            .weight(100)
                            .build(),
                    )
                    .target_groups(
                        TargetGroupTuple::builder()
                            .target_group_arn(alt)
                            .weight(0)
                            .build(),
                    )
                    .build(),
            )
            .build(),
        None => Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(target)
            .build(),
    };
    Ok(vec![action])
}

/// Creates a listener rule with its conditions, forward action and tags.
pub async fn create_rule(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let listener = attr::req_str(&r.attrs, RU::ListenerArn)?;
    let priority = attr::int(&r.attrs, RU::Priority).ok_or_else(|| {
        ProviderError::invalid(format!("attribute `{}` is required", RU::Priority))
    })?;
    let out = p
        .clients
        .elb
        .create_rule()
        .listener_arn(listener)
        .priority(priority as i32)
        .set_conditions(Some(conditions(&r.attrs)))
        .set_actions(Some(rule_actions(&r.attrs)?))
        .set_tags(Some(elb_tags(&r.attrs)))
        .send()
        .await
        .map_err(|e| map(&format!("CreateRule {listener} priority {priority}"), e))?;
    let arn = out
        .rules()
        .first()
        .and_then(|x| x.rule_arn())
        .unwrap_or_default()
        .to_string();
    let mut attrs = r.attrs.clone();
    attr::set(&mut attrs, RU::Arn, Value::str(&arn));
    Ok(Applied { id: arn, attrs })
}

/// Changes a rule's priority, conditions, actions and tags where they changed.
pub async fn update_rule(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let a = &after.attrs;
    if attr::changed(before, a, RU::Priority)
        && let Some(priority) = attr::int(a, RU::Priority)
    {
        p.clients
            .elb
            .set_rule_priorities()
            .rule_priorities(
                RulePriorityPair::builder()
                    .rule_arn(id)
                    .priority(priority as i32)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| map(&format!("SetRulePriorities {id}"), e))?;
    }
    if [
        RU::PathPatterns,
        RU::Hosts,
        RU::TargetGroupArn,
        RU::AlternateTargetGroupArn,
    ]
    .into_iter()
    .any(|k| attr::changed(before, a, k))
    {
        p.clients
            .elb
            .modify_rule()
            .rule_arn(id)
            .set_conditions(Some(conditions(a)))
            .set_actions(Some(rule_actions(a)?))
            .send()
            .await
            .map_err(|e| map(&format!("ModifyRule {id}"), e))?;
    }
    retag(p, id, before, a).await?;
    let mut attrs = a.clone();
    attr::set(&mut attrs, RU::Arn, Value::str(id));
    Ok(Applied {
        id: id.to_string(),
        attrs,
    })
}

/// Deletes a listener rule (already gone counts as deleted).
pub async fn delete_rule(p: &AwsProvider, id: &str) -> Result<(), ProviderError> {
    deleted(
        &format!("DeleteRule {id}"),
        p.clients.elb.delete_rule().rule_arn(id).send().await,
    )
}

/// The rule of this address on its listener (by the `pedestal:address` tag).
pub async fn find_rule(p: &AwsProvider, r: &ApplyResource) -> Result<Option<Found>, ProviderError> {
    let Some(listener) = attr::str(&r.attrs, RU::ListenerArn) else {
        return Ok(None);
    };
    let rules = match p
        .clients
        .elb
        .describe_rules()
        .listener_arn(listener)
        .send()
        .await
    {
        Ok(o) => o.rules().to_vec(),
        Err(e) => {
            let err = map(&format!("DescribeRules {listener}"), e);
            return if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            };
        }
    };
    let arns: Vec<String> = rules
        .iter()
        .filter(|x| !x.is_default().unwrap_or(false))
        .filter_map(|x| x.rule_arn().map(str::to_string))
        .collect();
    let tags = describe_tags(p, &arns).await?;
    // The rule tagged with this address; else one at the wanted priority (someone else's).
    if let Some((arn, t)) = tags
        .iter()
        .find(|(_, t)| t.get(TAG_ADDRESS).map(String::as_str) == Some(r.address.as_str()))
    {
        return Ok(Some(Found {
            id: arn.clone(),
            tags: t.clone(),
        }));
    }
    let priority = attr::int(&r.attrs, RU::Priority).map(|x| x.to_string());
    Ok(rules
        .iter()
        .find(|x| x.priority().map(str::to_string) == priority)
        .and_then(|x| x.rule_arn())
        .map(|arn| Found {
            id: arn.to_string(),
            tags: tags.get(arn).cloned().unwrap_or_default(),
        }))
}

/// Live attributes of listener rules by ARN, in request order.
pub async fn read_rules(
    p: &AwsProvider,
    items: &[(&str, &Attrs)],
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(BATCH) {
        let ids: Vec<String> = chunk.iter().map(|(id, _)| id.to_string()).collect();
        let all = describe_rules(p, ids.clone()).await?;
        let found = if all.len() == ids.len() {
            all
        } else {
            let mut v = Vec::new();
            for a in &ids {
                v.extend(describe_rules(p, vec![a.clone()]).await?);
            }
            v
        };
        let live: BTreeMap<String, Rule> = found
            .into_iter()
            .filter_map(|x| Some((x.rule_arn()?.to_string(), x)))
            .collect();
        let arns: Vec<String> = live.keys().cloned().collect();
        let tags = describe_tags(p, &arns).await?;
        for (id, recorded) in chunk {
            out.push(
                live.get(*id)
                    .map(|x| read_back_rule(x, tags.get(*id), recorded)),
            );
        }
    }
    Ok(out)
}

async fn describe_rules(p: &AwsProvider, arns: Vec<String>) -> Result<Vec<Rule>, ProviderError> {
    match p
        .clients
        .elb
        .describe_rules()
        .set_rule_arns(Some(arns))
        .send()
        .await
    {
        Ok(o) => Ok(o.rules().to_vec()),
        Err(e) => {
            let err = map("DescribeRules", e);
            if err.is_not_found() {
                Ok(Vec::new())
            } else {
                Err(err)
            }
        }
    }
}

/// The values of a rule's condition on `field`, sorted.
fn condition_values(x: &Rule, field: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in x.conditions().iter().filter(|c| c.field() == Some(field)) {
        out.extend(c.values().iter().cloned());
        if let Some(pp) = c.path_pattern_config() {
            out.extend(pp.values().iter().cloned());
        }
        if let Some(h) = c.host_header_config() {
            out.extend(h.values().iter().cloned());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The target group a rule forwards to (the weighted one, or the only one) and the alternate.
fn forward_targets(x: &Rule) -> (Option<String>, Option<String>) {
    let Some(a) = x
        .actions()
        .iter()
        .find(|a| a.r#type() == Some(&ActionTypeEnum::Forward))
    else {
        return (None, None);
    };
    let tuples = a
        .forward_config()
        .map(|f| f.target_groups())
        .unwrap_or_default();
    if tuples.len() >= 2 {
        return (
            tuples[0].target_group_arn().map(str::to_string),
            tuples[1].target_group_arn().map(str::to_string),
        );
    }
    let one = a
        .target_group_arn()
        .or_else(|| tuples.first().and_then(|t| t.target_group_arn()))
        .map(str::to_string);
    (one, None)
}

fn read_back_rule(x: &Rule, tags: Option<&BTreeMap<String, String>>, recorded: &Attrs) -> Attrs {
    let mut a = recorded.clone();
    let (target, alt) = forward_targets(x);
    for &k in RU::ALL {
        match k {
            RU::Priority => {
                if let Some(n) = x.priority().and_then(|s| s.parse::<i64>().ok()) {
                    attr::set(&mut a, k, Value::Int(n));
                }
            }
            RU::PathPatterns | RU::Hosts => {
                let field = if k == RU::PathPatterns {
                    "path-pattern"
                } else {
                    "host-header"
                };
                let live = condition_values(x, field);
                if live != sorted_strings(recorded, k) {
                    attr::set(&mut a, k, strs(&live));
                }
            }
            // ECS shifts traffic between the two target groups of a blue/green, canary or
            // linear release: which one holds the weight is its business, the pair is what
            // pedestal set. A pair that is still the recorded pair is no drift.
            RU::TargetGroupArn | RU::AlternateTargetGroupArn => {
                let rec_pair = {
                    let mut v: Vec<String> = [RU::TargetGroupArn, RU::AlternateTargetGroupArn]
                        .iter()
                        .filter_map(|&r| attr::str(recorded, r).map(str::to_string))
                        .collect();
                    v.sort();
                    v
                };
                let mut live_pair: Vec<String> = target.iter().chain(alt.iter()).cloned().collect();
                live_pair.sort();
                if live_pair != rec_pair {
                    let v = if k == RU::TargetGroupArn {
                        &target
                    } else {
                        &alt
                    };
                    attr::set(&mut a, k, v.as_deref().map_or(Value::Null, Value::str));
                }
            }
            RU::Tags => {
                if let Some(t) = tags {
                    attr::set(&mut a, k, tags_value(t));
                }
            }
            RU::Arn => {
                if let Some(v) = x.rule_arn() {
                    attr::set(&mut a, k, Value::str(v));
                }
            }
            // pedestal's own name; the listener is found by the rule's ARN.
            RU::Name | RU::ListenerArn => {}
        }
    }
    a
}

/// Which kinds this module serves (for the provider's dispatch and batched refresh).
pub fn serves(kind: ResourceKind) -> bool {
    matches!(
        kind,
        ResourceKind::LoadBalancer
            | ResourceKind::LbListener
            | ResourceKind::TargetGroup
            | ResourceKind::ListenerRule
    )
}
