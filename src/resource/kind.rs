//! The closed set of provider resource kinds and, per kind, the schema the planner and the
//! provider share: which attributes force replacement, which are computed by the cloud, and in
//! which order a replacement runs.
//!
//! The attribute lists come from the per-kind schemas in [`super::schema`], the contract between
//! spec lowering (which fills the attributes), the planner (which diffs them), the renderers and
//! the AWS provider (which sends them).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::schema::{
    cloudwatch_alarm, ecs_cluster, ecs_service, ecs_task_definition, iam_role, lb_listener,
    listener_rule, load_balancer, log_group, s3_bucket, s3_object, scaling_target, ssm_parameter,
    target_group,
};

/// Every provider resource kind; its attributes are declared in [`super::schema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// `storage.X.bucket`: see [`super::schema::s3_bucket`].
    S3Bucket,
    /// `artifact.X.object`: see [`super::schema::s3_object`].
    S3Object,
    /// `compute.X.cluster`: see [`super::schema::ecs_cluster`].
    EcsCluster,
    /// `endpoint.X.log_group`: see [`super::schema::log_group`].
    LogGroup,
    /// `endpoint.X.task_definition`: see [`super::schema::ecs_task_definition`]. Any change registers
    /// a new revision.
    EcsTaskDefinition,
    /// `endpoint.X.service`: see [`super::schema::ecs_service`].
    EcsService,
    /// `endpoint.X.scaling`: see [`super::schema::scaling_target`].
    ScalingTarget,
    /// `endpoint.X.alarm.<name>`: see [`schema::cloudwatch_alarm`].
    CloudwatchAlarm,
    /// `gateway.X.load_balancer`: see [`super::schema::load_balancer`].
    LoadBalancer,
    /// `gateway.X.listener.<port>`: see [`super::schema::lb_listener`].
    LbListener,
    /// `endpoint.X.target_group`: see [`super::schema::target_group`].
    TargetGroup,
    /// `endpoint.X.listener_rule`: see [`super::schema::listener_rule`].
    ListenerRule,
    /// `endpoint.X.execution_role` / `endpoint.X.task_role`: see [`super::schema::iam_role`].
    IamRole,
    /// `endpoint.X.secret.<NAME>`: see [`super::schema::ssm_parameter`].
    SsmParameter,
}

/// Whether a replacement destroys first or creates first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplaceOrder {
    /// Delete the old resource, then create the new one (`-/+`).
    DestroyBeforeCreate,
    /// Create the new resource, then delete the old one (`+/-`).
    CreateBeforeDestroy,
}

/// Static facts about one kind.
#[derive(Debug)]
pub struct KindSchema {
    /// Top-level attributes whose change forces a replacement.
    pub force_new: &'static [&'static str],
    /// Attributes set by the cloud, known only after apply.
    pub computed: &'static [&'static str],
    /// Default replacement order for the kind.
    pub replace_order: ReplaceOrder,
    /// A change to any attribute produces a new immutable version (task definition revisions):
    /// planned as an update whose computed attributes all become unknown.
    pub versioned: bool,
    /// The attribute that names the physical resource (used for crash recovery and imports).
    pub name_attr: &'static str,
}

impl ResourceKind {
    /// Every kind, in declaration order.
    pub const ALL: [ResourceKind; 14] = [
        ResourceKind::S3Bucket,
        ResourceKind::S3Object,
        ResourceKind::EcsCluster,
        ResourceKind::LogGroup,
        ResourceKind::EcsTaskDefinition,
        ResourceKind::EcsService,
        ResourceKind::ScalingTarget,
        ResourceKind::CloudwatchAlarm,
        ResourceKind::LoadBalancer,
        ResourceKind::LbListener,
        ResourceKind::TargetGroup,
        ResourceKind::ListenerRule,
        ResourceKind::IamRole,
        ResourceKind::SsmParameter,
    ];

    /// The kind's static facts: attribute rules, replacement order, revisions, physical name.
    pub fn schema(self) -> &'static KindSchema {
        match self {
            ResourceKind::S3Bucket => &s3_bucket::SCHEMA,
            ResourceKind::S3Object => &s3_object::SCHEMA,
            ResourceKind::EcsCluster => &ecs_cluster::SCHEMA,
            ResourceKind::LogGroup => &log_group::SCHEMA,
            ResourceKind::EcsTaskDefinition => &ecs_task_definition::SCHEMA,
            ResourceKind::EcsService => &ecs_service::SCHEMA,
            ResourceKind::ScalingTarget => &scaling_target::SCHEMA,
            ResourceKind::CloudwatchAlarm => &cloudwatch_alarm::SCHEMA,
            ResourceKind::LoadBalancer => &load_balancer::SCHEMA,
            ResourceKind::LbListener => &lb_listener::SCHEMA,
            ResourceKind::TargetGroup => &target_group::SCHEMA,
            ResourceKind::ListenerRule => &listener_rule::SCHEMA,
            ResourceKind::IamRole => &iam_role::SCHEMA,
            ResourceKind::SsmParameter => &ssm_parameter::SCHEMA,
        }
    }

    /// The name used in plans and state (`s3_bucket`, `ecs_service`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::S3Bucket => "s3_bucket",
            ResourceKind::S3Object => "s3_object",
            ResourceKind::EcsCluster => "ecs_cluster",
            ResourceKind::LogGroup => "log_group",
            ResourceKind::EcsTaskDefinition => "ecs_task_definition",
            ResourceKind::EcsService => "ecs_service",
            ResourceKind::ScalingTarget => "scaling_target",
            ResourceKind::CloudwatchAlarm => "cloudwatch_alarm",
            ResourceKind::LoadBalancer => "load_balancer",
            ResourceKind::LbListener => "lb_listener",
            ResourceKind::TargetGroup => "target_group",
            ResourceKind::ListenerRule => "listener_rule",
            ResourceKind::IamRole => "iam_role",
            ResourceKind::SsmParameter => "ssm_parameter",
        }
    }

    /// The longest physical name AWS accepts for this kind, in bytes (`None`: checked where the
    /// name is made, or derived from other names).
    pub fn max_name_len(self) -> Option<usize> {
        match self {
            // Checked with the rest of S3's naming rules (3 to 63).
            ResourceKind::S3Bucket => None,
            ResourceKind::S3Object => Some(1024),
            ResourceKind::EcsCluster
            | ResourceKind::EcsTaskDefinition
            | ResourceKind::EcsService => Some(255),
            ResourceKind::LogGroup => Some(512),
            ResourceKind::ScalingTarget => None,
            // Checked where alarms are lowered (CloudWatch's 255).
            ResourceKind::CloudwatchAlarm => None,
            ResourceKind::LoadBalancer | ResourceKind::TargetGroup => {
                Some(load_balancer::MAX_NAME_LEN)
            }
            // pedestal's own names, never sent.
            ResourceKind::LbListener | ResourceKind::ListenerRule => None,
            ResourceKind::IamRole => Some(iam_role::MAX_NAME_LEN),
            ResourceKind::SsmParameter => Some(ssm_parameter::MAX_NAME_LEN),
        }
    }

    /// Whether AWS lets this kind carry tags.
    pub fn taggable(self) -> bool {
        !matches!(self, ResourceKind::ScalingTarget)
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
