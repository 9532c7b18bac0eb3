//! Refresh: reading live resources to bring recorded state up to date before planning, and
//! reporting what changed behind pedestal's back as [`Drift`].
//!
//! The reads go through [`read_concurrently`]: batched where AWS allows (DescribeServices 10 at
//! a time, DescribeClusters up to 100), [`READ_CONCURRENCY`] describe calls at once. Providers compare only the
//! fields the cloud round-trips: a read starts from the recorded attributes and overwrites what
//! it can observe.

use async_trait::async_trait;

use crate::addr::Address;
use crate::plan::Drift;
use crate::provider::{Provider, ProviderError, ReadRequest, read_concurrently};
use crate::resource::Key;
use crate::resource::schema::ecs_service as svc;
use crate::resource::{Attrs, ResourceKind, Value};
use crate::spec::{Config, ProviderConfig};
use crate::state::{State, Status};

/// Describe calls a refresh keeps in flight at once (as many as an apply's default
/// `--parallelism`).
pub const READ_CONCURRENCY: usize = 10;

/// Recorded state updated from the cloud, and the differences found.
#[derive(Debug, Clone)]
pub struct Refreshed {
    /// The state with live attributes in place of the recorded ones.
    pub state: State,
    /// What changed outside pedestal.
    pub drift: Vec<Drift>,
}

/// Why a refresh failed.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Reading one recorded resource failed.
    #[error("refresh failed: {address}: {source}")]
    Read {
        /// The resource whose read failed.
        address: Address,
        #[source]
        /// The provider's error.
        source: Box<ProviderError>,
    },
    /// The cloud could not be reached, or refused the credentials: nothing was read.
    #[error("refresh failed: {source}")]
    Unreachable {
        #[source]
        /// The provider's error.
        source: Box<ProviderError>,
    },
}

/// Reads live resources for every entry in a state.
#[async_trait]
pub trait Refresher: Send + Sync {
    /// Reads every resource `state` records; resources gone are dropped and reported as drift.
    async fn refresh(&self, state: &State) -> Result<Refreshed, RefreshError>;
}

/// The refresher for a stack's configured cloud (AWS or an AWS-compatible endpoint).
pub fn for_config(config: &Config) -> AwsRefresher {
    AwsRefresher {
        provider: super::provider_settings(&config.provider, &config.region),
        root: config.root.clone(),
    }
}

/// Refreshes through the AWS provider.
pub struct AwsRefresher {
    /// Region and endpoint to reach AWS at.
    pub provider: ProviderConfig,
    /// The stack directory.
    pub root: std::path::PathBuf,
}

#[async_trait]
impl Refresher for AwsRefresher {
    async fn refresh(&self, state: &State) -> Result<Refreshed, RefreshError> {
        let provider = super::connect(&self.provider, &self.root).await;
        refresh_with(&provider, state).await
    }
}

/// Refreshes `state` through any provider.
pub async fn refresh_with(
    provider: &dyn Provider,
    state: &State,
) -> Result<Refreshed, RefreshError> {
    let requests: Vec<ReadRequest> = state
        .resources
        .iter()
        .filter(|(_, rs)| rs.status == Status::Ok && !rs.id.is_empty())
        .map(|(a, rs)| ReadRequest {
            address: a.clone(),
            kind: rs.kind,
            id: rs.id.clone(),
            attrs: rs.attrs.clone(),
        })
        .collect();
    let results = read_concurrently(provider, &requests, READ_CONCURRENCY).await;
    // Such an error fails every read alike: it names no one resource.
    if let Some(e) = results
        .iter()
        .find_map(|r| r.as_ref().err().filter(|e| e.is_fatal()))
    {
        return Err(RefreshError::Unreachable {
            source: Box::new(e.clone()),
        });
    }
    let mut out = state.clone();
    let mut drift = Vec::new();
    for (req, res) in requests.iter().zip(results) {
        let live = res.map_err(|source| RefreshError::Read {
            address: req.address.clone(),
            source: Box::new(source),
        })?;
        match live {
            None => {
                out.resources.remove(&req.address);
                drift.push(Drift {
                    address: req.address.clone(),
                    kind: req.kind,
                    before: req.attrs.clone(),
                    after: None,
                });
            }
            Some(mut attrs) => {
                if req.kind == ResourceKind::EcsService {
                    keep_own_revision(state, &req.address, &req.attrs, &mut attrs);
                }
                let same = Value::Map(attrs.clone()).same_as(&Value::Map(req.attrs.clone()));
                if !same {
                    drift.push(Drift {
                        address: req.address.clone(),
                        kind: req.kind,
                        before: req.attrs.clone(),
                        after: Some(attrs.clone()),
                    });
                    if let Some(rs) = out.resources.get_mut(&req.address) {
                        rs.attrs = attrs;
                    }
                }
            }
        }
    }
    Ok(Refreshed { state: out, drift })
}

