//! S3 buckets: created with secure defaults, every setting that changed sent on update, live
//! settings read back for drift, emptied first on destroy when `force_destroy` allows it.

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
    CreateBucketConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, NoncurrentVersionExpiration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging, VersioningConfiguration,
};

use super::super::AwsProvider;
use super::super::error::{deleted, map};
use super::{build_err, list_versions, purge};
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, ErrorKind, Found, LeftBehind, ProviderError};
use crate::resource::schema::s3_bucket::{
    Attr as A, DEFAULT_ENCRYPTION, DEFAULT_FORCE_DESTROY, DEFAULT_PUBLIC_ACCESS_BLOCK,
    DEFAULT_VERSIONING, ENCRYPTION_KMS, LifecycleRule as LR,
};
use crate::resource::{Attrs, Value};

/// Creates the bucket in the provider's region, then sends every setting it has.
pub async fn create_bucket(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let bucket = attr::req_str(&r.attrs, A::Bucket)?;
    let s3 = &p.clients.s3;
    let mut req = s3.create_bucket().bucket(bucket);
    if p.region != "us-east-1" {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(p.region.as_str()))
                .build(),
        );
    }
    if let Err(e) = req.send().await {
        let mut err = map(&format!("CreateBucket {bucket}"), e);
        if let ErrorKind::AlreadyExists { .. } = err.kind {
            err.message = format!("bucket {bucket} already exists: {}", err.message);
        }
        return Err(err);
    }
    let applied = Applied {
        id: bucket.to_string(),
        attrs: with_bucket_computed(&r.attrs, bucket),
    };
    configure_bucket(p, bucket, &Attrs::new(), &r.attrs)
        .await
        .map_err(|e| e.leaving(LeftBehind::Resource(applied.clone())))?;
    Ok(applied)
}

fn with_bucket_computed(attrs: &Attrs, bucket: &str) -> Attrs {
    let mut a = attrs.clone();
    a.insert(A::Arn.into(), Value::str(format!("arn:aws:s3:::{bucket}")));
    a
}

/// Sends the settings that changed.
pub async fn update_bucket(
    p: &AwsProvider,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let bucket = attr::req_str(&after.attrs, A::Bucket)?;
    configure_bucket(p, bucket, before, &after.attrs).await?;
    Ok(Applied {
        id: bucket.to_string(),
        attrs: with_bucket_computed(&after.attrs, bucket),
    })
}

/// Sends every bucket setting that differs between `before` and `after` (all of them for a new
/// bucket: `before` is empty), in attribute order.
async fn configure_bucket(
    p: &AwsProvider,
    bucket: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    // Exhaustive: a new attribute has to say how it reaches the bucket.
    for &k in A::ALL {
        if !attr::changed(before, after, k) {
            continue;
        }
        match k {
            A::Versioning => put_versioning(p, bucket, before, after).await?,
            A::Encryption => put_encryption(p, bucket, after).await?,
            // Sent with the encryption (once when both change).
            A::KmsKey if !attr::changed(before, after, A::Encryption) => {
                put_encryption(p, bucket, after).await?
            }
            A::KmsKey => {}
            A::PublicAccessBlock => put_public_access_block(p, bucket, before, after).await?,
            A::Lifecycle => put_lifecycle(p, bucket, before, after).await?,
            A::Tags => put_tags(p, bucket, after).await?,
            // The name forces a new bucket; force_destroy only matters to delete; arn is computed.
            A::Bucket | A::ForceDestroy | A::Arn => {}
        }
    }
    Ok(())
}

async fn put_versioning(
    p: &AwsProvider,
    bucket: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    let on = attr::bool(after, A::Versioning).unwrap_or(DEFAULT_VERSIONING);
    // A bucket that never had versioning needs no "Suspended" call.
    if !on && attr::get(before, A::Versioning).is_none() {
        return Ok(());
    }
    let status = if on {
        BucketVersioningStatus::Enabled
    } else {
        BucketVersioningStatus::Suspended
    };
    p.clients
        .s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .map_err(|e| map(&format!("PutBucketVersioning {bucket}"), e))?;
    Ok(())
}

async fn put_encryption(p: &AwsProvider, bucket: &str, after: &Attrs) -> Result<(), ProviderError> {
    let algo = attr::str(after, A::Encryption).unwrap_or(DEFAULT_ENCRYPTION);
    let kms = algo == ENCRYPTION_KMS;
    let mut by_default =
        ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::from(algo));
    if kms && let Some(k) = attr::str(after, A::KmsKey) {
        by_default = by_default.kms_master_key_id(k);
    }
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(by_default.build().map_err(build_err)?)
        .bucket_key_enabled(kms)
        .build();
    p.clients
        .s3
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(build_err)?,
        )
        .send()
        .await
        .map_err(|e| map(&format!("PutBucketEncryption {bucket}"), e))?;
    Ok(())
}

