//! CloudWatch Logs' rules: log group names and tags.

use super::{NameChars, NameRule, TagRules};

/// `CreateLogGroup`: 1–512 characters of `a-zA-Z0-9_-/.#`, not beginning with `aws/`.
pub const CREATE_LOG_GROUP_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html";

/// Log group names.
pub static LOG_GROUP_NAME: NameRule = NameRule {
    what: "CloudWatch Logs log group name",
    min: 1,
    max: 512,
    chars: NameChars::LogGroup,
    reserved_prefixes: &["aws/"],
    source: CREATE_LOG_GROUP_SOURCE,
};

/// Tags on a log group.
pub static TAGS: TagRules = TagRules {
    what: "CloudWatch Logs log groups",
    max_count: 50,
    key_max: 128,
    value_max: 256,
    reserved_prefix: "aws:",
    source: CREATE_LOG_GROUP_SOURCE,
};
