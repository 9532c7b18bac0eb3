//! The cloud behind a trait pedestal owns: one operation per resource change ([`Provider`]), an
//! AWS implementation in [`aws`] and an in-memory fake in [`fake`] for tests.
//!
//! The provider never sees the spec or the plan: it gets one resource's resolved attributes (no
//! references left) and returns what to record. Every [`ProviderError`] says what it left behind,
//! so the applier can record partial progress honestly.

// Errors carry what they left behind; results stay unboxed for readable matching.
#![allow(clippy::result_large_err)]

pub mod aws;
pub mod fake;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

use crate::addr::Address;
use crate::resource::{Attrs, ResourceKind, Value};

/// Tag keys pedestal puts on everything taggable; crash recovery and ownership checks read them.
pub const TAG_STACK: &str = "pedestal:stack";
/// The environment tag.
pub const TAG_ENV: &str = "pedestal:env";
/// The address tag.
pub const TAG_ADDRESS: &str = "pedestal:address";

/// One resource as the applier hands it to the provider: references already substituted.
#[derive(Clone, Debug, PartialEq)]
pub struct ApplyResource {
    /// The resource's address.
    pub address: Address,
    /// Its kind.
    pub kind: ResourceKind,
    /// Its resolved attributes.
    pub attrs: Attrs,
}

impl ApplyResource {
    /// The physical name (bucket, cluster, family, ...), from the kind's `name_attr`.
    pub fn physical_name(&self) -> Option<&str> {
        self.attrs
            .get(self.kind.schema().name_attr)
            .and_then(Value::as_str)
    }

    /// The `tags` attribute as plain strings (secrets and non-strings dropped).
    pub fn tags(&self) -> BTreeMap<String, String> {
        tags_of(&self.attrs)
    }
}

/// Plain string tags of an attribute map.
pub fn tags_of(attrs: &Attrs) -> BTreeMap<String, String> {
    attrs
        .get(crate::resource::schema::TAGS)
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.to_string(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// A resource the provider created or updated: the id to record and every attribute, the
/// computed ones (arn, version_id, revision, ...) included.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// The physical id or ARN to record.
    pub id: String,
    /// Every attribute, computed ones included.
    pub attrs: Attrs,
}

/// A physical resource found by name (crash recovery, ownership checks, import).
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// Its physical id or ARN.
    pub id: String,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// Who a found resource belongs to, judged by its `pedestal:*` tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    /// Tagged with this very stack, env and address.
    This,
    /// Tagged for another stack, env or address.
    Other {
        /// The stack it is tagged for.
        stack: String,
        /// The environment it is tagged for.
        env: String,
        /// The address it is tagged for.
        address: String,
    },
    /// No pedestal tags at all.
    Nobody,
}

impl Owner {
    /// Classifies `tags` against the stack/env/address about to create the resource.
    pub fn classify(
        tags: &BTreeMap<String, String>,
        stack: &str,
        env: &str,
        addr: &Address,
    ) -> Owner {
        let get = |k: &str| tags.get(k).cloned();
        match (get(TAG_STACK), get(TAG_ENV), get(TAG_ADDRESS)) {
            (None, None, None) => Owner::Nobody,
            (s, e, a) => {
                let (s, e, a) = (
                    s.unwrap_or_default(),
                    e.unwrap_or_default(),
                    a.unwrap_or_default(),
                );
                if s == stack && e == env && a == addr.as_str() {
                    Owner::This
                } else {
                    Owner::Other {
                        stack: s,
                        env: e,
                        address: a,
                    }
                }
            }
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::This => f.write_str("managed by this stack"),
            Owner::Other {
                stack,
                env,
                address,
            } => {
                write!(f, "managed by stack {stack} env {env}")?;
                if !address.is_empty() {
                    write!(f, " (address {address})")?;
                }
                Ok(())
            }
            Owner::Nobody => f.write_str("not managed by pedestal"),
        }
    }
}

/// What a failed operation left in the cloud.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum LeftBehind {
    /// Nothing was created or changed.
    #[default]
    Nothing,
    /// A resource exists (half configured, or created but not healthy): record it as tainted.
    Resource(Applied),
    /// The call may or may not have taken effect.
    Unknown,
}

