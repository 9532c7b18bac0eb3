//! CloudWatch's rules: alarm names and tags.

use super::{NameChars, NameRule, TagRules};

/// `PutMetricAlarm`: names of 1–255 UTF-8 characters without ASCII control characters; at
/// most 50 tags.
pub const PUT_METRIC_ALARM_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html";

/// Alarm names.
pub static ALARM_NAME: NameRule = NameRule {
    what: "CloudWatch alarm name",
    min: 1,
    max: 255,
    chars: NameChars::NoControl,
    reserved_prefixes: &[],
    source: PUT_METRIC_ALARM_SOURCE,
};

/// Tags on an alarm.
pub static TAGS: TagRules = TagRules {
    what: "CloudWatch alarms",
    max_count: 50,
    key_max: 128,
    value_max: 256,
    reserved_prefix: "aws:",
    source: PUT_METRIC_ALARM_SOURCE,
};
