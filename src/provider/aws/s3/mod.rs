//! S3, one file per resource: buckets with secure defaults ([`bucket`]: versioning, encryption,
//! public access block, lifecycle, tags) and content-addressed artifact objects ([`object`]:
//! SHA-256 checksums, multipart above a threshold, create-only writes with `If-None-Match: *`,
//! every version removed on delete).
//!
//! This file holds what they share: listing and purging object versions.

pub mod bucket;
pub mod object;

use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::AwsProvider;
use super::error::map;
use crate::provider::ProviderError;

pub use bucket::{
    create_bucket, delete_bucket, find_bucket, read_bucket, update_bucket, versioning_enabled,
};
pub use object::{create_object, delete_object, find_object, read_object, update_object};

pub(super) fn build_err(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::invalid(e.to_string())
}

/// Every (key, version id) in the bucket, delete markers included; `key` limits it to one key.
pub(super) async fn list_versions(
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

pub(super) async fn purge(
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
