//! ECS, one file per resource: clusters ([`cluster`]: described before created, since
//! CreateCluster on an existing name must not run), task definitions ([`task_definition`]: a
//! new revision per change, the last few kept ACTIVE), services ([`service`]: idempotent
//! create, in-place updates, scale-to-zero + force delete + wait INACTIVE) and release waiting
//! ([`rollout`]): a release is done only when the PRIMARY deployment runs the new revision with
//! rollout state COMPLETED and running == desired; a circuit-breaker rollback fails loudly.
//!
//! This file holds what they share: tag conversions and re-tagging.

pub mod cluster;
pub mod rollout;
pub mod service;
pub mod task_definition;

use std::collections::BTreeMap;

use aws_sdk_ecs::types::Tag;

use super::AwsProvider;
use super::error::map;
use crate::provider::ProviderError;
use crate::resource::{Attrs, Value};

pub use cluster::{create_cluster, delete_cluster, find_cluster, read_clusters, update_cluster};
pub use rollout::{ReleaseWait, wait_for_release};
pub use service::{create_service, delete_service, find_service, read_services, update_service};
pub use task_definition::{
    deregister_task_definition, read_task_definition, register_task_definition,
};

pub(super) fn build_err(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::invalid(e.to_string())
}

pub(super) fn ecs_tags(attrs: &Attrs) -> Vec<Tag> {
    super::tag_pairs(attrs)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub(super) fn tags_value(tags: &[Tag]) -> Value {
    Value::Map(
        tags.iter()
            .filter_map(|t| Some((t.key()?.to_string(), Value::str(t.value()?))))
            .collect(),
    )
}

pub(super) fn tags_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect()
}

/// Replaces a resource's tag set: tags added or changed, keys removed.
pub(super) async fn retag(
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
