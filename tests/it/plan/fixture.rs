//! Hand-built specs and "as if applied" states for planner, renderer and benchmark tests:
//! a fraud-detection-like stack (bucket, cluster, per endpoint an artifact, log group, task
//! definition, service and scaling target) lowered the way `src/resource/kind.rs` documents.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use pedestal::addr::Address;
use pedestal::resource::{Attrs, Lifecycle, Ref, Resource, ResourceKind, TemplatePart, Value};
use pedestal::spec::{Backend, Config, Output, ProviderConfig};
use pedestal::state::{ResourceState, State, Status};

pub const STACK: &str = "fraud-detection";
pub const ENV: &str = "prod";
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// One endpoint's knobs.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub name: String,
    pub version: String,
    pub image_tag: String,
    pub sha256: String,
    pub replicas: i64,
    pub max: i64,
    pub log_level: String,
}

impl Endpoint {
    pub fn new(name: &str) -> Endpoint {
        Endpoint {
            name: name.to_string(),
            version: "1.3.0".into(),
            image_tag: "2.4.1".into(),
            sha256: sha("1.3.0"),
            replicas: 2,
            max: 10,
            log_level: "info".into(),
        }
    }
}

/// A stable fake SHA-256 derived from a label.
pub fn sha(label: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(label.as_bytes()))
}

