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

mod listener;
mod load_balancer;
mod rule;
mod target_group;

pub use listener::*;
pub use load_balancer::*;
pub use rule::*;
pub use target_group::*;

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
            .map(|(k, v)| (k.into(), Value::str(v)))
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

/// The found resource at `arn`, with its tags (`None` without an ARN).
async fn found(p: &AwsProvider, arn: Option<&str>) -> Result<Option<Found>, ProviderError> {
    let Some(arn) = arn else { return Ok(None) };
    let tags = describe_tags(p, &[arn.to_string()]).await?;
    Ok(Some(Found {
        id: arn.to_string(),
        tags: tags.get(arn).cloned().unwrap_or_default(),
    }))
}

/// Describes `ids` in one call; when fewer come back (ELB fails a whole call for one id that
/// is gone, which reads as none found), one at a time.
async fn describe_each<T, F, Fut>(ids: Vec<String>, describe: F) -> Result<Vec<T>, ProviderError>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, ProviderError>>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let all = describe(ids.clone()).await?;
    if all.len() == ids.len() {
        return Ok(all);
    }
    let mut v = Vec::new();
    for id in ids {
        v.extend(describe(vec![id]).await?);
    }
    Ok(v)
}

/// Describes the ids of `chunk`: the ARNs in one call ([`describe_each`]), the names (an
/// import may give a name; a missing name fails the whole call too) one at a time. `describe`
/// takes ARNs or names.
async fn describe_by_arn_or_name<T, F, Fut>(
    chunk: &[(&str, &Attrs)],
    describe: F,
) -> Result<Vec<T>, ProviderError>
where
    F: Fn(Option<Vec<String>>, Option<Vec<String>>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, ProviderError>>,
{
    let ids = |arns: bool| -> Vec<String> {
        chunk
            .iter()
            .filter(|(id, _)| id.starts_with("arn:") == arns)
            .map(|(id, _)| id.to_string())
            .collect()
    };
    let mut found = describe_each(ids(true), |a| describe(Some(a), None)).await?;
    for n in ids(false) {
        found.extend(describe(None, Some(vec![n])).await?);
    }
    Ok(found)
}

/// Reads one batch back: `found` indexed by the keys each is recorded under (its ARN, and its
/// name where imports may name it; the ARN first), their tags in one DescribeTags, then each
/// item of `chunk` through `read_back`, in order (`None` for one not found).
async fn read_back_batch<T>(
    p: &AwsProvider,
    chunk: &[(&str, &Attrs)],
    found: Vec<T>,
    keys: impl Fn(&T) -> [Option<&str>; 2],
    read_back: impl Fn(&T, Option<&BTreeMap<String, String>>, &Attrs) -> Attrs,
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let mut live: BTreeMap<String, usize> = BTreeMap::new();
    for (i, x) in found.iter().enumerate() {
        for key in keys(x).into_iter().flatten() {
            live.insert(key.to_string(), i);
        }
    }
    let arn = |i: usize| keys(&found[i])[0].unwrap_or_default().to_string();
    let arns: Vec<String> = chunk
        .iter()
        .filter_map(|(id, _)| live.get(*id).map(|&i| arn(i)))
        .collect();
    let tags = describe_tags(p, &arns).await?;
    Ok(chunk
        .iter()
        .map(|(id, recorded)| {
            live.get(*id)
                .map(|&i| read_back(&found[i], tags.get(&arn(i)), recorded))
        })
        .collect())
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
