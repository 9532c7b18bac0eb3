//! S3 artifact objects: content addressed (SHA-256 checksums and metadata), multipart above a
//! threshold, create-only writes with `If-None-Match: *`, directories file by file. New content
//! is uploaded beside the old objects (listed in `kept`); delete removes every version of every
//! kept object.

use std::collections::BTreeMap;
use std::io::{Read, SeekFrom};
use std::path::PathBuf;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, Tag, Tagging};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::super::AwsProvider;
use super::super::error::map;
use super::{build_err, list_versions, purge};
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, ErrorKind, Found, LeftBehind, Owner, ProviderError};
use crate::resource::schema::Rule;
use crate::resource::schema::s3_object::{Attr as A, META_SHA256};
use crate::resource::{Attrs, Value};

fn object_id(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

fn source_path(p: &AwsProvider, attrs: &Attrs) -> Result<PathBuf, ProviderError> {
    let src = PathBuf::from(attr::req_str(attrs, A::Source)?);
    Ok(if src.is_absolute() {
        src
    } else {
        p.opts.root.join(src)
    })
}

fn tagging_query(attrs: &Attrs) -> String {
    super::super::tag_pairs(attrs)
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

/// The keys of the current objects under `prefix` (ListObjectsV2, every page).
async fn list_prefix(
    p: &AwsProvider,
    bucket: &str,
    prefix: &str,
) -> Result<std::collections::BTreeSet<String>, ProviderError> {
    let mut out = std::collections::BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let resp = p
            .clients
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.take())
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                let err = map(&format!("ListObjectsV2 s3://{bucket}/{prefix}"), e);
                // A missing bucket holds nothing.
                if err.is_not_found() {
                    return Ok(out);
                }
                return Err(err);
            }
        };
        out.extend(
            resp.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_string),
        );
        match resp.next_continuation_token() {
            Some(t) if resp.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// What is stored under the key now: (sha256 from metadata, version id, etag).
/// After a create-only write of `key` failed: when the object holds this very content
/// (`sha`), an earlier attempt whose answer was lost wrote it, and the write succeeded after
/// all; returns its version and ETag then.
async fn written_after_all(
    p: &AwsProvider,
    bucket: &str,
    key: &str,
    sha: &str,
    err: ProviderError,
) -> Result<(Option<String>, Option<String>), ProviderError> {
    match head_object(p, bucket, key).await {
        Ok(Some((Some(have), version, etag, _))) if have == sha => Ok((version, etag)),
        _ => Err(err),
    }
}

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
            h.metadata().and_then(|m| m.get(META_SHA256)).cloned(),
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
        A::VersionId.into(),
        version.map(Value::String).unwrap_or(Value::Null),
    );
    a.insert(
        A::Etag.into(),
        etag.map(Value::String).unwrap_or(Value::Null),
    );
    // The object just written joins what the artifact keeps.
    let mut kept = attr::map(attrs, A::Kept).cloned().unwrap_or_default();
    if let Some(sha) = attr::str(attrs, A::Sha256) {
        kept.insert(key.to_string().into(), Value::str(sha));
    }
    attr::set(&mut a, A::Kept, Value::Map(kept));
    Applied {
        id: object_id(bucket, key),
        attrs: a,
    }
}