fn s(v: &str) -> Value {
    Value::str(v)
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn r(address: &str, attr: &str) -> Value {
    Value::Ref(Ref {
        address: Address::new(address),
        attr: attr.into(),
    })
}

fn tags(address: &str) -> Value {
    map(&[
        ("pedestal:address", s(address)),
        ("pedestal:env", s(ENV)),
        ("pedestal:stack", s(STACK)),
        ("team", s("risk")),
    ])
}

fn resource(address: &str, kind: ResourceKind, mut attrs: Attrs, deps: &[&str]) -> Resource {
    if kind.taggable() {
        attrs.insert("tags".into(), tags(address));
    }
    Resource {
        address: Address::new(address),
        kind,
        attrs,
        depends_on: deps.iter().map(|d| Address::new(*d)).collect(),
        lifecycle: Lifecycle::default(),
    }
}

fn attrs(entries: Vec<(&str, Value)>) -> Attrs {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// The shared resources plus one set per endpoint.
pub fn config(endpoints: &[Endpoint]) -> Config {
    let bucket = format!("{STACK}-{ENV}-models");
    let mut resources = BTreeMap::new();
    let mut add = |r: Resource| {
        resources.insert(r.address.clone(), r);
    };
    add(resource(
        "storage.models.bucket",
        ResourceKind::S3Bucket,
        attrs(vec![
            ("bucket", s(&bucket)),
            ("versioning", Value::Bool(true)),
            ("encryption", s("AES256")),
            ("public_access_block", Value::Bool(true)),
            ("force_destroy", Value::Bool(false)),
            (
                "lifecycle",
                Value::List(vec![map(&[("noncurrent_days", Value::Int(30))])]),
            ),
        ]),
        &[],
    ));
    add(resource(
        "compute.serving.cluster",
        ResourceKind::EcsCluster,
        attrs(vec![
            ("name", s(&format!("{STACK}-{ENV}-serving"))),
            ("container_insights", Value::Bool(true)),
            (
                "capacity_providers",
                Value::List(vec![s("FARGATE"), s("FARGATE_SPOT")]),
            ),
        ]),
        &[],
    ));
    let mut outputs = BTreeMap::new();
    for e in endpoints {
        let n = &e.name;
        let art = format!("artifact.{n}_model.object");
        let key = format!("{n}_model/sha256-{}/model.onnx", e.sha256);
        add(resource(
            &art,
            ResourceKind::S3Object,
            attrs(vec![
                ("bucket", s(&bucket)),
                ("key", s(&key)),
                ("source", s(&format!("artifacts/{n}.onnx"))),
                ("sha256", s(&e.sha256)),
                ("size", Value::Int(1_048_576)),
                ("content_type", s("application/octet-stream")),
            ]),
            &["storage.models.bucket"],
        ));
        let lg = format!("endpoint.{n}.log_group");
        let log_name = format!("/pedestal/{STACK}/{ENV}/{n}");
        add(resource(
            &lg,
            ResourceKind::LogGroup,
            attrs(vec![
                ("name", s(&log_name)),
                ("retention_days", Value::Int(30)),
            ]),
            &[],
        ));
        let td = format!("endpoint.{n}.task_definition");
        add(resource(
            &td,
            ResourceKind::EcsTaskDefinition,
            attrs(vec![
                ("family", s(&format!("{STACK}-{ENV}-{n}"))),
                ("cpu", Value::Int(1024)),
                ("memory", Value::Int(2048)),
                ("gpu", Value::Int(0)),
                ("network_mode", s("awsvpc")),
                ("requires_compatibilities", Value::List(vec![s("FARGATE")])),
                (
                    "execution_role",
                    s(&format!("arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole")),
                ),
                (
                    "container",
                    map(&[
                        ("name", s(n)),
                        (
                            "image",
                            s(&format!(
                                "{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{n}-serve:{}",
                                e.image_tag
                            )),
                        ),
                        ("port", Value::Int(8080)),
                        (
                            "environment",
                            map(&[
                                ("LOG_LEVEL", s(&e.log_level)),
                                ("MODEL_NAME", s(n)),
                                ("MODEL_VERSION", s(&e.version)),
                            ]),
                        ),
                        (
                            "secrets",
                            map(&[(
                                "API_TOKEN",
                                s(&format!(
                                    "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{n}-token"
                                )),
                            )]),
                        ),
                        (
                            "health_check",
                            map(&[
                                ("path", s("/healthz")),
                                ("interval", Value::Int(10)),
                                ("retries", Value::Int(3)),
                            ]),
                        ),
                        ("log_group", s(&log_name)),
                        ("region", s(REGION)),
                    ]),
                ),
                (
                    "model",
                    map(&[
                        ("name", s(n)),
                        ("version", s(&e.version)),
                        (
                            "artifact",
                            Value::Template(vec![
                                TemplatePart::Lit(format!("s3://{bucket}/{key}?versionId=")),
                                TemplatePart::Ref(Ref {
                                    address: Address::new(&art),
                                    attr: "version_id".into(),
                                }),
                            ]),
                        ),
                        ("sha256", s(&e.sha256)),
                    ]),
                ),
            ]),
            &[&art, &lg],
        ));
        let svc = format!("endpoint.{n}.service");
        let svc_name = format!("{STACK}-{ENV}-{n}");
        add(resource(
            &svc,
            ResourceKind::EcsService,
            attrs(vec![
                ("name", s(&svc_name)),
                ("cluster", r("compute.serving.cluster", "arn")),
                ("launch_type", s("FARGATE")),
                ("task_definition", r(&td, "arn")),
                ("desired_count", Value::Int(e.replicas)),
                (
                    "network",
                    map(&[
                        ("subnets", Value::List(vec![s("subnet-0abc")])),
                        ("security_groups", Value::List(vec![s("sg-0abc")])),
                        ("public_ip", Value::Bool(false)),
                    ]),
                ),
                (
                    "deployment",
                    map(&[
                        ("min_healthy_percent", Value::Int(100)),
                        ("max_percent", Value::Int(200)),
                        ("circuit_breaker", Value::Bool(true)),
                        ("wait", Value::Bool(true)),
                        ("timeout_seconds", Value::Int(900)),
                    ]),
                ),
                ("health_check_grace_period", Value::Int(60)),
            ]),
            &["compute.serving.cluster", &td],
        ));
        let cluster_name = format!("{STACK}-{ENV}-serving");
        add(resource(
            &format!("endpoint.{n}.scaling"),
            ResourceKind::ScalingTarget,
            attrs(vec![
                (
                    "resource_id",
                    s(&format!("service/{cluster_name}/{svc_name}")),
                ),
                ("cluster", s(&cluster_name)),
                ("service", s(&svc_name)),
                ("min", Value::Int(e.replicas)),
                ("max", Value::Int(e.max)),
                ("target_cpu", Value::Int(60)),
                ("policy_name", s(&format!("{svc_name}-cpu"))),
            ]),
            &[&svc],
        ));
        outputs.insert(
            format!("{n}_service"),
            Output {
                value: r(&svc, "arn"),
                sensitive: false,
            },
        );
    }
    Config {
        root: PathBuf::from("/stacks/fraud-detection"),
        stack: STACK.into(),
        env: ENV.into(),
        region: REGION.into(),
        tags: BTreeMap::from([("team".to_string(), "risk".to_string())]),
        backend: Backend::Local {
            path: PathBuf::from("state/prod.json"),
        },
        provider: ProviderConfig {
            region: REGION.into(),
            endpoint: None,
        },
        resources,
        outputs,
        variables: BTreeMap::new(),
        policy: Default::default(),
        digest: format!(
            "sha256:{}",
            sha(&format!(
                "{:?}",
                endpoints
                    .iter()
                    .map(|e| (&e.name, &e.version))
                    .collect::<Vec<_>>()
            ))
        ),
    }
}

/// The cloud-assigned attributes a resource would get on apply (revision `rev`).
fn computed(res: &Resource, rev: u32) -> Attrs {
    let name = res.physical_name().unwrap_or("x").to_string();
    let arn = match res.kind {
        ResourceKind::S3Bucket => format!("arn:aws:s3:::{name}"),
        ResourceKind::S3Object => String::new(),
        ResourceKind::EcsCluster => format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}"),
        ResourceKind::LogGroup => format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"),
        ResourceKind::EcsTaskDefinition => {
            format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{name}:{rev}")
        }
        ResourceKind::EcsService => {
            format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/{STACK}-{ENV}-serving/{name}")
        }
        ResourceKind::ScalingTarget => String::new(),
        ResourceKind::CloudwatchAlarm => {
            format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}")
        }
    };
    let mut out = Attrs::new();
    match res.kind {
        ResourceKind::S3Object => {
            out.insert("version_id".into(), s(&format!("v{}", &sha(&name)[..16])));
            out.insert("etag".into(), s(&sha(&format!("etag{name}"))[..32]));
        }
        ResourceKind::ScalingTarget => {}
        ResourceKind::EcsTaskDefinition => {
            out.insert("arn".into(), s(&arn));
            out.insert("revision".into(), Value::Int(i64::from(rev)));
        }
        _ => {
            out.insert("arn".into(), s(&arn));
        }
    }
    out
}