async fn put_public_access_block(
    p: &AwsProvider,
    bucket: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    let s3 = &p.clients.s3;
    if attr::bool(after, A::PublicAccessBlock).unwrap_or(DEFAULT_PUBLIC_ACCESS_BLOCK) {
        s3.put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| map(&format!("PutPublicAccessBlock {bucket}"), e))?;
    } else if attr::get(before, A::PublicAccessBlock).is_some() {
        s3.delete_public_access_block()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| map(&format!("DeletePublicAccessBlock {bucket}"), e))?;
    }
    Ok(())
}

async fn put_lifecycle(
    p: &AwsProvider,
    bucket: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    let s3 = &p.clients.s3;
    let rules = lifecycle_rules(after)?;
    if rules.is_empty() {
        if attr::get(before, A::Lifecycle).is_some() {
            s3.delete_bucket_lifecycle()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| map(&format!("DeleteBucketLifecycle {bucket}"), e))?;
        }
    } else {
        s3.put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .set_rules(Some(rules))
                    .build()
                    .map_err(build_err)?,
            )
            .send()
            .await
            .map_err(|e| map(&format!("PutBucketLifecycleConfiguration {bucket}"), e))?;
    }
    Ok(())
}

async fn put_tags(p: &AwsProvider, bucket: &str, after: &Attrs) -> Result<(), ProviderError> {
    let s3 = &p.clients.s3;
    let tags = super::super::tag_pairs(after);
    if tags.is_empty() {
        s3.delete_bucket_tagging()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| map(&format!("DeleteBucketTagging {bucket}"), e))?;
    } else {
        let mut set = Vec::new();
        for (k, v) in tags {
            set.push(Tag::builder().key(k).value(v).build().map_err(build_err)?);
        }
        s3.put_bucket_tagging()
            .bucket(bucket)
            .tagging(
                Tagging::builder()
                    .set_tag_set(Some(set))
                    .build()
                    .map_err(build_err)?,
            )
            .send()
            .await
            .map_err(|e| map(&format!("PutBucketTagging {bucket}"), e))?;
    }
    Ok(())
}

fn lifecycle_rules(attrs: &Attrs) -> Result<Vec<LifecycleRule>, ProviderError> {
    let mut out = Vec::new();
    for (i, rule) in attr::get(attrs, A::Lifecycle)
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some(m) = rule.as_map() else { continue };
        let prefix = attr::str(m, LR::Prefix).unwrap_or("");
        let mut b = LifecycleRule::builder()
            .id(format!("pedestal-{i}"))
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix(prefix).build());
        if let Some(d) = attr::int(m, LR::ExpireDays) {
            b = b.expiration(LifecycleExpiration::builder().days(d as i32).build());
        }
        if let Some(d) = attr::int(m, LR::NoncurrentDays) {
            b = b.noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(d as i32)
                    .build(),
            );
        }
        out.push(b.build().map_err(build_err)?);
    }
    Ok(out)
}

/// Deletes the bucket; with `force_destroy` it first empties every version, otherwise it refuses a bucket that holds objects.
pub async fn delete_bucket(p: &AwsProvider, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let bucket = attr::str(attrs, A::Bucket).unwrap_or(id);
    let s3 = &p.clients.s3;
    let versions = match list_versions(p, bucket, None).await {
        Ok(v) => v,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    };
    if !versions.is_empty() {
        if !attr::bool(attrs, A::ForceDestroy).unwrap_or(DEFAULT_FORCE_DESTROY) {
            return Err(ProviderError::new(
                ErrorKind::Conflict,
                format!(
                    "bucket {bucket} still holds {} objects; set force_destroy = true and apply before destroying",
                    versions.len()
                ),
            ));
        }
        purge(p, bucket, versions).await?;
    }
    deleted(
        &format!("DeleteBucket {bucket}"),
        s3.delete_bucket().bucket(bucket).send().await,
    )
}

