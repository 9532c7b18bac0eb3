//! Lowering `[endpoint.*]` blocks: sizing, model, health check, logs, network, deployment,
//! autoscaling and alarms, producing a log group, a task definition, a service, (with
//! autoscaling) a scaling target and (with alarms) CloudWatch alarms.

mod alarms;
mod deployment;
mod resources;
mod roles;
mod route;
mod scaling;

pub(in crate::spec) use route::RouteInfo;

use super::common::Meta;
use crate::resource::Key;
use crate::resource::rules::{autoscaling as scaling_rules, ecs as ecs_rules};
use crate::resource::schema::scaling_target::Attr as Scaling;
use crate::resource::schema::{
    self, cloudwatch_alarm, ecs_service as svc, ecs_task_definition as td, log_group, s3_object,
};
use crate::resource::{Attrs, Value};
use crate::spec::diag::{ErrorCode, Span};
use crate::spec::fields::{Fields, Src};
use crate::spec::load::{BlockId, BlockKind, Loader, ScopeId};
use crate::spec::resolve::Deps;

// Spec keys of an endpoint (and of its sub-tables) are spelt like the attribute each sets;
// `ignore_changes` maps a key to the attributes it sets.
const ALARMS: &str = svc::Attr::Alarms.as_str();
const CONTAINER: &str = td::Attr::Container.as_str();
const CPU: &str = td::Attr::Cpu.as_str();
const DEPLOYMENT: &str = svc::Attr::Deployment.as_str();
const DEPLOY_CIRCUIT_BREAKER: &str = svc::Deployment::CircuitBreaker.as_str();
const DEPLOY_MAX_PERCENT: &str = svc::Deployment::MaxPercent.as_str();
const DEPLOY_MIN_HEALTHY_PERCENT: &str = svc::Deployment::MinHealthyPercent.as_str();
const DEPLOY_WAIT: &str = svc::Deployment::Wait.as_str();
const DEPLOY_STRATEGY: &str = svc::Deployment::Strategy.as_str();
const DEPLOY_CANARY_PERCENT: &str = svc::Deployment::CanaryPercent.as_str();
const DEPLOY_STEP_PERCENT: &str = svc::Deployment::StepPercent.as_str();
const DESIRED_COUNT: &str = svc::Attr::DesiredCount.as_str();
const ENVIRONMENT: &str = td::Container::Environment.as_str();
const EXECUTION_ROLE: &str = td::Attr::ExecutionRole.as_str();
const GPU: &str = td::Attr::Gpu.as_str();
const HEALTH_CHECK: &str = td::Container::HealthCheck.as_str();
const HEALTH_INTERVAL: &str = td::HealthCheck::Interval.as_str();
const HEALTH_PATH: &str = td::HealthCheck::Path.as_str();
const HEALTH_RETRIES: &str = td::HealthCheck::Retries.as_str();
const HEALTH_TIMEOUT: &str = td::HealthCheck::Timeout.as_str();
const IMAGE: &str = td::Container::Image.as_str();
const MEMORY: &str = td::Attr::Memory.as_str();
const MODEL: &str = td::Attr::Model.as_str();
const MODEL_FIELD_ARTIFACT: &str = td::Model::Artifact.as_str();
const MODEL_FIELD_NAME: &str = td::Model::Name.as_str();
const MODEL_FIELD_SHA256: &str = td::Model::Sha256.as_str();
const MODEL_FIELD_VERSION: &str = td::Model::Version.as_str();
const NETWORK: &str = svc::Attr::Network.as_str();
const NET_PUBLIC_IP: &str = svc::Network::PublicIp.as_str();
const NET_SECURITY_GROUPS: &str = svc::Network::SecurityGroups.as_str();
const NET_SUBNETS: &str = svc::Network::Subnets.as_str();
const PORT: &str = td::Container::Port.as_str();
const RETENTION_DAYS: &str = log_group::Attr::RetentionDays.as_str();
const SCALING_MAX: &str = Scaling::Max.as_str();
const SCALING_MIN: &str = Scaling::Min.as_str();
const SCALING_TARGET_CPU: &str = Scaling::TargetCpu.as_str();
const SCALING_TARGET_MEMORY: &str = Scaling::TargetMemory.as_str();
const SCALING_TARGET_REQUESTS: &str = Scaling::TargetRequests.as_str();
const SECRETS: &str = td::Container::Secrets.as_str();
const TASK_ROLE: &str = td::Attr::TaskRole.as_str();
const TASK_POLICY: &str = "task_policy";

