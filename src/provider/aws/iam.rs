//! IAM roles (`iam_role`): CreateRole with the trust policy and tags, then PutRolePolicy with
//! the one inline policy pedestal writes ([`INLINE_POLICY_NAME`]); updates change the trust
//! policy, the inline policy and the tags in place; delete removes every inline policy and
//! detaches every managed one before DeleteRole. The recorded id is the role name.
//!
//! IAM is eventually consistent: a role just made may not be assumable for some seconds. The
//! ECS calls that name a role retry briefly on that (see [`super::ecs`]).

use std::collections::BTreeMap;

use aws_sdk_iam::types::Tag;

use super::AwsProvider;
use super::error::{deleted, map};
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, Found, LeftBehind, ProviderError};
use crate::resource::schema::iam_role::{Attr as A, INLINE_POLICY_NAME};
use crate::resource::{Attrs, Value};

/// A policy document as sent to IAM: compact JSON, keys sorted.
fn policy_json(v: &Value) -> Result<String, ProviderError> {
    if v.is_unknown() || v.is_sensitive() {
        return Err(ProviderError::invalid(
            "a policy document is not fully known (or holds a secret)",
        ));
    }
    serde_json::to_string(v).map_err(|e| ProviderError::invalid(format!("policy document: {e}")))
}

/// Decodes `%XX` escapes (IAM returns policy documents URL-encoded).
fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A policy document read back from IAM (URL-encoded JSON, or plain JSON), as a value.
pub(crate) fn parse_document(doc: &str) -> Option<Value> {
    let json: serde_json::Value = serde_json::from_str(doc)
        .or_else(|_| serde_json::from_str(&percent_decode(doc)))
        .ok()?;
    Value::from_json(json).ok()
}

fn iam_tags(attrs: &Attrs) -> Vec<Tag> {
    super::tag_pairs(attrs)
        .into_iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

/// GetRole: the ARN, the trust policy and the tags, or `None` when there is no such role.
async fn get_role(
    p: &AwsProvider,
    name: &str,
) -> Result<Option<(String, Option<Value>, BTreeMap<String, String>)>, ProviderError> {
    let out = match p.clients.iam.get_role().role_name(name).send().await {
        Ok(o) => o,
        Err(e) => {
            let err = map(&format!("GetRole {name}"), e);
            return if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            };
        }
    };
    let Some(role) = out.role() else {
        return Ok(None);
    };
    let trust = role.assume_role_policy_document().and_then(parse_document);
    let mut tags: BTreeMap<String, String> = role
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    if tags.is_empty() {
        // GetRole does not list tags everywhere; ListRoleTags always does.
        let t = p
            .clients
            .iam
            .list_role_tags()
            .role_name(name)
            .send()
            .await
            .map_err(|e| map(&format!("ListRoleTags {name}"), e))?;
        tags = t
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
    }
    Ok(Some((role.arn().to_string(), trust, tags)))
}

/// The inline policy pedestal writes, or `None` when the role has none.
async fn get_inline(p: &AwsProvider, name: &str) -> Result<Option<Value>, ProviderError> {
    match p
        .clients
        .iam
        .get_role_policy()
        .role_name(name)
        .policy_name(INLINE_POLICY_NAME)
        .send()
        .await
    {
        Ok(o) => Ok(parse_document(o.policy_document())),
        Err(e) => {
            let err = map(&format!("GetRolePolicy {name}/{INLINE_POLICY_NAME}"), e);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// Writes (or removes, when the attribute is null) the inline policy.
async fn put_inline(p: &AwsProvider, name: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    match attr::get(attrs, A::Policy) {
        Some(v) if !matches!(v, Value::Null) => {
            let doc = policy_json(v)?;
            p.clients
                .iam
                .put_role_policy()
                .role_name(name)
                .policy_name(INLINE_POLICY_NAME)
                .policy_document(doc)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| map(&format!("PutRolePolicy {name}/{INLINE_POLICY_NAME}"), e))
        }
        _ => deleted(
            &format!("DeleteRolePolicy {name}/{INLINE_POLICY_NAME}"),
            p.clients
                .iam
                .delete_role_policy()
                .role_name(name)
                .policy_name(INLINE_POLICY_NAME)
                .send()
                .await,
        ),
    }
}

/// CreateRole with the trust policy and tags, then PutRolePolicy with the inline policy.
pub async fn create_role(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    let trust = attr::get(&r.attrs, A::AssumeRolePolicy)
        .ok_or_else(|| ProviderError::invalid("attribute `assume_role_policy` is required"))?;
    let trust = policy_json(trust)?;
    let tags = iam_tags(&r.attrs);
    let out = p
        .clients
        .iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .description(format!("pedestal {}", r.address))
        .set_tags((!tags.is_empty()).then_some(tags))
        .send()
        .await
        .map_err(|e| map(&format!("CreateRole {name}"), e))?;
    let arn = out.role().map(|r| r.arn().to_string()).unwrap_or_default();
    let mut attrs = r.attrs.clone();
    attr::set(&mut attrs, A::Arn, Value::str(arn));
    let applied = Applied {
        id: name.to_string(),
        attrs,
    };
    put_inline(p, name, &r.attrs)
        .await
        .map_err(|e| e.leaving(LeftBehind::Resource(applied.clone())))?;
    Ok(applied)
}

/// Rewrites the trust policy, the inline policy and the tags that changed.
pub async fn update_role(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::str(&after.attrs, A::Name).unwrap_or(id);
    if attr::changed(before, &after.attrs, A::AssumeRolePolicy)
        && let Some(trust) = attr::get(&after.attrs, A::AssumeRolePolicy)
    {
        let doc = policy_json(trust)?;
        p.clients
            .iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(doc)
            .send()
            .await
            .map_err(|e| map(&format!("UpdateAssumeRolePolicy {name}"), e))?;
    }
    if attr::changed(before, &after.attrs, A::Policy) {
        put_inline(p, name, &after.attrs).await?;
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
                .iam
                .untag_role()
                .role_name(name)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| map(&format!("UntagRole {name}"), e))?;
        }
        let tags = iam_tags(&after.attrs);
        if !tags.is_empty() {
            p.clients
                .iam
                .tag_role()
                .role_name(name)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| map(&format!("TagRole {name}"), e))?;
        }
    }
    let arn = match attr::str(before, A::Arn) {
        Some(a) if !a.is_empty() => a.to_string(),
        _ => get_role(p, name)
            .await?
            .map(|(a, _, _)| a)
            .unwrap_or_default(),
    };
    let mut attrs = after.attrs.clone();
    attr::set(&mut attrs, A::Arn, Value::str(arn));
    Ok(Applied {
        id: name.to_string(),
        attrs,
    })
}

