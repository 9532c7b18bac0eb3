//! S3: buckets with secure defaults (versioning, encryption, public access block, lifecycle,
//! tags) and content-addressed artifact objects (SHA-256 checksums, multipart above a threshold,
//! create-only writes with `If-None-Match: *`, every version removed on delete).

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
    ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, CreateBucketConfiguration, Delete,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    NoncurrentVersionExpiration, ObjectIdentifier, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, Tag, Tagging, VersioningConfiguration,
};
use sha2::{Digest, Sha256};

use super::AwsProvider;
use super::error::{deleted, map};
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, ErrorKind, Found, LeftBehind, Owner, ProviderError};
use crate::resource::{Attrs, Value};

fn build_err(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::invalid(e.to_string())
}

fn changed(before: &Attrs, after: &Attrs, k: &str) -> bool {
    match (before.get(k), after.get(k)) {
        (Some(a), Some(b)) => !a.same_as(b),
        (None, None) => false,
        _ => true,
    }
}

// ---------------------------------------------------------------- buckets

pub async fn create_bucket(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let bucket = attr::req_str(&r.attrs, "bucket")?;
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
    a.insert("arn".into(), Value::str(format!("arn:aws:s3:::{bucket}")));
    a
}

pub async fn update_bucket(
    p: &AwsProvider,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let bucket = attr::req_str(&after.attrs, "bucket")?;
    configure_bucket(p, bucket, before, &after.attrs).await?;
    Ok(Applied {
        id: bucket.to_string(),
        attrs: with_bucket_computed(&after.attrs, bucket),
    })
}

