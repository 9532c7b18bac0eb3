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