/// The bucket's settings as S3 reports them (`None` when it is gone).
pub async fn read_bucket(
    p: &AwsProvider,
    id: &str,
    recorded: &Attrs,
) -> Result<Option<Attrs>, ProviderError> {
    let bucket = attr::str(recorded, A::Bucket).unwrap_or(id);
    let s3 = &p.clients.s3;
    if let Err(e) = s3.head_bucket().bucket(bucket).send().await {
        let err = map(&format!("HeadBucket {bucket}"), e);
        return if err.is_not_found() {
            Ok(None)
        } else {
            Err(err)
        };
    }
    let mut a = recorded.clone();
    // Exhaustive: a new attribute has to say whether refresh reads it back.
    for &k in A::ALL {
        match k {
            A::Bucket => attr::set(&mut a, k, Value::str(bucket)),
            A::Versioning => {
                let on = versioning_enabled(p, bucket).await?;
                attr::set(&mut a, k, Value::Bool(on));
            }
            A::Encryption => read_encryption(p, bucket, &mut a).await?,
            A::PublicAccessBlock => read_public_access_block(p, bucket, &mut a).await?,
            A::Tags => {
                let tags = read_tags(p, bucket).await?;
                attr::set(&mut a, k, Value::Map(tags.into()));
            }
            // Read with the encryption; the recorded value stands for the rest.
            A::KmsKey | A::Lifecycle | A::ForceDestroy | A::Arn => {}
        }
    }
    Ok(Some(a))
}

// Fresh buckets on some emulators report no encryption / no public access block at all (AWS
// reports the defaults): absent configuration keeps the recorded value.

async fn read_encryption(
    p: &AwsProvider,
    bucket: &str,
    a: &mut Attrs,
) -> Result<(), ProviderError> {
    match p
        .clients
        .s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => {
            let rule = out
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default());
            if let Some(d) = rule {
                attr::set(a, A::Encryption, Value::str(d.sse_algorithm().as_str()));
                if let Some(k) = d.kms_master_key_id() {
                    attr::set(a, A::KmsKey, Value::str(k));
                }
            }
            Ok(())
        }
        Err(e) => {
            let err = map(&format!("GetBucketEncryption {bucket}"), e);
            if err.is_not_found() { Ok(()) } else { Err(err) }
        }
    }
}

async fn read_public_access_block(
    p: &AwsProvider,
    bucket: &str,
    a: &mut Attrs,
) -> Result<(), ProviderError> {
    match p
        .clients
        .s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => {
            if let Some(c) = out.public_access_block_configuration() {
                let all = c.block_public_acls() == Some(true)
                    && c.ignore_public_acls() == Some(true)
                    && c.block_public_policy() == Some(true)
                    && c.restrict_public_buckets() == Some(true);
                attr::set(a, A::PublicAccessBlock, Value::Bool(all));
            }
            Ok(())
        }
        Err(e) => {
            let err = map(&format!("GetPublicAccessBlock {bucket}"), e);
            if err.is_not_found() { Ok(()) } else { Err(err) }
        }
    }
}

/// The bucket's tags (none when it has no tag set).
async fn read_tags(
    p: &AwsProvider,
    bucket: &str,
) -> Result<BTreeMap<String, Value>, ProviderError> {
    match p
        .clients
        .s3
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), Value::str(t.value())))
            .collect()),
        Err(e) => {
            let err = map(&format!("GetBucketTagging {bucket}"), e);
            if err.is_not_found() {
                Ok(BTreeMap::new())
            } else {
                Err(err)
            }
        }
    }
}

/// Whether versioning is Enabled. Some emulators answer with a differently named XML root the
/// SDK refuses; the status element is then read from the raw body.
pub async fn versioning_enabled(p: &AwsProvider, bucket: &str) -> Result<bool, ProviderError> {
    match p
        .clients
        .s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(v) => Ok(v.status() == Some(&BucketVersioningStatus::Enabled)),
        Err(e) => {
            let raw = e
                .raw_response()
                .filter(|r| r.status().is_success())
                .and_then(|r| r.body().bytes())
                .map(|b| String::from_utf8_lossy(b).to_string());
            match raw {
                Some(body) => Ok(body.contains("<Status>Enabled</Status>")),
                None => Err(map(&format!("GetBucketVersioning {bucket}"), e)),
            }
        }
    }
}

/// The bucket of this name, with its tags.
pub async fn find_bucket(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let bucket = attr::req_str(&r.attrs, A::Bucket)?;
    let s3 = &p.clients.s3;
    if let Err(e) = s3.head_bucket().bucket(bucket).send().await {
        let err = map(&format!("HeadBucket {bucket}"), e);
        return if err.is_not_found() {
            Ok(None)
        } else {
            Err(err)
        };
    }
    let tags = match s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        Err(_) => BTreeMap::new(),
    };
    Ok(Some(Found {
        id: bucket.to_string(),
        tags,
    }))
}
