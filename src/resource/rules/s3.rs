//! Amazon S3's rules: bucket names, object keys, and the tag limits of buckets (50) and
//! objects (10).

use super::{NameChars, NameRule, TagRules};

/// Bucket naming rules.
pub const BUCKET_NAMING_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html";
/// Object tagging limits (10 tags per object, keys 128 and values 256 Unicode characters).
pub const OBJECT_TAGGING_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html";
/// Bucket tagging limits (50 tags per bucket).
pub const BUCKET_TAGGING_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/CostAllocTagging.html";
/// Object key length.
pub const OBJECT_KEY_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html";

/// Bucket names: 3–63 lowercase letters, digits, `.` and `-` (the other rules are in
/// [`bucket_name_problem`]).
pub static BUCKET_NAME: NameRule = NameRule {
    what: "S3 bucket name",
    min: 3,
    max: 63,
    chars: NameChars::Bucket,
    reserved_prefixes: &["xn--", "sthree-", "amzn-s3-demo-"],
    source: BUCKET_NAMING_SOURCE,
};

/// Object keys: up to 1,024 bytes of UTF-8 (counted in characters here; keys pedestal makes
/// are ASCII).
pub static OBJECT_KEY: NameRule = NameRule {
    what: "S3 object key",
    min: 1,
    max: 1024,
    chars: NameChars::NoControl,
    reserved_prefixes: &[],
    source: OBJECT_KEY_SOURCE,
};

/// Tags on a bucket.
pub static BUCKET_TAGS: TagRules = TagRules {
    what: "S3 buckets",
    max_count: 50,
    key_max: 128,
    value_max: 256,
    reserved_prefix: "aws:",
    source: BUCKET_TAGGING_SOURCE,
};

/// Tags on an object: at most 10.
pub static OBJECT_TAGS: TagRules = TagRules {
    what: "S3 objects",
    max_count: 10,
    key_max: 128,
    value_max: 256,
    reserved_prefix: "aws:",
    source: OBJECT_TAGGING_SOURCE,
};

/// Why a bucket name is invalid, if it is (every rule of [`BUCKET_NAMING_SOURCE`] for
/// general purpose buckets).
pub fn bucket_name_problem(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if b.len() < BUCKET_NAME.min || b.len() > BUCKET_NAME.max {
        return Some("bucket names are 3 to 63 characters long");
    }
    if !name.chars().all(|c| BUCKET_NAME.chars.allows(c)) {
        return Some("bucket names use only lowercase letters, digits, `.` and `-`");
    }
    if !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return Some("bucket names begin and end with a letter or digit");
    }
    if name.contains("..") {
        return Some("bucket names have no two adjacent periods");
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Some("bucket names are not formatted as IP addresses");
    }
    if BUCKET_NAME
        .reserved_prefixes
        .iter()
        .any(|p| name.starts_with(p))
    {
        return Some("bucket names do not start with `xn--`, `sthree-` or `amzn-s3-demo-`");
    }
    if name.ends_with("-s3alias") || name.ends_with("--ol-s3") || name.ends_with(".mrap") {
        return Some("bucket names do not end with `-s3alias`, `--ol-s3` or `.mrap`");
    }
    None
}
