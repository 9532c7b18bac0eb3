//! AWS's own rules for the values pedestal sends, one table per service with the documentation
//! each rule comes from: name lengths and characters, tag limits, integer ranges and the other
//! constraints moto does not enforce. Spec lowering checks desired values against these tables
//! at validate time (so a violation is a located diagnostic, never a rejected or silently
//! altered request); the tables are plain data so other checks (request conformance in tests)
//! can read the same numbers.
//!
//! One module per service: [`s3`], [`ecs`], [`logs`], [`cloudwatch`], [`elbv2`],
//! [`autoscaling`], [`iam`], [`ssm`]; [`request`] checks one request's values against them. Each
//! rule carries the URL of the AWS page it restates; the limits agree with the
//! `min`/`max`/`pattern` of botocore's service models where those give them.

pub mod autoscaling;
pub mod cloudwatch;
pub mod ecs;
pub mod elbv2;
pub mod iam;
pub mod logs;
pub mod request;
pub mod s3;
pub mod ssm;

use crate::resource::ResourceKind;

/// Which characters a name may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameChars {
    /// ASCII letters, digits, `-` and `_` (ECS clusters, services, task families, capacity
    /// providers).
    AlnumDashUnderscore,
    /// ASCII letters, digits and `-`, not starting or ending with `-` (ELB target groups).
    AlnumDash,
    /// ASCII letters, digits and `. - _ / #` (CloudWatch Logs log groups).
    LogGroup,
    /// Lowercase letters, digits, `.` and `-` (S3 buckets; the rest of S3's rules are in
    /// [`s3::bucket_name_problem`]).
    Bucket,
    /// Any character but control characters (CloudWatch alarms).
    NoControl,
    /// ASCII letters, digits and `+ = , . @ _ -` (IAM role and policy names).
    IamName,
    /// ASCII letters, digits and `_ . - /` (SSM parameter names).
    Parameter,
}

impl NameChars {
    /// Every rule, in declaration order (the order [`NameChars::ascii_table`] indexes by).
    pub const ALL: [NameChars; 7] = [
        NameChars::AlnumDashUnderscore,
        NameChars::AlnumDash,
        NameChars::LogGroup,
        NameChars::Bucket,
        NameChars::NoControl,
        NameChars::IamName,
        NameChars::Parameter,
    ];

    /// Whether `c` is allowed.
    #[inline]
    pub fn allows(self, c: char) -> bool {
        match self {
            NameChars::AlnumDashUnderscore => c.is_ascii_alphanumeric() || c == '-' || c == '_',
            NameChars::AlnumDash => c.is_ascii_alphanumeric() || c == '-',
            NameChars::LogGroup => {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#')
            }
            NameChars::Bucket => {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'
            }
            NameChars::NoControl => !c.is_control(),
            NameChars::IamName => {
                c.is_ascii_alphanumeric() || matches!(c, '+' | '=' | ',' | '.' | '@' | '_' | '-')
            }
            NameChars::Parameter => c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'),
        }
    }

    /// [`NameChars::allows`] for each ASCII character, looked up by its byte.
    fn ascii_table(self) -> &'static [bool; 128] {
        static TABLES: std::sync::LazyLock<[[bool; 128]; NameChars::ALL.len()]> =
            std::sync::LazyLock::new(|| {
                NameChars::ALL
                    .map(|chars| std::array::from_fn(|b| chars.allows(char::from(b as u8))))
            });
        &TABLES[self as usize]
    }

    /// The first character of `name` that is not allowed.
    pub fn first_refused(self, name: &str) -> Option<char> {
        if name.is_ascii() {
            let table = self.ascii_table();
            name.bytes()
                .find(|&b| !table[usize::from(b)])
                .map(char::from)
        } else {
            name.chars().find(|c| !self.allows(*c))
        }
    }

    /// The allowed characters, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            NameChars::AlnumDashUnderscore => "letters, digits, `-` and `_`",
            NameChars::AlnumDash => "letters, digits and `-`",
            NameChars::LogGroup => "letters, digits and `.`, `-`, `_`, `/`, `#`",
            NameChars::Bucket => "lowercase letters, digits, `.` and `-`",
            NameChars::NoControl => "any characters but control characters",
            NameChars::IamName => "letters, digits and `+`, `=`, `,`, `.`, `@`, `_`, `-`",
            NameChars::Parameter => "letters, digits and `_`, `.`, `-`, `/`",
        }
    }
}