const ENDPOINT_KEYS: &[&str] = &[
    "compute",
    MODEL,
    IMAGE,
    CPU,
    MEMORY,
    GPU,
    "replicas",
    PORT,
    ENVIRONMENT,
    SECRETS,
    HEALTH_CHECK,
    EXECUTION_ROLE,
    TASK_ROLE,
    TASK_POLICY,
    NETWORK,
    DEPLOYMENT,
    "autoscaling",
    ALARMS,
    "logs",
    "route",
    schema::TAGS,
    "depends_on",
    "lifecycle",
];
pub use crate::resource::rules::ecs::fargate_memory;

const LOG_RETENTION: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Dependencies of each resource an endpoint produces, collected as its keys are read.
#[derive(Default)]
struct EndpointDeps {
    /// The task definition's (image, sizing, model, health check, ...).
    td: Deps,
    /// The service's (compute, replicas, network, deployment, autoscaling).
    svc: Deps,
    /// The log group's (logs).
    lg: Deps,
    /// The alarms' (compute, alarms).
    alarm: Deps,
    /// Every resource's (tags, depends_on, lifecycle).
    common: Deps,
    /// The task role's (task_policy).
    role: Deps,
}

/// The container settings read from an endpoint block.
struct Container {
    image: Option<Value>,
    port: i64,
    replicas: i64,
    environment: Attrs,
    secrets: Attrs,
    /// The role ARN given in the spec; null when pedestal makes the role.
    execution_role: Value,
    /// The role ARN given in the spec; null when pedestal makes the role (if it needs one).
    task_role: Value,
    /// `task_policy` statements, as IAM policy statements.
    task_policy: Vec<Value>,
}

/// `cpu`, `memory` and `gpu` as written (a negative `gpu` reported and read as 0).
struct SizeKeys {
    cpu: Option<(i64, Span)>,
    memory: Option<(i64, Span)>,
    gpu: i64,
    gpu_span: Option<Span>,
}

/// Task size: cpu units, memory (MiB), GPUs, and whether it runs on Fargate (no GPU).
struct Sizing {
    cpu: i64,
    memory: i64,
    gpu: i64,
    fargate: bool,
}

/// The `health_check` container setting, the service's grace period and what a routed
/// endpoint's target group probes.
struct Health {
    check: Value,
    grace: Value,
    lb: route::LbHealth,
}

/// Everything an endpoint's resources are built from.
struct Endpoint {
    cluster: Value,
    container: Container,
    image: Value,
    sizing: Sizing,
    model: Attrs,
    /// `(bucket, key)` of the artifact objects the model is read from.
    artifacts: Vec<(Value, Value)>,
    health: Health,
    retention: i64,
    network: Value,
    deployment: Attrs,
    scaling: Option<scaling::ScalingSpec>,
    alarms: Option<alarms::Alarms>,
    /// The route and its written priority.
    route: Option<(route::Route, Option<(i64, Span)>)>,
    /// The role ECS shifts traffic with (blue/green, canary and linear releases).
    role: Option<Value>,
}

