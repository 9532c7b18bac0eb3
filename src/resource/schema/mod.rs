//! The typed contract of every resource kind: which attributes it has, what they are called,
//! how the planner treats a change to each, and their defaults.
//!
//! One module per kind ([`s3_bucket`], [`s3_object`], [`ecs_cluster`], [`log_group`],
//! [`ecs_task_definition`], [`ecs_service`], [`scaling_target`], [`cloudwatch_alarm`],
//! [`load_balancer`], [`lb_listener`], [`target_group`], [`listener_rule`], [`iam_role`],
//! [`ssm_parameter`]). Each declares its
//! top-level attributes as an `Attr` enum (and every nested map, such as a task definition's
//! `container` or a service's `deployment`, as an enum of its own) with `attr_names!`: the
//! enum, its `ALL` list, `as_str` and `parse` come from one list, so they never disagree.
//!
//! How this keeps the places that use attributes in step:
//! - Spec lowering, the planner, renderers and providers name attributes only through these
//!   enums (`Attr::Bucket`, `Container::Image`), never as string literals, so a renamed or
//!   removed attribute is a compile error wherever it is used.
//! - Every top-level `Attr` has an exhaustive `rule()` ([`Rule`]: updated in place, forces
//!   replacement, or computed by the cloud); the kind's [`crate::resource::KindSchema`] lists
//!   (`force_new`, `computed`) are derived from it at compile time. Adding an attribute does
//!   not compile until its rule is stated.
//! - Lowering builds each resource from the kind's `Desired` struct (a struct literal naming
//!   every field), whose `into_attrs` matches every `Attr`.
//! - The AWS provider's refresh reads (`read_*`, `read_back`) and the bucket's settings update
//!   go through an exhaustive `match` over the kind's `Attr`, so a new attribute also has to say
//!   whether refresh detects drift on it and how it reaches the cloud.
//! - [`crate::resource::ResourceKind::schema`] is an exhaustive `match` over kinds: a new kind
//!   needs a schema before anything compiles, and then every `match` on the kind (provider
//!   dispatch, the fake's computed attributes) asks for it.
//!
//! Defaults live next to the attribute they belong to (`DEFAULT_*` constants) and are the only
//! place a default is written: lowering fills them in, renderers canonicalise with them and
//! providers fall back to them.

pub mod cloudwatch_alarm;
pub mod ecs_cluster;
pub mod ecs_service;
pub mod ecs_task_definition;
pub mod iam_role;
pub mod lb_listener;
pub mod listener_rule;
pub mod load_balancer;
pub mod log_group;
pub mod s3_bucket;
pub mod s3_object;
pub mod scaling_target;
pub mod ssm_parameter;
pub mod target_group;

/// How the planner treats a change to one top-level attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Sent to the cloud and updated in place.
    InPlace,
    /// A change replaces the resource.
    ForceNew,
    /// Set by the cloud; known only after apply.
    Computed,
}

/// An attribute name of some kind or nested map: what the attribute helpers accept.
pub trait AttrName: Copy {
    /// The name as written in plans and state.
    fn name(self) -> &'static str;
}

/// The pseudo-attribute a reference uses for a resource's recorded id (not stored in attrs).
pub const ID: &str = "id";
/// The tag map every taggable kind carries (`Attr::Tags` of each kind is spelt this way).
pub const TAGS: &str = "tags";

/// The keys of the IAM policy documents pedestal writes (`iam_role`'s policies and trust).
pub const POLICY_KEYS: &[&str] = &[
    "Action",
    "Condition",
    "Effect",
    "Principal",
    "Resource",
    "Service",
    "Sid",
    "Statement",
    "StringLike",
    "Version",
    "s3:prefix",
];

/// Every attribute name the schemas declare (top level and nested maps), the policy keys and
/// the tags and environment variables pedestal writes itself: the names an attribute map's
/// [`Key`](crate::resource::Key) borrows instead of copying.
pub fn known_names() -> Vec<&'static str> {
    fn all<A: AttrName>(names: &[A]) -> impl Iterator<Item = &'static str> + '_ {
        names.iter().map(|a| a.name())
    }
    let mut names: Vec<&'static str> = all(cloudwatch_alarm::Attr::ALL)
        .chain(all(cloudwatch_alarm::Math::ALL))
        .chain(all(cloudwatch_alarm::MathMetric::ALL))
        .chain(all(ecs_cluster::Attr::ALL))
        .chain(all(ecs_service::Attr::ALL))
        .chain(all(ecs_service::Network::ALL))
        .chain(all(ecs_service::Deployment::ALL))
        .chain(all(ecs_service::Alarms::ALL))
        .chain(all(ecs_service::LoadBalancerItem::ALL))
        .chain(all(ecs_service::CapacityProviderItem::ALL))
        .chain(all(ecs_task_definition::Attr::ALL))
        .chain(all(ecs_task_definition::Container::ALL))
        .chain(all(ecs_task_definition::HealthCheck::ALL))
        .chain(all(ecs_task_definition::Model::ALL))
        .chain(all(iam_role::Attr::ALL))
        .chain(all(lb_listener::Attr::ALL))
        .chain(all(listener_rule::Attr::ALL))
        .chain(all(load_balancer::Attr::ALL))
        .chain(all(log_group::Attr::ALL))
        .chain(all(s3_bucket::Attr::ALL))
        .chain(all(s3_bucket::LifecycleRule::ALL))
        .chain(all(s3_object::Attr::ALL))
        .chain(all(scaling_target::Attr::ALL))
        .chain(all(ssm_parameter::Attr::ALL))
        .chain(all(target_group::Attr::ALL))
        .chain(all(target_group::HealthCheck::ALL))
        .chain(POLICY_KEYS.iter().copied())
        .chain([
            crate::provider::TAG_ADDRESS,
            crate::provider::TAG_ENV,
            crate::provider::TAG_STACK,
        ])
        .chain(ecs_task_definition::Model::ALL.iter().map(|m| m.env_var()))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Declares an attribute-name enum: the variants with their names, `ALL`, `as_str`, `parse`,
