//! `s3_object` (`artifact.X.object`): a content-addressed artifact, one file or a directory.
//! Artifacts are immutable and kept: new content is a new key beside the old ones (an in-place
//! update of this resource that uploads and adds to [`Attr::Kept`]), never a replacement; old
//! keys are pruned only after a release completes, beyond the last [`Attr::Retain`] releases.

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of an `s3_object`.
    pub enum Attr {
        /// The bucket holding the object.
        Bucket = "bucket",
        /// The object key (the physical name); a prefix ending in `/` for a directory.
        Key = "key",
        /// Path of the file or directory, relative to the stack directory.
        Source = "source",
        /// Hex SHA-256 of the content (of the file list for a directory).
        Sha256 = "sha256",
        /// Size in bytes.
        Size = "size",
        /// `Content-Type` of the object; null for the default.
        ContentType = "content_type",
        /// A directory artifact: relative path -> hex SHA-256 of each file.
        Files = "files",
        /// The tag map.
        Tags = "tags",
        /// The version S3 gave the object.
        VersionId = "version_id",
        /// The object's ETag.
        Etag = "etag",
        /// How many releases' objects to keep per endpoint using the artifact (at least 1).
        Retain = "retain",
        /// Every object this artifact made and still holds: key -> hex SHA-256 (the current
        /// one included). Destroy removes them all; pruning removes old ones.
        Kept = "kept",
    }
}

impl Attr {
    /// How the planner treats a change: new content or a new place is a new object.
    pub const fn rule(self) -> Rule {
        match self {
            // A new key or content is uploaded beside the old objects, never over them.
            Attr::Bucket => Rule::ForceNew,
            Attr::Key
            | Attr::Sha256
            | Attr::Source
            | Attr::Size
            | Attr::ContentType
            | Attr::Files
            | Attr::Tags
            | Attr::Retain => Rule::InPlace,
            Attr::VersionId | Attr::Etag | Attr::Kept => Rule::Computed,
        }
    }
}

rule_lists!(Attr);

/// The kind's facts for the planner and the provider.
pub const SCHEMA: KindSchema = KindSchema {
    force_new: &FORCE_NEW,
    computed: &COMPUTED,
    replace_order: ReplaceOrder::CreateBeforeDestroy,
    versioned: false,
    name_attr: Attr::Key.as_str(),
};

/// [`Attr::Retain`] when unset: the objects of the last 5 releases are kept.
pub const DEFAULT_RETAIN: i64 = 5;

/// The user-metadata key the object's SHA-256 is stored under.
pub const META_SHA256: &str = "sha256";

/// What spec lowering fills in: one field per attribute it sets. Tags are added for every kind
/// by lowering itself and computed attributes by the cloud. Lowering builds this with a struct
/// literal and [`Desired::into_attrs`] matches every [`Attr`], so a new attribute does not
/// compile until both say what it holds.
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Bucket`].
    pub bucket: Value,
    /// [`Attr::Key`].
    pub key: Value,
    /// [`Attr::Source`].
    pub source: Value,
    /// [`Attr::Sha256`].
    pub sha256: Value,
    /// [`Attr::Size`].
    pub size: Value,
    /// [`Attr::ContentType`].
    pub content_type: Value,
    /// Only for a directory artifact (absent for a single file).
    pub files: Option<Value>,
    /// [`Attr::Retain`].
    pub retain: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().filter_map(|&k| {
            let v = match k {
                Attr::Bucket => std::mem::take(&mut self.bucket),
                Attr::Key => std::mem::take(&mut self.key),
                Attr::Source => std::mem::take(&mut self.source),
                Attr::Sha256 => std::mem::take(&mut self.sha256),
                Attr::Size => std::mem::take(&mut self.size),
                Attr::ContentType => std::mem::take(&mut self.content_type),
                Attr::Files => match self.files.take() {
                    Some(v) => v,
                    None => return None,
                },
                Attr::Retain => std::mem::take(&mut self.retain),
                Attr::Tags | Attr::VersionId | Attr::Etag | Attr::Kept => return None,
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}
