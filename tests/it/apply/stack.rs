//! Hand-made desired resources for the end-to-end tests (what spec lowering produces for an
//! endpoint stack), planned by pedestal's own planner, so the applier and the AWS provider can
//! be proven against moto through the library API.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use pedestal::addr::Address;
use pedestal::plan::{Action, Plan, PlanMode, PlanOptions};
use pedestal::resource::{Attrs, Lifecycle, Ref, Resource, ResourceKind, TemplatePart, Value};
use pedestal::spec::{Backend, Config, ProviderConfig};
use pedestal::state::State;

#[derive(Clone, Debug)]
pub struct Desired {
    pub address: Address,
    pub kind: ResourceKind,
    pub attrs: Attrs,
    pub deps: BTreeSet<Address>,
}

pub fn s(v: &str) -> Value {
    Value::str(v)
}

pub fn list(v: &[&str]) -> Value {
    Value::List(v.iter().map(|x| Value::str(*x)).collect())
}

pub fn map(kv: &[(&str, Value)]) -> Value {
    Value::Map(
        kv.iter()
            .map(|(k, v)| (pedestal::resource::Key::intern(k), v.clone()))
            .collect(),
    )
}

pub fn r(addr: &str, attr: &str) -> Value {
    Value::Ref(Box::new(Ref {
        address: Address::new(addr),
        attr: attr.into(),
    }))
}

/// The names of one test stack.
pub struct Names {
    pub stack: String,
    pub bucket: String,
    pub cluster: String,
    pub log_group: String,
    pub family: String,
}

impl Names {
    pub fn new(stack: &str) -> Names {
        Names {
            stack: stack.to_string(),
            bucket: format!("{stack}-models"),
            cluster: format!("{stack}-serving"),
            log_group: format!("/pedestal/{stack}/fraud"),
            family: format!("{stack}-fraud"),
        }
    }
}

fn tags(stack: &str, addr: &str) -> Value {
    map(&[
        ("team", s("risk")),
        ("pedestal:stack", s(stack)),
        ("pedestal:env", s("dev")),
        ("pedestal:address", s(addr)),
    ])
}

fn res(
    stack: &str,
    addr: &str,
    kind: ResourceKind,
    attrs: &[(&str, Value)],
    deps: &[&str],
) -> Desired {
    let mut a: Attrs = attrs
        .iter()
        .map(|(k, v)| (pedestal::resource::Key::intern(k), v.clone()))
        .collect();
    if kind.taggable() {
        a.insert("tags".into(), tags(stack, addr));
    }
    Desired {
        address: Address::new(addr),
        kind,
        attrs: a,
        deps: deps.iter().map(|d| Address::new(*d)).collect(),
    }
}

pub struct EndpointOpts<'a> {
    pub version: &'a str,
    pub wait: bool,
    pub subnets: Vec<String>,
    pub security_group: String,
    pub force_destroy: bool,
}

