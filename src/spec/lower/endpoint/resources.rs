//! The resources an endpoint produces: its log group, task definition, service and (with
//! autoscaling) scaling target, each with its own dependencies, then the endpoint's exports.

use std::collections::BTreeMap;

use super::{Endpoint, EndpointDeps};
use crate::addr::Address;
use crate::resource::{Attrs, ResourceKind, Value};
use crate::spec::load::Loader;
use crate::spec::lower::common::{Meta, concat};
use crate::spec::resolve::Deps;

/// Names shared by an endpoint's resources.
struct Names {
    /// The physical name of the task family and the service.
    name: Value,
    /// `/pedestal/<stack>/<env>/<module…>/<name>`.
    log_group: String,
    lg: Address,
    td: Address,
    svc: Address,
    sc: Address,
}

impl Loader<'_> {
    /// Adds an endpoint's resources and records its exports.
    pub(super) fn endpoint_resources(
        &mut self,
        id: usize,
        e: Endpoint,
        deps: &EndpointDeps,
        meta: &Meta<'_>,
    ) {
        let b = self.blocks[id].clone();
        let prefix = self.scopes[b.scope].prefix.clone();
        let log_group = {
            let mut p = vec![
                "".to_string(),
                "pedestal".into(),
                self.stack.clone(),
                self.env.clone(),
            ];
            p.extend(self.scopes[b.scope].qual.iter().cloned());
            p.push(b.name.clone());
            p.join("/")
        };
        let n = Names {
            name: Value::String(self.default_name(b.scope, &b.name)),
            log_group,
            lg: Address::resource(&prefix, "endpoint", &b.name, "log_group"),
            td: Address::resource(&prefix, "endpoint", &b.name, "task_definition"),
            svc: Address::resource(&prefix, "endpoint", &b.name, "service"),
            sc: Address::resource(&prefix, "endpoint", &b.name, "scaling"),
        };
        self.endpoint_log_group(&n, &e, deps, meta);
        self.endpoint_task_definition(id, &n, &e, deps, meta);
        self.endpoint_service(id, &n, &e, deps, meta);
        if let Some(scaling) = e.scaling {
            self.endpoint_scaling(id, &n, &e.cluster, scaling, deps, meta);
        }
        self.export(
            id,
            &n.svc,
            vec![
                ("service_arn", Self::reference(&n.svc, "arn")),
                ("service_name", n.name),
                ("task_definition_arn", Self::reference(&n.td, "arn")),
                ("log_group", Value::String(n.log_group)),
                ("name", Value::str(&b.name)),
            ],
        );
    }

    fn endpoint_log_group(
        &mut self,
        n: &Names,
        e: &Endpoint,
        deps: &EndpointDeps,
        meta: &Meta<'_>,
    ) {
        let mut lg_all = deps.lg.clone();
        lg_all.extend(deps.common.clone());
        self.add_resource(
            n.lg.clone(),
            ResourceKind::LogGroup,
            Attrs::from([
                ("name".into(), Value::String(n.log_group.clone())),
                ("retention_days".into(), Value::Int(e.retention)),
            ]),
            &lg_all,
            meta,
        );
    }

    fn endpoint_task_definition(
        &mut self,
        id: usize,
        n: &Names,
        e: &Endpoint,
        deps: &EndpointDeps,
        meta: &Meta<'_>,
    ) {
        let b = self.blocks[id].clone();
        let c = &e.container;
        let container = BTreeMap::from([
            ("name".to_string(), Value::str(&b.name)),
            ("image".to_string(), e.image.clone()),
            ("port".to_string(), Value::Int(c.port)),
            ("environment".to_string(), Value::Map(c.environment.clone())),
            ("secrets".to_string(), Value::Map(c.secrets.clone())),
            ("health_check".to_string(), e.health.check.clone()),
            ("log_group".to_string(), Value::String(n.log_group.clone())),
            ("region".to_string(), Value::String(self.region.clone())),
        ]);
        let mut td_all = deps.td.clone();
        td_all.extend(deps.common.clone());
        td_all
            .entry(n.lg.clone())
            .or_insert_with(|| b.name_span.clone());
        self.add_resource(
            n.td.clone(),
            ResourceKind::EcsTaskDefinition,
            Attrs::from([
                ("family".into(), n.name.clone()),
                ("cpu".into(), Value::Int(e.sizing.cpu)),
                ("memory".into(), Value::Int(e.sizing.memory)),
                ("gpu".into(), Value::Int(e.sizing.gpu)),
                ("network_mode".into(), Value::str("awsvpc")),
                (
                    "requires_compatibilities".into(),
                    Value::List(vec![Value::str(compat(e))]),
                ),
                ("execution_role".into(), c.execution_role.clone()),
                ("task_role".into(), c.task_role.clone()),
                ("container".into(), Value::Map(container)),
                ("model".into(), Value::Map(e.model.clone())),
            ]),
            &td_all,
            meta,
        );
    }

    fn endpoint_service(
        &mut self,
        id: usize,
        n: &Names,
        e: &Endpoint,
        deps: &EndpointDeps,
        meta: &Meta<'_>,
    ) {
        let b = self.blocks[id].clone();
        let mut svc_all = deps.svc.clone();
        svc_all.extend(deps.common.clone());
        svc_all
            .entry(n.td.clone())
            .or_insert_with(|| b.name_span.clone());
        self.add_resource(
            n.svc.clone(),
            ResourceKind::EcsService,
            Attrs::from([
                ("name".into(), n.name.clone()),
                ("cluster".into(), e.cluster.clone()),
                ("launch_type".into(), Value::str(compat(e))),
                ("capacity_provider_strategy".into(), Value::Null),
                ("task_definition".into(), Self::reference(&n.td, "arn")),
                (
                    "desired_count".into(),
                    if e.scaling.is_some() {
                        Value::Null
                    } else {
                        Value::Int(e.container.replicas)
                    },
                ),
                ("network".into(), e.network.clone()),
                ("deployment".into(), Value::Map(e.deployment.clone())),
                ("health_check_grace_period".into(), e.health.grace.clone()),
            ]),
            &svc_all,
            meta,
        );
    }

    fn endpoint_scaling(
        &mut self,
        id: usize,
        n: &Names,
        cluster: &Value,
        (mn, mx, t): (i64, i64, i64),
        deps: &EndpointDeps,
        meta: &Meta<'_>,
    ) {
        let b = self.blocks[id].clone();
        let mut sc_deps: Deps = deps.common.clone();
        sc_deps.insert(n.svc.clone(), b.name_span.clone());
        let resource_id = concat(&[
            Value::str("service/"),
            cluster.clone(),
            Value::str("/"),
            n.name.clone(),
        ]);
        let policy = concat(&[n.name.clone(), Value::str("-cpu")]);
        self.add_resource(
            n.sc.clone(),
            ResourceKind::ScalingTarget,
            Attrs::from([
                ("resource_id".into(), resource_id),
                ("cluster".into(), cluster.clone()),
                ("service".into(), n.name.clone()),
                ("min".into(), Value::Int(mn)),
                ("max".into(), Value::Int(mx)),
                ("target_cpu".into(), Value::Int(t)),
                ("policy_name".into(), policy),
            ]),
            &sc_deps,
            meta,
        );
    }
}

/// `FARGATE` without GPUs, `EC2` with.
fn compat(e: &Endpoint) -> &'static str {
    if e.sizing.fargate { "FARGATE" } else { "EC2" }
}
