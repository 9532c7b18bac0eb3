//! An in-memory cloud implementing [`Provider`] for tests and benchmarks: objects keyed by kind
//! and physical name, operation counters, an in-flight high-water mark, optional per-call
//! latency, refresh reads batched as the AWS provider batches them, and failure injection by
//! address or physical name.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use super::aws::batches::{Batches, read_batches};
use super::{
    Applied, ApplyResource, ErrorKind, Found, LeftBehind, Provider, ProviderError, ReadRequest,
    tags_of,
};
use crate::resource::Key;
use crate::resource::schema::{
    cloudwatch_alarm, ecs_cluster, ecs_service, ecs_task_definition, iam_role, lb_listener,
    listener_rule, load_balancer, log_group, s3_bucket, s3_object, ssm_parameter, target_group,
};
use crate::resource::{Attrs, ResourceKind, Value};

/// The operations the fake counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// A create.
    Create,
    /// An in-place update.
    Update,
    /// A delete.
    Delete,
    /// A read (single or batched).
    Read,
    /// A find by physical name.
    Find,
}

/// One object in the fake cloud.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeObject {
    /// Its kind.
    pub kind: ResourceKind,
    /// Its physical id.
    pub id: String,
    /// Its attributes as last written.
    pub attrs: Attrs,
}

#[derive(Clone, Debug)]
struct Injected {
    op: Op,
    error: ProviderError,
    /// `None`: every time; `Some(n)`: the next n times.
    remaining: Option<u32>,
}

/// The in-memory provider.
#[derive(Debug, Default)]
pub struct FakeProvider {
    objects: Mutex<BTreeMap<(ResourceKind, String), FakeObject>>,
    counts: Mutex<BTreeMap<Op, u64>>,
    failures: Mutex<BTreeMap<String, Vec<Injected>>>,
    delay: Mutex<Duration>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    calls: AtomicU64,
    serial: AtomicU64,
}

impl FakeProvider {
    /// An empty fake cloud.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every call sleeps this long, as an API round trip would (to observe parallelism and
    /// cancellation, and to measure the applier against the bound latency sets): a create,
    /// update, delete, find or single read is one call, a batched read one call per batch.
    pub fn with_delay(self, d: Duration) -> Self {
        *lock(&self.delay) = d;
        self
    }

    /// Makes `op` on the resource with this address or physical name fail every time.
    pub fn fail(&self, target: &str, op: Op, error: ProviderError) {
        lock(&self.failures)
            .entry(target.to_string())
            .or_default()
            .push(Injected {
                op,
                error,
                remaining: None,
            });
    }

    /// Makes `op` on `target` fail the next `times` times.
    pub fn fail_times(&self, target: &str, op: Op, times: u32, error: ProviderError) {
        lock(&self.failures)
            .entry(target.to_string())
            .or_default()
            .push(Injected {
                op,
                error,
                remaining: Some(times),
            });
    }

    /// Removes every injected failure.
    pub fn clear_failures(&self) {
        lock(&self.failures).clear();
    }

    /// How many times `op` ran.
    pub fn count(&self, op: Op) -> u64 {
        lock(&self.counts).get(&op).copied().unwrap_or(0)
    }

    /// The most operations that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// A snapshot of the cloud.
    pub fn objects(&self) -> Vec<FakeObject> {
        lock(&self.objects).values().cloned().collect()
    }

    /// The object of `kind` named `name`.
    pub fn get(&self, kind: ResourceKind, name: &str) -> Option<FakeObject> {
        lock(&self.objects).get(&(kind, name.to_string())).cloned()
    }

    /// Puts an object in the cloud behind pedestal's back (drift, foreign resources).
    pub fn insert(&self, kind: ResourceKind, name: &str, attrs: Attrs) -> String {
        let id = self.id_for(kind, name);
        lock(&self.objects).insert(
            (kind, name.to_string()),
            FakeObject {
                kind,
                id: id.clone(),
                attrs,
            },
        );
        id
    }

