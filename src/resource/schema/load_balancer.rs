//! `load_balancer` (`gateway.X.load_balancer`): the Application Load Balancer a gateway block
//! stands for, shared by the endpoints routed through it.

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of a `load_balancer`.
    pub enum Attr {
        /// The load balancer name (the physical name, at most 32 characters).
        Name = "name",
        /// `internal` or `internet-facing`.
        Scheme = "scheme",
        /// Subnet ids (at least two availability zones).
        Subnets = "subnets",
        /// Security group ids.
        SecurityGroups = "security_groups",
        /// Seconds a connection may stay idle.
        IdleTimeout = "idle_timeout",
        /// The tag map.
        Tags = "tags",
        /// The load balancer ARN.
        Arn = "arn",
        /// The DNS name clients call.
        DnsName = "dns_name",
        /// The VPC of its subnets (target groups are created there).
        VpcId = "vpc_id",
        /// The ARN's resource path (`app/<name>/<id>`): the `LoadBalancer` dimension of its
        /// CloudWatch metrics.
        ArnSuffix = "arn_suffix",
    }
}

impl Attr {
    /// How the planner treats a change (subnets, security groups and attributes are set in
    /// place; a new name or scheme is a new load balancer).
    pub const fn rule(self) -> Rule {
        match self {
            Attr::Name | Attr::Scheme => Rule::ForceNew,
            Attr::Subnets | Attr::SecurityGroups | Attr::IdleTimeout | Attr::Tags => Rule::InPlace,
            Attr::Arn | Attr::DnsName | Attr::VpcId | Attr::ArnSuffix => Rule::Computed,
        }
    }
}

rule_lists!(Attr);

/// The kind's facts for the planner and the provider.
pub const SCHEMA: KindSchema = KindSchema {
    force_new: &FORCE_NEW,
    computed: &COMPUTED,
    // The name is unique per account and region: the old one goes first.
    replace_order: ReplaceOrder::DestroyBeforeCreate,
    versioned: false,
    name_attr: Attr::Name.as_str(),
};

/// `scheme` when unset.
pub const SCHEME_INTERNAL: &str = "internal";
/// The scheme of a load balancer reachable from the internet.
pub const SCHEME_INTERNET_FACING: &str = "internet-facing";
/// `idle_timeout` when unset, in seconds (the ELB default).
pub const DEFAULT_IDLE_TIMEOUT: i64 = 60;
/// The longest load balancer (and target group) name ELB accepts.
pub const MAX_NAME_LEN: usize = 32;
/// The most load balancers one DescribeLoadBalancers call takes by ARN.
pub const BATCH: usize = 20;

/// The `LoadBalancer` metric dimension of a load balancer ARN
/// (`arn:…:loadbalancer/app/<name>/<id>` → `app/<name>/<id>`).
pub fn arn_suffix(arn: &str) -> Option<&str> {
    arn.split_once(":loadbalancer/").map(|(_, s)| s)
}

/// What spec lowering fills in: one field per attribute it sets (tags are added by lowering,
/// computed attributes by the cloud).
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Name`].
    pub name: Value,
    /// [`Attr::Scheme`].
    pub scheme: Value,
    /// [`Attr::Subnets`].
    pub subnets: Value,
    /// [`Attr::SecurityGroups`].
    pub security_groups: Value,
    /// [`Attr::IdleTimeout`].
    pub idle_timeout: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().filter_map(|&k| {
            let v = match k {
                Attr::Name => std::mem::take(&mut self.name),
                Attr::Scheme => std::mem::take(&mut self.scheme),
                Attr::Subnets => std::mem::take(&mut self.subnets),
                Attr::SecurityGroups => std::mem::take(&mut self.security_groups),
                Attr::IdleTimeout => std::mem::take(&mut self.idle_timeout),
                Attr::Tags | Attr::Arn | Attr::DnsName | Attr::VpcId | Attr::ArnSuffix => {
                    return None;
                }
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}

/// A name ELB accepts (at most [`MAX_NAME_LEN`] letters, digits and `-`, not starting or ending
/// with `-`): `name` itself when it fits, else its first characters and a digest of the whole,
/// so different long names stay different.
pub fn fit_name(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let clean = clean.trim_matches('-').to_string();
    if clean.len() <= MAX_NAME_LEN && !clean.is_empty() {
        return clean;
    }
    let digest = hex::encode(Sha256::digest(name.as_bytes()));
    let head: String = clean.chars().take(MAX_NAME_LEN - 9).collect();
    format!("{}-{}", head.trim_end_matches('-'), &digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_dimensions_are_arn_suffixes() {
        assert_eq!(
            arn_suffix(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
            ),
            Some("app/web/50dc6c495c0c9188")
        );
        assert_eq!(
            crate::resource::schema::target_group::arn_suffix(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/943f017f100becff"
            ),
            Some("targetgroup/api/943f017f100becff")
        );
        assert_eq!(arn_suffix("arn:aws:ecs:us-east-1:1:cluster/x"), None);
    }

    #[test]
    fn names_fit_elb_limits() {
        assert_eq!(fit_name("fraud-dev-public"), "fraud-dev-public");
        let long = fit_name("a-very-long-stack-name-production-public-gateway");
        assert!(long.len() <= MAX_NAME_LEN, "{long}");
        assert_ne!(
            long,
            fit_name("a-very-long-stack-name-production-public-gateway2")
        );
        assert_eq!(
            long,
            fit_name("a-very-long-stack-name-production-public-gateway")
        );
        assert_eq!(fit_name("a_b"), "a-b");
    }
}
