//! An endpoint's `route = { gateway, path, host, priority, port, deregistration_delay }`: the
//! target group its tasks register in (`endpoint.X.target_group`, plus
//! `endpoint.X.target_group_alt` for blue/green, canary and linear releases), the listener
//! rule sending the gateway's matching requests there (`endpoint.X.listener_rule`), and the
//! `url` the endpoint exports. Rule priorities are unique per listener: those not written are
//! given after every endpoint is lowered ([`Loader::assign_route_priorities`]), most specific
//! route first, and two routes on one priority or one set of conditions are reported at both.

use std::collections::BTreeMap;

use super::resources::Names;
use super::{Endpoint, EndpointDeps};
use crate::addr::Address;
use crate::resource::schema::ecs_service::{self as svc, LoadBalancerItem as LBI};
use crate::resource::schema::lb_listener as li;
use crate::resource::schema::listener_rule::{self as lr, Attr as LR};
use crate::resource::schema::load_balancer::{self as lb};
use crate::resource::schema::target_group::{self as tg, HealthCheck as HC};
use crate::resource::{ResourceKind, Value};
use crate::spec::diag::{ErrorCode, Span};
use crate::spec::fields::{Fields, Src};
use crate::spec::load::{BlockId, BlockKind, Loader, ScopeId};
use crate::spec::lower::common::{Meta, concat, resource_address};
use crate::spec::lower::gateway::{GatewayInfo, ListenerInfo};
use crate::spec::resolve::Deps;

const ROUTE: &str = "route";
const GATEWAY: &str = "gateway";
const PATH: &str = "path";
const HOST: &str = "host";
const PRIORITY: &str = LR::Priority.as_str();
const PORT: &str = "port";
const DEREGISTRATION_DELAY: &str = tg::Attr::DeregistrationDelay.as_str();
const KEYS: &[&str] = &[GATEWAY, PATH, HOST, PRIORITY, PORT, DEREGISTRATION_DELAY];

/// A route as read from an endpoint block.
pub(super) struct Route {
    pub(super) gateway: GatewayInfo,
    pub(super) listener: ListenerInfo,
    pub(super) paths: Vec<String>,
    pub(super) hosts: Vec<String>,
    pub(super) deregistration_delay: i64,
    /// The `route` key.
    pub(super) span: Span,
}

/// One endpoint's route, kept for priorities across a listener.
#[derive(Clone, Debug)]
pub(in crate::spec) struct RouteInfo {
    /// `endpoint.X.listener_rule`.
    pub rule: Address,
    /// The listener it attaches to.
    pub listener: Address,
    /// `priority` when written, with where.
    pub priority: Option<(i64, Span)>,
    pub paths: Vec<String>,
    pub hosts: Vec<String>,
    /// The `route` key.
    pub span: Span,
}

/// Health check settings of the target group, from the endpoint's `health_check`.
pub(super) struct LbHealth {
    pub(super) path: String,
    pub(super) interval: i64,
    pub(super) timeout: i64,
    pub(super) retries: i64,
}

impl LbHealth {
    /// The target group's `health_check` map, within the ranges ELB accepts (interval 5–300 s,
    /// timeout 2–120 s and shorter than the interval, thresholds 2–10).
    fn attr(&self) -> Value {
        let interval = self.interval.clamp(tg::MIN_INTERVAL, tg::MAX_INTERVAL);
        let timeout = self.timeout.clamp(2, 120).min(interval - 1);
        let m: BTreeMap<String, Value> = HC::ALL
            .iter()
            .map(|&k| {
                let v = match k {
                    HC::Path => Value::str(&self.path),
                    HC::Interval => Value::Int(interval),
                    HC::Timeout => Value::Int(timeout),
                    HC::HealthyThreshold => Value::Int(tg::DEFAULT_HEALTHY_THRESHOLD),
                    HC::UnhealthyThreshold => Value::Int(self.retries.clamp(2, 10)),
                    HC::Matcher => Value::str(tg::DEFAULT_MATCHER),
                };
                (k.into(), v)
            })
            .collect();
        Value::Map(m.into())
    }
}

