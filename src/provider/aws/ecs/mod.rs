//! ECS, one file per resource: clusters ([`cluster`]: described before created, since
//! CreateCluster on an existing name must not run), task definitions ([`task_definition`]: a
//! new revision per change, the last few kept ACTIVE), services ([`service`]: idempotent
//! create, in-place updates, scale-to-zero + force delete + wait INACTIVE) and release waiting
//! ([`rollout`]): a release is done only when the PRIMARY deployment runs the new revision with
//! rollout state COMPLETED and running == desired; a circuit-breaker rollback fails loudly.
//!
//! This file holds what they share: tag conversions, re-tagging and batched reads.

pub mod cluster;
pub mod rollout;
pub mod service;
pub mod task_definition;

use std::collections::BTreeMap;

use aws_sdk_ecs::types::Tag;

use super::AwsProvider;
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

/// Replaces an ECS resource's (cluster's or service's) tag set with `after`'s.
pub(super) async fn retag(
    p: &AwsProvider,
    arn: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    super::retag!(p.clients.ecs, arn, before, after, ecs_tags(after)).await
}

/// The names a batched Describe call asks for: each item's recorded name, else its id.
pub(super) fn batch_names(
    items: &[(&str, &Attrs)],
    name: impl Fn(&Attrs) -> Option<&str>,
) -> Vec<String> {
    items
        .iter()
        .map(|(id, a)| name(a).unwrap_or(id).to_string())
        .collect()
}

/// A batched read's answer in request order: each item's recorded attributes updated by
/// `read_back` from the live object of its name, `None` when it is gone.
pub(super) fn batch_read_back<'a, T: 'a>(
    items: &[(&str, &Attrs)],
    names: &[String],
    live: impl Iterator<Item = (&'a str, &'a T)>,
    read_back: impl Fn(&T, &Attrs) -> Attrs,
) -> Vec<Option<Attrs>> {
    let live: BTreeMap<&str, &T> = live.collect();
    items
        .iter()
        .zip(names)
        .map(|((_, recorded), name)| Some(read_back(live.get(name.as_str())?, recorded)))
        .collect()
}
