//! Application Auto Scaling's rules for ECS services: capacity bounds and the policies'
//! targets.

use super::IntRange;

/// `RegisterScalableTarget`: `MinCapacity`/`MaxCapacity`; for an ECS service the desired
/// count they bound is limited by ECS's tasks-per-service quota.
pub const REGISTER_SCALABLE_TARGET_SOURCE: &str = "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html";

/// `MinCapacity` and `MaxCapacity` of an ECS service.
pub static CAPACITY: IntRange = IntRange {
    field: "scalable target capacity",
    min: 0,
    max: 10_000,
    source: REGISTER_SCALABLE_TARGET_SOURCE,
};

/// The target CPU utilisation of the tracking policy, percent.
pub static TARGET_CPU: IntRange = IntRange {
    field: "target CPU utilization",
    min: 1,
    max: 100,
    source: REGISTER_SCALABLE_TARGET_SOURCE,
};

/// `PutScalingPolicy`: a target-tracking policy's target value, which must make sense for its
/// metric (a percentage for utilisation metrics).
pub const PUT_SCALING_POLICY_SOURCE: &str = "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TargetTrackingScalingPolicyConfiguration.html";

/// The target memory utilisation of the tracking policy, percent.
pub static TARGET_MEMORY: IntRange = IntRange {
    field: "target memory utilization",
    min: 1,
    max: 100,
    source: PUT_SCALING_POLICY_SOURCE,
};

/// Requests per target per minute the request policy tracks (ALBRequestCountPerTarget);
/// the upper bound is pedestal's, far above what one task serves.
pub static TARGET_REQUESTS: IntRange = IntRange {
    field: "target request count per target",
    min: 1,
    max: 1_000_000,
    source: PUT_SCALING_POLICY_SOURCE,
};
