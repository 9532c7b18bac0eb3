//! The resources an endpoint produces: its log group, IAM roles (see [`super::roles`]), SSM
//! parameters for its secrets, task definition, service, (with autoscaling) scaling target,
//! (with alarms) CloudWatch alarms and (with a route) target groups and a listener rule, each
//! with its own
//! dependencies, then the endpoint's exports.

use super::alarms::{alarm_address, route_groups};
use super::roles::RoleNames;
use super::{Endpoint, EndpointDeps};
use crate::addr::Address;

use crate::resource::schema::{
    ecs_service as svc, ecs_task_definition as td, load_balancer as lb_schema, log_group,
    scaling_target, ssm_parameter, target_group as tg_schema,
};
use crate::resource::{Attrs, ResourceKind, Value};
use crate::spec::load::{BlockId, Exported, Loader};
use crate::spec::lower::common::{Meta, concat, resource_address};
use crate::spec::resolve::Deps;

/// Names shared by an endpoint's resources.
pub(super) struct Names {
    /// The module prefix of its addresses (`module.X.`, or empty).
    pub(super) prefix: String,
    /// The endpoint block's name.
    pub(super) block: String,
    /// The physical name of the task family and the service.
    pub(super) name: Value,
    /// `/pedestal/<stack>/<env>/<module…>/<name>`: the parts of the default name, as a path.
    log_group: String,
    lg: Address,
    td: Address,
    pub(super) svc: Address,
    sc: Address,
}