/// `/fraud/*` → `/fraud/`; `/` for no path.
fn path_prefix(paths: &[String]) -> String {
    match paths.first() {
        Some(p) => {
            let cut = p.find(['*', '?']).map_or(p.as_str(), |i| &p[..i]);
            if cut.is_empty() {
                "/".into()
            } else {
                cut.to_string()
            }
        }
        None => "/".into(),
    }
}

impl Loader<'_> {
    /// The gateway block `name` seen from `scope`: declared there, or in a scope that
    /// instantiates it (a module's endpoints route through the stack's gateways).
    pub(in crate::spec) fn gateway_block(&self, scope: ScopeId, name: &str) -> Option<BlockId> {
        let mut sc = Some(scope);
        while let Some(id) = sc {
            let s = self.scope(id);
            if let Some(b) = s.blocks.get(&(BlockKind::Gateway, name.to_string())) {
                return Some(*b);
            }
            sc = s.call.as_ref().map(|c| c.parent);
        }
        None
    }

    /// Reads `route`: the gateway (a gateway block of this scope), `path` and/or `host`,
    /// `priority`, the listener `port` (by default the gateway's HTTPS listener, else its
    /// first) and `deregistration_delay`.
    pub(super) fn endpoint_route(
        &mut self,
        f: &Fields<'_>,
        (scope, name): (ScopeId, &str),
        deps: &mut Deps,
    ) -> Option<(Route, Option<(i64, Span)>)> {
        let span = f.src(ROUTE)?.span().clone();
        // An empty table (a module's default input) means no route.
        {
            let mut scratch = Deps::new();
            if matches!(self.value(f, ROUTE, &mut scratch), Some((Value::Map(m), _)) if m.is_empty())
            {
                return None;
            }
        }
        let r = self.sub(f, ROUTE, KEYS, deps)?;
        let gateway = self.route_gateway(&r, (scope, name));
        let path = self.v_plain_str(&r, PATH, deps);
        if let Some((p, ps)) = &path
            && !p.starts_with('/')
        {
            self.err(
                ErrorCode::InvalidValue,
                ps,
                format!("`path` in {} must start with `/`", r.what),
                "not a path pattern",
            )
            .help = Some("for example: path = \"/fraud/*\"".into());
        }
        let host = self.v_plain_str(&r, HOST, deps);
        if path.is_none() && host.is_none() && !r.has(PATH) && !r.has(HOST) {
            self.missing(
                &r,
                PATH,
                "a route matches a path, a host or both: path = \"/fraud/*\"",
            );
        }
        let priority = match self.v_int(&r, PRIORITY, deps) {
            Some((p, ps)) if !(1..=lr::MAX_PRIORITY).contains(&p) => {
                self.err(
                    ErrorCode::InvalidValue,
                    &ps,
                    format!(
                        "`priority` in {} must be between 1 and {}",
                        r.what,
                        lr::MAX_PRIORITY
                    ),
                    "out of range",
                );
                None
            }
            p => p,
        };
        let port = self.v_int(&r, PORT, deps);
        let delay = match self.v_int(&r, DEREGISTRATION_DELAY, deps) {
            Some((d, ds)) if !(0..=3600).contains(&d) => {
                self.err(
                    ErrorCode::InvalidValue,
                    &ds,
                    format!(
                        "`deregistration_delay` in {} must be between 0 and 3600 seconds",
                        r.what
                    ),
                    "out of range",
                );
                tg::DEFAULT_DEREGISTRATION_DELAY
            }
            Some((d, _)) => d,
            None => tg::DEFAULT_DEREGISTRATION_DELAY,
        };
        let gateway = gateway?;
        let listener = match port {
            Some((p, ps)) => match gateway.listeners.get(&p) {
                Some(l) => l.clone(),
                None => {
                    let ports: Vec<String> =
                        gateway.listeners.keys().map(|p| p.to_string()).collect();
                    self.err(
                        ErrorCode::InvalidValue,
                        &ps,
                        format!("gateway {} has no listener on port {p}", gateway.name),
                        "no such listener",
                    )
                    .help = Some(format!("its listeners: {}", ports.join(", ")));
                    return None;
                }
            },
            None => gateway.default_listener()?.clone(),
        };
        let (path, host) = (path.map(|x| x.0), host.map(|x| x.0));
        if path.is_none() && host.is_none() {
            return None;
        }
        Some((
            Route {
                gateway,
                listener,
                paths: path.into_iter().collect(),
                hosts: host.into_iter().collect(),
                deregistration_delay: delay,
                span,
            },
            priority,
        ))
    }

    /// `gateway`: a gateway block of this scope, by name.
    fn route_gateway(
        &mut self,
        r: &Fields<'_>,
        (scope, name): (ScopeId, &str),
    ) -> Option<GatewayInfo> {
        match r.src(GATEWAY).cloned() {
            None => {
                self.missing(r, GATEWAY, "name the gateway block: gateway = \"public\"");
                None
            }
            Some(src) => match src
                .literal_str()
                .map(str::to_string)
                .or_else(|| match &src {
                    Src::Val(Value::String(s), _) => Some(s.clone()),
                    _ => None,
                }) {
                Some(g) => {
                    let g = g.as_str();
                    match self.gateway_block(scope, g) {
                        Some(gid) => self.lowered().gateways.get(&gid).cloned(),
                        None => {
                            self.unknown_named_block(
                                scope,
                                BlockKind::Gateway,
                                ("endpoint", name),
                                g,
                                src.span(),
                            );
                            None
                        }
                    }
                }
                None => {
                    let s = src.span().clone();
                    self.err(
                        ErrorCode::WrongType,
                        &s,
                        format!("`gateway` in {} must name a gateway block", r.what),
                        "expected a gateway name",
                    )
                    .help = Some("for example: gateway = \"public\"".into());
                    None
                }
            },
        }
    }

    /// Adds the target group(s) and listener rule of a routed endpoint and returns the
    /// service's `load_balancers` attribute (with its dependencies added to `svc_deps`).
    pub(super) fn endpoint_route_resources(
        &mut self,
        n: &Names,
        e: &Endpoint,
        deps: &EndpointDeps,
        meta: &Meta<'_>,
        svc_deps: &mut Deps,
    ) -> Value {
        let Some((route, priority)) = &e.route else {
            return Value::Null;
        };
        let tg_addr = resource_address(&n.prefix, "endpoint", &n.block, "target_group");
        let alt_addr = resource_address(&n.prefix, "endpoint", &n.block, "target_group_alt");
        let rule_addr = resource_address(&n.prefix, "endpoint", &n.block, "listener_rule");
        let shifts_traffic = e.role.is_some();
        let base = n.name.as_str().unwrap_or(&n.block).to_string();
        let mut tg_deps = deps.common.clone();
        tg_deps.insert(route.gateway.lb.clone(), route.span.clone());
        let health = e.health.lb.attr();
        let mut groups = vec![(tg_addr.clone(), lb::fit_name(&base))];
        if shifts_traffic {
            groups.push((alt_addr.clone(), lb::fit_name(&format!("{base}-alt"))));
        }
        for (addr, name) in &groups {
            self.add_resource(
                addr.clone(),
                ResourceKind::TargetGroup,
                tg::Desired {
                    name: Value::str(name),
                    port: Value::Int(e.container.port),
                    protocol: Value::str(tg::PROTOCOL_HTTP),
                    target_type: Value::str(tg::TARGET_TYPE_IP),
                    vpc_id: Self::reference(&route.gateway.lb, lb::Attr::VpcId.as_str()),
                    health_check: health.clone(),
                    deregistration_delay: Value::Int(route.deregistration_delay),
                }
                .into_attrs(),
                tg_deps.clone(),
                meta,
            );
        }
        let mut rule_deps = deps.common.clone();
        rule_deps.insert(route.listener.address.clone(), route.span.clone());
        for (addr, _) in &groups {
            rule_deps.insert(addr.clone(), route.span.clone());
        }
        let tg_arn = Self::reference(&tg_addr, tg::Attr::Arn.as_str());
        let alt_arn = if shifts_traffic {
            Self::reference(&alt_addr, tg::Attr::Arn.as_str())
        } else {
            Value::Null
        };
        let strs = |v: &[String]| Value::List(v.iter().map(Value::str).collect());
        self.add_resource(
            rule_addr.clone(),
            ResourceKind::ListenerRule,
            lr::Desired {
                name: Value::String(format!(
                    "{}:{}/{}",
                    route.gateway.name,
                    route.listener.port,
                    rule_addr.block()
                )),
                listener_arn: Self::reference(&route.listener.address, li::Attr::Arn.as_str()),
                // Given after every endpoint is lowered.
                priority: Value::Null,
                path_patterns: strs(&route.paths),
                hosts: strs(&route.hosts),
                target_group_arn: tg_arn.clone(),
                alternate_target_group_arn: alt_arn.clone(),
            }
            .into_attrs(),
            rule_deps,
            meta,
        );
        self.lowered_mut().routes.push(RouteInfo {
            rule: rule_addr.clone(),
            listener: route.listener.address.clone(),
            priority: priority.clone(),
            paths: route.paths.clone(),
            hosts: route.hosts.clone(),
            span: route.span.clone(),
        });
        // ECS registers tasks only in a target group a load balancer already forwards to.
        svc_deps.insert(rule_addr.clone(), route.span.clone());
        for (addr, _) in &groups {
            svc_deps.insert(addr.clone(), route.span.clone());
        }
        let mut item: BTreeMap<String, Value> = BTreeMap::new();
        for &k in LBI::ALL {
            let v = match k {
                LBI::TargetGroupArn => tg_arn.clone(),
                LBI::ContainerName => Value::str(&n.block),
                LBI::ContainerPort => Value::Int(e.container.port),
                LBI::AlternateTargetGroupArn if shifts_traffic => alt_arn.clone(),
                LBI::ProductionListenerRule if shifts_traffic => {
                    Self::reference(&rule_addr, LR::Arn.as_str())
                }
                LBI::RoleArn => match &e.role {
                    Some(r) => r.clone(),
                    None => continue,
                },
                _ => continue,
            };
            item.insert(k.into(), v);
        }
        Value::List(vec![Value::Map(item.into())])
    }

    /// `${endpoint.X.url}`: the listener's scheme, the gateway's DNS name, the port when it is
    /// not the scheme's own, and the route's path prefix.
    pub(super) fn route_url(route: &Route) -> Value {
        let l = &route.listener;
        let scheme = if l.https { "https" } else { "http" };
        let port = match (l.https, l.port) {
            (true, 443) | (false, 80) => String::new(),
            (_, p) => format!(":{p}"),
        };
        concat(&[
            Value::String(format!("{scheme}://")),
            Self::reference(&route.gateway.lb, lb::Attr::DnsName.as_str()),
            Value::String(format!("{port}{}", path_prefix(&route.paths))),
        ])
    }

    /// Gives every listener rule its priority: written ones as written, the others from
    /// [`lr::AUTO_PRIORITY_START`] in steps of [`lr::AUTO_PRIORITY_STEP`], most specific route
    /// first (a host before none, then longer paths), then by address. Two routes of one
    /// listener with the same priority or the same conditions are an error at both.
    pub(in crate::spec) fn assign_route_priorities(&mut self) {
        let routes = std::mem::take(&mut self.lowered_mut().routes);
        let mut by_listener: BTreeMap<Address, Vec<RouteInfo>> = BTreeMap::new();
        for r in routes {
            by_listener.entry(r.listener.clone()).or_default().push(r);
        }
        for (listener, mut list) in by_listener {
            list.sort_by(|a, b| a.rule.cmp(&b.rule));
            let mut taken: BTreeMap<i64, &RouteInfo> = BTreeMap::new();
            let mut conditions: BTreeMap<(Vec<String>, Vec<String>), &RouteInfo> = BTreeMap::new();
            let mut errors: Vec<(Span, Span, String, String)> = Vec::new();
            for r in &list {
                let key = (r.paths.clone(), r.hosts.clone());
                if let Some(first) = conditions.get(&key) {
                    errors.push((
                        r.span.clone(),
                        first.span.clone(),
                        format!(
                            "{} and {} route the same requests on {listener}",
                            r.rule.block(),
                            first.rule.block()
                        ),
                        "same path and host as another route".into(),
                    ));
                } else {
                    conditions.insert(key, r);
                }
                if let Some((p, ps)) = &r.priority {
                    if let Some(first) = taken.get(p) {
                        let fs = first
                            .priority
                            .as_ref()
                            .map_or(first.span.clone(), |x| x.1.clone());
                        errors.push((
                            ps.clone(),
                            fs,
                            format!(
                                "{} and {} both take priority {p} on {listener}",
                                r.rule.block(),
                                first.rule.block()
                            ),
                            format!("priority {p} again"),
                        ));
                    } else {
                        taken.insert(*p, r);
                    }
                }
            }
            let has_errors = !errors.is_empty();
            for (span, first, msg, label) in errors {
                self.err(ErrorCode::InvalidValue, &span, msg, label)
                    .label(&first, "first here")
                    .help = Some(
                    "each route of a listener needs its own priority and conditions; change `priority`, `path` or `host`, or leave `priority` out to have one given".into(),
                );
            }
            if has_errors {
                continue;
            }
            let used: Vec<i64> = taken.keys().copied().collect();
            let mut auto: Vec<&RouteInfo> = list.iter().filter(|r| r.priority.is_none()).collect();
            auto.sort_by(|a, b| {
                let spec = |r: &RouteInfo| {
                    (
                        r.hosts.is_empty(),
                        std::cmp::Reverse(r.paths.iter().map(|p| p.len()).max().unwrap_or(0)),
                    )
                };
                spec(a).cmp(&spec(b)).then_with(|| a.rule.cmp(&b.rule))
            });
            let mut next = lr::AUTO_PRIORITY_START;
            let mut assigned: Vec<(Address, i64)> = list
                .iter()
                .filter_map(|r| r.priority.as_ref().map(|(p, _)| (r.rule.clone(), *p)))
                .collect();
            for r in auto {
                while used.contains(&next) {
                    next += lr::AUTO_PRIORITY_STEP;
                }
                assigned.push((r.rule.clone(), next));
                next += lr::AUTO_PRIORITY_STEP;
            }
            for (rule, p) in assigned {
                if let Some(res) = self.lowered_mut().resources.get_mut(&rule) {
                    res.attrs.insert(LR::Priority.into(), Value::Int(p));
                }
            }
        }
    }

    /// A release strategy other than rolling needs a route (ECS shifts the gateway's traffic)
    /// and a role ECS changes the listener rule with.
    pub(super) fn check_strategy_needs(
        &mut self,
        what: &str,
        strategy: Option<&(String, Span)>,
        routed: bool,
        role: Option<&Value>,
    ) {
        let Some((s, span)) = strategy else { return };
        if s == svc::STRATEGY_ROLLING {
            return;
        }
        if !routed {
            self.err(
                ErrorCode::InvalidValue,
                span,
                format!("{what} releases with strategy {s:?}, which needs a route"),
                "needs a route",
            )
            .help = Some(format!(
                "a {s} release shifts the gateway's traffic from the old revision to the new: add route = {{ gateway = \"<gateway>\", path = \"/<name>/*\" }}, or use strategy = \"rolling\""
            ));
        } else if role.is_none() {
            self.err(
                ErrorCode::MissingKey,
                span,
                format!("{what} releases with strategy {s:?} but its deployment names no `role`"),
                "needs a role",
            )
            .help = Some(
                "ECS changes the listener rule's weights with an IAM role: deployment = { strategy = \"...\", role = \"arn:aws:iam::<account>:role/<role>\" } (a role ECS may assume, with the AmazonECSInfrastructureRolePolicyForLoadBalancers policy)".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_path_prefixes() {
        assert_eq!(path_prefix(&["/fraud/*".into()]), "/fraud/");
        assert_eq!(path_prefix(&["/*".into()]), "/");
        assert_eq!(path_prefix(&["/exact".into()]), "/exact");
        assert_eq!(path_prefix(&[]), "/");
    }

    #[test]
    fn health_checks_fit_elb_ranges() {
        let h = LbHealth {
            path: "/health".into(),
            interval: 2,
            timeout: 10,
            retries: 1,
        };
        let Value::Map(m) = h.attr() else { panic!() };
        assert_eq!(m["interval"], Value::Int(5));
        assert_eq!(m["timeout"], Value::Int(4));
        assert_eq!(m["unhealthy_threshold"], Value::Int(2));
    }
}