/// The rule for one kind of name.
#[derive(Debug)]
pub struct NameRule {
    /// What is named, for messages (`ECS cluster name`).
    pub what: &'static str,
    /// Shortest length, in characters.
    pub min: usize,
    /// Longest length, in characters.
    pub max: usize,
    /// Allowed characters.
    pub chars: NameChars,
    /// Prefixes AWS reserves (compared case-insensitively).
    pub reserved_prefixes: &'static [&'static str],
    /// Where AWS documents the rule.
    pub source: &'static str,
}

impl NameRule {
    /// Why `name` breaks the rule, if it does.
    pub fn problem(&self, name: &str) -> Option<String> {
        // ASCII names (nearly all) are counted by their bytes.
        let len = if name.is_ascii() {
            name.len()
        } else {
            name.chars().count()
        };
        if len < self.min || len > self.max {
            let range = if self.min == self.max {
                format!("{}", self.max)
            } else {
                format!("{} to {}", self.min, self.max)
            };
            return Some(format!(
                "{}: {range} characters, this one has {len}",
                self.what
            ));
        }
        if let Some(c) = self.chars.first_refused(name) {
            return Some(format!(
                "{}: only {}, {:?} is not allowed",
                self.what,
                self.chars.describe(),
                c
            ));
        }
        if self.chars == NameChars::AlnumDash && (name.starts_with('-') || name.ends_with('-')) {
            return Some(format!("{}: no `-` at the beginning or end", self.what));
        }
        if let Some(p) = self.reserved_prefixes.iter().find(|p| {
            name.len() >= p.len() && name.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
        }) {
            return Some(format!(
                "{}: must not begin with `{p}`, which AWS reserves",
                self.what
            ));
        }
        None
    }
}

/// One service's tag limits.
#[derive(Debug)]
pub struct TagRules {
    /// What carries the tags, plural, for messages (`S3 objects`).
    pub what: &'static str,
    /// Most tags one resource may carry.
    pub max_count: usize,
    /// Longest key, in characters.
    pub key_max: usize,
    /// Longest value, in characters.
    pub value_max: usize,
    /// The prefix AWS reserves for its own tags (compared case-insensitively).
    pub reserved_prefix: &'static str,
    /// Where AWS documents the limits.
    pub source: &'static str,
}

