//! Application Auto Scaling's rules for ECS services: capacity bounds and the CPU target.

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