/// A bucket, an artifact, a cluster, and an endpoint (log group, task definition, service,
/// scaling), as `examples/fraud-detection` lowers.
pub fn endpoint_stack(n: &Names, dir: &Path, o: &EndpointOpts) -> Vec<Desired> {
    let model = dir.join("fraud.onnx");
    let content = format!("model weights for {}", o.version);
    std::fs::write(&model, &content).expect("writing the artifact");
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(content.as_bytes()))
    };
    let key = format!("fraud_model/sha256-{sha}/fraud.onnx");
    let st = n.stack.as_str();
    let subnets: Vec<&str> = o.subnets.iter().map(String::as_str).collect();
    vec![
        res(
            st,
            "storage.models.bucket",
            ResourceKind::S3Bucket,
            &[
                ("bucket", s(&n.bucket)),
                ("versioning", Value::Bool(true)),
                ("encryption", s("AES256")),
                ("public_access_block", Value::Bool(true)),
                (
                    "lifecycle",
                    Value::List(vec![
                        map(&[("noncurrent_days", Value::Int(30))]),
                        map(&[("prefix", s("tmp/")), ("expire_days", Value::Int(7))]),
                    ]),
                ),
                ("force_destroy", Value::Bool(o.force_destroy)),
            ],
            &[],
        ),
        res(
            st,
            "artifact.fraud_model.object",
            ResourceKind::S3Object,
            &[
                ("bucket", r("storage.models.bucket", "bucket")),
                ("key", s(&key)),
                ("source", s(&model.display().to_string())),
                ("sha256", s(&sha)),
                ("size", Value::Int(content.len() as i64)),
            ],
            &["storage.models.bucket"],
        ),
        res(
            st,
            "compute.serving.cluster",
            ResourceKind::EcsCluster,
            &[
                ("name", s(&n.cluster)),
                ("container_insights", Value::Bool(true)),
                ("capacity_providers", list(&["FARGATE", "FARGATE_SPOT"])),
            ],
            &[],
        ),
        res(
            st,
            "endpoint.fraud.log_group",
            ResourceKind::LogGroup,
            &[
                ("name", s(&n.log_group)),
                ("retention_days", Value::Int(30)),
            ],
            &[],
        ),
        res(
            st,
            "endpoint.fraud.task_definition",
            ResourceKind::EcsTaskDefinition,
            &[
                ("family", s(&n.family)),
                ("cpu", Value::Int(1024)),
                ("memory", Value::Int(2048)),
                ("gpu", Value::Int(0)),
                ("network_mode", s("awsvpc")),
                ("requires_compatibilities", list(&["FARGATE"])),
                (
                    "execution_role",
                    s("arn:aws:iam::123456789012:role/ecsTaskExecutionRole"),
                ),
                (
                    "container",
                    map(&[
                        ("name", s("fraud")),
                        (
                            "image",
                            s("123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud-serve:2.4.1"),
                        ),
                        ("port", Value::Int(8080)),
                        ("environment", map(&[("LOG_LEVEL", s("info"))])),
                        (
                            "secrets",
                            map(&[(
                                "API_TOKEN",
                                s(
                                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:fraud-token",
                                ),
                            )]),
                        ),
                        (
                            "health_check",
                            map(&[
                                ("path", s("/healthz")),
                                ("interval", Value::Int(10)),
                                ("retries", Value::Int(3)),
                                ("grace_period", Value::Int(60)),
                            ]),
                        ),
                        ("log_group", r("endpoint.fraud.log_group", "name")),
                        ("region", s("us-east-1")),
                    ]),
                ),
                (
                    "model",
                    map(&[
                        ("name", s("fraud")),
                        ("version", s(o.version)),
                        (
                            "artifact",
                            Value::Template(vec![
                                TemplatePart::Lit(format!("s3://{}/", n.bucket)),
                                TemplatePart::Ref(Ref {
                                    address: Address::new("artifact.fraud_model.object"),
                                    attr: "key".into(),
                                }),
                            ]),
                        ),
                        ("sha256", s(&sha)),
                    ]),
                ),
            ],
            &["endpoint.fraud.log_group", "artifact.fraud_model.object"],
        ),
        res(
            st,
            "endpoint.fraud.service",
            ResourceKind::EcsService,
            &[
                ("name", s("fraud")),
                ("cluster", r("compute.serving.cluster", "name")),
                ("launch_type", s("FARGATE")),
                (
                    "task_definition",
                    r("endpoint.fraud.task_definition", "arn"),
                ),
                ("desired_count", Value::Int(1)),
                (
                    "network",
                    map(&[
                        ("subnets", list(&subnets)),
                        ("security_groups", list(&[o.security_group.as_str()])),
                        ("public_ip", Value::Bool(false)),
                    ]),
                ),
                (
                    "deployment",
                    map(&[
                        ("min_healthy_percent", Value::Int(100)),
                        ("max_percent", Value::Int(200)),
                        ("circuit_breaker", Value::Bool(true)),
                        ("wait", Value::Bool(o.wait)),
                        ("timeout_seconds", Value::Int(60)),
                    ]),
                ),
            ],
            &["compute.serving.cluster", "endpoint.fraud.task_definition"],
        ),
        res(
            st,
            "endpoint.fraud.scaling",
            ResourceKind::ScalingTarget,
            &[
                ("resource_id", s(&format!("service/{}/fraud", n.cluster))),
                ("cluster", s(&n.cluster)),
                ("service", s("fraud")),
                ("min", Value::Int(1)),
                ("max", Value::Int(3)),
                ("target_cpu", Value::Int(60)),
                ("policy_name", s(&format!("{}-fraud-cpu", n.stack))),
            ],
            &["endpoint.fraud.service"],
        ),
    ]
}

/// The desired resources as the [`Config`] spec loading would produce.
pub fn config(stack: &str, desired: &[Desired]) -> Config {
    Config {
        root: PathBuf::from("."),
        stack: stack.into(),
        env: "dev".into(),
        region: "us-east-1".into(),
        tags: BTreeMap::from([("team".to_string(), "risk".to_string())]),
        backend: Backend::Local {
            path: PathBuf::from("state/dev.json"),
        },
        provider: ProviderConfig {
            region: "us-east-1".into(),
            endpoint: None,
            ..ProviderConfig::default()
        },
        resources: desired
            .iter()
            .map(|d| {
                (
                    d.address.clone(),
                    Resource {
                        address: d.address.clone(),
                        kind: d.kind,
                        attrs: d.attrs.clone(),
                        depends_on: d.deps.clone().into(),
                        lifecycle: Lifecycle::default(),
                    },
                )
            })
            .collect(),
        outputs: BTreeMap::new(),
        variables: BTreeMap::new(),
        policy: Default::default(),
        digest: "sha256:test".into(),
    }
}

/// pedestal's own planner over the desired resources (`destroy`: a destroy plan).
pub fn plan(stack: &str, desired: &[Desired], state: &State, destroy: bool) -> Plan {
    let opts = PlanOptions {
        mode: if destroy {
            PlanMode::Destroy
        } else {
            PlanMode::Normal
        },
        ..PlanOptions::default()
    };
    pedestal::plan::plan(&config(stack, desired), state, &opts).expect("planning")
}

/// Addresses a plan changes, with their actions.
pub fn actions(p: &Plan) -> BTreeMap<String, Action> {
    p.changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.to_string(), c.action))
        .collect()
}