/// The characters tag keys and values may use in every service pedestal tags:
/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]` (letters, spaces, numbers and `_ . : / = + - @`).
pub fn tag_char_ok(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || "_.:/=+-@".contains(c)
}

impl TagRules {
    /// Why a tag key breaks the rules, if it does.
    pub fn key_problem(&self, key: &str) -> Option<String> {
        let len = key.chars().count();
        if len == 0 {
            return Some("a tag key must not be empty".into());
        }
        if len > self.key_max {
            return Some(format!(
                "a tag key on {} has at most {} characters; this one has {len}",
                self.what, self.key_max
            ));
        }
        if key
            .to_ascii_lowercase()
            .starts_with(&self.reserved_prefix.to_ascii_lowercase())
        {
            return Some(format!(
                "tag keys beginning with `{}` are reserved for AWS",
                self.reserved_prefix
            ));
        }
        if let Some(c) = key.chars().find(|c| !tag_char_ok(*c)) {
            return Some(format!(
                "tag keys use letters, numbers, spaces and `_ . : / = + - @`; {c:?} is not allowed"
            ));
        }
        None
    }

    /// Why a tag value breaks the rules, if it does.
    pub fn value_problem(&self, value: &str) -> Option<String> {
        let len = value.chars().count();
        if len > self.value_max {
            return Some(format!(
                "a tag value on {} has at most {} characters; this one has {len}",
                self.what, self.value_max
            ));
        }
        if let Some(c) = value.chars().find(|c| !tag_char_ok(*c)) {
            return Some(format!(
                "tag values use letters, numbers, spaces and `_ . : / = + - @`; {c:?} is not allowed"
            ));
        }
        None
    }
}

/// An inclusive integer range AWS accepts for one field.
#[derive(Debug)]
pub struct IntRange {
    /// The field as AWS names it (`desiredCount`).
    pub field: &'static str,
    /// Smallest accepted value.
    pub min: i64,
    /// Largest accepted value.
    pub max: i64,
    /// Where AWS documents the range.
    pub source: &'static str,
}

impl IntRange {
    /// Whether `n` is accepted.
    pub fn contains(&self, n: i64) -> bool {
        (self.min..=self.max).contains(&n)
    }

    /// Why `n` is refused, if it is.
    pub fn problem(&self, n: i64) -> Option<String> {
        (!self.contains(n)).then(|| {
            format!(
                "AWS accepts a {} from {} to {}; {n} is out of range",
                self.field, self.min, self.max
            )
        })
    }
}

/// The name rule of a kind's physical name (`None`: the name is derived from others, as
/// for scaling targets).
pub fn name_rule(kind: ResourceKind) -> Option<&'static NameRule> {
    match kind {
        ResourceKind::S3Bucket => Some(&s3::BUCKET_NAME),
        ResourceKind::S3Object => Some(&s3::OBJECT_KEY),
        ResourceKind::EcsCluster => Some(&ecs::CLUSTER_NAME),
        ResourceKind::EcsService => Some(&ecs::SERVICE_NAME),
        ResourceKind::EcsTaskDefinition => Some(&ecs::FAMILY),
        ResourceKind::LogGroup => Some(&logs::LOG_GROUP_NAME),
        ResourceKind::CloudwatchAlarm => Some(&cloudwatch::ALARM_NAME),
        ResourceKind::LoadBalancer => Some(&elbv2::LOAD_BALANCER_NAME),
        ResourceKind::TargetGroup => Some(&elbv2::TARGET_GROUP_NAME),
        // pedestal's own names, never sent.
        ResourceKind::ScalingTarget | ResourceKind::LbListener | ResourceKind::ListenerRule => None,
        ResourceKind::IamRole => Some(&iam::ROLE_NAME),
        ResourceKind::SsmParameter => Some(&ssm::PARAMETER_NAME),
    }
}

/// Why `name` is refused as the physical name of `kind`, with the rule's source: the kind's
/// [`NameRule`], plus the hierarchy rules of SSM parameter names.
pub fn name_problem(kind: ResourceKind, name: &str) -> Option<(String, &'static str)> {
    let rule = name_rule(kind)?;
    let problem = match kind {
        ResourceKind::SsmParameter => ssm::name_problem(name),
        _ => rule.problem(name),
    };
    problem.map(|p| (p, rule.source))
}

/// The tag limits of a kind (`None`: the kind carries no tags).
pub fn tag_rules(kind: ResourceKind) -> Option<&'static TagRules> {
    match kind {
        ResourceKind::S3Bucket => Some(&s3::BUCKET_TAGS),
        ResourceKind::S3Object => Some(&s3::OBJECT_TAGS),
        ResourceKind::EcsCluster | ResourceKind::EcsService | ResourceKind::EcsTaskDefinition => {
            Some(&ecs::TAGS)
        }
        ResourceKind::LogGroup => Some(&logs::TAGS),
        ResourceKind::CloudwatchAlarm => Some(&cloudwatch::TAGS),
        ResourceKind::LoadBalancer
        | ResourceKind::LbListener
        | ResourceKind::TargetGroup
        | ResourceKind::ListenerRule => Some(&elbv2::TAGS),
        ResourceKind::IamRole => Some(&iam::TAGS),
        ResourceKind::SsmParameter => Some(&ssm::TAGS),
        ResourceKind::ScalingTarget => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_names_are_checked_as_every_character_is() {
        for (i, chars) in NameChars::ALL.into_iter().enumerate() {
            assert_eq!(chars as usize, i, "ALL follows the declaration order");
            for b in 0..128u8 {
                let c = char::from(b);
                let name = format!("a{c}");
                let expected = (!chars.allows(c)).then_some(c);
                assert_eq!(chars.first_refused(&name), expected, "{chars:?} {b}");
            }
            assert_eq!(
                chars.first_refused("\u{e9}a\u{1}"),
                "\u{e9}a\u{1}".chars().find(|c| !chars.allows(*c))
            );
        }
    }

    #[test]
    fn names_follow_their_service() {
        assert_eq!(ecs::CLUSTER_NAME.problem("serving-prod_1"), None);
        assert!(ecs::CLUSTER_NAME.problem(&"a".repeat(256)).is_some());
        assert!(ecs::SERVICE_NAME.problem("has space").is_some());
        assert!(ecs::FAMILY.problem("").is_some());
        assert_eq!(logs::LOG_GROUP_NAME.problem("/pedestal/a/dev/x"), None);
        assert!(logs::LOG_GROUP_NAME.problem("aws/mine").is_some());
        assert!(logs::LOG_GROUP_NAME.problem("a:b").is_some());
        assert!(elbv2::TARGET_GROUP_NAME.problem("-tg").is_some());
        assert!(elbv2::TARGET_GROUP_NAME.problem(&"t".repeat(33)).is_some());
        assert!(elbv2::TARGET_GROUP_NAME.problem("internal-x").is_some());
        assert_eq!(elbv2::TARGET_GROUP_NAME.problem("api-tg"), None);
        assert!(cloudwatch::ALARM_NAME.problem("a\nb").is_some());
        assert!(cloudwatch::ALARM_NAME.problem(&"a".repeat(256)).is_some());
        assert_eq!(iam::ROLE_NAME.problem("shop-prod-scorer-exec"), None);
        assert!(iam::ROLE_NAME.problem(&"r".repeat(65)).is_some());
        assert!(iam::ROLE_NAME.problem("a/b").is_some());
        assert_eq!(iam::path_problem("/"), None);
        assert_eq!(iam::path_problem("/pedestal/shop/"), None);
        assert!(iam::path_problem("pedestal/").is_some());
        assert!(iam::path_problem("/a b/").is_some());
        assert_eq!(ssm::name_problem("/pedestal/shop/prod/API_TOKEN"), None);
        assert!(ssm::name_problem("/aws/x").is_some());
        assert!(ssm::name_problem("SSM-x").is_some());
        assert!(ssm::name_problem("a/b").is_some());
        assert!(ssm::name_problem("/a//b").is_some());
        assert!(ssm::name_problem("/a b").is_some());
        assert!(ssm::name_problem(&format!("/{}", ["l"; 16].join("/"))).is_some());
    }

    #[test]
    fn policy_sizes_ignore_white_space() {
        assert_eq!(iam::policy_size("{ \"a\" : 1 }"), 7);
        assert_eq!(
            iam::policy_size_problem("trust policy", 2048, iam::TRUST_POLICY_MAX),
            None
        );
        assert!(iam::policy_size_problem("trust policy", 2049, iam::TRUST_POLICY_MAX).is_some());
    }

    #[test]
    fn tags_follow_their_service() {
        let t = &ecs::TAGS;
        assert_eq!(t.key_problem("team"), None);
        assert!(t.key_problem("aws:owner").is_some());
        assert!(t.key_problem("AWS:owner").is_some());
        assert!(t.key_problem(&"k".repeat(129)).is_some());
        assert!(t.key_problem("a;b").is_some());
        assert_eq!(t.value_problem("ml platform/é"), None);
        assert!(t.value_problem(&"v".repeat(257)).is_some());
        assert!(t.value_problem("$(x)").is_some());
        assert_eq!(s3::OBJECT_TAGS.max_count, 10);
        assert_eq!(s3::BUCKET_TAGS.max_count, 50);
    }

    #[test]
    fn ranges_have_no_silent_ends() {
        assert!(ecs::DESIRED_COUNT.contains(10_000));
        assert!(!ecs::DESIRED_COUNT.contains(1 << 32));
        assert!(!ecs::DESIRED_COUNT.contains(i64::MAX));
        assert!(!ecs::DESIRED_COUNT.contains(-1));
        assert!(ecs::HEALTH_INTERVAL.problem(4).is_some());
        assert!(ecs::HEALTH_TIMEOUT.problem(121).is_some());
        assert!(ecs::HEALTH_RETRIES.problem(0).is_some());
        assert_eq!(ecs::HEALTH_START_PERIOD.problem(300), None);
    }
}