/// The class of a provider failure.
#[derive(Clone, Debug, PartialEq)]
pub enum ErrorKind {
    /// The resource does not exist.
    NotFound,
    /// A resource of that name exists already.
    AlreadyExists {
        /// Whom it belongs to, by its tags.
        owner: Owner,
    },
    /// AWS throttled the call (after the SDK's retries).
    Throttled,
    /// The resource is in a state that does not allow the call.
    Conflict,
    /// AWS rejected the request as invalid.
    Invalid,
    /// The rollout failed and nothing was rolled back.
    RolloutFailed {
        /// Why the rollout failed.
        reason: String,
        /// The deployment alarms that failed the release (sorted); empty when no alarm did.
        alarms: Vec<String>,
    },
    /// ECS rolled the release back to the task definition `to` (deployment circuit breaker,
    /// or the deployment alarms named in `alarms`).
    RolledBack {
        /// The task definition ECS rolled back to.
        to: String,
        /// Why ECS rolled back.
        reason: String,
        /// The deployment alarms that failed the release (sorted); empty when no alarm did.
        alarms: Vec<String>,
    },
    /// The first Ctrl-C stopped a release wait (the deployment goes on in ECS).
    Interrupted,
    /// The endpoint could not be reached (connection refused or timed out, DNS failure).
    Unreachable,
    /// No credentials were found, or they were refused.
    Credentials,
    /// A wait (a rollout, a deletion) did not finish in time.
    Timeout,
    /// Any other failure.
    Other,
}

/// A failed provider operation.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    /// The class of failure.
    pub kind: ErrorKind,
    /// What went wrong, in one line.
    pub message: String,
    /// What the failed call left in the cloud.
    pub left_behind: LeftBehind,
}

impl ProviderError {
    /// A failure of `kind` that left nothing behind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            message: message.into(),
            left_behind: LeftBehind::Nothing,
        }
    }

    /// A [`ErrorKind::NotFound`] failure.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// An [`ErrorKind::Invalid`] failure.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }

    /// An [`ErrorKind::Other`] failure.
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Other, message)
    }

    /// Marks what the failure left behind.
    pub fn leaving(mut self, left: LeftBehind) -> Self {
        self.left_behind = left;
        self
    }

    /// Whether the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// Whether every other call would fail the same way (no endpoint, no credentials).
    pub fn is_fatal(&self) -> bool {
        matches!(self.kind, ErrorKind::Unreachable | ErrorKind::Credentials)
    }
}

/// One read request for the batched refresh.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadRequest {
    /// The resource's address.
    pub address: Address,
    /// Its kind.
    pub kind: ResourceKind,
    /// Its physical id.
    pub id: String,
    /// Its recorded attributes.
    pub attrs: Attrs,
}

/// The cloud, at the level of one resource operation.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Creates the resource and returns what to record.
    async fn create(&self, r: &ApplyResource) -> Result<Applied, ProviderError>;

    /// Brings an existing resource (`id`, recorded `before`) to `after`. Versioned kinds (task
    /// definitions) register a new revision and return its id.
    async fn update(
        &self,
        id: &str,
        before: &Attrs,
        after: &ApplyResource,
    ) -> Result<Applied, ProviderError>;

    /// Deletes the resource; a resource already gone is success. `attrs` are the recorded ones
    /// (`force_destroy` on buckets is honoured only from there).
    async fn delete(
        &self,
        kind: ResourceKind,
        id: &str,
        attrs: &Attrs,
    ) -> Result<(), ProviderError>;

    /// Reads the live attributes; `None` when the resource is gone.
    async fn read(
        &self,
        kind: ResourceKind,
        id: &str,
        attrs: &Attrs,
    ) -> Result<Option<Attrs>, ProviderError>;

    /// Reads many resources, batching where the API allows. Results are in request order.
    async fn read_many(
        &self,
        requests: &[ReadRequest],
    ) -> Vec<Result<Option<Attrs>, ProviderError>> {
        let mut out = Vec::with_capacity(requests.len());
        for r in requests {
            out.push(self.read(r.kind, &r.id, &r.attrs).await);
        }
        out
    }

    /// Looks for the physical resource the desired attributes name (crash recovery, ownership).
    async fn find(&self, r: &ApplyResource) -> Result<Option<Found>, ProviderError>;

    /// Provider API calls made so far (for benchmarks and tests).
    fn api_calls(&self) -> u64 {
        0
    }
}