/// Deletes every inline policy, detaches every managed one, then DeleteRole (gone counts as deleted).
pub async fn delete_role(p: &AwsProvider, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let name = attr::str(attrs, A::Name).unwrap_or(id);
    let inline = match p
        .clients
        .iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
    {
        Ok(o) => o.policy_names().to_vec(),
        Err(e) => {
            let err = map(&format!("ListRolePolicies {name}"), e);
            return if err.is_not_found() { Ok(()) } else { Err(err) };
        }
    };
    for pol in inline {
        deleted(
            &format!("DeleteRolePolicy {name}/{pol}"),
            p.clients
                .iam
                .delete_role_policy()
                .role_name(name)
                .policy_name(&pol)
                .send()
                .await,
        )?;
    }
    let attached = p
        .clients
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| map(&format!("ListAttachedRolePolicies {name}"), e))?;
    for pol in attached.attached_policies() {
        if let Some(arn) = pol.policy_arn() {
            deleted(
                &format!("DetachRolePolicy {name} {arn}"),
                p.clients
                    .iam
                    .detach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await,
            )?;
        }
    }
    deleted(
        &format!("DeleteRole {name}"),
        p.clients.iam.delete_role().role_name(name).send().await,
    )
}

/// GetRole and GetRolePolicy: the role as it is now, `None` when it is gone.
pub async fn read_role(
    p: &AwsProvider,
    id: &str,
    recorded: &Attrs,
) -> Result<Option<Attrs>, ProviderError> {
    let name = attr::str(recorded, A::Name).unwrap_or(id);
    let Some((arn, trust, tags)) = get_role(p, name).await? else {
        return Ok(None);
    };
    let mut a = recorded.clone();
    // Exhaustive: a new attribute has to say whether refresh reads it back.
    for &k in A::ALL {
        match k {
            // Found by its name.
            A::Name => {}
            A::AssumeRolePolicy => {
                if let Some(t) = &trust {
                    attr::set(&mut a, k, t.clone());
                }
            }
            A::Policy => {
                let pol = get_inline(p, name).await?;
                attr::set(&mut a, k, pol.unwrap_or(Value::Null));
            }
            A::Tags => {
                let t = tags
                    .iter()
                    .map(|(k, v)| (k.into(), Value::str(v)))
                    .collect();
                attr::set(&mut a, k, Value::Map(t));
            }
            A::Arn => attr::set(&mut a, k, Value::str(&arn)),
        }
    }
    Ok(Some(a))
}

/// The role of this name with its tags, if it exists.
pub async fn find_role(p: &AwsProvider, r: &ApplyResource) -> Result<Option<Found>, ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    Ok(get_role(p, name).await?.map(|(_, _, tags)| Found {
        id: name.to_string(),
        tags,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_read_back_url_encoded_or_plain() {
        let plain = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        let a = parse_document(plain).expect("plain JSON");
        assert_eq!(
            a.as_map().and_then(|m| m.get("Version")),
            Some(&Value::str("2012-10-17"))
        );
        let b = parse_document(encoded).expect("URL-encoded JSON");
        assert_eq!(
            b.as_map().and_then(|m| m.get("Statement")),
            Some(&Value::List(vec![]))
        );
        assert!(parse_document("%ZZnot json").is_none());
    }

    #[test]
    fn documents_with_secrets_or_unknowns_are_refused() {
        assert!(policy_json(&Value::Unknown).is_err());
        let err = policy_json(&Value::Sensitive(Box::new(Value::str("hunter2")))).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