fn id_of(res: &Resource, computed: &Attrs) -> String {
    computed
        .get("arn")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| res.physical_name().unwrap_or("x").to_string())
}

/// The state a successful apply of `config` would record; task definitions get revision `rev`.
pub fn applied(config: &Config, rev: u32) -> State {
    let computed_all: BTreeMap<&Address, Attrs> = config
        .resources
        .values()
        .map(|r| (&r.address, computed(r, rev)))
        .collect();
    let lookup =
        |rf: &Ref| -> Option<Value> { computed_all.get(&rf.address)?.get(&rf.attr).cloned() };
    let mut state = State::new(&config.stack, &config.env);
    state.lineage = "6f1c2a0e-0000-4000-8000-000000000001".into();
    state.serial = 7;
    for r in config.resources.values() {
        let mut attrs: Attrs = r
            .attrs
            .iter()
            .map(|(k, v)| (k.clone(), v.substitute(&lookup)))
            .collect();
        let c = &computed_all[&r.address];
        attrs.extend(c.clone());
        state.resources.insert(
            r.address.clone(),
            ResourceState {
                kind: r.kind,
                id: id_of(r, c),
                attrs,
                dependencies: r.depends_on.clone(),
                status: Status::Ok,
            },
        );
    }
    for (name, o) in &config.outputs {
        state
            .outputs
            .insert(name.clone(), o.value.substitute(&lookup));
    }
    state
}

/// Addresses helper.
pub fn addr(s: &str) -> Address {
    Address::new(s)
}

pub fn set_of(items: &[&str]) -> BTreeSet<Address> {
    items.iter().map(|s| Address::new(*s)).collect()
}