/// Reads `requests` through `provider`, one [`Provider::read_many`] call per describe call
/// of the AWS batch plan ([`aws::batches::read_batches`]), up to `concurrency` calls at once.
/// Results are in request order. The first error that would fail every read alike (no
/// endpoint, no credentials) starts nothing more; the requests not read carry it.
pub async fn read_concurrently(
    provider: &dyn Provider,
    requests: &[ReadRequest],
    concurrency: usize,
) -> Vec<Result<Option<Attrs>, ProviderError>> {
    use futures_util::stream::{self, StreamExt};
    let mut answers = aws::batches::Batches::new(requests.len());
    let mut calls = stream::iter(aws::batches::read_batches(requests))
        .map(|batch| async move {
            let members: Vec<ReadRequest> =
                batch.items.iter().map(|&i| requests[i].clone()).collect();
            let res = provider.read_many(&members).await;
            (batch, res)
        })
        .buffer_unordered(concurrency.max(1));
    while let Some((batch, res)) = calls.next().await {
        answers.file_each(&batch.items, res);
        if answers.fatal().is_some() {
            break;
        }
    }
    answers.finish()
}

/// Attribute helpers shared by provider implementations; keys are schema attribute names
/// ([`crate::resource::schema`]), never string literals.
pub(crate) mod attr {
    use crate::resource::schema::AttrName;
    use crate::resource::{Attrs, Value};

    use super::ProviderError;

    pub fn get(a: &Attrs, k: impl AttrName) -> Option<&Value> {
        a.get(k.name())
    }

    pub fn str(a: &Attrs, k: impl AttrName) -> Option<&str> {
        get(a, k).and_then(Value::as_str)
    }

    pub fn req_str(a: &Attrs, k: impl AttrName) -> Result<&str, ProviderError> {
        str(a, k)
            .ok_or_else(|| ProviderError::invalid(format!("attribute `{}` is required", k.name())))
    }

    pub fn int(a: &Attrs, k: impl AttrName) -> Option<i64> {
        match get(a, k) {
            Some(Value::Int(i)) => Some(*i),
            Some(Value::Float(f)) => Some(*f as i64),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        }
    }

    /// An integer AWS takes in `rule`'s range, as the 32-bit value the SDK sends: a value
    /// out of range is an error, never wrapped or clamped.
    pub fn int_in(
        a: &Attrs,
        k: impl AttrName,
        rule: &crate::resource::rules::IntRange,
    ) -> Result<Option<i32>, ProviderError> {
        let name = k.name();
        match int(a, k) {
            None => Ok(None),
            Some(n) => checked_i32(n, rule)
                .map(Some)
                .map_err(|m| ProviderError::invalid(format!("`{name}`: {m}"))),
        }
    }

    /// `n` as the 32-bit integer AWS takes, when `rule` accepts it.
    pub fn checked_i32(n: i64, rule: &crate::resource::rules::IntRange) -> Result<i32, String> {
        if let Some(problem) = rule.problem(n) {
            return Err(problem);
        }
        i32::try_from(n).map_err(|_| format!("{n} does not fit the 32-bit {}", rule.field))
    }

    pub fn bool(a: &Attrs, k: impl AttrName) -> Option<bool> {
        get(a, k).and_then(Value::as_bool)
    }

    pub fn map(a: &Attrs, k: impl AttrName) -> Option<&Attrs> {
        get(a, k).and_then(Value::as_map)
    }

