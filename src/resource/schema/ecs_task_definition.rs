//! `ecs_task_definition` (`endpoint.X.task_definition`): one container serving one model
//! release. Any change registers a new revision; the last few stay ACTIVE for rollback.
//!
//! Nested maps: [`Container`] (with [`HealthCheck`]) and [`Model`].

use super::{Rule, attr_names, rule_lists};
use crate::resource::{Attrs, KindSchema, ReplaceOrder, Value};

attr_names! {
    /// Top-level attributes of an `ecs_task_definition`.
    pub enum Attr {
        /// The family (the physical name).
        Family = "family",
        /// CPU units.
        Cpu = "cpu",
        /// Memory in MiB.
        Memory = "memory",
        /// GPUs (0: none).
        Gpu = "gpu",
        /// Docker network mode.
        NetworkMode = "network_mode",
        /// Launch types the definition is valid for.
        RequiresCompatibilities = "requires_compatibilities",
        /// Role ECS uses to pull images and read secrets; null for none.
        ExecutionRole = "execution_role",
        /// Role the container runs as; null for none.
        TaskRole = "task_role",
        /// The container: a [`Container`] map.
        Container = "container",
        /// The model release served: a [`Model`] map.
        Model = "model",
        /// The tag map.
        Tags = "tags",
        /// The revision ARN.
        Arn = "arn",
        /// The revision number.
        Revision = "revision",
    }
}

impl Attr {
    /// How the planner treats a change (in place here means a new revision).
    pub const fn rule(self) -> Rule {
        match self {
            Attr::Family => Rule::ForceNew,
            Attr::Cpu
            | Attr::Memory
            | Attr::Gpu
            | Attr::NetworkMode
            | Attr::RequiresCompatibilities
            | Attr::ExecutionRole
            | Attr::TaskRole
            | Attr::Container
            | Attr::Model
            | Attr::Tags => Rule::InPlace,
            Attr::Arn | Attr::Revision => Rule::Computed,
        }
    }
}

rule_lists!(Attr);

/// The kind's facts for the planner and the provider.
pub const SCHEMA: KindSchema = KindSchema {
    force_new: &FORCE_NEW,
    computed: &COMPUTED,
    replace_order: ReplaceOrder::CreateBeforeDestroy,
    versioned: true,
    name_attr: Attr::Family.as_str(),
};

attr_names! {
    /// The `container` map.
    pub enum Container {
        /// Container name (defaults to the family).
        Name = "name",
        /// Image reference.
        Image = "image",
        /// TCP port the container listens on.
        Port = "port",
        /// Plain environment variables (name -> value).
        Environment = "environment",
        /// Secret environment variables (name -> ARN to read it from).
        Secrets = "secrets",
        /// The container health check: a [`HealthCheck`] map, or null.
        HealthCheck = "health_check",
        /// Log group the awslogs driver writes to.
        LogGroup = "log_group",
        /// Region of the log group.
        Region = "region",
        /// Shown only when canonicalising for display: AWS's `essential` (always true).
        Essential = "essential",
        /// Shown only when canonicalising for display: the port mapping's protocol.
        Protocol = "protocol",
        /// Shown only when canonicalising for display: the host port (= port under awsvpc).
        HostPort = "host_port",
    }
}

attr_names! {
    /// The container's `health_check` map.
    pub enum HealthCheck {
        /// The probe command, exec form (`CMD`, program, arguments): never shell text.
        Command = "command",
        /// Path probed with curl when no command is given.
        Path = "path",
        /// Seconds between probes.
        Interval = "interval",
        /// Failed probes before the task is unhealthy.
        Retries = "retries",
        /// Seconds a probe may take.
        Timeout = "timeout",
        /// Seconds after start during which failures do not count.
        StartPeriod = "start_period",
    }
}

attr_names! {
    /// The `model` map: which release the container serves.
    pub enum Model {
        /// Model name.
        Name = "name",
        /// Release version.
        Version = "version",
        /// URI of the artifact.
        Artifact = "artifact",
        /// SHA-256 of the artifact.
        Sha256 = "sha256",
    }
}

impl Model {
    /// The environment variable the container sees this field as.
    pub const fn env_var(self) -> &'static str {
        match self {
            Model::Name => "MODEL_NAME",
            Model::Version => "MODEL_VERSION",
            Model::Artifact => "MODEL_URI",
            Model::Sha256 => "MODEL_SHA256",
        }
    }
}

