//! Lowering `[endpoint.*]` blocks: sizing, model, health check, logs, network, deployment and
//! autoscaling, producing a log group, a task definition, a service and (with autoscaling) a
//! scaling target.

use std::collections::BTreeMap;

use super::common::{Meta, concat};
use crate::addr::Address;
use crate::resource::{Attrs, ResourceKind, Value};
use crate::spec::diag::{ErrorCode, Span};
use crate::spec::fields::Src;
use crate::spec::load::{BlockKind, Loader};
use crate::spec::resolve::Deps;

const ENDPOINT_KEYS: &[&str] = &[
    "compute",
    "model",
    "image",
    "cpu",
    "memory",
    "gpu",
    "replicas",
    "port",
    "environment",
    "secrets",
    "health_check",
    "execution_role",
    "task_role",
    "network",
    "deployment",
    "autoscaling",
    "logs",
    "tags",
    "depends_on",
    "lifecycle",
];
/// Fargate's valid task sizes: cpu units → allowed memory (MiB).
pub fn fargate_memory(cpu: i64) -> Option<Vec<i64>> {
    let range = |from: i64, to: i64, step: i64| {
        (0..)
            .map(move |i| from + i * step)
            .take_while(move |m| *m <= to)
    };
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => range(1024, 4096, 1024).collect(),
        1024 => range(2048, 8192, 1024).collect(),
        2048 => range(4096, 16384, 1024).collect(),
        4096 => range(8192, 30720, 1024).collect(),
        8192 => range(16384, 61440, 4096).collect(),
        16384 => range(32768, 122880, 8192).collect(),
        _ => return None,
    })
}

const LOG_RETENTION: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

