//! Systems Manager Parameter Store's rules: parameter names, values, descriptions and tags.

use super::{NameChars, NameRule, TagRules};

/// `PutParameter`: names of `a-zA-Z0-9_.-` and `/` (a hierarchy of at most 15 levels, fully
/// qualified with a leading `/`), at most 1,011 characters, not beginning with `aws` or `ssm`
/// in any case; standard-tier values up to 4 KB; descriptions up to 1,024 characters; at most
/// 50 tags.
pub const PUT_PARAMETER_SOURCE: &str =
    "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html";
/// Naming constraints of parameters and hierarchies.
pub const NAMING_SOURCE: &str =
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html";

/// Parameter names (the character and prefix rules; see [`name_problem`] for the hierarchy).
pub static PARAMETER_NAME: NameRule = NameRule {
    what: "SSM parameter name",
    min: 1,
    max: 1011,
    chars: NameChars::Parameter,
    reserved_prefixes: &["aws", "ssm", "/aws/", "/ssm/"],
    source: NAMING_SOURCE,
};

/// The deepest parameter hierarchy.
pub const MAX_LEVELS: usize = 15;
/// The largest standard-tier value, in bytes.
pub const VALUE_MAX_BYTES: usize = 4096;
/// The longest description.
pub const DESCRIPTION_MAX: usize = 1024;

/// Why `name` is not a parameter name, if it is not: [`PARAMETER_NAME`], then a name with a
/// `/` must begin with one, have no empty level, and at most [`MAX_LEVELS`] levels.
pub fn name_problem(name: &str) -> Option<String> {
    if let Some(p) = PARAMETER_NAME.problem(name) {
        return Some(p);
    }
    if !name.contains('/') {
        return None;
    }
    if !name.starts_with('/') {
        return Some("SSM parameter name: a name with a hierarchy begins with `/`".into());
    }
    let levels: Vec<&str> = name[1..].split('/').collect();
    if levels.iter().any(|l| l.is_empty()) {
        return Some("SSM parameter name: no empty level (`//`) and no trailing `/`".into());
    }
    if levels.len() > MAX_LEVELS {
        return Some(format!(
            "SSM parameter name: at most {MAX_LEVELS} levels, this one has {}",
            levels.len()
        ));
    }
    None
}

/// Tags on a parameter.
pub static TAGS: TagRules = TagRules {
    what: "SSM parameters",
    max_count: 50,
    key_max: 128,
    value_max: 256,
    reserved_prefix: "aws:",
    source: PUT_PARAMETER_SOURCE,
};