/// A service running a task definition revision pedestal itself registered for the endpoint
/// (its task definition in state, or a recorded release) is an unfinished or rolled-back
/// release, not drift: the recorded revision stays, so the plan releases the spec's again
/// (with the release record's reason) instead of calling pedestal's own change "outside".
fn keep_own_revision(state: &State, address: &Address, recorded: &Attrs, live: &mut Attrs) {
    let key = svc::Attr::TaskDefinition.as_str();
    let (Some(Value::String(was)), Some(Value::String(now))) = (recorded.get(key), live.get(key))
    else {
        return;
    };
    if was == now {
        return;
    }
    let endpoint = address.block();
    let ours = state.resources.iter().any(|(a, r)| {
        r.kind == ResourceKind::EcsTaskDefinition && a.block() == endpoint && &r.id == now
    }) || state
        .releases
        .get(endpoint)
        .is_some_and(|l| l.iter().any(|r| &r.task_definition_arn == now));
    if ours {
        live.insert(Key::intern(key), Value::String(was.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Address;
    use crate::provider::fake::FakeProvider;
    use crate::resource::schema::log_group::Attr as LG;
    use crate::resource::{Attrs, ResourceKind};
    use crate::state::ResourceState;

    #[tokio::test]
    async fn reports_changed_and_deleted_resources() {
        let fake = FakeProvider::new();
        let mut a = Attrs::new();
        a.insert(LG::Name.into(), Value::str("/lg/a"));
        a.insert(LG::RetentionDays.into(), Value::Int(30));
        let mut b = Attrs::new();
        b.insert(LG::Name.into(), Value::str("/lg/b"));
        let mut c = Attrs::new();
        c.insert(LG::Name.into(), Value::str("/lg/c"));
        let mut st = State::new("s", "dev");
        for (addr, attrs) in [
            ("endpoint.a.log_group", &a),
            ("endpoint.b.log_group", &b),
            ("endpoint.c.log_group", &c),
        ] {
            st.resources.insert(
                Address::new(addr),
                ResourceState {
                    kind: ResourceKind::LogGroup,
                    id: attrs[LG::Name.as_str()].as_str().unwrap().to_string(),
                    attrs: attrs.clone(),
                    dependencies: Default::default(),
                    status: Status::Ok,
                },
            );
        }
        let mut live_a = a.clone();
        live_a.insert(LG::RetentionDays.into(), Value::Int(7));
        fake.insert(ResourceKind::LogGroup, "/lg/a", live_a);
        fake.insert(ResourceKind::LogGroup, "/lg/b", b.clone());
        let r = refresh_with(&fake, &st).await.unwrap();
        assert_eq!(r.drift.len(), 2);
        assert_eq!(r.drift[0].address, Address::new("endpoint.a.log_group"));
        assert_eq!(
            r.drift[0].after.as_ref().unwrap()[LG::RetentionDays.as_str()],
            Value::Int(7)
        );
        assert_eq!(r.drift[1].address, Address::new("endpoint.c.log_group"));
        assert!(r.drift[1].after.is_none());
        assert!(
            !r.state
                .resources
                .contains_key(&Address::new("endpoint.c.log_group"))
        );
        assert_eq!(
            r.state.resources[&Address::new("endpoint.a.log_group")].attrs
                [LG::RetentionDays.as_str()],
            Value::Int(7)
        );
    }
}