/// Sends every bucket setting that differs between `before` and `after` (all of them for a new
/// bucket: `before` is empty).
async fn configure_bucket(
    p: &AwsProvider,
    bucket: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    let s3 = &p.clients.s3;
    if changed(before, after, "versioning") {
        let on = attr::bool(after, "versioning").unwrap_or(true);
        // A bucket that never had versioning needs no "Suspended" call.
        if on || before.contains_key("versioning") {
            let status = if on {
                BucketVersioningStatus::Enabled
            } else {
                BucketVersioningStatus::Suspended
            };
            s3.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(VersioningConfiguration::builder().status(status).build())
                .send()
                .await
                .map_err(|e| map(&format!("PutBucketVersioning {bucket}"), e))?;
        }
    }
    if changed(before, after, "encryption") || changed(before, after, "kms_key") {
        let algo = attr::str(after, "encryption").unwrap_or("AES256");
        let mut by_default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::from(algo));
        if algo == "aws:kms"
            && let Some(k) = attr::str(after, "kms_key")
        {
            by_default = by_default.kms_master_key_id(k);
        }
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(by_default.build().map_err(build_err)?)
            .bucket_key_enabled(algo == "aws:kms")
            .build();
        s3.put_bucket_encryption()
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
    }
    if changed(before, after, "public_access_block") {
        if attr::bool(after, "public_access_block").unwrap_or(true) {
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
        } else if before.contains_key("public_access_block") {
            s3.delete_public_access_block()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| map(&format!("DeletePublicAccessBlock {bucket}"), e))?;
        }
    }
    if changed(before, after, "lifecycle") {
        let rules = lifecycle_rules(after)?;
        if rules.is_empty() {
            if before.contains_key("lifecycle") {
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
    }
    if changed(before, after, "tags") {
        let tags = super::tag_pairs(after);
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
    }
    Ok(())
}

fn lifecycle_rules(attrs: &Attrs) -> Result<Vec<LifecycleRule>, ProviderError> {
    let mut out = Vec::new();
    for (i, rule) in attrs
        .get("lifecycle")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some(m) = rule.as_map() else { continue };
        let prefix = attr::str(m, "prefix").unwrap_or("");
        let mut b = LifecycleRule::builder()
            .id(format!("pedestal-{i}"))
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix(prefix).build());
        if let Some(d) = attr::int(m, "expire_days") {
            b = b.expiration(LifecycleExpiration::builder().days(d as i32).build());
        }
        if let Some(d) = attr::int(m, "noncurrent_days") {
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

pub async fn delete_bucket(p: &AwsProvider, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let bucket = attr::str(attrs, "bucket").unwrap_or(id);
    let s3 = &p.clients.s3;
    let versions = match list_versions(p, bucket, None).await {
        Ok(v) => v,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    };
    if !versions.is_empty() {
        if !attr::bool(attrs, "force_destroy").unwrap_or(false) {
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

/// Every (key, version id) in the bucket, delete markers included; `key` limits it to one key.
async fn list_versions(
    p: &AwsProvider,
    bucket: &str,
    key: Option<&str>,
) -> Result<Vec<(String, Option<String>)>, ProviderError> {
    let mut out = Vec::new();
    let mut key_marker: Option<String> = None;
    let mut version_marker: Option<String> = None;
    loop {
        let mut req = p.clients.s3.list_object_versions().bucket(bucket);
        if let Some(k) = key {
            req = req.prefix(k);
        }
        let resp = req
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
            .map_err(|e| map(&format!("ListObjectVersions {bucket}"), e))?;
        for v in resp.versions() {
            if let Some(k) = v.key()
                && key.is_none_or(|want| want == k || (want.ends_with('/') && k.starts_with(want)))
            {
                out.push((k.to_string(), v.version_id().map(str::to_string)));
            }
        }
        for m in resp.delete_markers() {
            if let Some(k) = m.key()
                && key.is_none_or(|want| want == k || (want.ends_with('/') && k.starts_with(want)))
            {
                out.push((k.to_string(), m.version_id().map(str::to_string)));
            }
        }
        if resp.is_truncated() == Some(true) {
            key_marker = resp.next_key_marker().map(str::to_string);
            version_marker = resp.next_version_id_marker().map(str::to_string);
            if key_marker.is_none() {
                break;
            }
        } else {
            break;
        }
    }
    Ok(out)
}

async fn purge(
    p: &AwsProvider,
    bucket: &str,
    versions: Vec<(String, Option<String>)>,
) -> Result<(), ProviderError> {
    for chunk in versions.chunks(1000) {
        let mut ids = Vec::with_capacity(chunk.len());
        for (k, v) in chunk {
            ids.push(
                ObjectIdentifier::builder()
                    .key(k)
                    .set_version_id(v.clone())
                    .build()
                    .map_err(build_err)?,
            );
        }
        let resp = p
            .clients
            .s3
            .delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(ids))
                    .quiet(true)
                    .build()
                    .map_err(build_err)?,
            )
            .send()
            .await
            .map_err(|e| map(&format!("DeleteObjects {bucket}"), e))?;
        if let Some(first) = resp.errors().first() {
            return Err(ProviderError::other(format!(
                "DeleteObjects {bucket}: {} of {} versions not deleted, first {}: {}",
                resp.errors().len(),
                chunk.len(),
                first.key().unwrap_or(""),
                first.message().unwrap_or("")
            )));
        }
    }
    Ok(())
}

pub async fn read_bucket(
    p: &AwsProvider,
    id: &str,
    recorded: &Attrs,
) -> Result<Option<Attrs>, ProviderError> {
    let bucket = attr::str(recorded, "bucket").unwrap_or(id);
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
    a.insert("bucket".into(), Value::str(bucket));
    a.insert(
        "versioning".into(),
        Value::Bool(versioning_enabled(p, bucket).await?),
    );
    // Fresh buckets on some emulators report no encryption / no public access block at all
    // (AWS reports the defaults): absent configuration keeps the recorded value.
    match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => {
            let rule = out
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default());
            if let Some(d) = rule {
                a.insert("encryption".into(), Value::str(d.sse_algorithm().as_str()));
                if let Some(k) = d.kms_master_key_id() {
                    a.insert("kms_key".into(), Value::str(k));
                }
            }
        }
        Err(e) => {
            let err = map(&format!("GetBucketEncryption {bucket}"), e);
            if !err.is_not_found() {
                return Err(err);
            }
        }
    }
    match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => {
            if let Some(c) = out.public_access_block_configuration() {
                let all = c.block_public_acls() == Some(true)
                    && c.ignore_public_acls() == Some(true)
                    && c.block_public_policy() == Some(true)
                    && c.restrict_public_buckets() == Some(true);
                a.insert("public_access_block".into(), Value::Bool(all));
            }
        }
        Err(e) => {
            let err = map(&format!("GetPublicAccessBlock {bucket}"), e);
            if !err.is_not_found() {
                return Err(err);
            }
        }
    }
    match s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => {
            let tags: BTreeMap<String, Value> = out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), Value::str(t.value())))
                .collect();
            a.insert("tags".into(), Value::Map(tags));
        }
        Err(e) => {
            let err = map(&format!("GetBucketTagging {bucket}"), e);
            if !err.is_not_found() {
                return Err(err);
            }
            a.insert("tags".into(), Value::Map(BTreeMap::new()));
        }
    }
    Ok(Some(a))
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