    /// Removes an object behind pedestal's back.
    pub fn remove(&self, kind: ResourceKind, name: &str) -> Option<FakeObject> {
        lock(&self.objects).remove(&(kind, name.to_string()))
    }

    fn id_for(&self, kind: ResourceKind, name: &str) -> String {
        match kind {
            ResourceKind::EcsTaskDefinition => {
                let rev = self.serial.fetch_add(1, Ordering::SeqCst) + 1;
                format!("arn:fake:{kind}:{name}:{rev}")
            }
            ResourceKind::S3Bucket
            | ResourceKind::LogGroup
            | ResourceKind::CloudwatchAlarm
            | ResourceKind::IamRole
            | ResourceKind::SsmParameter => name.to_string(),
            _ => format!("arn:fake:{kind}:{name}"),
        }
    }

    async fn enter(&self, op: Op, keys: &[&str]) -> Result<Guard<'_>, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        *lock(&self.counts).entry(op).or_default() += 1;
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let guard = Guard(&self.in_flight);
        let delay = *lock(&self.delay);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut failures = lock(&self.failures);
        for key in keys {
            if let Some(list) = failures.get_mut(*key)
                && let Some(pos) = list.iter().position(|f| f.op == op)
            {
                let error = list[pos].error.clone();
                match &mut list[pos].remaining {
                    Some(n) if *n <= 1 => {
                        list.remove(pos);
                    }
                    Some(n) => *n -= 1,
                    None => {}
                }
                return Err(error);
            }
        }
        Ok(guard)
    }

    fn computed(kind: ResourceKind, id: &str, attrs: &mut Attrs) {
        let name = attrs
            .get(kind.schema().name_attr)
            .and_then(Value::as_str)
            .unwrap_or("lb")
            .to_string();
        if kind == ResourceKind::S3Object {
            let kept = artifact_kept(attrs);
            attrs.insert(s3_object::Attr::Kept.into(), Value::Map(kept));
        }
        let mut set = |k: &str, v: Value| {
            attrs.insert(Key::intern(k), v);
        };
        match kind {
            ResourceKind::S3Bucket => set(
                s3_bucket::Attr::Arn.as_str(),
                Value::str(format!("arn:aws:s3:::{id}")),
            ),
            ResourceKind::S3Object => {
                set(
                    s3_object::Attr::VersionId.as_str(),
                    Value::str(format!("v-{id}")),
                );
                set(s3_object::Attr::Etag.as_str(), Value::str("\"etag\""));
            }
            ResourceKind::EcsTaskDefinition => {
                set(ecs_task_definition::Attr::Arn.as_str(), Value::str(id));
                let rev = id
                    .rsplit(':')
                    .next()
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(1);
                set(
                    ecs_task_definition::Attr::Revision.as_str(),
                    Value::Int(rev),
                );
            }
            ResourceKind::ScalingTarget => {}
            ResourceKind::EcsCluster => set(ecs_cluster::Attr::Arn.as_str(), Value::str(id)),
            ResourceKind::LogGroup => set(log_group::Attr::Arn.as_str(), Value::str(id)),
            ResourceKind::EcsService => set(ecs_service::Attr::Arn.as_str(), Value::str(id)),
            ResourceKind::CloudwatchAlarm => set(
                cloudwatch_alarm::Attr::Arn.as_str(),
                Value::str(format!("arn:fake:cloudwatch:alarm:{id}")),
            ),
            ResourceKind::LoadBalancer => {
                set(load_balancer::Attr::Arn.as_str(), Value::str(id));
                set(
                    load_balancer::Attr::DnsName.as_str(),
                    Value::str(format!("{name}.elb.fake")),
                );
                set(load_balancer::Attr::VpcId.as_str(), Value::str("vpc-fake"));
                set(
                    load_balancer::Attr::ArnSuffix.as_str(),
                    Value::str(format!("app/{name}/fake")),
                );
            }
            ResourceKind::LbListener => set(lb_listener::Attr::Arn.as_str(), Value::str(id)),
            ResourceKind::TargetGroup => {
                set(target_group::Attr::Arn.as_str(), Value::str(id));
                set(
                    target_group::Attr::ArnSuffix.as_str(),
                    Value::str(format!("targetgroup/{name}/fake")),
                );
            }
            ResourceKind::ListenerRule => set(listener_rule::Attr::Arn.as_str(), Value::str(id)),
            ResourceKind::IamRole => set(
                iam_role::Attr::Arn.as_str(),
                Value::str(format!("arn:fake:iam::role/{id}")),
            ),
            ResourceKind::SsmParameter => set(
                ssm_parameter::Attr::Arn.as_str(),
                Value::str(format!("arn:fake:ssm:parameter{id}")),
            ),
        }
    }
}

