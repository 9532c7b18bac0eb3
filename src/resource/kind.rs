//! The closed set of provider resource kinds and, per kind, the schema the planner and the
//! provider share: which attributes force replacement, which are computed by the cloud, and in
//! which order a replacement runs.
//!
//! Attribute names listed here are the contract between spec lowering (which fills them), the
//! planner (which diffs them), the renderers and the AWS provider (which sends them).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// `storage.X.bucket`: bucket, versioning, encryption, kms_key, public_access_block,
    /// lifecycle (list of {prefix, expire_days, noncurrent_days}), force_destroy, tags.
    /// Computed: arn.
    S3Bucket,
    /// `artifact.X.object`: bucket, key, source (path relative to the stack directory), sha256,
    /// size, content_type, tags. Computed: version_id, etag.
    S3Object,
    /// `compute.X.cluster`: name, container_insights, capacity_providers, tags. Computed: arn.
    EcsCluster,
    /// `endpoint.X.log_group`: name, retention_days, tags. Computed: arn.
    LogGroup,
    /// `endpoint.X.task_definition`: family, cpu, memory, gpu, network_mode,
    /// requires_compatibilities, execution_role, task_role, container (map: name, image, port,
    /// environment, secrets, health_check, log_group, region), model ({name, version, artifact,
    /// sha256}), tags. Computed: arn, revision. Any change registers a new revision.
    EcsTaskDefinition,
    /// `endpoint.X.service`: name, cluster, launch_type, capacity_provider_strategy,
    /// task_definition, desired_count (null when autoscaling owns it), network ({subnets,
    /// security_groups, public_ip}), deployment ({min_healthy_percent, max_percent,
    /// circuit_breaker, wait, timeout_seconds}), health_check_grace_period, tags.
    /// Computed: arn.
    EcsService,
    /// `endpoint.X.scaling`: resource_id (`service/<cluster>/<service>`), cluster, service,
    /// min, max, target_cpu, policy_name. Computed: none.
    ScalingTarget,
}

/// Whether a replacement destroys first or creates first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplaceOrder {
    DestroyBeforeCreate,
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
    pub const ALL: [ResourceKind; 7] = [
        ResourceKind::S3Bucket,
        ResourceKind::S3Object,
        ResourceKind::EcsCluster,
        ResourceKind::LogGroup,
        ResourceKind::EcsTaskDefinition,
        ResourceKind::EcsService,
        ResourceKind::ScalingTarget,
    ];

    pub fn schema(self) -> &'static KindSchema {
        match self {
            ResourceKind::S3Bucket => &KindSchema {
                force_new: &["bucket"],
                computed: &["arn"],
                replace_order: ReplaceOrder::DestroyBeforeCreate,
                versioned: false,
                name_attr: "bucket",
            },
            ResourceKind::S3Object => &KindSchema {
                force_new: &["bucket", "key", "sha256"],
                computed: &["version_id", "etag"],
                replace_order: ReplaceOrder::CreateBeforeDestroy,
                versioned: false,
                name_attr: "key",
            },
            ResourceKind::EcsCluster => &KindSchema {
                force_new: &["name"],
                computed: &["arn"],
                replace_order: ReplaceOrder::DestroyBeforeCreate,
                versioned: false,
                name_attr: "name",
            },
            ResourceKind::LogGroup => &KindSchema {
                force_new: &["name"],
                computed: &["arn"],
                replace_order: ReplaceOrder::DestroyBeforeCreate,
                versioned: false,
                name_attr: "name",
            },
            ResourceKind::EcsTaskDefinition => &KindSchema {
                force_new: &["family"],
                computed: &["arn", "revision"],
                replace_order: ReplaceOrder::CreateBeforeDestroy,
                versioned: true,
                name_attr: "family",
            },
            ResourceKind::EcsService => &KindSchema {
                force_new: &["name", "cluster", "launch_type"],
                computed: &["arn"],
                // The name stays reserved until the old service is INACTIVE.
                replace_order: ReplaceOrder::DestroyBeforeCreate,
                versioned: false,
                name_attr: "name",
            },
            ResourceKind::ScalingTarget => &KindSchema {
                force_new: &["resource_id"],
                computed: &[],
                replace_order: ReplaceOrder::DestroyBeforeCreate,
                versioned: false,
                name_attr: "resource_id",
            },
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