/// [`AttrName`], `Display` and `From<_> for String` (to use as an [`crate::resource::Attrs`]
/// key).
macro_rules! attr_names {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $var:ident = $s:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $var, )+
        }

        impl $name {
            /// Every attribute, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var,)+];

            /// The name as written in plans and state.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$var => $s,)+
                }
            }

            /// Every attribute, sorted by name: the order an attribute map keeps, so a map
            /// built in this order needs no sorting.
            pub fn sorted() -> &'static [$name] {
                static SORTED: ::std::sync::LazyLock<Vec<$name>> =
                    ::std::sync::LazyLock::new(|| {
                        let mut all = $name::ALL.to_vec();
                        all.sort_by_key(|a| a.as_str());
                        all
                    });
                &SORTED
            }

            /// The attribute with this name, if the map has one.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($s => Some($name::$var),)+
                    _ => None,
                }
            }
        }

        impl $crate::resource::schema::AttrName for $name {
            fn name(self) -> &'static str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<$name> for String {
            fn from(a: $name) -> String {
                a.as_str().to_string()
            }
        }

        impl From<$name> for $crate::resource::Key {
            fn from(a: $name) -> $crate::resource::Key {
                $crate::resource::Key::from(a.as_str())
            }
        }
    };
}

/// For a kind's top-level `Attr` (which must have `const fn rule(self) -> Rule`): the
/// `FORCE_NEW` and `COMPUTED` name lists, derived from the rules at compile time.
macro_rules! rule_lists {
    ($name:ident) => {
        impl $name {
            const fn count(rule: $crate::resource::schema::Rule) -> usize {
                let mut n = 0;
                let mut i = 0;
                while i < Self::ALL.len() {
                    if Self::ALL[i].rule() as u8 == rule as u8 {
                        n += 1;
                    }
                    i += 1;
                }
                n
            }

            const fn names<const N: usize>(
                rule: $crate::resource::schema::Rule,
            ) -> [&'static str; N] {
                let mut out = [""; N];
                let mut n = 0;
                let mut i = 0;
                while i < Self::ALL.len() {
                    if Self::ALL[i].rule() as u8 == rule as u8 {
                        out[n] = Self::ALL[i].as_str();
                        n += 1;
                    }
                    i += 1;
                }
                out
            }
        }

        /// Attributes whose change replaces the resource (from [`Attr::rule`]).
        pub const FORCE_NEW: [&str; $name::count($crate::resource::schema::Rule::ForceNew)] =
            $name::names($crate::resource::schema::Rule::ForceNew);
        /// Attributes the cloud sets (from [`Attr::rule`]).
        pub const COMPUTED: [&str; $name::count($crate::resource::schema::Rule::Computed)] =
            $name::names($crate::resource::schema::Rule::Computed);
    };
}

/// Collects the attributes a `Desired` struct sets, given in name order (an enum's `sorted()`
/// list, each name once), into a map with room for `room` entries: the kind's attributes less
/// the computed ones, which leaves exactly the slot for the tags lowering adds, so neither
/// collecting nor tagging reallocates.
pub(crate) fn collect_attrs(
    room: usize,
    entries: impl Iterator<Item = (crate::resource::Key, crate::resource::Value)>,
) -> crate::resource::Attrs {
    let mut v = Vec::with_capacity(room);
    v.extend(entries);
    crate::resource::Attrs::from_sorted(v)
}

pub(crate) use attr_names;
pub(crate) use rule_lists;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_lists_follow_the_rules() {
        assert_eq!(s3_object::FORCE_NEW, ["bucket"]);
        assert_eq!(s3_object::COMPUTED, ["version_id", "etag", "kept"]);
        assert_eq!(ecs_task_definition::COMPUTED, ["arn", "revision"]);
        assert_eq!(ecs_service::FORCE_NEW, ["name", "cluster", "launch_type"]);
        assert!(scaling_target::COMPUTED.is_empty());
        assert_eq!(cloudwatch_alarm::FORCE_NEW, ["name"]);
        assert_eq!(cloudwatch_alarm::COMPUTED, ["arn"]);
    }

    #[test]
    fn sorted_lists_every_name_in_order() {
        let names: Vec<&str> = ecs_service::Attr::sorted()
            .iter()
            .map(|a| a.as_str())
            .collect();
        let mut expected: Vec<&str> = ecs_service::Attr::ALL.iter().map(|a| a.as_str()).collect();
        expected.sort_unstable();
        assert_eq!(names, expected);
    }

    #[test]
    fn names_round_trip() {
        for a in ecs_task_definition::Container::ALL {
            assert_eq!(ecs_task_definition::Container::parse(a.as_str()), Some(*a));
        }
        assert_eq!(s3_bucket::Attr::parse("nope"), None);
        assert_eq!(s3_bucket::Attr::Tags.as_str(), TAGS);
    }
}
