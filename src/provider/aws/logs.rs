//! CloudWatch Logs: an endpoint's log group with its retention and tags.

use std::collections::BTreeMap;

use super::AwsProvider;
use super::error::{deleted, map};
use super::retag;
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, Found, LeftBehind, ProviderError};
use crate::resource::schema::log_group::Attr as A;
use crate::resource::{Attrs, Value};

/// The group's ARN without the `:*` suffix DescribeLogGroups appends.
async fn describe(
    p: &AwsProvider,
    name: &str,
) -> Result<Option<(String, Option<i32>)>, ProviderError> {
    let out = p
        .clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| map(&format!("DescribeLogGroups {name}"), e))?;
    Ok(out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .map(|g| {
            let arn = g
                .log_group_arn()
                .map(str::to_string)
                .or_else(|| g.arn().map(|a| a.trim_end_matches(":*").to_string()))
                .unwrap_or_default();
            (arn, g.retention_in_days())
        }))
}

async fn tags(p: &AwsProvider, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = p
        .clients
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| map(&format!("ListTagsForResource {arn}"), e))?;
    Ok(out
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

async fn set_retention(p: &AwsProvider, name: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    match attr::int(attrs, A::RetentionDays) {
        Some(days) => p
            .clients
            .logs
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(days as i32)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| map(&format!("PutRetentionPolicy {name}"), e)),
        None => p
            .clients
            .logs
            .delete_retention_policy()
            .log_group_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| map(&format!("DeleteRetentionPolicy {name}"), e)),
    }
}

/// Creates the log group with its tags and retention.
pub async fn create_log_group(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    let tags: std::collections::HashMap<String, String> =
        super::tag_pairs(&r.attrs).into_iter().collect();
    let mut req = p.clients.logs.create_log_group().log_group_name(name);
    if !tags.is_empty() {
        req = req.set_tags(Some(tags));
    }
    req.send()
        .await
        .map_err(|e| map(&format!("CreateLogGroup {name}"), e))?;
    let arn = describe(p, name).await?.map(|(a, _)| a).unwrap_or_default();
    let mut attrs = r.attrs.clone();
    attrs.insert(A::Arn.into(), Value::str(&arn));
    let applied = Applied {
        id: name.to_string(),
        attrs,
    };
    if r.attrs.contains_key(A::RetentionDays.as_str()) {
        set_retention(p, name, &r.attrs)
            .await
            .map_err(|e| e.leaving(LeftBehind::Resource(applied.clone())))?;
    }
    Ok(applied)
}

/// Sets a changed retention and re-tags the log group.
pub async fn update_log_group(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::str(&after.attrs, A::Name).unwrap_or(id);
    if attr::int(before, A::RetentionDays) != attr::int(&after.attrs, A::RetentionDays) {
        set_retention(p, name, &after.attrs).await?;
    }
    let arn = match attr::str(before, A::Arn) {
        Some(a) if !a.is_empty() => a.to_string(),
        _ => describe(p, name).await?.map(|(a, _)| a).unwrap_or_default(),
    };
    let tags = crate::provider::tags_of(&after.attrs).into_iter().collect();
    retag!(p.clients.logs, &arn, before, &after.attrs, tags).await?;
    let mut attrs = after.attrs.clone();
    attrs.insert(A::Arn.into(), Value::str(arn));
    Ok(Applied {
        id: name.to_string(),
        attrs,
    })
}

/// Deletes the log group (already gone is fine).
pub async fn delete_log_group(
    p: &AwsProvider,
    id: &str,
    attrs: &Attrs,
) -> Result<(), ProviderError> {
    let name = attr::str(attrs, A::Name).unwrap_or(id);
    deleted(
        &format!("DeleteLogGroup {name}"),
        p.clients
            .logs
            .delete_log_group()
            .log_group_name(name)
            .send()
            .await,
    )
}

/// The log group as CloudWatch Logs reports it (`None` when it is gone).
pub async fn read_log_group(
    p: &AwsProvider,
    id: &str,
    recorded: &Attrs,
) -> Result<Option<Attrs>, ProviderError> {
    let name = attr::str(recorded, A::Name).unwrap_or(id);
    let Some((arn, retention)) = describe(p, name).await? else {
        return Ok(None);
    };
    let mut a = recorded.clone();
    // Exhaustive: a new attribute has to say whether refresh reads it back.
    for &k in A::ALL {
        match k {
            // Found by its name.
            A::Name => {}
            A::RetentionDays => match retention {
                Some(d) => attr::set(&mut a, k, Value::Int(i64::from(d))),
                None if recorded.contains_key(k.as_str()) => attr::set(&mut a, k, Value::Null),
                None => {}
            },
            A::Tags => {
                let t = tags(p, &arn).await?;
                let t = t
                    .into_iter()
                    .map(|(k, v)| (k.into(), Value::String(v)))
                    .collect();
                attr::set(&mut a, k, Value::Map(t));
            }
            A::Arn => attr::set(&mut a, k, Value::str(&arn)),
        }
    }
    Ok(Some(a))
}

/// The log group of this name, with its tags.
pub async fn find_log_group(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    let Some((arn, _)) = describe(p, name).await? else {
        return Ok(None);
    };
    Ok(Some(Found {
        id: name.to_string(),
        tags: tags(p, &arn).await.unwrap_or_default(),
    }))
}
