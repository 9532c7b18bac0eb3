//! Lowering `[gateway.*]` blocks: an Application Load Balancer (`gateway.X.load_balancer`)
//! and one listener per entry of `listeners` (`gateway.X.listener.<port>`), whose default
//! action answers 404 (or redirects HTTP to HTTPS). Endpoints route to a gateway with
//! `route = { gateway = "X", ... }`; what they need of it is kept in [`GatewayInfo`].

use std::collections::BTreeMap;

use super::common::{Meta, no_mapping, resource_address};
use crate::addr::Address;
use crate::resource::rules;
use crate::resource::schema;
use crate::resource::schema::lb_listener as li;
use crate::resource::schema::load_balancer::{self as lb, Attr as A};
use crate::resource::{ResourceKind, Value};
use crate::spec::diag::{ErrorCode, Span};
use crate::spec::fields::{Fields, Src};
use crate::spec::load::{Block, BlockId, Loader, ScopeId};
use crate::spec::raw::NodeKind;
use crate::spec::resolve::Deps;

const SCHEME: &str = A::Scheme.as_str();
const SUBNETS: &str = A::Subnets.as_str();
const SECURITY_GROUPS: &str = A::SecurityGroups.as_str();
const IDLE_TIMEOUT: &str = A::IdleTimeout.as_str();
const LISTENERS: &str = "listeners";
const REDIRECT: &str = "redirect_http_to_https";
const LISTENER_PORT: &str = li::Attr::Port.as_str();
const LISTENER_CERT: &str = li::Attr::CertificateArn.as_str();

/// Keys of a gateway block.
const GATEWAY_KEYS: &[&str] = &[
    A::Name.as_str(),
    SCHEME,
    SUBNETS,
    SECURITY_GROUPS,
    LISTENERS,
    REDIRECT,
    IDLE_TIMEOUT,
    schema::TAGS,
    "depends_on",
    "lifecycle",
];

/// One listener of a gateway.
#[derive(Clone, Debug)]
pub(in crate::spec) struct ListenerInfo {
    pub port: i64,
    pub address: Address,
    pub https: bool,
    /// Redirects everything to HTTPS (no rule is attached to it).
    pub redirects: bool,
}

/// What endpoints routed to a gateway need of it.
#[derive(Clone, Debug)]
pub(in crate::spec) struct GatewayInfo {
    /// `gateway.X.load_balancer`.
    pub lb: Address,
    /// The load balancer's physical name.
    pub name: String,
    /// By port.
    pub listeners: BTreeMap<i64, ListenerInfo>,
}

impl GatewayInfo {
    /// The listener routes attach to when they do not name a port: the first HTTPS one, else
    /// the first that does not redirect, else the first.
    pub fn default_listener(&self) -> Option<&ListenerInfo> {
        self.listeners
            .values()
            .find(|l| l.https)
            .or_else(|| self.listeners.values().find(|l| !l.redirects))
            .or_else(|| self.listeners.values().next())
    }
}

