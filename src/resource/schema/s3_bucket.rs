//! `s3_bucket` (`storage.X.bucket`): a bucket with secure defaults.

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of an `s3_bucket`.
    pub enum Attr {
        /// The bucket name (the physical name).
        Bucket = "bucket",
        /// Object versioning on or off.
        Versioning = "versioning",
        /// Server-side encryption algorithm: [`ENCRYPTION_AES256`] or [`ENCRYPTION_KMS`].
        Encryption = "encryption",
        /// KMS key for [`ENCRYPTION_KMS`]; null otherwise.
        KmsKey = "kms_key",
        /// Every public access block setting on (true) or none (false).
        PublicAccessBlock = "public_access_block",
        /// Expiry rules: a list of [`LifecycleRule`] maps.
        Lifecycle = "lifecycle",
        /// Destroy empties the bucket first (else a non-empty bucket refuses to go).
        ForceDestroy = "force_destroy",
        /// The tag map.
        Tags = "tags",
        /// `arn:aws:s3:::<bucket>`.
        Arn = "arn",
    }
}

impl Attr {
    /// How the planner treats a change.
    pub const fn rule(self) -> Rule {
        match self {
            Attr::Bucket => Rule::ForceNew,
            Attr::Versioning
            | Attr::Encryption
            | Attr::KmsKey
            | Attr::PublicAccessBlock
            | Attr::Lifecycle
            | Attr::ForceDestroy
            | Attr::Tags => Rule::InPlace,
            Attr::Arn => Rule::Computed,
        }
    }
}

rule_lists!(Attr);

/// The kind's facts for the planner and the provider.
pub const SCHEMA: KindSchema = KindSchema {
    force_new: &FORCE_NEW,
    computed: &COMPUTED,
    replace_order: ReplaceOrder::DestroyBeforeCreate,
    versioned: false,
    name_attr: Attr::Bucket.as_str(),
};

attr_names! {
    /// One map of the `lifecycle` list.
    pub enum LifecycleRule {
        /// Key prefix the rule applies to ("" for the whole bucket).
        Prefix = "prefix",
        /// Current versions expire after this many days.
        ExpireDays = "expire_days",
        /// Noncurrent versions expire after this many days.
        NoncurrentDays = "noncurrent_days",
    }
}

/// `versioning` when unset.
pub const DEFAULT_VERSIONING: bool = true;
/// `encryption` value for S3-managed keys (the default).
pub const ENCRYPTION_AES256: &str = "AES256";
/// `encryption` value for KMS keys (needs `kms_key`).
pub const ENCRYPTION_KMS: &str = "aws:kms";
/// `encryption` when unset.
pub const DEFAULT_ENCRYPTION: &str = ENCRYPTION_AES256;
/// `public_access_block` when unset.
pub const DEFAULT_PUBLIC_ACCESS_BLOCK: bool = true;
/// `force_destroy` when unset.
pub const DEFAULT_FORCE_DESTROY: bool = false;

/// What spec lowering fills in: one field per attribute it sets. Tags are added for every kind
/// by lowering itself and computed attributes by the cloud. Lowering builds this with a struct
/// literal and [`Desired::into_attrs`] matches every [`Attr`], so a new attribute does not
/// compile until both say what it holds.
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Bucket`].
    pub bucket: Value,
    /// [`Attr::Versioning`].
    pub versioning: Value,
    /// [`Attr::Encryption`].
    pub encryption: Value,
    /// [`Attr::KmsKey`].
    pub kms_key: Value,
    /// [`Attr::PublicAccessBlock`].
    pub public_access_block: Value,
    /// [`Attr::Lifecycle`].
    pub lifecycle: Value,
    /// [`Attr::ForceDestroy`].
    pub force_destroy: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().filter_map(|&k| {
            let v = match k {
                Attr::Bucket => std::mem::take(&mut self.bucket),
                Attr::Versioning => std::mem::take(&mut self.versioning),
                Attr::Encryption => std::mem::take(&mut self.encryption),
                Attr::KmsKey => std::mem::take(&mut self.kms_key),
                Attr::PublicAccessBlock => std::mem::take(&mut self.public_access_block),
                Attr::Lifecycle => std::mem::take(&mut self.lifecycle),
                Attr::ForceDestroy => std::mem::take(&mut self.force_destroy),
                Attr::Tags | Attr::Arn => return None,
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}