/// `network_mode` (the only one endpoints use, and the default).
pub const NETWORK_MODE_AWSVPC: &str = "awsvpc";
/// `requires_compatibilities` when empty.
pub const DEFAULT_COMPATIBILITY: &str = "FARGATE";
/// Port the curl probe uses when the container has none.
pub const DEFAULT_PROBE_PORT: i64 = 80;
/// [`HealthCheck::Path`] when unset.
pub const DEFAULT_HEALTH_PATH: &str = "/";
/// [`HealthCheck::Interval`] when unset (AWS's default too).
pub const DEFAULT_HEALTH_INTERVAL: i64 = 30;
/// [`HealthCheck::Retries`] when unset (AWS's default too).
pub const DEFAULT_HEALTH_RETRIES: i64 = 3;
/// [`HealthCheck::Timeout`] when unset (AWS's default too).
pub const DEFAULT_HEALTH_TIMEOUT: i64 = 5;
/// [`HealthCheck::StartPeriod`] when unset (AWS's default too).
pub const DEFAULT_HEALTH_START_PERIOD: i64 = 0;
/// [`Container::Protocol`] AWS fills in for a port mapping.
pub const DEFAULT_PROTOCOL: &str = "tcp";

/// What spec lowering fills in: one field per attribute it sets. Tags are added for every kind
/// by lowering itself and computed attributes by the cloud. Lowering builds this with a struct
/// literal and [`Desired::into_attrs`] matches every [`Attr`], so a new attribute does not
/// compile until both say what it holds.
#[derive(Debug)]
pub struct Desired {
    /// [`Attr::Family`].
    pub family: Value,
    /// [`Attr::Cpu`].
    pub cpu: Value,
    /// [`Attr::Memory`].
    pub memory: Value,
    /// [`Attr::Gpu`].
    pub gpu: Value,
    /// [`Attr::NetworkMode`].
    pub network_mode: Value,
    /// [`Attr::RequiresCompatibilities`].
    pub requires_compatibilities: Value,
    /// [`Attr::ExecutionRole`].
    pub execution_role: Value,
    /// [`Attr::TaskRole`].
    pub task_role: Value,
    /// [`Attr::Container`].
    pub container: DesiredContainer,
    /// [`Attr::Model`].
    pub model: Value,
}

impl Desired {
    /// The attribute map.
    pub fn into_attrs(mut self) -> Attrs {
        let mut container = Some(self.container);
        let entries = Attr::sorted().iter().filter_map(|&k| {
            let v = match k {
                Attr::Family => std::mem::take(&mut self.family),
                Attr::Cpu => std::mem::take(&mut self.cpu),
                Attr::Memory => std::mem::take(&mut self.memory),
                Attr::Gpu => std::mem::take(&mut self.gpu),
                Attr::NetworkMode => std::mem::take(&mut self.network_mode),
                Attr::RequiresCompatibilities => std::mem::take(&mut self.requires_compatibilities),
                Attr::ExecutionRole => std::mem::take(&mut self.execution_role),
                Attr::TaskRole => std::mem::take(&mut self.task_role),
                Attr::Container => match container.take() {
                    Some(c) => Value::Map(c.into_attrs()),
                    None => return None,
                },
                Attr::Model => std::mem::take(&mut self.model),
                Attr::Tags | Attr::Arn | Attr::Revision => return None,
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Attr::ALL.len() - COMPUTED.len(), entries)
    }
}

/// What lowering fills in for the `container` map (the display-only fields stay out).
#[derive(Debug)]
pub struct DesiredContainer {
    /// [`Container::Name`].
    pub name: Value,
    /// [`Container::Image`].
    pub image: Value,
    /// [`Container::Port`].
    pub port: Value,
    /// [`Container::Environment`].
    pub environment: Value,
    /// [`Container::Secrets`].
    pub secrets: Value,
    /// [`Container::HealthCheck`].
    pub health_check: Value,
    /// [`Container::LogGroup`].
    pub log_group: Value,
    /// [`Container::Region`].
    pub region: Value,
}

impl DesiredContainer {
    /// The `container` map.
    pub fn into_attrs(mut self) -> Attrs {
        let entries = Container::sorted().iter().filter_map(|&k| {
            let v = match k {
                Container::Name => std::mem::take(&mut self.name),
                Container::Image => std::mem::take(&mut self.image),
                Container::Port => std::mem::take(&mut self.port),
                Container::Environment => std::mem::take(&mut self.environment),
                Container::Secrets => std::mem::take(&mut self.secrets),
                Container::HealthCheck => std::mem::take(&mut self.health_check),
                Container::LogGroup => std::mem::take(&mut self.log_group),
                Container::Region => std::mem::take(&mut self.region),
                Container::Essential | Container::Protocol | Container::HostPort => {
                    return None;
                }
            };
            Some((k.into(), v))
        });
        super::collect_attrs(Container::ALL.len() - 3, entries)
    }
}
