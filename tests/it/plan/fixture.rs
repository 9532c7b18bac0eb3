//! Specs for planner, renderer and benchmark tests, built as TOML text and loaded through
//! `spec::load` (so every test plans what users produce), and the "as if applied" state of a
//! loaded spec: a fraud-detection-like stack (bucket, cluster, per endpoint an artifact, log
//! group, task definition, service and scaling target).
//!
//! [`Spec`] is the builder: [`Spec::new`] writes the standard stack for some endpoints,
//! [`Spec::edit`] rewrites its text (a rename, a lifecycle block), [`Spec::load`] loads it from
//! a scratch directory holding the artifact files. [`config`] is `Spec::new(..).load()`.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::PathBuf;

use pedestal::addr::Address;
use pedestal::resource::{Attrs, Ref, Resource, ResourceKind, Value};
use pedestal::spec::{self, Config, LoadOptions};
use pedestal::state::{ResourceState, State, Status};

pub const STACK: &str = "fraud-detection";
pub const ENV: &str = "prod";
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
/// Where every loaded fixture says its stack lives (the scratch directory is gone by then).
pub const ROOT: &str = "/stacks/fraud-detection";

/// One endpoint's knobs.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub name: String,
    pub version: String,
    pub image_tag: String,
    /// The artifact file's content; its SHA-256 is [`sha`] of it.
    pub artifact: String,
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
            artifact: "1.3.0".into(),
            replicas: 2,
            max: 10,
            log_level: "info".into(),
        }
    }

    /// The SHA-256 of the artifact the loader computes.
    pub fn sha256(&self) -> String {
        sha(&self.artifact)
    }

    fn toml(&self) -> String {
        let n = &self.name;
        let q = quoted;
        format!(
            r#"
[artifact.{n}_model]
storage = "models"
source = "artifacts/{n}.onnx"

[endpoint.{n}]
compute = "serving"
model = {{ name = "{n}", version = {version}, artifact = "${{artifact.{n}_model.uri}}" }}
image = {image}
cpu = 1024
memory = 2048
replicas = {replicas}
port = 8080
environment = {{ LOG_LEVEL = {log_level} }}
secrets = {{ API_TOKEN = "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{n}-token" }}
health_check = {{ path = "/healthz", interval = 10, retries = 3, grace_period = 60 }}
execution_role = "arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
autoscaling = {{ min = {replicas}, max = {max}, target_cpu = 60 }}
"#,
            version = q(&self.version),
            image = q(&format!(
                "{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{n}-serve:{}",
                self.image_tag
            )),
            replicas = self.replicas,
            max = self.max,
            log_level = q(&self.log_level),
        )
    }
}

/// `s` as a TOML basic string, quotes and escapes included.
pub fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The SHA-256 (hex) of `content`: an artifact file holding `content` hashes to this.
pub fn sha(content: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(content.as_bytes()))
}

/// A spec as TOML text plus the files beside it.
#[derive(Clone, Debug)]
pub struct Spec {
    pub text: String,
    pub files: BTreeMap<String, String>,
}

impl Spec {
    /// The standard stack with `endpoints`: a versioned bucket, a cluster, per endpoint an
    /// artifact and an endpoint, and an output per service.
    pub fn new(endpoints: &[Endpoint]) -> Spec {
        let mut text = format!(
            r#"[stack]
name = "{STACK}"
region = "{REGION}"
tags = {{ team = "risk" }}

[provider.aws]
region = "{REGION}"
network = {{ subnets = ["subnet-0abc"], security_groups = ["sg-0abc"], public_ip = false }}

[storage.models]
versioning = true
encryption = "AES256"
lifecycle = [{{ noncurrent_days = 30 }}]

[compute.serving]
container_insights = true
capacity_providers = ["FARGATE", "FARGATE_SPOT"]
"#
        );
        let mut files = BTreeMap::new();
        for e in endpoints {
            text.push_str(&e.toml());
            files.insert(format!("artifacts/{}.onnx", e.name), e.artifact.clone());
        }
        if !endpoints.is_empty() {
            text.push_str("\n[outputs]\n");
            for e in endpoints {
                let _ = writeln!(
                    text,
                    "{n}_service = \"${{endpoint.{n}.service_arn}}\"",
                    n = e.name
                );
            }
        }
        Spec { text, files }
    }

    /// The spec with its text rewritten by `f`.
    pub fn edit(mut self, f: impl FnOnce(String) -> String) -> Spec {
        self.text = f(self.text);
        self
    }

    /// The spec with `from` replaced by `to`, which must occur in it.
    pub fn replace(self, from: &str, to: &str) -> Spec {
        assert!(self.text.contains(from), "{from:?} not in the spec");
        self.edit(|t| t.replace(from, to))
    }

    /// Loads the spec through `spec::load` (env `prod`) from a scratch directory; the Config
    /// says it lives at [`ROOT`].
    pub fn load(&self) -> Config {
        let dir = tempfile::tempdir().expect("scratch directory");
        std::fs::write(dir.path().join("pedestal.toml"), &self.text).expect("write spec");
        for (path, content) in &self.files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
            std::fs::write(p, content).expect("write file");
        }
        let mut config = spec::load(dir.path(), &LoadOptions::env(ENV))
            .unwrap_or_else(|d| panic!("fixture spec:\n{}\n{}", self.text, d.render(false, 100)));
        config.root = PathBuf::from(ROOT);
        config
    }
}

/// The standard stack with `endpoints`, loaded.
pub fn config(endpoints: &[Endpoint]) -> Config {
    Spec::new(endpoints).load()
}

fn s(v: &str) -> Value {
    Value::str(v)
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
        ResourceKind::LoadBalancer => {
            format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{name}/1")
        }
        ResourceKind::LbListener => format!(
            "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/{}",
            &sha(&name)[..16]
        ),
        ResourceKind::TargetGroup => {
            format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/1")
        }
        ResourceKind::ListenerRule => format!(
            "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/{}",
            &sha(&name)[..16]
        ),
        ResourceKind::IamRole => format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
        ResourceKind::SsmParameter => format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}"),
    };
    let mut out = Attrs::new();
    match res.kind {
        ResourceKind::S3Object => {
            out.insert("version_id".into(), s(&format!("v{}", &sha(&name)[..16])));
            out.insert("etag".into(), s(&sha(&format!("etag{name}"))[..32]));
        }
        ResourceKind::ScalingTarget => {}
        ResourceKind::LoadBalancer => {
            out.insert("arn".into(), s(&arn));
            out.insert(
                "dns_name".into(),
                s(&format!("internal-{name}-1.{REGION}.elb.amazonaws.com")),
            );
            out.insert("vpc_id".into(), s("vpc-0a1b2c3d"));
        }
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