impl Loader<'_> {
    fn non_negative(&mut self, v: Option<(i64, Span)>, key: &str, what: &str) -> Option<i64> {
        let (n, span) = v?;
        if n < 0 {
            self.err(
                ErrorCode::InvalidValue,
                &span,
                format!("`{key}` in {what} must not be negative"),
                "negative",
            );
            return None;
        }
        Some(n)
    }

    pub(super) fn lower_endpoint(&mut self, id: usize) {
        let b = self.blocks[id].clone();
        let prefix = self.scopes[b.scope].prefix.clone();
        let mut td_deps = Deps::new();
        let mut svc_deps = Deps::new();
        let mut lg_deps = Deps::new();
        let Some(f) = self.open(id, &b.node, ENDPOINT_KEYS, &mut td_deps) else {
            return;
        };
        let mut common_deps = Deps::new();
        let (tags, lc) = self.common(id, &f, ENDPOINT_KEYS, &mut common_deps);
        let what = b.addr.clone();

        // Compute: a compute block of this scope by name, or a cluster name expression.
        let mut providers: Option<(Vec<String>, Span)> = None;
        let cluster = match f.src("compute").cloned() {
            None => {
                self.missing(
                    &f,
                    "compute",
                    "name the compute block to run on: compute = \"serving\"",
                );
                None
            }
            Some(src) => match src.literal_str() {
                Some(name) => {
                    let key = (BlockKind::Compute, name.to_string());
                    match self.scopes[b.scope].blocks.get(&key).copied() {
                        Some(cid) => {
                            if let Some(p) = self.compute_providers.get(&cid) {
                                providers = Some((p.clone(), src.span().clone()));
                            }
                            self.exports.get(&cid).and_then(|e| e.get("name")).map(|e| {
                                for d in &e.deps {
                                    svc_deps
                                        .entry(d.clone())
                                        .or_insert_with(|| src.span().clone());
                                }
                                e.value.clone()
                            })
                        }
                        None => {
                            self.unknown_named_block(
                                b.scope,
                                BlockKind::Compute,
                                ("endpoint", &b.name),
                                name,
                                src.span(),
                            );
                            None
                        }
                    }
                }
                None => self.v_str(&f, "compute", &mut svc_deps).map(|x| x.0),
            },
        };

        let image = self.v_str(&f, "image", &mut td_deps).map(|x| x.0);
        if image.is_none() && !f.has("image") {
            self.missing(
                &f,
                "image",
                "set the container image: image = \"<registry>/<repo>:<tag>\"",
            );
        }
        let cpu = self.v_int(&f, "cpu", &mut td_deps);
        let memory = self.v_int(&f, "memory", &mut td_deps);
        let gpu_v = self.v_int(&f, "gpu", &mut td_deps);
        let gpu_span = gpu_v.as_ref().map(|x| x.1.clone());
        let gpu = self.non_negative(gpu_v, "gpu", &what).unwrap_or(0);
        let port_v = self.v_int(&f, "port", &mut td_deps);
        let port = match port_v {
            Some((p, span)) if !(1..=65535).contains(&p) => {
                self.err(
                    ErrorCode::InvalidValue,
                    &span,
                    format!("`port` in {what} must be between 1 and 65535"),
                    "not a port",
                );
                8080
            }
            Some((p, _)) => p,
            None => 8080,
        };
        let replicas_v = self.v_int(&f, "replicas", &mut svc_deps);
        let replicas = self
            .non_negative(replicas_v, "replicas", &what)
            .unwrap_or(1);
        let mut environment = self
            .v_str_map(&f, "environment", &mut td_deps)
            .map(|x| x.0)
            .unwrap_or_default();
        let secrets = self
            .v_str_map(&f, "secrets", &mut td_deps)
            .map(|x| x.0)
            .unwrap_or_default();
        let execution_role = self
            .v_str(&f, "execution_role", &mut td_deps)
            .map_or(Value::Null, |x| x.0);
        let task_role = self
            .v_str(&f, "task_role", &mut td_deps)
            .map_or(Value::Null, |x| x.0);
        if !secrets.is_empty()
            && !f.has("execution_role")
            && let Some(span) = f.src("secrets").map(|s| s.span().clone())
        {
            self.err(
                ErrorCode::MissingKey,
                &span,
                format!("{what} injects secrets but has no `execution_role`"),
                "ECS reads these secrets with the task execution role",
            )
            .help = Some(
                "add execution_role = \"arn:aws:iam::<account>:role/<role>\" with access to the secrets".into(),
            );
        }

        // Fargate or EC2.
        let fargate = gpu == 0;
        if gpu > 0
            && let (Some((p, cspan)), Some(gspan)) = (&providers, &gpu_span)
            && p.iter().all(|x| x.starts_with("FARGATE"))
        {
            let (cspan, gspan) = (cspan.clone(), gspan.clone());
            self.err(
                ErrorCode::GpuOnFargate,
                &gspan,
                format!("{what} asks for {gpu} GPU(s), but its compute only has Fargate capacity"),
                "Fargate cannot run GPU tasks",
            )
            .label(&cspan, "this compute uses only FARGATE capacity providers")
            .help = Some(
                "add an EC2 capacity provider to the compute's capacity_providers, or set gpu = 0"
                    .into(),
            );
        }
        let cpu_n = cpu.as_ref().map_or(256, |x| x.0);
        let mem_n = memory.as_ref().map_or(512, |x| x.0);
        if fargate {
            match fargate_memory(cpu_n) {
                None => {
                    let span = cpu
                        .as_ref()
                        .map(|x| x.1.clone())
                        .unwrap_or_else(|| b.name_span.clone());
                    self.err(
                        ErrorCode::FargateSize,
                        &span,
                        format!("{cpu_n} is not a valid Fargate cpu value"),
                        "invalid cpu",
                    )
                    .help =
                        Some("Fargate cpu units: 256, 512, 1024, 2048, 4096, 8192, 16384".into());
                }
                Some(allowed) if !allowed.contains(&mem_n) => {
                    let span = memory
                        .as_ref()
                        .map(|x| x.1.clone())
                        .unwrap_or_else(|| b.name_span.clone());
                    let list: Vec<String> = allowed.iter().map(|m| m.to_string()).collect();
                    let cpu_span = cpu.as_ref().map(|x| x.1.clone());
                    let e = self.err(
                        ErrorCode::FargateSize,
                        &span,
                        format!("Fargate does not offer {mem_n} MiB of memory with cpu = {cpu_n}"),
                        "invalid memory for this cpu",
                    );
                    if let Some(cs) = &cpu_span {
                        e.label(cs, format!("cpu = {cpu_n}"));
                    }
                    e.help = Some(format!(
                        "with cpu = {cpu_n}, memory must be one of: {}",
                        list.join(", ")
                    ));
                }
                Some(_) => {}
            }
        } else {
            for (v, key) in [(&cpu, "cpu"), (&memory, "memory")] {
                if let Some((n, span)) = v
                    && *n <= 0
                {
                    self.err(
                        ErrorCode::InvalidValue,
                        span,
                        format!("`{key}` in {what} must be positive"),
                        "not positive",
                    );
                }
            }
        }

        // Model.
        let mut model = BTreeMap::new();
        let mut model_td_deps = Deps::new();
        if f.has("model") {
            if let Some(m) = self.sub(
                &f,
                "model",
                &["name", "version", "artifact", "sha256"],
                &mut td_deps,
            ) {
                let name = self
                    .v_str(&m, "name", &mut td_deps)
                    .map_or_else(|| Value::str(&b.name), |x| x.0);
                let version = self.v_str(&m, "version", &mut td_deps).map(|x| x.0);
                if version.is_none() && !m.has("version") {
                    self.missing(
                        &m,
                        "version",
                        "every endpoint serves a model release: version = \"1.2.0\"",
                    );
                }
                // An empty string (a module's default) means no artifact.
                let artifact = self
                    .v_str(&m, "artifact", &mut model_td_deps)
                    .map_or(Value::Null, |x| x.0);
                let artifact = if artifact.as_str() == Some("") {
                    Value::Null
                } else {
                    artifact
                };
                let sha = match self.v_str(&m, "sha256", &mut td_deps) {
                    Some((v, _)) => v,
                    None => {
                        let objects: Vec<&Address> = model_td_deps
                            .keys()
                            .filter(|a| {
                                self.resources
                                    .get(*a)
                                    .is_some_and(|r| r.kind == ResourceKind::S3Object)
                            })
                            .collect();
                        match objects.as_slice() {
                            [one] => self.resources[*one]
                                .attrs
                                .get("sha256")
                                .cloned()
                                .unwrap_or(Value::Null),
                            _ => Value::Null,
                        }
                    }
                };
                model.insert("name".to_string(), name);
                model.insert("version".to_string(), version.unwrap_or(Value::Null));
                model.insert("artifact".to_string(), artifact);
                model.insert("sha256".to_string(), sha);
            }
        } else {
            self.missing(&f, "model", "describe the release: model = { name = \"...\", version = \"...\", artifact = \"${artifact.x.uri}\" }");
        }
        td_deps.extend(model_td_deps);
        for (env_key, model_key) in [
            ("MODEL_NAME", "name"),
            ("MODEL_VERSION", "version"),
            ("MODEL_URI", "artifact"),
            ("MODEL_SHA256", "sha256"),
        ] {
            if let Some(v) = model.get(model_key)
                && !matches!(v, Value::Null)
            {
                environment.insert(env_key.to_string(), v.clone());
            }
        }

        // Health check.
        let mut health = Value::Null;
        let mut grace = Value::Null;
        if f.has("health_check")
            && let Some(h) = self.sub(
                &f,
                "health_check",
                &["path", "interval", "retries", "timeout", "grace_period"],
                &mut td_deps,
            )
        {
            let path = self
                .v_plain_str(&h, "path", &mut td_deps)
                .map_or_else(|| "/".to_string(), |x| x.0);
            let interval = self.v_int(&h, "interval", &mut td_deps);
            let interval = self
                .non_negative(interval, "interval", &h.what.clone())
                .unwrap_or(30);
            let retries = self.v_int(&h, "retries", &mut td_deps);
            let retries = self
                .non_negative(retries, "retries", &h.what.clone())
                .unwrap_or(3);
            let timeout = self.v_int(&h, "timeout", &mut td_deps);
            let timeout = self
                .non_negative(timeout, "timeout", &h.what.clone())
                .unwrap_or(5);
            let g = self.v_int(&h, "grace_period", &mut svc_deps);
            let g = self.non_negative(g, "grace_period", &h.what.clone());
            let mut hm = BTreeMap::from([
                (
                    "command".to_string(),
                    Value::List(vec![
                        Value::str("CMD-SHELL"),
                        Value::String(format!("curl -fsS http://localhost:{port}{path} || exit 1")),
                    ]),
                ),
                ("interval".to_string(), Value::Int(interval)),
                ("retries".to_string(), Value::Int(retries)),
                ("timeout".to_string(), Value::Int(timeout)),
            ]);
            hm.insert(
                "start_period".to_string(),
                g.map_or(Value::Null, Value::Int),
            );
            grace = g.map_or(Value::Null, Value::Int);
            health = Value::Map(hm);
        }

        // Logs.
        let mut retention = 30;
        if f.has("logs")
            && let Some(l) = self.sub(&f, "logs", &["retention_days"], &mut lg_deps)
            && let Some((r, span)) = self.v_int(&l, "retention_days", &mut lg_deps)
        {
            if LOG_RETENTION.contains(&r) {
                retention = r;
            } else {
                let list: Vec<String> = LOG_RETENTION.iter().map(|x| x.to_string()).collect();
                self.err(
                    ErrorCode::InvalidValue,
                    &span,
                    format!("CloudWatch Logs does not offer a retention of {r} days"),
                    "invalid retention",
                )
                .help = Some(format!("allowed: {}", list.join(", ")));
            }
        }

        // Network: the endpoint's own, or the stack-wide default.
        let mut network = None;
        let net_keys = ["subnets", "security_groups", "public_ip"];
        // An empty table (a module's default input) also means "the stack-wide default".
        let empty = f.has("network")
            && {
                let mut scratch = Deps::new();
                matches!(self.value(&f, "network", &mut scratch), Some((Value::Map(m), _)) if m.is_empty())
            };
        let net_fields = if f.has("network") && !(empty && self.network_default.is_some()) {
            self.sub(&f, "network", &net_keys, &mut svc_deps)
        } else if let Some((v, span)) = self.network_default.clone() {
            self.fields(
                0,
                &Src::Val(v, span.clone()),
                &span,
                "[provider.aws] network",
                &net_keys,
                &mut svc_deps,
            )
        } else {
            self.missing(
                &f,
                "network",
                "Fargate tasks use awsvpc networking: set network = { subnets = [...], security_groups = [...] } here or under [provider.aws]",
            );
            None
        };
        if let Some(n) = net_fields {
            let subnets = self.v_str_list(&n, "subnets", &mut svc_deps).map(|x| x.0);
            if subnets.is_none() && !n.has("subnets") {
                self.missing(
                    &n,
                    "subnets",
                    "list the subnet ids: subnets = [\"subnet-...\"]",
                );
            }
            let sgs = self
                .v_str_list(&n, "security_groups", &mut svc_deps)
                .map_or_else(Vec::new, |x| x.0);
            let public_ip = self
                .v_bool(&n, "public_ip", &mut svc_deps)
                .is_some_and(|x| x.0);
            if let Some(subnets) = subnets {
                network = Some(Value::Map(BTreeMap::from([
                    ("subnets".to_string(), Value::List(subnets)),
                    ("security_groups".to_string(), Value::List(sgs)),
                    ("public_ip".to_string(), Value::Bool(public_ip)),
                ])));
            }
        }

        // Deployment.
        let mut deployment = BTreeMap::from([
            ("min_healthy_percent".to_string(), Value::Int(100)),
            ("max_percent".to_string(), Value::Int(200)),
            ("circuit_breaker".to_string(), Value::Bool(true)),
            ("wait".to_string(), Value::Bool(true)),
            ("timeout_seconds".to_string(), Value::Int(900)),
        ]);
        if f.has("deployment") {
            let keys = [
                "min_healthy_percent",
                "max_percent",
                "circuit_breaker",
                "wait",
                "timeout",
            ];
            if let Some(d) = self.sub(&f, "deployment", &keys, &mut svc_deps) {
                for k in ["min_healthy_percent", "max_percent"] {
                    let v = self.v_int(&d, k, &mut svc_deps);
                    if let Some(n) = self.non_negative(v, k, &d.what.clone()) {
                        deployment.insert(k.to_string(), Value::Int(n));
                    }
                }
                for k in ["circuit_breaker", "wait"] {
                    if let Some((x, _)) = self.v_bool(&d, k, &mut svc_deps) {
                        deployment.insert(k.to_string(), Value::Bool(x));
                    }
                }
                if let Some((v, span)) = self.value(&d, "timeout", &mut svc_deps) {
                    let secs = match &v {
                        Value::Int(n) if *n > 0 => Some(*n),
                        Value::String(s) => humantime::parse_duration(s)
                            .ok()
                            .map(|d| d.as_secs() as i64)
                            .filter(|n| *n > 0),
                        _ => None,
                    };
                    match secs {
                        Some(s) => {
                            deployment.insert("timeout_seconds".to_string(), Value::Int(s));
                        }
                        None => {
                            self.err(
                                ErrorCode::InvalidValue,
                                &span,
                                format!("`timeout` in {} must be a duration", d.what),
                                "not a duration",
                            )
                            .help = Some("for example \"15m\", \"90s\" or 600 (seconds)".into());
                        }
                    }
                }
            }
        }

        // Autoscaling.
        let mut scaling = None;
        if f.has("autoscaling")
            && let Some(a) = self.sub(
                &f,
                "autoscaling",
                &["min", "max", "target_cpu"],
                &mut svc_deps,
            )
        {
            let amin = self.v_int(&a, "min", &mut svc_deps);
            let amax = self.v_int(&a, "max", &mut svc_deps);
            for (k, v) in [("min", &amin), ("max", &amax)] {
                if v.is_none() && !a.has(k) {
                    self.missing(&a, k, "autoscaling = { min = 1, max = 4, target_cpu = 60 }");
                }
            }
            let what_a = a.what.clone();
            let min_s = amin.as_ref().map(|x| x.1.clone());
            let max_s = amax.as_ref().map(|x| x.1.clone());
            let mn = self.non_negative(amin, "min", &what_a);
            let mx = self.non_negative(amax, "max", &what_a);
            let target = match self.v_int(&a, "target_cpu", &mut svc_deps) {
                Some((t, span)) if !(1..=100).contains(&t) => {
                    self.err(
                        ErrorCode::Autoscaling,
                        &span,
                        "`target_cpu` must be a percentage between 1 and 100",
                        "out of range",
                    );
                    None
                }
                Some((t, _)) => Some(t),
                None if a.has("target_cpu") => None,
                None => Some(60),
            };
            if let (Some(mn), Some(mx)) = (mn, mx) {
                if mn > mx {
                    if let (Some(ms), Some(xs)) = (min_s, max_s) {
                        self.err(
                            ErrorCode::Autoscaling,
                            &ms,
                            format!("autoscaling min ({mn}) is greater than max ({mx})"),
                            format!("min = {mn}"),
                        )
                        .label(&xs, format!("max = {mx}"))
                        .help = Some("min must be less than or equal to max".into());
                    }
                } else if let Some(t) = target {
                    scaling = Some((mn, mx, t));
                }
            }
        }

        let (Some(cluster), Some(image)) = (cluster, image) else {
            return;
        };
        let Some(network) = network else { return };

        let name = Value::String(self.default_name(b.scope, &b.name));
        let log_name = {
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
        let lg = Address::resource(&prefix, "endpoint", &b.name, "log_group");
        let td = Address::resource(&prefix, "endpoint", &b.name, "task_definition");
        let svc = Address::resource(&prefix, "endpoint", &b.name, "service");
        let sc = Address::resource(&prefix, "endpoint", &b.name, "scaling");
        let ignore = |n: &str| -> Vec<&'static str> {
            match n {
                "replicas" => vec!["desired_count"],
                "image" | "port" | "environment" | "secrets" | "health_check" => vec!["container"],
                "autoscaling" => vec!["min", "max", "target_cpu"],
                "logs" => vec!["retention_days"],
                _ => vec![],
            }
        };
        let meta = Meta {
            lifecycle: &lc,
            ignore: &ignore,
            tags: &tags,
        };
        let mut lg_all = lg_deps.clone();
        lg_all.extend(common_deps.clone());
        self.add_resource(
            lg.clone(),
            ResourceKind::LogGroup,
            Attrs::from([
                ("name".into(), Value::String(log_name.clone())),
                ("retention_days".into(), Value::Int(retention)),
            ]),
            &lg_all,
            &meta,
        );
        let container = BTreeMap::from([
            ("name".to_string(), Value::str(&b.name)),
            ("image".to_string(), image),
            ("port".to_string(), Value::Int(port)),
            ("environment".to_string(), Value::Map(environment)),
            ("secrets".to_string(), Value::Map(secrets)),
            ("health_check".to_string(), health),
            ("log_group".to_string(), Value::String(log_name.clone())),
            ("region".to_string(), Value::String(self.region.clone())),
        ]);
        let mut td_all = td_deps.clone();
        td_all.extend(common_deps.clone());
        td_all
            .entry(lg.clone())
            .or_insert_with(|| b.name_span.clone());
        let compat = if fargate { "FARGATE" } else { "EC2" };
        self.add_resource(
            td.clone(),
            ResourceKind::EcsTaskDefinition,
            Attrs::from([
                ("family".into(), name.clone()),
                ("cpu".into(), Value::Int(cpu_n)),
                ("memory".into(), Value::Int(mem_n)),
                ("gpu".into(), Value::Int(gpu)),
                ("network_mode".into(), Value::str("awsvpc")),
                (
                    "requires_compatibilities".into(),
                    Value::List(vec![Value::str(compat)]),
                ),
                ("execution_role".into(), execution_role),
                ("task_role".into(), task_role),
                ("container".into(), Value::Map(container)),
                ("model".into(), Value::Map(model)),
            ]),
            &td_all,
            &meta,
        );
        let mut svc_all = svc_deps.clone();
        svc_all.extend(common_deps.clone());
        svc_all
            .entry(td.clone())
            .or_insert_with(|| b.name_span.clone());
        self.add_resource(
            svc.clone(),
            ResourceKind::EcsService,
            Attrs::from([
                ("name".into(), name.clone()),
                ("cluster".into(), cluster.clone()),
                ("launch_type".into(), Value::str(compat)),
                ("capacity_provider_strategy".into(), Value::Null),
                ("task_definition".into(), Self::reference(&td, "arn")),
                (
                    "desired_count".into(),
                    if scaling.is_some() {
                        Value::Null
                    } else {
                        Value::Int(replicas)
                    },
                ),
                ("network".into(), network),
                ("deployment".into(), Value::Map(deployment)),
                ("health_check_grace_period".into(), grace),
            ]),
            &svc_all,
            &meta,
        );
        if let Some((mn, mx, t)) = scaling {
            let mut sc_deps = common_deps.clone();
            sc_deps.insert(svc.clone(), b.name_span.clone());
            let resource_id = concat(&[
                Value::str("service/"),
                cluster.clone(),
                Value::str("/"),
                name.clone(),
            ]);
            let policy = concat(&[name.clone(), Value::str("-cpu")]);
            self.add_resource(
                sc.clone(),
                ResourceKind::ScalingTarget,
                Attrs::from([
                    ("resource_id".into(), resource_id),
                    ("cluster".into(), cluster),
                    ("service".into(), name.clone()),
                    ("min".into(), Value::Int(mn)),
                    ("max".into(), Value::Int(mx)),
                    ("target_cpu".into(), Value::Int(t)),
                    ("policy_name".into(), policy),
                ]),
                &sc_deps,
                &meta,
            );
        }
        self.export(
            id,
            &svc,
            vec![
                ("service_arn", Self::reference(&svc, "arn")),
                ("service_name", name),
                ("task_definition_arn", Self::reference(&td, "arn")),
                ("log_group", Value::String(log_name)),
                ("name", Value::str(&b.name)),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fargate_table() {
        assert_eq!(fargate_memory(256), Some(vec![512, 1024, 2048]));
        assert_eq!(fargate_memory(1024).map(|v| v.len()), Some(7));
        assert!(fargate_memory(8192).is_some_and(|v| v.contains(&61440) && !v.contains(&18432)));
        assert_eq!(fargate_memory(300), None);
    }
}
