//! `pedestal import ADDR ID`: adopt an existing cloud resource into state under an address the
//! spec declares. The resource is read through the provider; nothing in the cloud changes. The
//! next plan shows whatever differs between the adopted resource and the spec. A resource tagged
//! for another stack or env is refused unless `--force-ownership` says to take it over: then,
//! and only then, its `pedestal:*` tags are rewritten to this stack (so later applies, which
//! verify ownership by those tags, accept it).

use std::path::Path;

use super::OpsError;
use super::state::StateRequest;
use crate::addr::Address;
use crate::provider::{Owner, Provider, TAG_ADDRESS, TAG_ENV, TAG_STACK};
use crate::resource::schema::s3_object;
use crate::resource::{ResourceKind, Value};
use crate::state::{self, ResourceState, State, StateStore, Status};
use std::sync::Arc;

/// Reads resource `id` of the kind the spec declares at `address` and records it in state.
/// `force_ownership` imports a resource tagged for another stack or env all the same.
pub async fn import(
    dir: &Path,
    req: &StateRequest,
    address: &str,
    id: &str,
    force_ownership: bool,
) -> Result<ResourceState, OpsError> {
    let config = super::load_config(dir, &req.env, &req.vars)?;
    let settings = super::provider_settings(&config.provider, &config.region);
    let provider = super::connect(&settings, &config.root).await;
    import_with(&config, &provider, req, address, id, force_ownership).await
}

/// [`import`] with a given provider (tests use the fake one).
pub async fn import_with(
    config: &crate::spec::Config,
    provider: &dyn Provider,
    req: &StateRequest,
    address: &str,
    id: &str,
    force_ownership: bool,
) -> Result<ResourceState, OpsError> {
    let addr = Address::new(address);
    let Some(desired) = config.resources.get(&addr) else {
        let mut known: Vec<&str> = config
            .resources
            .keys()
            .map(Address::as_str)
            .filter(|a| a.starts_with(address) || address.starts_with(Address::new(*a).block()))
            .collect();
        known.truncate(8);
        let hint = if known.is_empty() {
            "import adopts resources the spec declares: add the block first".to_string()
        } else {
            format!("addresses declared here: {}", known.join(", "))
        };
        return Err(OpsError::NotDeclared {
            address: address.to_string(),
            hint,
        });
    };
    let store: Arc<dyn StateStore> = Arc::from(state::open(config)?);
    let _guard = super::lock_store(&store, "import", req.lock_timeout).await?;
    let mut s = super::read_store(&store)
        .await?
        .unwrap_or_else(|| State::new(&config.stack, &config.env));
    if let Some(existing) = s.resources.get(&addr) {
        return Err(OpsError::AlreadyManaged {
            address: addr,
            id: existing.id.clone(),
        });
    }
    // The provider reads by the recorded name where there is one: point it at the id given.
    let mut probe = desired.attrs.clone();
    // An object's id is `s3://BUCKET/KEY` (as state records it): read that bucket and key.
    let object = (desired.kind == ResourceKind::S3Object)
        .then(|| id.strip_prefix("s3://")?.split_once('/'))
        .flatten();
    if let Some((bucket, key)) = object {
        probe.insert(s3_object::Attr::Bucket.into(), Value::str(bucket));
        probe.insert(s3_object::Attr::Key.into(), Value::str(key));
    } else if !id.starts_with("arn:") {
        probe.insert(desired.kind.schema().name_attr.into(), Value::str(id));
    }
    let mut live = provider
        .read(desired.kind, id, &probe)
        .await
        .map_err(|source| OpsError::Read {
            kind: desired.kind,
            id: id.to_string(),
            source: Box::new(source),
        })?
        .ok_or_else(|| OpsError::NoSuchResource {
            kind: desired.kind,
            id: id.to_string(),
            address: addr.clone(),
        })?;
    let tags = crate::provider::tags_of(&live);
    let (tag_stack, tag_env) = (tags.get(TAG_STACK), tags.get(TAG_ENV));
    let foreign = (tag_stack.is_some() || tag_env.is_some())
        && (tag_stack != Some(&config.stack) || tag_env != Some(&config.env));
    if foreign && !force_ownership {
        return Err(OpsError::ForeignResource {
            kind: desired.kind,
            id: id.to_string(),
            address: addr,
            owner: Box::new(Owner::Other {
                stack: tag_stack.cloned().unwrap_or_default(),
                env: tag_env.cloned().unwrap_or_default(),
                address: tags.get(TAG_ADDRESS).cloned().unwrap_or_default(),
            }),
            stack: config.stack.clone(),
            env: config.env.clone(),
        });
    }
    if foreign {
        let mut retagged = live.clone();
        let mut t: crate::resource::Attrs = tags
            .into_iter()
            .map(|(k, v)| (k.into(), Value::String(v)))
            .collect();
        t.insert(TAG_STACK.into(), Value::str(&config.stack));
        t.insert(TAG_ENV.into(), Value::str(&config.env));
        t.insert(TAG_ADDRESS.into(), Value::str(address));
        retagged.insert(crate::resource::schema::TAGS.into(), Value::Map(t));
        let taken = crate::provider::ApplyResource {
            address: addr.clone(),
            kind: desired.kind,
            attrs: retagged,
        };
        live = provider
            .update(id, &live, &taken)
            .await
            .map_err(|source| OpsError::Read {
                kind: desired.kind,
                id: id.to_string(),
                source: Box::new(source),
            })?
            .attrs;
    }
    let adopted = ResourceState {
        kind: desired.kind,
        id: id.to_string(),
        attrs: live,
        dependencies: desired.depends_on.clone(),
        status: Status::Ok,
    };
    s.resources.insert(addr, adopted.clone());
    s.intents.remove(&Address::new(address));
    super::write_store(&store, &s).await?;
    Ok(adopted)
}