impl Loader<'_> {
    pub(super) fn lower_gateway(&mut self, id: BlockId) {
        let b = self.block(id).clone();
        let mut deps = Deps::new();
        let Some(f) = self.open(id, &b.node, GATEWAY_KEYS, &mut deps) else {
            return;
        };
        let (tags, lc) = self.common(id, &f, GATEWAY_KEYS, &mut deps);
        let (name, scheme, idle) = self.gateway_settings(&f, (b.scope, &b.name), &mut deps);
        let redirect = self.v_bool(&f, REDIRECT, &mut deps).map(|x| x.0);
        let (subnets, sgs) = self.gateway_network(&f, &mut deps);
        let listeners = self.gateway_listeners(&f, redirect, &mut deps);

        let prefix = self.scope(b.scope).prefix.clone();
        let lb_addr = resource_address(&prefix, "gateway", &b.name, "load_balancer");
        let meta = Meta {
            lifecycle: &lc,
            ignore: &no_mapping,
            tags: &tags,
        };
        let (Some(subnets), Some(listeners)) = (subnets, listeners) else {
            return;
        };
        self.add_resource(
            lb_addr.clone(),
            ResourceKind::LoadBalancer,
            lb::Desired {
                name: Value::str(&name),
                scheme: Value::str(&scheme),
                subnets: Value::List(subnets),
                security_groups: Value::List(sgs),
                idle_timeout: Value::Int(idle),
            }
            .into_attrs(),
            deps.clone(),
            &meta,
        );
        let mut info = GatewayInfo {
            lb: lb_addr.clone(),
            name: name.clone(),
            listeners: BTreeMap::new(),
        };
        self.gateway_listener_resources(&mut info, listeners, (&b, &deps), &meta);
        self.lowered_mut().gateways.insert(id, info);
        self.export(
            id,
            &lb_addr,
            vec![
                ("arn", Self::reference(&lb_addr, A::Arn.as_str())),
                ("dns_name", Self::reference(&lb_addr, A::DnsName.as_str())),
                ("name", Value::String(name)),
            ],
        );
    }

    /// `name` (by default the stack's name for the block, fitted to ELB's limit), `scheme`
    /// and `idle_timeout`, checked.
    fn gateway_settings(
        &mut self,
        f: &Fields<'_>,
        (scope, name): (ScopeId, &str),
        deps: &mut Deps,
    ) -> (String, String, i64) {
        let lb_name = match self.v_plain_str(f, A::Name.as_str(), deps) {
            Some((n, span)) => {
                if let Some(problem) = rules::elbv2::LOAD_BALANCER_NAME.problem(&n) {
                    self.err(
                        ErrorCode::InvalidValue,
                        &span,
                        format!("invalid load balancer name {n:?}"),
                        "not a load balancer name",
                    )
                    .help = Some(format!(
                        "{problem} ({})",
                        rules::elbv2::CREATE_LOAD_BALANCER_SOURCE
                    ));
                }
                n
            }
            None => lb::fit_name(&self.default_name(scope, name)),
        };
        let scheme = match self.v_plain_str(f, SCHEME, deps) {
            Some((s, span)) => {
                if s != lb::SCHEME_INTERNAL && s != lb::SCHEME_INTERNET_FACING {
                    self.err(
                        ErrorCode::InvalidValue,
                        &span,
                        format!("unknown scheme {s:?} in {}", f.what),
                        "not a scheme",
                    )
                    .help = Some("use \"internal\" or \"internet-facing\"".into());
                }
                s
            }
            None => lb::SCHEME_INTERNAL.to_string(),
        };
        let idle = match self.v_int(f, IDLE_TIMEOUT, deps) {
            Some((n, span)) if !(1..=4000).contains(&n) => {
                self.err(
                    ErrorCode::InvalidValue,
                    &span,
                    format!(
                        "`idle_timeout` in {} must be between 1 and 4000 seconds",
                        f.what
                    ),
                    "out of range",
                );
                lb::DEFAULT_IDLE_TIMEOUT
            }
            Some((n, _)) => n,
            None => lb::DEFAULT_IDLE_TIMEOUT,
        };
        (lb_name, scheme, idle)
    }

    /// One `lb_listener` per listener, answering 404 by default (or redirecting HTTP to
    /// HTTPS), recorded in `info` for the routes.
    fn gateway_listener_resources(
        &mut self,
        info: &mut GatewayInfo,
        listeners: Vec<ListenerSpec>,
        (b, deps): (&Block, &Deps),
        meta: &Meta<'_>,
    ) {
        let prefix = self.scope(b.scope).prefix.clone();
        let lb_addr = info.lb.clone();
        let name = info.name.clone();
        for l in listeners {
            let addr =
                resource_address(&prefix, "gateway", &b.name, &format!("listener.{}", l.port));
            let mut ldeps = deps.clone();
            ldeps.insert(lb_addr.clone(), b.name_span.clone());
            let https = l.certificate.is_some();
            let redirects = !https && l.redirect;
            self.add_resource(
                addr.clone(),
                ResourceKind::LbListener,
                li::Desired {
                    name: Value::String(format!("{name}:{}", l.port)),
                    load_balancer_arn: Self::reference(&lb_addr, A::Arn.as_str()),
                    port: Value::Int(l.port),
                    protocol: Value::str(if https {
                        li::PROTOCOL_HTTPS
                    } else {
                        li::PROTOCOL_HTTP
                    }),
                    certificate_arn: l.certificate.unwrap_or(Value::Null),
                    default_action: Value::str(if redirects {
                        li::ACTION_REDIRECT_HTTPS
                    } else {
                        li::ACTION_FIXED_404
                    }),
                }
                .into_attrs(),
                ldeps,
                meta,
            );
            info.listeners.insert(
                l.port,
                ListenerInfo {
                    port: l.port,
                    address: addr,
                    https,
                    redirects,
                },
            );
        }
    }

    /// `subnets` and `security_groups`: the gateway's own, else the stack's network
    /// (`[provider.aws] network`).
    fn gateway_network(
        &mut self,
        f: &Fields<'_>,
        deps: &mut Deps,
    ) -> (Option<Vec<Value>>, Vec<Value>) {
        let default = self.network_default().cloned();
        let from_default = |this: &mut Self, key: &str, deps: &mut Deps| -> Option<Vec<Value>> {
            let (v, span) = default.clone()?;
            let nf = this.fields(
                ScopeId::ROOT,
                &Src::Val(v, span.clone()),
                &span,
                "[provider.aws] network",
                &["subnets", "security_groups", "public_ip"],
                deps,
            )?;
            this.v_str_list(&nf, key, deps).map(|x| x.0)
        };
        let subnets = match self.v_str_list(f, SUBNETS, deps) {
            Some((s, span)) => {
                if s.len() < 2 {
                    self.err(
                        ErrorCode::InvalidValue,
                        &span,
                        format!("{} lists {} subnet(s); an Application Load Balancer needs subnets in at least two availability zones", f.what, s.len()),
                        "too few subnets",
                    );
                }
                Some(s)
            }
            None if f.has(SUBNETS) => None,
            None => {
                let s = from_default(self, SUBNETS, deps);
                if s.is_none() {
                    self.missing(
                        f,
                        SUBNETS,
                        "list subnets in two availability zones: subnets = [\"subnet-a\", \"subnet-b\"], or set [provider.aws] network",
                    );
                }
                s
            }
        };
        let sgs = match self.v_str_list(f, SECURITY_GROUPS, deps) {
            Some((s, _)) => s,
            None => from_default(self, SECURITY_GROUPS, deps).unwrap_or_default(),
        };
        (subnets, sgs)
    }

    /// `listeners = [{ port = 80 }, { port = 443, certificate_arn = "..." }]` (one HTTP
    /// listener on port 80 by default); ports unique.
    fn gateway_listeners(
        &mut self,
        f: &Fields<'_>,
        redirect: Option<bool>,
        deps: &mut Deps,
    ) -> Option<Vec<ListenerSpec>> {
        let Some(src) = f.src(LISTENERS).cloned() else {
            return Some(vec![ListenerSpec {
                port: 80,
                certificate: None,
                redirect: false,
            }]);
        };
        let items = self.listener_items(f, &src)?;
        if items.is_empty() {
            let span = src.span().clone();
            self.err(
                ErrorCode::InvalidValue,
                &span,
                format!("{} has no listeners", f.what),
                "empty list",
            )
            .help = Some("for example: listeners = [{ port = 80 }]".into());
            return None;
        }
        let what = format!("{}.{LISTENERS}", f.what);
        let mut out: Vec<ListenerSpec> = Vec::new();
        let mut seen: BTreeMap<i64, Span> = BTreeMap::new();
        let mut ok = true;
        for item in items {
            let span = item.span().clone();
            let Some(lf) = self.fields(
                f.scope,
                &item,
                &span,
                &what,
                &[LISTENER_PORT, LISTENER_CERT],
                deps,
            ) else {
                ok = false;
                continue;
            };
            let Some((port, pspan)) = self.v_int(&lf, LISTENER_PORT, deps) else {
                if !lf.has(LISTENER_PORT) {
                    self.missing(
                        &lf,
                        LISTENER_PORT,
                        "every listener has a port: { port = 80 }",
                    );
                }
                ok = false;
                continue;
            };
            if !(1..=65535).contains(&port) {
                self.err(
                    ErrorCode::InvalidValue,
                    &pspan,
                    format!(
                        "listener port {port} in {} is not between 1 and 65535",
                        f.what
                    ),
                    "not a port",
                );
                ok = false;
                continue;
            }
            if let Some(first) = seen.get(&port).cloned() {
                self.err(
                    ErrorCode::InvalidValue,
                    &pspan,
                    format!("{} has two listeners on port {port}", f.what),
                    "second listener on this port",
                )
                .label(&first, "first listener on this port")
                .help = Some("each port takes one listener".into());
                ok = false;
                continue;
            }
            seen.insert(port, pspan);
            let certificate = self.v_str(&lf, LISTENER_CERT, deps).map(|x| x.0);
            out.push(ListenerSpec {
                port,
                certificate,
                redirect: redirect.unwrap_or(false),
            });
        }
        let has_https = out.iter().any(|l| l.certificate.is_some());
        if redirect == Some(true)
            && !has_https
            && let Some(span) = f.src(REDIRECT).map(|s| s.span().clone())
        {
            self.err(
                ErrorCode::InvalidValue,
                &span,
                format!("{} redirects HTTP to HTTPS but has no HTTPS listener", f.what),
                "nothing to redirect to",
            )
            .help = Some(
                "add a listener with a certificate: { port = 443, certificate_arn = \"arn:aws:acm:...\" }"
                    .into(),
            );
            ok = false;
        }
        ok.then_some(out)
    }

    /// The entries of `listeners`, as written or as a value (a module input).
    fn listener_items<'a>(&mut self, f: &Fields<'_>, src: &Src<'a>) -> Option<Vec<Src<'a>>> {
        let items: Vec<Src<'a>> = match src {
            Src::Node(n) => match &n.kind {
                NodeKind::Array(items) => items.iter().map(Src::Node).collect(),
                _ => {
                    let mut d = Deps::new();
                    match self.value(f, LISTENERS, &mut d) {
                        Some((Value::List(items), span)) => items
                            .into_iter()
                            .map(|v| Src::Val(v, span.clone()))
                            .collect(),
                        Some((_, span)) => return self.listeners_type(f, &span),
                        None => return None,
                    }
                }
            },
            Src::Val(Value::List(items), span) => items
                .iter()
                .map(|v| Src::Val(v.clone(), span.clone()))
                .collect(),
            Src::Val(_, span) => return self.listeners_type(f, &span.clone()),
        };
        Some(items)
    }

    /// Reports `listeners` that is not a list.
    fn listeners_type<T>(&mut self, f: &Fields<'_>, span: &Span) -> Option<T> {
        self.err(
            ErrorCode::WrongType,
            span,
            format!("`listeners` in {} must be a list of tables", f.what),
            "expected a list",
        )
        .help = Some("for example: listeners = [{ port = 80 }]".into());
        None
    }
}

/// One entry of `listeners`, read.
struct ListenerSpec {
    port: i64,
    certificate: Option<Value>,
    redirect: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_balancer_names() {
        let rule = &rules::elbv2::LOAD_BALANCER_NAME;
        assert_eq!(rule.problem("fraud-dev-public"), None);
        assert!(rule.problem("internal-x").is_some());
        assert!(rule.problem("-x").is_some());
        assert!(rule.problem(&"a".repeat(33)).is_some());
        assert!(rule.problem("a_b").is_some());
    }
}