pub async fn find_bucket(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let bucket = attr::req_str(&r.attrs, "bucket")?;
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

// ---------------------------------------------------------------- artifact objects

fn object_id(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

fn source_path(p: &AwsProvider, attrs: &Attrs) -> Result<PathBuf, ProviderError> {
    let src = PathBuf::from(attr::req_str(attrs, "source")?);
    Ok(if src.is_absolute() {
        src
    } else {
        p.opts.root.join(src)
    })
}

fn tagging_query(attrs: &Attrs) -> String {
    super::tag_pairs(attrs)
        .into_iter()
        .map(|(k, v)| format!("{}={}", url_encode(&k), url_encode(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What is stored under the key now: (sha256 from metadata, version id, etag).
async fn head_object(
    p: &AwsProvider,
    bucket: &str,
    key: &str,
) -> Result<Option<(Option<String>, Option<String>, Option<String>, i64)>, ProviderError> {
    match p
        .clients
        .s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
    {
        Ok(h) => Ok(Some((
            h.metadata().and_then(|m| m.get("sha256")).cloned(),
            h.version_id().map(str::to_string),
            h.e_tag().map(str::to_string),
            h.content_length().unwrap_or(0),
        ))),
        Err(e) => {
            let err = map(&format!("HeadObject s3://{bucket}/{key}"), e);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

fn object_applied(
    bucket: &str,
    key: &str,
    attrs: &Attrs,
    version: Option<String>,
    etag: Option<String>,
) -> Applied {
    let mut a = attrs.clone();
    a.insert(
        "version_id".into(),
        version.map(Value::String).unwrap_or(Value::Null),
    );
    a.insert(
        "etag".into(),
        etag.map(Value::String).unwrap_or(Value::Null),
    );
    Applied {
        id: object_id(bucket, key),
        attrs: a,
    }
}

pub async fn create_object(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let bucket = attr::req_str(&r.attrs, "bucket")?;
    let key = attr::req_str(&r.attrs, "key")?;
    if let Some(files) = attr::map(&r.attrs, "files") {
        return create_directory(p, r, bucket, key, files).await;
    }
    let want_sha =
        attr::str(&r.attrs, "sha256").map(|s| s.trim_start_matches("sha256:").to_string());
    // Content addressed: an object already holding this sha needs no upload.
    if let Some((sha, version, etag, _)) = head_object(p, bucket, key).await? {
        if sha.is_some() && sha == want_sha {
            return Ok(object_applied(bucket, key, &r.attrs, version, etag));
        }
        return Err(ProviderError::new(
            ErrorKind::AlreadyExists {
                owner: Owner::Nobody,
            },
            format!(
                "object s3://{bucket}/{key} already exists with other content; published keys are never overwritten"
            ),
        ));
    }
    let path = source_path(p, &r.attrs)?;
    let meta = std::fs::metadata(&path)
        .map_err(|e| ProviderError::invalid(format!("artifact source {}: {e}", path.display())))?;
    if meta.is_dir() {
        return Err(ProviderError::invalid(format!(
            "artifact source {} is a directory; upload of directories is not supported",
            path.display()
        )));
    }
    let sha = match &want_sha {
        Some(s) => s.clone(),
        None => sha256_file(&path)?,
    };
    let (version, etag) = if meta.len() > p.opts.multipart_threshold {
        upload_multipart(p, bucket, key, &path, &sha, &r.attrs).await?
    } else {
        let body = std::fs::read(&path).map_err(|e| {
            ProviderError::invalid(format!("artifact source {}: {e}", path.display()))
        })?;
        let mut req = p
            .clients
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .if_none_match("*")
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .metadata("sha256", &sha)
            .body(ByteStream::from(body));
        if let Some(ct) = attr::str(&r.attrs, "content_type") {
            req = req.content_type(ct);
        }
        let tagging = tagging_query(&r.attrs);
        if !tagging.is_empty() {
            req = req.tagging(tagging);
        }
        let out = req
            .send()
            .await
            .map_err(|e| map(&format!("PutObject s3://{bucket}/{key}"), e))?;
        (
            out.version_id().map(str::to_string),
            out.e_tag().map(str::to_string),
        )
    };
    let mut attrs = r.attrs.clone();
    attrs
        .entry("sha256".into())
        .or_insert_with(|| Value::str(&sha));
    Ok(object_applied(bucket, key, &attrs, version, etag))
}

/// A directory artifact: every file under `key` (a prefix ending in `/`), each content
/// addressed by its own SHA-256 and written create-only.
async fn create_directory(
    p: &AwsProvider,
    r: &ApplyResource,
    bucket: &str,
    key: &str,
    files: &Attrs,
) -> Result<Applied, ProviderError> {
    let root = source_path(p, &r.attrs)?;
    let tagging = tagging_query(&r.attrs);
    let mut uploaded: Vec<String> = Vec::new();
    for (rel, sha) in files {
        let Some(sha) = sha.as_str() else { continue };
        let object_key = format!(
            "{}{rel}",
            if key.ends_with('/') {
                key.to_string()
            } else {
                format!("{key}/")
            }
        );
        if let Some((have, ..)) = head_object(p, bucket, &object_key).await? {
            if have.as_deref() == Some(sha) {
                continue;
            }
            return Err(ProviderError::new(
                ErrorKind::AlreadyExists {
                    owner: Owner::Nobody,
                },
                format!(
                    "object s3://{bucket}/{object_key} already exists with other content; published keys are never overwritten"
                ),
            ));
        }
        let path = root.join(rel);
        let body = std::fs::read(&path).map_err(|e| {
            ProviderError::invalid(format!("artifact file {}: {e}", path.display()))
        })?;
        let mut req = p
            .clients
            .s3
            .put_object()
            .bucket(bucket)
            .key(&object_key)
            .if_none_match("*")
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .metadata("sha256", sha)
            .body(ByteStream::from(body));
        if !tagging.is_empty() {
            req = req.tagging(&tagging);
        }
        if let Err(e) = req.send().await {
            let err = map(&format!("PutObject s3://{bucket}/{object_key}"), e);
            return Err(if uploaded.is_empty() {
                err
            } else {
                err.leaving(LeftBehind::Resource(object_applied(
                    bucket, key, &r.attrs, None, None,
                )))
            });
        }
        uploaded.push(object_key);
    }
    Ok(object_applied(bucket, key, &r.attrs, None, None))
}

fn sha256_file(path: &std::path::Path) -> Result<String, ProviderError> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| ProviderError::invalid(format!("{}: {e}", path.display())))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| ProviderError::invalid(format!("{}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

async fn upload_multipart(
    p: &AwsProvider,
    bucket: &str,
    key: &str,
    path: &std::path::Path,
    sha: &str,
    attrs: &Attrs,
) -> Result<(Option<String>, Option<String>), ProviderError> {
    let s3 = &p.clients.s3;
    let what = format!("multipart upload s3://{bucket}/{key}");
    let mut req = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .metadata("sha256", sha);
    if let Some(ct) = attr::str(attrs, "content_type") {
        req = req.content_type(ct);
    }
    let tagging = tagging_query(attrs);
    if !tagging.is_empty() {
        req = req.tagging(tagging);
    }
    let created = req.send().await.map_err(|e| map(&what, e))?;
    let upload_id = created
        .upload_id()
        .ok_or_else(|| ProviderError::other(format!("{what}: no upload id")))?
        .to_string();
    let result = async {
        let mut f = std::fs::File::open(path)
            .map_err(|e| ProviderError::invalid(format!("{}: {e}", path.display())))?;
        let len = f
            .seek(SeekFrom::End(0))
            .map_err(|e| ProviderError::invalid(format!("{}: {e}", path.display())))?;
        f.seek(SeekFrom::Start(0))
            .map_err(|e| ProviderError::invalid(format!("{}: {e}", path.display())))?;
        let mut parts = Vec::new();
        let mut offset = 0u64;
        let mut number = 1i32;
        while offset < len {
            let size = p.opts.part_size.min(len - offset) as usize;
            let mut buf = vec![0u8; size];
            f.read_exact(&mut buf)
                .map_err(|e| ProviderError::invalid(format!("{}: {e}", path.display())))?;
            let part_sha = base64(&Sha256::digest(&buf));
            let out = s3
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .part_number(number)
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .checksum_sha256(&part_sha)
                .body(ByteStream::from(buf))
                .send()
                .await
                .map_err(|e| map(&what, e))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag().map(str::to_string))
                    .checksum_sha256(part_sha)
                    .build(),
            );
            offset += size as u64;
            number += 1;
        }
        let done = s3
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .if_none_match("*")
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| map(&what, e))?;
        Ok((
            done.version_id().map(str::to_string),
            done.e_tag().map(str::to_string),
        ))
    }
    .await;
    if result.is_err() {
        let _ = s3
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .send()
            .await;
    }
    result
}

pub async fn update_object(
    p: &AwsProvider,
    _id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let bucket = attr::req_str(&after.attrs, "bucket")?;
    let key = attr::req_str(&after.attrs, "key")?;
    // New content or a new place is a new object (published keys are never rewritten).
    if ["bucket", "key", "sha256"]
        .iter()
        .any(|k| changed(before, &after.attrs, k))
    {
        return create_object(p, after).await;
    }
    if changed(before, &after.attrs, "tags") {
        let mut set = Vec::new();
        for (k, v) in super::tag_pairs(&after.attrs) {
            set.push(Tag::builder().key(k).value(v).build().map_err(build_err)?);
        }
        p.clients
            .s3
            .put_object_tagging()
            .bucket(bucket)
            .key(key)
            .tagging(
                Tagging::builder()
                    .set_tag_set(Some(set))
                    .build()
                    .map_err(build_err)?,
            )
            .send()
            .await
            .map_err(|e| map(&format!("PutObjectTagging s3://{bucket}/{key}"), e))?;
    }
    let mut attrs = after.attrs.clone();
    for k in ["version_id", "etag"] {
        if let Some(v) = before.get(k) {
            attrs.insert(k.into(), v.clone());
        }
    }
    Ok(Applied {
        id: object_id(bucket, key),
        attrs,
    })
}

pub async fn delete_object(p: &AwsProvider, attrs: &Attrs) -> Result<(), ProviderError> {
    let bucket = attr::req_str(attrs, "bucket")?;
    let key = attr::req_str(attrs, "key")?;
    let versions = match list_versions(p, bucket, Some(key)).await {
        Ok(v) => v,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    };
    if versions.is_empty() {
        return Ok(());
    }
    purge(p, bucket, versions).await
}

pub async fn read_object(
    p: &AwsProvider,
    recorded: &Attrs,
) -> Result<Option<Attrs>, ProviderError> {
    let bucket = attr::req_str(recorded, "bucket")?;
    let key = attr::req_str(recorded, "key")?;
    if let Some(files) = attr::map(recorded, "files") {
        let Some(first) = files.keys().next() else {
            return Ok(Some(recorded.clone()));
        };
        let present = head_object(p, bucket, &format!("{key}{first}"))
            .await?
            .is_some();
        return Ok(present.then(|| recorded.clone()));
    }
    let Some((sha, version, etag, size)) = head_object(p, bucket, key).await? else {
        return Ok(None);
    };
    let mut a = recorded.clone();
    if let Some(s) = sha {
        a.insert("sha256".into(), Value::String(s));
    }
    if recorded.contains_key("size") {
        a.insert("size".into(), Value::Int(size));
    }
    a.insert(
        "version_id".into(),
        version.map(Value::String).unwrap_or(Value::Null),
    );
    a.insert(
        "etag".into(),
        etag.map(Value::String).unwrap_or(Value::Null),
    );
    Ok(Some(a))
}

pub async fn find_object(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let bucket = attr::req_str(&r.attrs, "bucket")?;
    let key_attr = attr::req_str(&r.attrs, "key")?;
    // A directory artifact is found by its first file.
    let first = attr::map(&r.attrs, "files")
        .and_then(|f| f.keys().next())
        .map(|rel| format!("{key_attr}{rel}"));
    let key = first.as_deref().unwrap_or(key_attr);
    if head_object(p, bucket, key).await?.is_none() {
        return Ok(None);
    }
    let tags = match p
        .clients
        .s3
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .send()
        .await
    {
        Ok(out) => out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        Err(_) => BTreeMap::new(),
    };
    Ok(Some(Found {
        id: object_id(bucket, key_attr),
        tags,
    }))
}

/// Standard base64 with padding (checksum headers).
fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(super::url_encode("pedestal:stack"), "pedestal%3Astack");
    }
}