    pub fn strings(a: &Attrs, k: impl AttrName) -> Vec<String> {
        get(a, k)
            .and_then(Value::as_list)
            .map(|l| {
                l.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sets `k` (an attribute the provider learnt, such as a computed one).
    pub fn set(a: &mut Attrs, k: impl AttrName, v: Value) {
        a.insert(k.name().into(), v);
    }

    /// Whether `k` differs between two attribute maps (present on one side only counts).
    pub fn changed(before: &Attrs, after: &Attrs, k: impl AttrName) -> bool {
        match (get(before, k), get(after, k)) {
            (Some(a), Some(b)) => !a.same_as(b),
            (None, None) => false,
            _ => true,
        }
    }

    /// A secret's clear value (only in memory, only to send it).
    pub fn reveal(v: &Value) -> Option<String> {
        match v {
            Value::Sensitive(inner) => reveal(inner),
            Value::String(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_classification() {
        let addr = Address::new("storage.models.bucket");
        let mut tags = BTreeMap::new();
        assert_eq!(Owner::classify(&tags, "s", "dev", &addr), Owner::Nobody);
        tags.insert(TAG_STACK.to_string(), "s".to_string());
        tags.insert(TAG_ENV.to_string(), "dev".to_string());
        tags.insert(TAG_ADDRESS.to_string(), addr.to_string());
        assert_eq!(Owner::classify(&tags, "s", "dev", &addr), Owner::This);
        let other = Owner::classify(&tags, "s", "prod", &addr);
        assert_eq!(
            other.to_string(),
            "managed by stack s env dev (address storage.models.bucket)"
        );
    }

    /// 25 services on one cluster (3 DescribeServices), 2 log groups (read alone) and one
    /// service the fake does not hold, every one recorded in the fake but the last.
    fn services_and_log_groups(fake: &fake::FakeProvider) -> Vec<ReadRequest> {
        use crate::resource::schema::{ecs_service as svc, log_group as lg};
        let mut requests = Vec::new();
        for i in 0..27 {
            let (kind, mut attrs) = if i < 25 {
                let name = (
                    crate::resource::Key::from(svc::Attr::Name),
                    Value::str(format!("s{i}")),
                );
                (ResourceKind::EcsService, Attrs::from([name]))
            } else {
                let name = (lg::Attr::Name.as_str().into(), Value::str(format!("/l{i}")));
                (ResourceKind::LogGroup, Attrs::from([name]))
            };
            if kind == ResourceKind::EcsService {
                attrs.insert(svc::Attr::Cluster.into(), Value::str("c"));
            }
            let name = attrs[kind.schema().name_attr].as_str().unwrap().to_string();
            let id = if i == 3 {
                name
            } else {
                fake.insert(kind, &name, attrs.clone())
            };
            requests.push(ReadRequest {
                address: Address::new(format!("endpoint.e{i}.x")),
                kind,
                id,
                attrs,
            });
        }
        requests
    }

    #[tokio::test]
    async fn the_fake_answers_a_batch_with_one_call() {
        let fake = fake::FakeProvider::new();
        let requests = services_and_log_groups(&fake);
        let out = fake.read_many(&requests).await;
        assert_eq!(
            fake.count(fake::Op::Read),
            5,
            "3 DescribeServices, 2 log group reads"
        );
        assert_eq!(fake.api_calls(), 5);
        assert_eq!(out.len(), requests.len());
        for (i, (r, o)) in requests.iter().zip(&out).enumerate() {
            let live = o.as_ref().expect("no error");
            assert_eq!(live.as_ref(), (i != 3).then_some(&r.attrs), "request {i}");
        }
    }

    #[tokio::test]
    async fn reads_run_batch_by_batch_up_to_the_concurrency() {
        let fake = fake::FakeProvider::new().with_delay(std::time::Duration::from_millis(1));
        let requests = services_and_log_groups(&fake);
        let alone = fake.read_many(&requests).await;
        assert_eq!(
            fake.max_in_flight(),
            1,
            "read_many reads one batch after another"
        );
        let fake2 = fake::FakeProvider::new().with_delay(std::time::Duration::from_millis(1));
        services_and_log_groups(&fake2);
        let together = read_concurrently(&fake2, &requests, 4).await;
        assert_eq!(fake2.count(fake::Op::Read), 5, "the same batches");
        assert_eq!(fake2.max_in_flight(), 4);
        let ok = |v: &[Result<Option<Attrs>, ProviderError>]| -> Vec<Option<Attrs>> {
            v.iter().map(|r| r.clone().expect("no error")).collect()
        };
        assert_eq!(ok(&together), ok(&alone), "answers in request order");
    }

    #[tokio::test]
    async fn a_fatal_error_stops_the_reads_and_answers_for_the_rest() {
        let fake = fake::FakeProvider::new();
        let requests = services_and_log_groups(&fake);
        let unreachable = ProviderError::new(ErrorKind::Unreachable, "no endpoint");
        fake.fail("s0", fake::Op::Read, unreachable);
        let out = read_concurrently(&fake, &requests, 1).await;
        assert_eq!(
            fake.count(fake::Op::Read),
            1,
            "nothing after the fatal error"
        );
        assert!(out.iter().all(|r| r.as_ref().is_err_and(|e| e.is_fatal())));
    }
}