/// Uploads the artifact (one file, or a directory under a prefix), unless an object with this sha256 is already there.
pub async fn create_object(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let bucket = attr::req_str(&r.attrs, A::Bucket)?;
    let key = attr::req_str(&r.attrs, A::Key)?;
    if let Some(files) = attr::map(&r.attrs, A::Files) {
        return create_directory(p, r, bucket, key, files).await;
    }
    let want_sha =
        attr::str(&r.attrs, A::Sha256).map(|s| s.trim_start_matches("sha256:").to_string());
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
    let meta = tokio::fs::metadata(&path)
        .await
        .map_err(|e| ProviderError::invalid(format!("artifact source {}: {e}", path.display())))?;
    if meta.is_dir() {
        return Err(ProviderError::invalid(format!(
            "artifact source {} is a directory; upload of directories is not supported",
            path.display()
        )));
    }
    let sha = match &want_sha {
        Some(s) => s.clone(),
        None => {
            let p = path.clone();
            // Hashing reads the whole file: on the blocking pool.
            tokio::task::spawn_blocking(move || sha256_file(&p))
                .await
                .map_err(|e| ProviderError::other(format!("hashing {}: {e}", path.display())))??
        }
    };
    let (version, etag) = if meta.len() > p.opts.multipart_threshold {
        upload_multipart(p, bucket, key, &path, &sha, &r.attrs).await?
    } else {
        let body = tokio::fs::read(&path).await.map_err(|e| {
            ProviderError::invalid(format!("artifact source {}: {e}", path.display()))
        })?;
        let len = body.len() as u64;
        let mut req = p
            .clients
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .if_none_match("*")
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .metadata(META_SHA256, &sha)
            .body(ByteStream::from(body));
        if let Some(ct) = attr::str(&r.attrs, A::ContentType) {
            req = req.content_type(ct);
        }
        let tagging = tagging_query(&r.attrs);
        if !tagging.is_empty() {
            req = req.tagging(tagging);
        }
        match req
            .customize()
            .config_override(upload_override(p, len))
            .send()
            .await
        {
            Ok(out) => (
                out.version_id().map(str::to_string),
                out.e_tag().map(str::to_string),
            ),
            Err(e) => {
                let err = map(&format!("PutObject s3://{bucket}/{key}"), e);
                written_after_all(p, bucket, key, &sha, err).await?
            }
        }
    };
    let mut attrs = r.attrs.clone();
    attrs.get_or_insert_with(A::Sha256.as_str(), || Value::str(&sha));
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
        let path = root.join(rel.as_str());
        let body = tokio::fs::read(&path).await.map_err(|e| {
            ProviderError::invalid(format!("artifact file {}: {e}", path.display()))
        })?;
        let len = body.len() as u64;
        let mut req = p
            .clients
            .s3
            .put_object()
            .bucket(bucket)
            .key(&object_key)
            .if_none_match("*")
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .metadata(META_SHA256, sha)
            .body(ByteStream::from(body));
        if !tagging.is_empty() {
            req = req.tagging(&tagging);
        }
        if let Err(e) = req
            .customize()
            .config_override(upload_override(p, len))
            .send()
            .await
        {
            let err = map(&format!("PutObject s3://{bucket}/{object_key}"), e);
            if let Err(err) = written_after_all(p, bucket, &object_key, sha, err).await {
                return Err(if uploaded.is_empty() {
                    err
                } else {
                    err.leaving(LeftBehind::Resource(object_applied(
                        bucket, key, &r.attrs, None, None,
                    )))
                });
            }
        }
        uploaded.push(object_key);
    }
    Ok(object_applied(bucket, key, &r.attrs, None, None))
}

