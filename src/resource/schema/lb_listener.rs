//! `lb_listener` (`gateway.X.listener.<port>`): one listener of a gateway's load balancer.
//! Its default action answers 404 (or redirects HTTP to HTTPS); endpoints add listener rules
//! in front of it.

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of an `lb_listener`.
    pub enum Attr {
        /// pedestal's name for the listener, `<load balancer>:<port>` (ELB listeners have no
        /// name of their own; it is not sent).
        Name = "name",
        /// The load balancer ARN.
        LoadBalancerArn = "load_balancer_arn",
        /// The port it listens on.
        Port = "port",
        /// `HTTP` or `HTTPS`.
        Protocol = "protocol",
        /// The certificate of an HTTPS listener; null for HTTP.
        CertificateArn = "certificate_arn",
        /// What requests no rule matches get: `fixed_404` or `redirect_https`.
        DefaultAction = "default_action",
        /// The tag map.
        Tags = "tags",
        /// The listener ARN.
        Arn = "arn",
    }
}

impl Attr {
    /// How the planner treats a change (ModifyListener changes protocol, certificate and
    /// default action in place).
    pub const fn rule(self) -> Rule {
        match self {
            Attr::Name | Attr::LoadBalancerArn | Attr::Port => Rule::ForceNew,
            Attr::Protocol | Attr::CertificateArn | Attr::DefaultAction | Attr::Tags => {
                Rule::InPlace
            }
            Attr::Arn => Rule::Computed,
        }
    }
}

rule_lists!(Attr);

/// The kind's facts for the planner and the provider.
pub const SCHEMA: KindSchema = KindSchema {
    force_new: &FORCE_NEW,
    computed: &COMPUTED,
    // A port takes one listener: the old one goes first.
    replace_order: ReplaceOrder::DestroyBeforeCreate,
    versioned: false,
    name_attr: Attr::Name.as_str(),
};

/// `protocol` of a listener without a certificate.
pub const PROTOCOL_HTTP: &str = "HTTP";
/// `protocol` of a listener with a certificate.
pub const PROTOCOL_HTTPS: &str = "HTTPS";
/// `default_action`: a fixed 404 response.
pub const ACTION_FIXED_404: &str = "fixed_404";
/// `default_action`: a permanent redirect to HTTPS on port 443.
pub const ACTION_REDIRECT_HTTPS: &str = "redirect_https";
/// The body of the fixed 404 response.
pub const NOT_FOUND_BODY: &str = "no route";

/// What spec lowering fills in (tags are added by lowering, the ARN by the cloud).
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Name`].
    pub name: Value,
    /// [`Attr::LoadBalancerArn`].
    pub load_balancer_arn: Value,
    /// [`Attr::Port`].
    pub port: Value,
    /// [`Attr::Protocol`].
    pub protocol: Value,
    /// [`Attr::CertificateArn`].
    pub certificate_arn: Value,
    /// [`Attr::DefaultAction`].
    pub default_action: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Attr::sorted().iter().filter_map(|&k| {
            let v = match k {
                Attr::Name => std::mem::take(&mut self.name),
                Attr::LoadBalancerArn => std::mem::take(&mut self.load_balancer_arn),
                Attr::Port => std::mem::take(&mut self.port),
                Attr::Protocol => std::mem::take(&mut self.protocol),
                Attr::CertificateArn => std::mem::take(&mut self.certificate_arn),
                Attr::DefaultAction => std::mem::take(&mut self.default_action),
                Attr::Tags | Attr::Arn => return None,
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}