struct Guard<'a>(&'a AtomicUsize);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn name_of(kind: ResourceKind, attrs: &Attrs) -> Result<String, ProviderError> {
    // An object's key is unique within its bucket only.
    if kind == ResourceKind::S3Object
        && let Some(bucket) = attrs
            .get(s3_object::Attr::Bucket.as_str())
            .and_then(Value::as_str)
        && let Some(key) = attrs
            .get(s3_object::Attr::Key.as_str())
            .and_then(Value::as_str)
    {
        return Ok(format!("{bucket}/{key}"));
    }
    attrs
        .get(kind.schema().name_attr)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            ProviderError::invalid(format!(
                "{kind}: attribute `{}` is required",
                kind.schema().name_attr
            ))
        })
}

#[async_trait]
impl Provider for FakeProvider {
    async fn create(&self, r: &ApplyResource) -> Result<Applied, ProviderError> {
        let name = name_of(r.kind, &r.attrs)?;
        let _g = self.enter(Op::Create, &[r.address.as_str(), &name]).await?;
        let mut objects = lock(&self.objects);
        if let Some(existing) = objects.get(&(r.kind, name.clone())) {
            let owner = super::Owner::classify(&tags_of(&existing.attrs), "", "", &r.address);
            return Err(ProviderError::new(
                ErrorKind::AlreadyExists { owner },
                format!("{} {name} already exists", r.kind),
            ));
        }
        let id = self.id_for(r.kind, &name);
        let mut attrs = r.attrs.clone();
        Self::computed(r.kind, &id, &mut attrs);
        objects.insert(
            (r.kind, name),
            FakeObject {
                kind: r.kind,
                id: id.clone(),
                attrs: attrs.clone(),
            },
        );
        Ok(Applied { id, attrs })
    }

    async fn update(
        &self,
        id: &str,
        _before: &Attrs,
        after: &ApplyResource,
    ) -> Result<Applied, ProviderError> {
        let name = name_of(after.kind, &after.attrs)?;
        let _g = self
            .enter(Op::Update, &[after.address.as_str(), &name])
            .await?;
        let mut objects = lock(&self.objects);
        // An artifact's new content is a new object beside the old one (which it keeps).
        if after.kind == ResourceKind::S3Object
            && !objects.contains_key(&(after.kind, name.clone()))
        {
            let mut attrs = after.attrs.clone();
            attrs.insert(
                s3_object::Attr::Kept.into(),
                Value::Map(artifact_kept(_before)),
            );
            Self::computed(after.kind, &name, &mut attrs);
            let obj = FakeObject {
                kind: after.kind,
                id: self.id_for(after.kind, &name),
                attrs: attrs.clone(),
            };
            let id = obj.id.clone();
            objects.insert((after.kind, name), obj);
            return Ok(Applied { id, attrs });
        }
        let Some(obj) = objects.get_mut(&(after.kind, name.clone())) else {
            return Err(ProviderError::not_found(format!(
                "{} {name} ({id}) does not exist",
                after.kind
            )));
        };
        if after.kind.schema().versioned {
            obj.id = self.id_for(after.kind, &name);
        }
        let mut attrs = after.attrs.clone();
        Self::computed(after.kind, &obj.id, &mut attrs);
        obj.attrs = attrs.clone();
        Ok(Applied {
            id: obj.id.clone(),
            attrs,
        })
    }

