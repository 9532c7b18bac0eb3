//! SSM Parameter Store (`ssm_parameter`): the `SecureString` parameters holding the secrets an
//! endpoint's containers read through `secrets`. PutParameter creates (with tags) and
//! overwrites (tags then go through AddTagsToResource / RemoveTagsFromResource, which
//! PutParameter refuses beside `Overwrite`); GetParameter reads back (decrypted, so refresh
//! notices a value changed behind pedestal's back: the value stays in memory, wrapped as a
//! secret, and only its keyed digest is recorded); DeleteParameter deletes. The recorded id is
//! the parameter name.
//!
//! The value is only ever put in the request; error messages name the parameter, never the
//! value, and the SDK redacts it from its own debug output.

use std::collections::BTreeMap;

use aws_sdk_ssm::types::{ParameterType, ResourceTypeForTagging, Tag};

use super::AwsProvider;
use super::error::{deleted, map};
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, Found, LeftBehind, ProviderError};
use crate::resource::schema::ssm_parameter::{Attr as A, SECURE_STRING};
use crate::resource::{Attrs, Value};

fn ssm_tags(attrs: &Attrs) -> Vec<Tag> {
    super::tag_pairs(attrs)
        .into_iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

/// The clear value to send: the attribute must hold a known secret.
fn secret_value(name: &str, attrs: &Attrs) -> Result<String, ProviderError> {
    match attr::get(attrs, A::Value) {
        Some(v @ Value::Sensitive(_)) if !v.is_unknown() => attr::reveal(v).ok_or_else(|| {
            ProviderError::invalid(format!("parameter {name}: the secret is not a string"))
        }),
        _ => Err(ProviderError::invalid(format!(
            "parameter {name}: the secret's value is not known in this run (give the sensitive variable a value)"
        ))),
    }
}

async fn put(
    p: &AwsProvider,
    name: &str,
    attrs: &Attrs,
    overwrite: bool,
) -> Result<i64, ProviderError> {
    let value = secret_value(name, attrs)?;
    let mut req = p
        .clients
        .ssm
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::from(
            attr::str(attrs, A::Type).unwrap_or(SECURE_STRING),
        ))
        .set_key_id(attr::str(attrs, A::KeyId).map(str::to_string))
        .set_description(attr::str(attrs, A::Description).map(str::to_string));
    if overwrite {
        req = req.overwrite(true);
    } else {
        let tags = ssm_tags(attrs);
        if !tags.is_empty() {
            req = req.set_tags(Some(tags));
        }
    }
    let out = req
        .send()
        .await
        .map_err(|e| map(&format!("PutParameter {name}"), e))?;
    Ok(out.version())
}

