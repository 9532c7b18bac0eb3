//! IAM's rules: role names and paths, inline policy names, policy document sizes and role tags.

use super::{NameChars, NameRule, TagRules};

/// `CreateRole`: role names of 1–64 characters of `[\w+=,.@-]`, paths of 1–512 characters
/// `/` or `/.../` of printable ASCII, descriptions up to 1000 characters, at most 50 tags.
pub const CREATE_ROLE_SOURCE: &str =
    "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html";
/// `PutRolePolicy`: inline policy names of 1–128 characters of `[\w+=,.@-]`.
pub const PUT_ROLE_POLICY_SOURCE: &str =
    "https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html";
/// IAM quotas: role trust policies up to 2,048 characters, a role's inline policies together
/// up to 10,240 characters (white space not counted).
pub const QUOTAS_SOURCE: &str =
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html";
/// Tagging IAM resources: 50 tags, keys 128, values 256, `aws:` reserved.
pub const TAGGING_SOURCE: &str = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html";

/// Role names.
pub static ROLE_NAME: NameRule = NameRule {
    what: "IAM role name",
    min: 1,
    max: 64,
    chars: NameChars::IamName,
    reserved_prefixes: &[],
    source: CREATE_ROLE_SOURCE,
};

/// Inline policy names.
pub static POLICY_NAME: NameRule = NameRule {
    what: "IAM inline policy name",
    min: 1,
    max: 128,
    chars: NameChars::IamName,
    reserved_prefixes: &[],
    source: PUT_ROLE_POLICY_SOURCE,
};

/// The longest role path.
pub const PATH_MAX: usize = 512;
/// The longest role description.
pub const DESCRIPTION_MAX: usize = 1000;
/// The longest trust policy (the default quota; AWS raises it to 4,096 on request).
pub const TRUST_POLICY_MAX: usize = 2048;
/// The longest the inline policies of one role may be together.
pub const INLINE_POLICIES_MAX: usize = 10_240;

/// Why `path` is not a role path, if it is not: `/`, or `/` + printable ASCII + `/`.
pub fn path_problem(path: &str) -> Option<String> {
    let len = path.chars().count();
    if len == 0 || len > PATH_MAX {
        return Some(format!(
            "an IAM path has 1 to {PATH_MAX} characters, this one has {len}"
        ));
    }
    if !path.starts_with('/') || !path.ends_with('/') {
        return Some("an IAM path begins and ends with `/`".into());
    }
    if let Some(c) = path.chars().find(|c| !('!'..='~').contains(c)) {
        return Some(format!(
            "an IAM path uses printable ASCII without spaces, {c:?} is not allowed"
        ));
    }
    None
}

/// The size IAM counts of a policy document: its characters without white space (outside and
/// inside strings alike, as IAM's quota is stated).
pub fn policy_size(json: &str) -> usize {
    json.chars().filter(|c| !c.is_whitespace()).count()
}

/// Why a policy document of `size` characters is refused, if it is: `what` names it, `max`
/// is [`TRUST_POLICY_MAX`] or [`INLINE_POLICIES_MAX`].
pub fn policy_size_problem(what: &str, size: usize, max: usize) -> Option<String> {
    (size > max).then(|| {
        format!("IAM accepts a {what} of at most {max} characters (white space aside); this one has at least {size}")
    })
}

/// Tags on a role.
pub static TAGS: TagRules = TagRules {
    what: "IAM roles",
    max_count: 50,
    key_max: 128,
    value_max: 256,
    reserved_prefix: "aws:",
    source: TAGGING_SOURCE,
};
