//! Elastic Load Balancing's rules: target group and load balancer names, tags, listener rule
//! priorities and target group health checks.

use super::{IntRange, NameChars, NameRule, TagRules};

/// `CreateTargetGroup`: up to 32 alphanumeric characters or hyphens, not beginning or ending
/// with a hyphen.
pub const CREATE_TARGET_GROUP_SOURCE: &str = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html";
/// `CreateLoadBalancer`: the same rule, and not beginning with `internal-`.
pub const CREATE_LOAD_BALANCER_SOURCE: &str = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html";
/// `CreateRule`: priorities 1–50,000.
pub const CREATE_RULE_SOURCE: &str =
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html";
/// `AddTags`: 50 tags, keys 128 and values 256 characters.
pub const ADD_TAGS_SOURCE: &str =
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_AddTags.html";

/// Target group names.
pub static TARGET_GROUP_NAME: NameRule = NameRule {
    what: "ELB target group name",
    min: 1,
    max: 32,
    chars: NameChars::AlnumDash,
    reserved_prefixes: &["internal-"],
    source: CREATE_TARGET_GROUP_SOURCE,
};

/// Load balancer names.
pub static LOAD_BALANCER_NAME: NameRule = NameRule {
    what: "ELB load balancer name",
    min: 1,
    max: 32,
    chars: NameChars::AlnumDash,
    reserved_prefixes: &["internal-"],
    source: CREATE_LOAD_BALANCER_SOURCE,
};

/// Listener rule priorities.
pub static RULE_PRIORITY: IntRange = IntRange {
    field: "listener rule priority",
    min: 1,
    max: 50_000,
    source: CREATE_RULE_SOURCE,
};

/// Tags on ELB resources.
pub static TAGS: TagRules = TagRules {
    what: "ELB resources",
    max_count: 50,
    key_max: 128,
    value_max: 256,
    reserved_prefix: "aws:",
    source: ADD_TAGS_SOURCE,
};