/// GetParameter (decrypted): `(arn, value, version)`, or `None` when there is no such parameter.
async fn get(
    p: &AwsProvider,
    name: &str,
) -> Result<Option<(String, Option<String>, i64)>, ProviderError> {
    match p
        .clients
        .ssm
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
    {
        Ok(o) => Ok(o.parameter().map(|x| {
            (
                x.arn().unwrap_or_default().to_string(),
                x.value().map(str::to_string),
                x.version(),
            )
        })),
        Err(e) => {
            let err = map(&format!("GetParameter {name}"), e);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

async fn tags(p: &AwsProvider, name: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = p
        .clients
        .ssm
        .list_tags_for_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id(name)
        .send()
        .await
        .map_err(|e| map(&format!("ListTagsForResource {name}"), e))?;
    Ok(out
        .tag_list()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

/// The parameter's ARN: from GetParameter, else built from the region (moto may omit it).
async fn arn_of(p: &AwsProvider, name: &str) -> Result<String, ProviderError> {
    Ok(match get(p, name).await? {
        Some((arn, _, _)) if !arn.is_empty() => arn,
        _ => String::new(),
    })
}

/// PutParameter (SecureString, with tags), then its ARN.
pub async fn create_parameter(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    let version = put(p, name, &r.attrs, false).await?;
    let mut attrs = r.attrs.clone();
    attr::set(&mut attrs, A::Version, Value::Int(version));
    let applied = Applied {
        id: name.to_string(),
        attrs,
    };
    let arn = arn_of(p, name)
        .await
        .map_err(|e| e.leaving(LeftBehind::Resource(applied.clone())))?;
    let mut applied = applied;
    attr::set(&mut applied.attrs, A::Arn, Value::str(arn));
    Ok(applied)
}

/// Overwrites the value when it (or the key, or the description) changed; re-tags.
pub async fn update_parameter(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::str(&after.attrs, A::Name).unwrap_or(id);
    let mut version = attr::int(before, A::Version).unwrap_or(0);
    if attr::changed(before, &after.attrs, A::Value)
        || attr::changed(before, &after.attrs, A::KeyId)
        || attr::changed(before, &after.attrs, A::Description)
    {
        version = put(p, name, &after.attrs, true).await?;
    }
    let old = crate::provider::tags_of(before);
    let new = crate::provider::tags_of(&after.attrs);
    if old != new {
        let removed: Vec<String> = old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect();
        if !removed.is_empty() {
            p.clients
                .ssm
                .remove_tags_from_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(name)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| map(&format!("RemoveTagsFromResource {name}"), e))?;
        }
        let tags = ssm_tags(&after.attrs);
        if !tags.is_empty() {
            p.clients
                .ssm
                .add_tags_to_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(name)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| map(&format!("AddTagsToResource {name}"), e))?;
        }
    }
    let arn = match attr::str(before, A::Arn) {
        Some(a) if !a.is_empty() => a.to_string(),
        _ => arn_of(p, name).await?,
    };
    let mut attrs = after.attrs.clone();
    attr::set(&mut attrs, A::Arn, Value::str(arn));
    attr::set(&mut attrs, A::Version, Value::Int(version));
    Ok(Applied {
        id: name.to_string(),
        attrs,
    })
}

/// DeleteParameter (gone counts as deleted).
pub async fn delete_parameter(
    p: &AwsProvider,
    id: &str,
    attrs: &Attrs,
) -> Result<(), ProviderError> {
    let name = attr::str(attrs, A::Name).unwrap_or(id);
    deleted(
        &format!("DeleteParameter {name}"),
        p.clients.ssm.delete_parameter().name(name).send().await,
    )
}

/// GetParameter (decrypted, kept in memory as a secret) and its tags; `None` when gone.
pub async fn read_parameter(
    p: &AwsProvider,
    id: &str,
    recorded: &Attrs,
) -> Result<Option<Attrs>, ProviderError> {
    let name = attr::str(recorded, A::Name).unwrap_or(id);
    let Some((arn, value, version)) = get(p, name).await? else {
        return Ok(None);
    };
    let mut a = recorded.clone();
    // Exhaustive: a new attribute has to say whether refresh reads it back.
    for &k in A::ALL {
        match k {
            // Found by its name; the type and key are fixed at creation.
            A::Name | A::Type | A::KeyId | A::Description => {}
            A::Value => {
                if let Some(v) = &value {
                    attr::set(&mut a, k, Value::Sensitive(Box::new(Value::str(v))));
                }
            }
            A::Tags => {
                let t = tags(p, name)
                    .await?
                    .into_iter()
                    .map(|(k, v)| (k.into(), Value::String(v)))
                    .collect();
                attr::set(&mut a, k, Value::Map(t));
            }
            A::Arn => {
                if !arn.is_empty() {
                    attr::set(&mut a, k, Value::str(&arn));
                }
            }
            A::Version => attr::set(&mut a, k, Value::Int(version)),
        }
    }
    Ok(Some(a))
}

/// The parameter of this name with its tags, if it exists.
pub async fn find_parameter(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    if get(p, name).await?.is_none() {
        return Ok(None);
    }
    Ok(Some(Found {
        id: name.to_string(),
        tags: tags(p, name).await.unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_is_not_a_known_secret_is_refused_without_echoing_it() {
        let mut a = Attrs::new();
        a.insert(A::Value.as_str().into(), Value::str("plain-s3cret"));
        let e = secret_value("/p/x", &a).unwrap_err();
        assert!(!e.to_string().contains("plain-s3cret"), "{e}");
        a.insert(
            A::Value.as_str().into(),
            Value::Sensitive(Box::new(Value::str("s3cret"))),
        );
        assert_eq!(secret_value("/p/x", &a).unwrap(), "s3cret");
        a.insert(
            A::Value.as_str().into(),
            Value::Sensitive(Box::new(Value::Unknown)),
        );
        assert!(secret_value("/p/x", &a).is_err());
    }
}
