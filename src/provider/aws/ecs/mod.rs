//! ECS, one file per resource: clusters ([`cluster`]: described before created, since
//! CreateCluster on an existing name must not run), task definitions ([`task_definition`]: a
//! new revision per change, the last few kept ACTIVE), services ([`service`]: idempotent
//! create, in-place updates, scale-to-zero + force delete + wait INACTIVE) and release waiting
//! ([`rollout`]): a release is done only when the PRIMARY deployment runs the new revision with
//! rollout state COMPLETED and running == desired; a circuit-breaker rollback fails loudly.
//!
//! This file holds what they share: tag conversions, re-tagging, batched reads and the brief
//! retry of calls naming an IAM role that is not yet assumable ([`while_role_propagates`]).

pub mod cluster;
pub mod rollout;
pub mod service;
pub mod task_definition;

use std::collections::BTreeMap;

use aws_sdk_ecs::types::Tag;

use super::AwsProvider;
use crate::provider::ProviderError;
use crate::resource::{Attrs, Value};

use crate::resource::Key;
pub use cluster::{create_cluster, delete_cluster, find_cluster, read_clusters, update_cluster};
pub use rollout::{ReleaseWait, wait_for_release};
pub use service::{create_service, delete_service, find_service, read_services, update_service};
pub use task_definition::{
    deregister_task_definition, read_task_definition, register_task_definition,
};

/// How long to wait before each retry of a call refused because its role cannot be assumed
/// yet: IAM is eventually consistent, and a role made seconds ago may not be visible to ECS.
pub const ROLE_PROPAGATION_DELAYS: [std::time::Duration; 5] = [
    std::time::Duration::from_secs(2),
    std::time::Duration::from_secs(4),
    std::time::Duration::from_secs(6),
    std::time::Duration::from_secs(8),
    std::time::Duration::from_secs(10),
];

/// Whether ECS refused a call because a role it names cannot be assumed (yet).
pub fn role_not_assumable(e: &ProviderError) -> bool {
    let m = e.message.to_ascii_lowercase();
    e.kind == crate::provider::ErrorKind::Invalid
        && m.contains("role")
        && (m.contains("assume") || m.contains("not authorized") || m.contains("propagat"))
}

/// Runs `call`, retrying after each of `delays` while it fails with
/// [`role_not_assumable`]; any other outcome is returned at once.
pub async fn while_role_propagates<T, F, Fut>(
    delays: &[std::time::Duration],
    mut call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let mut delays = delays.iter();
    loop {
        match call().await {
            Err(e) if role_not_assumable(&e) => match delays.next() {
                Some(d) => {
                    tracing::debug!("{e}; retrying in {d:?} while the role propagates");
                    tokio::time::sleep(*d).await;
                }
                None => return Err(e),
            },
            other => return other,
        }
    }
}

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
            .filter_map(|t| Some((Key::intern(t.key()?), Value::str(t.value()?))))
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_role_not_yet_assumable_is_retried_then_succeeds() {
        let calls = AtomicUsize::new(0);
        let delays = [Duration::from_millis(1); 3];
        let out = while_role_propagates(&delays, || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err(ProviderError::invalid(
                        "ClientException: ECS was unable to assume the role 'arn:aws:iam::1:role/x-exec'",
                    ))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(out, Ok(2));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn other_errors_and_exhausted_retries_are_returned() {
        let calls = AtomicUsize::new(0);
        let delays = [Duration::from_millis(1); 2];
        let out: Result<(), _> = while_role_propagates(&delays, || {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                Err(ProviderError::invalid(
                    "ClientException: unable to assume role",
                ))
            }
        })
        .await;
        assert!(out.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "first call and two retries"
        );
        calls.store(0, Ordering::SeqCst);
        let out: Result<(), _> = while_role_propagates(&delays, || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(ProviderError::invalid("ClientException: bad cpu")) }
        })
        .await;
        assert!(out.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "not a role error: no retry"
        );
    }
}