impl Loader<'_> {
    /// Lowers one endpoint: reads each concern in turn, then produces its resources when
    /// nothing essential is missing.
    pub(in crate::spec::lower) fn lower_endpoint(&mut self, id: BlockId) {
        let b = self.block(id).clone();
        let mut deps = EndpointDeps::default();
        let Some(f) = self.open(id, &b.node, ENDPOINT_KEYS, &mut deps.td) else {
            return;
        };
        let (tags, lc) = self.common(id, &f, ENDPOINT_KEYS, &mut deps.common);
        let mut cluster_deps = Deps::new();
        let (cluster, providers) = self.endpoint_compute(b.scope, &b.name, &f, &mut cluster_deps);
        deps.svc.extend(cluster_deps.clone());
        deps.alarm.extend(cluster_deps);
        let image = self.v_str(&f, IMAGE, &mut deps.td).map(|x| x.0);
        if image.is_none() && !f.has(IMAGE) {
            self.missing(
                &f,
                IMAGE,
                "set the container image: image = \"<registry>/<repo>:<tag>\"",
            );
        }
        let sizes = self.endpoint_size_keys(&f, &b.addr, &mut deps.td);
        let mut container = self.endpoint_container(image, &f, &b.addr, &mut deps);
        let sizing = self.endpoint_sizing(sizes, &b.addr, &b.name_span, &providers);
        let (model, artifacts) = self.endpoint_model(&f, &b.name, &mut deps.td);
        // The model's fields join the environment in one pass (over any the spec sets).
        let model_env = td::Model::ALL.iter().filter_map(|&k| {
            let v = model
                .get(k.as_str())
                .filter(|v| !matches!(v, Value::Null))?;
            Some((Key::from(k.env_var()), v.clone()))
        });
        let environment = std::mem::take(&mut container.environment);
        container.environment = environment.into_iter().chain(model_env).collect();
        self.refuse_secret_environment(&f, &b.addr, &mut container.environment);
        let health = self.endpoint_health_check(&f, container.port, &mut deps);
        let retention = self.endpoint_logs(&f, &mut deps.lg);
        let network = self.endpoint_network(&f, &mut deps.svc);
        let (deployment, strategy, role) = self.endpoint_deployment(&f, &mut deps.svc);
        let scaling = self.endpoint_autoscaling(&f, &mut deps.svc);
        let alarms = self.endpoint_alarms(&f, (b.scope, &b.name), &mut deps.alarm);
        let route = self.endpoint_route(&f, (b.scope, &b.name), &mut deps.svc);
        let routed = route.is_some() || (f.has("route") && self.has_errors());
        self.check_strategy_needs(&b.addr, strategy.as_ref(), routed, role.as_ref());
        if !routed {
            self.check_alarms_need_route(&b.addr, alarms.as_ref());
        }
        self.check_request_scaling(&b.addr, scaling.as_ref(), routed, strategy.as_ref());
        let role = role.filter(|_| {
            strategy
                .as_ref()
                .is_some_and(|(s, _)| s != svc::STRATEGY_ROLLING)
        });

        let (Some(cluster), Some(image)) = (cluster, container.image.clone()) else {
            return;
        };
        let Some(network) = network else { return };
        let e = Endpoint {
            cluster,
            container,
            image,
            sizing,
            model,
            artifacts,
            health,
            retention,
            network,
            deployment,
            scaling,
            alarms,
            route,
            role,
        };
        self.endpoint_resources(
            id,
            e,
            &mut deps,
            &Meta {
                lifecycle: &lc,
                ignore: &ignore_mapping,
                tags: &tags,
            },
        );
    }

    /// `compute`: a compute block of this scope by name (with its capacity providers, for GPU
    /// placement), or a cluster name expression.
    fn endpoint_compute(
        &mut self,
        scope: ScopeId,
        name: &str,
        f: &Fields<'_>,
        svc_deps: &mut Deps,
    ) -> (Option<Value>, Option<(Vec<String>, Span)>) {
        let mut providers: Option<(Vec<String>, Span)> = None;
        let cluster = match f.src("compute").cloned() {
            None => {
                self.missing(
                    f,
                    "compute",
                    "name the compute block to run on: compute = \"serving\"",
                );
                None
            }
            Some(src) => match src.literal_str() {
                Some(compute) => {
                    let key = (BlockKind::Compute, compute.to_string());
                    match self.scope(scope).blocks.get(&key).copied() {
                        Some(cid) => {
                            if let Some(p) = self.lowered().compute_providers.get(&cid) {
                                providers = Some((p.clone(), src.span().clone()));
                            }
                            self.lowered_mut()
                                .exports
                                .get(&cid)
                                .and_then(|e| e.get("name"))
                                .map(|e| {
                                    for d in e.deps.iter() {
                                        svc_deps
                                            .entry(d.clone())
                                            .or_insert_with(|| src.span().clone());
                                    }
                                    e.value.clone()
                                })
                        }
                        None => {
                            self.unknown_named_block(
                                scope,
                                BlockKind::Compute,
                                ("endpoint", name),
                                compute,
                                src.span(),
                            );
                            None
                        }
                    }
                }
                None => self.v_str(f, "compute", svc_deps).map(|x| x.0),
            },
        };
        (cluster, providers)
    }

    /// `port`, `replicas`, `environment`, `secrets` and the roles (read after `image`, `cpu`,
    /// `memory` and `gpu`: the first key naming a resource gives its dependency's span).
    fn endpoint_container(
        &mut self,
        image: Option<Value>,
        f: &Fields<'_>,
        what: &str,
        deps: &mut EndpointDeps,
    ) -> Container {
        let port = match self.v_int(f, PORT, &mut deps.td) {
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
        let replicas_v = self.v_int(f, "replicas", &mut deps.svc);
        let replicas = self
            .in_range(replicas_v, &ecs_rules::DESIRED_COUNT, "replicas", what)
            .unwrap_or(1);
        let environment = self
            .v_str_map(f, ENVIRONMENT, &mut deps.td)
            .map(|x| x.0)
            .unwrap_or_default();
        let secrets = self
            .v_str_map(f, SECRETS, &mut deps.td)
            .map(|x| x.0)
            .unwrap_or_default();
        // An empty string (a module's default) means "pedestal makes the role".
        let role = |v: Option<(Value, crate::spec::diag::Span)>| match v {
            Some((Value::String(s), _)) if s.is_empty() => Value::Null,
            Some((v, _)) => v,
            None => Value::Null,
        };
        let execution_role = role(self.v_str(f, EXECUTION_ROLE, &mut deps.td));
        let task_role = role(self.v_str(f, TASK_ROLE, &mut deps.td));
        let task_policy = self.endpoint_task_policy(f, what, &task_role, &mut deps.role);
        Container {
            image,
            port,
            replicas,
            environment,
            secrets,
            execution_role,
            task_role,
            task_policy,
        }
    }

    /// Reports (and drops) every sensitive value of the container's environment, its own or a
    /// `MODEL_*` one: the task definition would hold it in clear.
    fn refuse_secret_environment(&mut self, f: &Fields<'_>, what: &str, environment: &mut Attrs) {
        let bad: Vec<String> = environment
            .iter()
            .filter(|(_, v)| v.is_sensitive())
            .map(|(k, _)| k.to_string())
            .collect();
        for k in bad {
            environment.remove(&k);
            let model = td::Model::ALL.iter().find(|m| m.env_var() == k);
            let span = match model {
                Some(m) => super::common::entry_span(f, MODEL, m.as_str()),
                None => super::common::entry_span(f, ENVIRONMENT, &k),
            };
            let Some(span) = span else { continue };
            let what_key = match model {
                Some(m) => format!("`{MODEL}.{m}` ({k})"),
                None => format!("`{ENVIRONMENT}.{k}`"),
            };
            self.err(
                ErrorCode::Sensitive,
                &span,
                format!("{what_key} in {what} holds a sensitive value"),
                "would be stored in clear in the task definition",
            )
            .help = Some(format!(
                "pass it through `secrets` instead: secrets = {{ {k} = \"${{var.…}}\" }} stores it as an SSM SecureString the container reads at start"
            ));
        }
    }

    /// Reads `cpu`, `memory` and `gpu` as written.
    fn endpoint_size_keys(&mut self, f: &Fields<'_>, what: &str, td_deps: &mut Deps) -> SizeKeys {
        let cpu = self.v_int(f, CPU, td_deps);
        let memory = self.v_int(f, MEMORY, td_deps);
        let gpu_v = self.v_int(f, GPU, td_deps);
        let gpu_span = gpu_v.as_ref().map(|x| x.1.clone());
        let gpu = self.non_negative(gpu_v, GPU, what).unwrap_or(0);
        SizeKeys {
            cpu,
            memory,
            gpu,
            gpu_span,
        }
    }

    /// Task size from `cpu`, `memory` and `gpu`: Fargate sizes checked when there is no GPU,
    /// GPU placement checked against the compute's capacity providers.
    fn endpoint_sizing(
        &mut self,
        sizes: SizeKeys,
        what: &str,
        name_span: &Span,
        providers: &Option<(Vec<String>, Span)>,
    ) -> Sizing {
        let SizeKeys {
            cpu,
            memory,
            gpu,
            gpu_span,
        } = sizes;
        let fargate = gpu == 0;
        if gpu > 0
            && let (Some((p, cspan)), Some(gspan)) = (providers, &gpu_span)
            && p.iter().all(|x| x.starts_with("FARGATE"))
        {
            self.err(
                ErrorCode::GpuOnFargate,
                gspan,
                format!("{what} asks for {gpu} GPU(s), but its compute only has Fargate capacity"),
                "Fargate cannot run GPU tasks",
            )
            .label(cspan, "this compute uses only FARGATE capacity providers")
            .help = Some(
                "add an EC2 capacity provider to the compute's capacity_providers, or set gpu = 0"
                    .into(),
            );
        }
        let cpu_n = cpu.as_ref().map_or(256, |x| x.0);
        let mem_n = memory.as_ref().map_or(512, |x| x.0);
        if fargate {
            self.check_fargate_size((cpu_n, cpu.as_ref()), (mem_n, memory.as_ref()), name_span);
        } else {
            for (v, key) in [(&cpu, CPU), (&memory, MEMORY)] {
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
        Sizing {
            cpu: cpu_n,
            memory: mem_n,
            gpu,
            fargate,
        }
    }

    /// Reports a cpu/memory pair Fargate does not offer (spans: the keys when written, else
    /// the block name).
    fn check_fargate_size(
        &mut self,
        (cpu_n, cpu): (i64, Option<&(i64, Span)>),
        (mem_n, memory): (i64, Option<&(i64, Span)>),
        name_span: &Span,
    ) {
        match fargate_memory(cpu_n) {
            None => {
                let span = cpu
                    .map(|x| x.1.clone())
                    .unwrap_or_else(|| name_span.clone());
                self.err(
                    ErrorCode::FargateSize,
                    &span,
                    format!("{cpu_n} is not a valid Fargate cpu value"),
                    "invalid cpu",
                )
                .help = Some("Fargate cpu units: 256, 512, 1024, 2048, 4096, 8192, 16384".into());
            }
            Some(allowed) if !allowed.contains(&mem_n) => {
                let span = memory
                    .map(|x| x.1.clone())
                    .unwrap_or_else(|| name_span.clone());
                let list: Vec<String> = allowed.iter().map(|m| m.to_string()).collect();
                let e = self.err(
                    ErrorCode::FargateSize,
                    &span,
                    format!("Fargate does not offer {mem_n} MiB of memory with cpu = {cpu_n}"),
                    "invalid memory for this cpu",
                );
                if let Some((_, cs)) = cpu {
                    e.label(cs, format!("cpu = {cpu_n}"));
                }
                e.help = Some(format!(
                    "with cpu = {cpu_n}, memory must be one of: {}",
                    list.join(", ")
                ));
            }
            Some(_) => {}
        }
    }

    /// `model = { name, version, artifact, sha256 }`; `sha256` defaults to that of the one
    /// artifact object the model refers to.
    fn endpoint_model(
        &mut self,
        f: &Fields<'_>,
        block_name: &str,
        td_deps: &mut Deps,
    ) -> (Attrs, Vec<(Value, Value)>) {
        let model = Attrs::new();
        let mut model_td_deps = Deps::new();
        if !f.has(MODEL) {
            self.missing(f, MODEL, "describe the release: model = { name = \"...\", version = \"...\", artifact = \"${artifact.x.uri}\" }");
            return (model, Vec::new());
        }
        let Some(m) = self.sub(
            f,
            MODEL,
            &[
                MODEL_FIELD_NAME,
                MODEL_FIELD_VERSION,
                MODEL_FIELD_ARTIFACT,
                MODEL_FIELD_SHA256,
            ],
            td_deps,
        ) else {
            return (model, Vec::new());
        };
        let name = self
            .v_str(&m, MODEL_FIELD_NAME, td_deps)
            .map_or_else(|| Value::str(block_name), |x| x.0);
        let version = self.v_str(&m, MODEL_FIELD_VERSION, td_deps).map(|x| x.0);
        if version.is_none() && !m.has(MODEL_FIELD_VERSION) {
            self.missing(
                &m,
                MODEL_FIELD_VERSION,
                "every endpoint serves a model release: version = \"1.2.0\"",
            );
        }
        // An empty string (a module's default) means no artifact.
        let artifact = self
            .v_str(&m, MODEL_FIELD_ARTIFACT, &mut model_td_deps)
            .map_or(Value::Null, |x| x.0);
        let artifact = if artifact.as_str() == Some("") {
            Value::Null
        } else {
            artifact
        };
        let sha = match self.v_str(&m, MODEL_FIELD_SHA256, td_deps) {
            Some((v, _)) => v,
            None => {
                let objects: Vec<&Attrs> = model_td_deps
                    .keys()
                    .filter_map(|a| self.lowered().objects.get(a))
                    .collect();
                match objects.as_slice() {
                    [one] => one
                        .get(s3_object::Attr::Sha256.as_str())
                        .cloned()
                        .unwrap_or(Value::Null),
                    _ => Value::Null,
                }
            }
        };
        let artifacts = self.artifact_locations(&model_td_deps, &artifact);
        td_deps.extend(model_td_deps);
        // In name order: nothing to sort.
        let model = Attrs::from([
            (td::Model::Artifact.into(), artifact),
            (td::Model::Name.into(), name),
            (td::Model::Sha256.into(), sha),
            (td::Model::Version.into(), version.unwrap_or(Value::Null)),
        ]);
        (model, artifacts)
    }

    /// `health_check = { path, interval, retries, timeout, grace_period }`: a curl command on
    /// the container's port; the grace period goes to the service.
    fn endpoint_health_check(
        &mut self,
        f: &Fields<'_>,
        port: i64,
        deps: &mut EndpointDeps,
    ) -> Health {
        let mut health = Health {
            check: Value::Null,
            grace: Value::Null,
            lb: route::LbHealth {
                path: td::DEFAULT_HEALTH_PATH.to_string(),
                interval: td::DEFAULT_HEALTH_INTERVAL,
                timeout: td::DEFAULT_HEALTH_TIMEOUT,
                retries: td::DEFAULT_HEALTH_RETRIES,
            },
        };
        if !f.has(HEALTH_CHECK) {
            return health;
        }
        let Some(h) = self.sub(
            f,
            HEALTH_CHECK,
            &[
                HEALTH_PATH,
                HEALTH_INTERVAL,
                HEALTH_RETRIES,
                HEALTH_TIMEOUT,
                "grace_period",
            ],
            &mut deps.td,
        ) else {
            return health;
        };
        let td_deps = &mut deps.td;
        let what = h.what.clone();
        let path = match self.v_plain_str(&h, HEALTH_PATH, td_deps) {
            Some((p, span)) => {
                if let Some(problem) = ecs_rules::health_path_problem(&p) {
                    self.err(
                        ErrorCode::InvalidValue,
                        &span,
                        format!("`{HEALTH_PATH}` in {what} is not a URL path"),
                        "not a URL path",
                    )
                    .help = Some(format!(
                        "{problem}; the probe runs `curl http://localhost:<port><path>` without a shell ({})",
                        ecs_rules::HEALTH_CHECK_SOURCE
                    ));
                }
                p
            }
            None => td::DEFAULT_HEALTH_PATH.to_string(),
        };
        let interval = self.v_int(&h, HEALTH_INTERVAL, td_deps);
        let interval = self
            .in_range(
                interval,
                &ecs_rules::HEALTH_INTERVAL,
                HEALTH_INTERVAL,
                &what,
            )
            .unwrap_or(td::DEFAULT_HEALTH_INTERVAL);
        let retries = self.v_int(&h, HEALTH_RETRIES, td_deps);
        let retries = self
            .in_range(retries, &ecs_rules::HEALTH_RETRIES, HEALTH_RETRIES, &what)
            .unwrap_or(td::DEFAULT_HEALTH_RETRIES);
        let timeout = self.v_int(&h, HEALTH_TIMEOUT, td_deps);
        let timeout = self
            .in_range(timeout, &ecs_rules::HEALTH_TIMEOUT, HEALTH_TIMEOUT, &what)
            .unwrap_or(td::DEFAULT_HEALTH_TIMEOUT);
        // The grace period is also the container health check's startPeriod.
        let g = self.v_int(&h, "grace_period", &mut deps.svc);
        let g = self.in_range(g, &ecs_rules::HEALTH_START_PERIOD, "grace_period", &what);
        let command: Vec<Value> = ecs_rules::health_command(port, &path)
            .into_iter()
            .map(Value::String)
            .collect();
        let entries = td::HealthCheck::sorted().iter().filter_map(|&k| {
            let v = match k {
                td::HealthCheck::Command => Value::List(command.clone()),
                td::HealthCheck::Interval => Value::Int(interval),
                td::HealthCheck::Retries => Value::Int(retries),
                td::HealthCheck::Timeout => Value::Int(timeout),
                td::HealthCheck::StartPeriod => g.map_or(Value::Null, Value::Int),
                // Rendered into the command.
                td::HealthCheck::Path => return None,
            };
            Some((k.into(), v))
        });
        health.grace = g.map_or(Value::Null, Value::Int);
        // Every key but the path (rendered into the command), in name order.
        let room = td::HealthCheck::ALL.len() - 1;
        health.check = Value::Map(crate::resource::schema::collect_attrs(room, entries));
        health.lb = route::LbHealth {
            path,
            interval,
            timeout,
            retries,
        };
        health
    }

    /// `logs = { retention_days }`: one of the retentions CloudWatch Logs offers (30 by
    /// default).
    fn endpoint_logs(&mut self, f: &Fields<'_>, lg_deps: &mut Deps) -> i64 {
        let mut retention = log_group::DEFAULT_RETENTION_DAYS;
        if f.has("logs")
            && let Some(l) = self.sub(f, "logs", &[RETENTION_DAYS], lg_deps)
            && let Some((r, span)) = self.v_int(&l, RETENTION_DAYS, lg_deps)
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
        retention
    }

    /// `network = { subnets, security_groups, public_ip }`: the endpoint's own, or the
    /// stack-wide default of `[provider.aws]`.
    fn endpoint_network(&mut self, f: &Fields<'_>, svc_deps: &mut Deps) -> Option<Value> {
        let net_keys = [NET_SUBNETS, NET_SECURITY_GROUPS, NET_PUBLIC_IP];
        // An empty table (a module's default input) also means "the stack-wide default".
        let empty = f.has(NETWORK) && {
            let mut scratch = Deps::new();
            matches!(self.value(f, NETWORK, &mut scratch), Some((Value::Map(m), _)) if m.is_empty())
        };
        let net_fields = if f.has(NETWORK) && !(empty && self.network_default().is_some()) {
            self.sub(f, NETWORK, &net_keys, svc_deps)
        } else if let Some((v, span)) = self.network_default().cloned() {
            self.fields(
                ScopeId::ROOT,
                &Src::Val(v, span.clone()),
                &span,
                "[provider.aws] network",
                &net_keys,
                svc_deps,
            )
        } else {
            self.missing(
                f,
                NETWORK,
                "Fargate tasks use awsvpc networking: set network = { subnets = [...], security_groups = [...] } here or under [provider.aws]",
            );
            None
        };
        let n = net_fields?;
        let subnets = self.v_str_list(&n, NET_SUBNETS, svc_deps).map(|x| x.0);
        if subnets.is_none() && !n.has(NET_SUBNETS) {
            self.missing(
                &n,
                NET_SUBNETS,
                "list the subnet ids: subnets = [\"subnet-...\"]",
            );
        }
        let sgs = self
            .v_str_list(&n, NET_SECURITY_GROUPS, svc_deps)
            .map_or_else(Vec::new, |x| x.0);
        let public_ip = self
            .v_bool(&n, NET_PUBLIC_IP, svc_deps)
            .is_some_and(|x| x.0);
        let subnets = subnets?;
        // In name order: nothing to sort.
        Some(Value::Map(Attrs::from([
            (svc::Network::PublicIp.into(), Value::Bool(public_ip)),
            (svc::Network::SecurityGroups.into(), Value::List(sgs)),
            (svc::Network::Subnets.into(), Value::List(subnets)),
        ])))
    }

    /// Reports a negative count; `None` then.
    pub(super) fn non_negative(
        &mut self,
        v: Option<(i64, Span)>,
        key: &str,
        what: &str,
    ) -> Option<i64> {
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
}

/// Maps an endpoint key named in `ignore_changes` to the resource attributes it sets.
fn ignore_mapping(n: &str) -> Vec<&'static str> {
    match n {
        "replicas" => vec![DESIRED_COUNT],
        IMAGE | PORT | ENVIRONMENT | SECRETS | HEALTH_CHECK => {
            vec![CONTAINER]
        }
        "autoscaling" => vec![
            SCALING_MIN,
            SCALING_MAX,
            SCALING_TARGET_CPU,
            SCALING_TARGET_MEMORY,
            SCALING_TARGET_REQUESTS,
            Scaling::RequestLabel.as_str(),
        ],
        "logs" => vec![RETENTION_DAYS],
        ALARMS => vec![
            ALARMS,
            cloudwatch_alarm::Attr::Threshold.as_str(),
            cloudwatch_alarm::Attr::AlarmActions.as_str(),
        ],
        _ => vec![],
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