/// An upload of `bytes`: the client's limits, extended by the body's transfer time.
fn upload_override(p: &AwsProvider, bytes: u64) -> aws_sdk_s3::config::Builder {
    let base = p
        .clients
        .s3
        .config()
        .timeout_config()
        .cloned()
        .unwrap_or_else(super::super::timeout_config);
    aws_sdk_s3::config::Builder::default()
        .timeout_config(super::super::upload_timeouts(&base, bytes))
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
        .metadata(META_SHA256, sha);
    if let Some(ct) = attr::str(attrs, A::ContentType) {
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
        let mut f = tokio::fs::File::open(path)
            .await
            .map_err(|e| ProviderError::invalid(format!("{}: {e}", path.display())))?;
        let len = f
            .seek(SeekFrom::End(0))
            .await
            .map_err(|e| ProviderError::invalid(format!("{}: {e}", path.display())))?;
        f.seek(SeekFrom::Start(0))
            .await
            .map_err(|e| ProviderError::invalid(format!("{}: {e}", path.display())))?;
        let mut parts = Vec::new();
        let mut offset = 0u64;
        let mut number = 1i32;
        while offset < len {
            let size = p.opts.part_size.min(len - offset) as usize;
            let mut buf = vec![0u8; size];
            f.read_exact(&mut buf)
                .await
                .map_err(|e| ProviderError::invalid(format!("{}: {e}", path.display())))?;
            let part_sha = base64(&Sha256::digest(&buf));
            let part_len = buf.len() as u64;
            let out = s3
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .part_number(number)
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .checksum_sha256(&part_sha)
                .body(ByteStream::from(buf))
                .customize()
                .config_override(upload_override(p, part_len))
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

/// Uploads new content beside the old objects (kept for rollback), or updates tags and metadata in place.
pub async fn update_object(
    p: &AwsProvider,
    _id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let bucket = attr::req_str(&after.attrs, A::Bucket)?;
    let key = attr::req_str(&after.attrs, A::Key)?;
    // New content or a new place is a new object beside the old ones (published keys are
    // never rewritten, old ones are kept for rollback).
    if [A::Key, A::Sha256, A::Files]
        .into_iter()
        .any(|k| attr::changed(before, &after.attrs, k))
    {
        let mut with_kept = after.clone();
        attr::set(&mut with_kept.attrs, A::Kept, Value::Map(kept_of(before)));
        return create_object(p, &with_kept).await;
    }
    if attr::changed(before, &after.attrs, A::Tags) {
        let mut set = Vec::new();
        for (k, v) in super::super::tag_pairs(&after.attrs) {
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
    for &k in A::ALL.iter().filter(|k| k.rule() == Rule::Computed) {
        if let Some(v) = attr::get(before, k) {
            attr::set(&mut attrs, k, v.clone());
        }
    }
    attr::set(&mut attrs, A::Kept, Value::Map(kept_of(before)));
    Ok(Applied {
        id: object_id(bucket, key),
        attrs,
    })
}

/// What an artifact keeps: its `kept` map, or (recorded before it had one) its one object.
fn kept_of(attrs: &Attrs) -> Attrs {
    let mut kept = attr::map(attrs, A::Kept).cloned().unwrap_or_default();
    if let Some(key) = attr::str(attrs, A::Key) {
        let sha = attr::get(attrs, A::Sha256).cloned().unwrap_or(Value::Null);
        kept.get_or_insert_with(key, || sha);
    }
    kept
}

/// Removes every version (and delete marker) of every object the artifact keeps. Pruning one
/// old object calls this with just that object's bucket and key.
pub async fn delete_object(p: &AwsProvider, attrs: &Attrs) -> Result<(), ProviderError> {
    let bucket = attr::req_str(attrs, A::Bucket)?;
    for key in kept_of(attrs).keys() {
        let versions = match list_versions(p, bucket, Some(key)).await {
            Ok(v) => v,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        if !versions.is_empty() {
            purge(p, bucket, versions).await?;
        }
    }
    Ok(())
}

/// The object (or every file of a directory) as S3 reports it (`None` when it is gone).
pub async fn read_object(
    p: &AwsProvider,
    recorded: &Attrs,
) -> Result<Option<Attrs>, ProviderError> {
    let bucket = attr::req_str(recorded, A::Bucket)?;
    let key = attr::req_str(recorded, A::Key)?;
    if let Some(files) = attr::map(recorded, A::Files) {
        // A directory: every recorded file is under the prefix (or, when the files are not
        // known, at least one object is).
        let listed = list_prefix(p, bucket, key).await?;
        let present = if files.is_empty() {
            !listed.is_empty()
        } else {
            files
                .keys()
                .all(|rel| listed.contains(&format!("{key}{rel}")))
        };
        return Ok(present.then(|| recorded.clone()));
    }
    let Some((sha, version, etag, size)) = head_object(p, bucket, key).await? else {
        return Ok(None);
    };
    let mut a = recorded.clone();
    // Exhaustive: a new attribute has to say whether refresh reads it back.
    for &k in A::ALL {
        match k {
            A::Sha256 => {
                if let Some(s) = &sha {
                    attr::set(&mut a, k, Value::String(s.clone()));
                }
            }
            A::Size if recorded.contains_key(k.as_str()) => attr::set(&mut a, k, Value::Int(size)),
            A::VersionId => attr::set(
                &mut a,
                k,
                version.clone().map_or(Value::Null, Value::String),
            ),
            A::Etag => attr::set(&mut a, k, etag.clone().map_or(Value::Null, Value::String)),
            // Found by these, or what the object was made from; `kept` is pedestal's record.
            A::Bucket
            | A::Key
            | A::Size
            | A::Source
            | A::ContentType
            | A::Files
            | A::Tags
            | A::Retain
            | A::Kept => {}
        }
    }
    Ok(Some(a))
}

/// The object (a directory by its first file), with its tags.
pub async fn find_object(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let bucket = attr::req_str(&r.attrs, A::Bucket)?;
    let key_attr = attr::req_str(&r.attrs, A::Key)?;
    // A directory artifact is found by its first file.
    let first = attr::map(&r.attrs, A::Files)
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