    async fn delete(
        &self,
        kind: ResourceKind,
        id: &str,
        attrs: &Attrs,
    ) -> Result<(), ProviderError> {
        let name = name_of(kind, attrs).unwrap_or_else(|_| id.to_string());
        let _g = self.enter(Op::Delete, &[&name, id]).await?;
        let mut objects = lock(&self.objects);
        if kind == ResourceKind::S3Object {
            let bucket = attrs
                .get(s3_object::Attr::Bucket.as_str())
                .and_then(Value::as_str);
            for key in artifact_kept(attrs).into_map().into_keys() {
                let name = bucket.map_or_else(|| key.clone(), |b| format!("{b}/{key}"));
                objects.remove(&(kind, name));
            }
        }
        objects.remove(&(kind, name));
        Ok(())
    }

    async fn read(
        &self,
        kind: ResourceKind,
        id: &str,
        attrs: &Attrs,
    ) -> Result<Option<Attrs>, ProviderError> {
        let name = name_of(kind, attrs).unwrap_or_else(|_| id.to_string());
        let _g = self.enter(Op::Read, &[&name, id]).await?;
        Ok(lock(&self.objects)
            .get(&(kind, name))
            .map(|o| o.attrs.clone()))
    }

    /// Batched like the AWS provider ([`read_batches`]): one call, one latency and one
    /// [`Op::Read`] per describe call; a failure injected on any member fails its batch.
    async fn read_many(
        &self,
        requests: &[ReadRequest],
    ) -> Vec<Result<Option<Attrs>, ProviderError>> {
        let mut b = Batches::new(requests.len());
        for batch in read_batches(requests) {
            if b.fatal().is_some() {
                break;
            }
            let names: Vec<String> = batch
                .items
                .iter()
                .map(|&i| {
                    let r = &requests[i];
                    name_of(r.kind, &r.attrs).unwrap_or_else(|_| r.id.clone())
                })
                .collect();
            let keys: Vec<&str> = names
                .iter()
                .map(String::as_str)
                .chain(batch.items.iter().map(|&i| requests[i].id.as_str()))
                .collect();
            let res = match self.enter(Op::Read, &keys).await {
                Ok(_g) => {
                    let objects = lock(&self.objects);
                    Ok(names
                        .into_iter()
                        .map(|n| objects.get(&(batch.kind, n)).map(|o| o.attrs.clone()))
                        .collect())
                }
                Err(e) => Err(e),
            };
            b.file(&batch.items, res);
        }
        b.finish()
    }

    async fn find(&self, r: &ApplyResource) -> Result<Option<Found>, ProviderError> {
        let name = name_of(r.kind, &r.attrs)?;
        let _g = self.enter(Op::Find, &[r.address.as_str(), &name]).await?;
        Ok(lock(&self.objects).get(&(r.kind, name)).map(|o| Found {
            id: o.id.clone(),
            tags: tags_of(&o.attrs),
        }))
    }

    fn api_calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

/// The objects an artifact keeps: its `kept` map plus its current key.
fn artifact_kept(attrs: &Attrs) -> Attrs {
    let mut kept = attrs
        .get(s3_object::Attr::Kept.as_str())
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    if let Some(key) = attrs
        .get(s3_object::Attr::Key.as_str())
        .and_then(Value::as_str)
    {
        let sha = attrs
            .get(s3_object::Attr::Sha256.as_str())
            .cloned()
            .unwrap_or(Value::Null);
        kept.get_or_insert_with(key, || sha);
    }
    kept
}

/// A failure that leaves a half-made resource behind, for tests of tainting.
pub fn failure_leaving(kind: ErrorKind, message: &str, id: &str, attrs: Attrs) -> ProviderError {
    ProviderError::new(kind, message).leaving(LeftBehind::Resource(Applied {
        id: id.to_string(),
        attrs,
    }))
}
