//! One request's governed values — the physical name it sends, its tags, its integer members —
//! checked against the rule tables of the kind it acts on. Validation checks the spec against
//! the same tables; this reads them for a request as sent (the test suite's request
//! conformance check runs every captured request through it).

use super::{IntRange, autoscaling, ecs, elbv2, s3, tag_rules};
use crate::resource::ResourceKind;

/// What one AWS request sets that the rule tables govern.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RequestValues {
    /// The physical name it creates (bucket, cluster, service, family, log group, alarm, load
    /// balancer, target group, object key).
    pub name: Option<String>,
    /// Its tags, in the order sent (a key sent twice counts twice).
    pub tags: Vec<(String, String)>,
    /// Integer members, by their name in the AWS API (`desiredCount`, `interval`, ...).
    pub ints: Vec<(String, i64)>,
}

/// The range AWS accepts for the integer `member` of a request on `kind`, when a table has one.
pub fn int_range(kind: ResourceKind, member: &str) -> Option<&'static IntRange> {
    Some(match (kind, member) {
        (ResourceKind::EcsService, "desiredCount") => &ecs::DESIRED_COUNT,
        (ResourceKind::EcsService, "minimumHealthyPercent") => &ecs::MIN_HEALTHY_PERCENT,
        (ResourceKind::EcsService, "maximumPercent") => &ecs::MAX_PERCENT,
        (ResourceKind::EcsTaskDefinition, "interval") => &ecs::HEALTH_INTERVAL,
        (ResourceKind::EcsTaskDefinition, "timeout") => &ecs::HEALTH_TIMEOUT,
        (ResourceKind::EcsTaskDefinition, "retries") => &ecs::HEALTH_RETRIES,
        (ResourceKind::EcsTaskDefinition, "startPeriod") => &ecs::HEALTH_START_PERIOD,
        (ResourceKind::EcsTaskDefinition, "sizeInGiB") => &ecs::EPHEMERAL_STORAGE_GIB,
        (ResourceKind::ScalingTarget, "MinCapacity" | "MaxCapacity") => &autoscaling::CAPACITY,
        (ResourceKind::ListenerRule, "Priority") => &elbv2::RULE_PRIORITY,
        _ => return None,
    })
}

/// Every rule of `kind`'s tables that `values` break, one message each.
pub fn problems(kind: ResourceKind, values: &RequestValues) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(name) = &values.name {
        let problem = match kind {
            ResourceKind::S3Bucket => s3::bucket_name_problem(name).map(str::to_string),
            _ => super::name_problem(kind, name).map(|(p, _)| p),
        };
        out.extend(problem.map(|p| format!("name {name:?}: {p}")));
    }
    if !values.tags.is_empty() {
        match tag_rules(kind) {
            Some(rules) => {
                if values.tags.len() > rules.max_count {
                    out.push(format!(
                        "{} tags: {} carry at most {}",
                        values.tags.len(),
                        rules.what,
                        rules.max_count
                    ));
                }
                for (k, v) in &values.tags {
                    out.extend(rules.key_problem(k).map(|p| format!("tag {k:?}: {p}")));
                    out.extend(rules.value_problem(v).map(|p| format!("tag {k:?}: {p}")));
                }
            }
            None => out.push(format!("{kind} carries no tags")),
        }
    }
    for (member, n) in &values.ints {
        if let Some(p) = int_range(kind, member).and_then(|r| r.problem(*n)) {
            out.push(format!("{member}: {p}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(n: usize) -> Vec<(String, String)> {
        (0..n).map(|i| (format!("k{i}"), "v".to_string())).collect()
    }

    #[test]
    fn conforming_values_pass() {
        let v = RequestValues {
            name: Some("s-dev-serving".into()),
            tags: vec![("pedestal:stack".into(), "s".into())],
            ints: vec![],
        };
        assert_eq!(problems(ResourceKind::EcsCluster, &v), Vec::<String>::new());
        let v = RequestValues {
            ints: vec![("desiredCount".into(), 10_000), ("unknown".into(), -5)],
            ..Default::default()
        };
        assert_eq!(problems(ResourceKind::EcsService, &v), Vec::<String>::new());
    }

    #[test]
    fn each_broken_rule_is_named() {
        let v = RequestValues {
            name: Some("Bad_Bucket".into()),
            tags: tags(11),
            ints: vec![],
        };
        let p = problems(ResourceKind::S3Bucket, &v);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("name \"Bad_Bucket\": bucket names use only"),
            "{p:?}"
        );
        let p = problems(ResourceKind::S3Object, &v);
        assert!(
            p.contains(&"11 tags: S3 objects carry at most 10".to_string()),
            "{p:?}"
        );
        let v = RequestValues {
            name: Some("x".repeat(256)),
            tags: vec![
                ("aws:owner".into(), "me".into()),
                ("team".into(), "a;b".into()),
            ],
            ints: vec![
                ("desiredCount".into(), 1 << 32),
                ("maximumPercent".into(), 200),
            ],
        };
        let p = problems(ResourceKind::EcsService, &v);
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[0].contains("ECS service name"), "{p:?}");
        assert!(p[1].starts_with("tag \"aws:owner\": "), "{p:?}");
        assert!(p[2].starts_with("tag \"team\": tag values use"), "{p:?}");
        assert!(p[3].starts_with("desiredCount: AWS accepts"), "{p:?}");
        let v = RequestValues {
            tags: tags(1),
            ..Default::default()
        };
        assert_eq!(
            problems(ResourceKind::ScalingTarget, &v),
            ["scaling_target carries no tags"]
        );
    }
}