impl Loader<'_> {
    /// Adds an endpoint's resources and records its exports. The log group's, task
    /// definition's and service's own dependencies move into them.
    pub(super) fn endpoint_resources(
        &mut self,
        id: BlockId,
        e: Endpoint,
        deps: &mut EndpointDeps,
        meta: &Meta<'_>,
    ) {
        let b = self.block(id).clone();
        let prefix = self.scope(b.scope).prefix.clone();
        let base = self.default_name(b.scope, &b.name);
        let log_group = self.joined_name(b.scope, &b.name, '/', String::from("/pedestal/"));
        let address = |role| resource_address(&prefix, "endpoint", &b.name, role);
        let n = Names {
            lg: address("log_group"),
            td: address("task_definition"),
            svc: address("service"),
            sc: address("scaling"),
            prefix: prefix.clone(),
            block: b.name.clone(),
            name: Value::String(base.clone()),
            log_group,
        };
        let mut e = e;
        e.container.secrets = self.endpoint_secret_parameters(&n, &e, &b.name_span, deps, meta);
        self.endpoint_log_group(&n, &e, deps, meta);
        self.endpoint_alarm_resources(&n, &e, deps, meta);
        let policy_span = b
            .node
            .get(super::TASK_POLICY)
            .map_or_else(|| b.name_span.clone(), |e| e.value.span.clone());
        let roles = self.endpoint_roles(
            &RoleNames {
                prefix: &n.prefix,
                block: &n.block,
                base: &base,
                log_group: &n.lg,
                span: &b.name_span,
                policy_span: &policy_span,
            },
            &e,
            deps,
            meta,
        );
        self.endpoint_task_definition(id, &n, &mut e, roles, deps, meta);
        let mut route_deps = Deps::new();
        let load_balancers = self.endpoint_route_resources(&n, &e, deps, meta, &mut route_deps);
        self.endpoint_service(id, &n, &mut e, deps, meta, (load_balancers, route_deps));
        if e.scaling.is_some() {
            self.endpoint_scaling(id, &n, &e, deps, meta);
        }
        self.export(
            id,
            &n.svc,
            vec![
                (
                    "service_arn",
                    Self::reference(&n.svc, svc::Attr::Arn.as_str()),
                ),
                ("service_name", n.name),
                (
                    "task_definition_arn",
                    Self::reference(&n.td, td::Attr::Arn.as_str()),
                ),
                ("log_group", Value::String(n.log_group)),
                ("name", Value::str(&b.name)),
            ],
        );
        // `${endpoint.X.url}`: known once the gateway's load balancer exists.
        let url = match &e.route {
            Some((route, _)) => Exported {
                value: Self::route_url(route),
                deps: std::sync::Arc::new(
                    [n.svc.clone(), route.gateway.lb.clone()]
                        .into_iter()
                        .collect(),
                ),
            },
            None => Exported {
                value: Value::Null,
                deps: Default::default(),
            },
        };
        if let Some(ex) = self.lowered_mut().exports.get_mut(&id) {
            ex.insert("url", url);
        }
    }

    /// Each sensitive value in `secrets` becomes an SSM `SecureString` parameter
    /// (`endpoint.X.secret.<NAME>`, named `<log group path>/<NAME>`); the container reads it by
    /// the parameter's ARN. ARNs and parameter names given in the spec stay as they are.
    fn endpoint_secret_parameters(
        &mut self,
        n: &Names,
        e: &Endpoint,
        span: &crate::spec::diag::Span,
        deps: &EndpointDeps,
        meta: &Meta<'_>,
    ) -> Attrs {
        let mut out = Attrs::new();
        for (k, v) in &e.container.secrets {
            if !v.is_sensitive() {
                out.insert(k.clone(), v.clone());
                continue;
            }
            let addr = resource_address(&n.prefix, "endpoint", &n.block, &format!("secret.{k}"));
            let mut d = deps.common.clone();
            for r in v.refs() {
                d.entry(r.address.clone()).or_insert_with(|| span.clone());
            }
            self.add_resource(
                addr.clone(),
                ResourceKind::SsmParameter,
                ssm_parameter::Desired {
                    name: Value::String(format!("{}/{k}", n.log_group)),
                    value: v.clone(),
                    key_id: Value::Null,
                    description: Value::String(format!("pedestal {addr}")),
                }
                .into_attrs(),
                d,
                meta,
            );
            out.insert(
                k.clone(),
                Self::reference(&addr, ssm_parameter::Attr::Arn.as_str()),
            );
        }
        out
    }

    fn endpoint_log_group(
        &mut self,
        n: &Names,
        e: &Endpoint,
        deps: &mut EndpointDeps,
        meta: &Meta<'_>,
    ) {
        let mut lg_all = std::mem::take(&mut deps.lg);
        lg_all.extend(deps.common.clone());
        self.add_resource(
            n.lg.clone(),
            ResourceKind::LogGroup,
            log_group::Desired {
                name: Value::String(n.log_group.clone()),
                retention_days: Value::Int(e.retention),
            }
            .into_attrs(),
            lg_all,
            meta,
        );
    }

    /// The task definition; the container settings, model and health check move into it (no
    /// later resource reads them).
    fn endpoint_task_definition(
        &mut self,
        id: BlockId,
        n: &Names,
        e: &mut Endpoint,
        (execution_role, task_role): (Value, Value),
        deps: &mut EndpointDeps,
        meta: &Meta<'_>,
    ) {
        let b = self.block(id).clone();
        let c = &mut e.container;
        let container = td::DesiredContainer {
            name: Value::str(&b.name),
            image: std::mem::take(&mut e.image),
            port: Value::Int(c.port),
            environment: Value::Map(std::mem::take(&mut c.environment)),
            secrets: Value::Map(std::mem::take(&mut c.secrets)),
            health_check: std::mem::take(&mut e.health.check),
            log_group: Value::String(n.log_group.clone()),
            region: Value::String(self.region().to_string()),
        };
        let mut td_all = std::mem::take(&mut deps.td);
        td_all.extend(deps.common.clone());
        td_all
            .entry(n.lg.clone())
            .or_insert_with(|| b.name_span.clone());
        for r in execution_role.refs().into_iter().chain(task_role.refs()) {
            td_all
                .entry(r.address.clone())
                .or_insert_with(|| b.name_span.clone());
        }
        self.add_resource(
            n.td.clone(),
            ResourceKind::EcsTaskDefinition,
            td::Desired {
                family: n.name.clone(),
                cpu: Value::Int(e.sizing.cpu),
                memory: Value::Int(e.sizing.memory),
                gpu: Value::Int(e.sizing.gpu),
                network_mode: Value::str(td::NETWORK_MODE_AWSVPC),
                requires_compatibilities: Value::List(vec![Value::str(compat(e))]),
                execution_role,
                task_role,
                container,
                model: Value::Map(std::mem::take(&mut e.model)),
            }
            .into_attrs(),
            td_all,
            meta,
        );
    }

    /// The service; the network and deployment settings move into it.
    fn endpoint_service(
        &mut self,
        id: BlockId,
        n: &Names,
        e: &mut Endpoint,
        deps: &mut EndpointDeps,
        meta: &Meta<'_>,
        (load_balancers, route_deps): (Value, Deps),
    ) {
        let b = self.block(id).clone();
        let mut svc_all = std::mem::take(&mut deps.svc);
        svc_all.extend(route_deps);
        svc_all.extend(deps.common.clone());
        svc_all
            .entry(n.td.clone())
            .or_insert_with(|| b.name_span.clone());
        // ECS checks that the alarms it watches exist.
        if let Some(alarms) = &e.alarms {
            for a in &alarms.list {
                svc_all
                    .entry(alarm_address(&n.prefix, &n.block, a.which))
                    .or_insert_with(|| alarms.span.clone());
            }
        }
        self.add_resource(
            n.svc.clone(),
            ResourceKind::EcsService,
            svc::Desired {
                name: n.name.clone(),
                cluster: e.cluster.clone(),
                launch_type: Value::str(compat(e)),
                capacity_provider_strategy: Value::Null,
                task_definition: Self::reference(&n.td, td::Attr::Arn.as_str()),
                desired_count: if e.scaling.is_some() {
                    Value::Null
                } else {
                    Value::Int(e.container.replicas)
                },
                network: std::mem::take(&mut e.network),
                deployment: Value::Map(std::mem::take(&mut e.deployment)),
                // A routed service's new tasks get time before the load balancer's checks count.
                health_check_grace_period: match (&e.health.grace, &e.route) {
                    (Value::Null, Some(_)) => Value::Int(svc::DEFAULT_ROUTED_GRACE_PERIOD),
                    (g, _) => g.clone(),
                },
                alarms: e.alarms.as_ref().map_or(Value::Null, |a| a.service_attr()),
                load_balancers,
            }
            .into_attrs(),
            svc_all,
            meta,
        );
    }

    fn endpoint_scaling(
        &mut self,
        id: BlockId,
        n: &Names,
        e: &Endpoint,
        deps: &EndpointDeps,
        meta: &Meta<'_>,
    ) {
        let Some(s) = &e.scaling else { return };
        let cluster = &e.cluster;
        let b = self.block(id).clone();
        let mut sc_deps: Deps = deps.common.clone();
        sc_deps.insert(n.svc.clone(), b.name_span.clone());
        // Requests per target: of the endpoint's target group, behind the gateway's load
        // balancer (`app/…/targetgroup/…`, known once both exist).
        let request_label = match (&s.requests, &e.route) {
            (Some((_, span)), Some((route, _))) => {
                let tg = route_groups(n, e).remove(0);
                sc_deps.insert(route.gateway.lb.clone(), span.clone());
                sc_deps.insert(tg.clone(), span.clone());
                concat(&[
                    Self::reference(&route.gateway.lb, lb_schema::Attr::ArnSuffix.as_str()),
                    Value::str("/"),
                    Self::reference(&tg, tg_schema::Attr::ArnSuffix.as_str()),
                ])
            }
            _ => Value::Null,
        };
        let int = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
        let resource_id = concat(&[
            Value::str("service/"),
            cluster.clone(),
            Value::str("/"),
            n.name.clone(),
        ]);
        let policy = concat(&[n.name.clone(), Value::str(scaling_target::POLICY_SUFFIX)]);
        self.add_resource(
            n.sc.clone(),
            ResourceKind::ScalingTarget,
            scaling_target::Desired {
                resource_id,
                cluster: cluster.clone(),
                service: n.name.clone(),
                min: Value::Int(s.min),
                max: Value::Int(s.max),
                target_cpu: int(s.cpu),
                policy_name: policy,
                target_memory: int(s.memory),
                target_requests: int(s.requests.as_ref().map(|x| x.0)),
                request_label,
            }
            .into_attrs(),
            sc_deps,
            meta,
        );
    }
}

/// `FARGATE` without GPUs, `EC2` with.
fn compat(e: &Endpoint) -> &'static str {
    if e.sizing.fargate { "FARGATE" } else { "EC2" }
}
