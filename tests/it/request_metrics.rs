//! Lowering a routed endpoint's request metrics: the `http_5xx_percent`, `p99_latency_ms` and
//! `unhealthy_targets` alarms (one target group, and the pair of a canary release) and the
//! `target_requests` / `target_memory` policies, snapshotted with their references to the load
//! balancer's and target groups' ARN suffixes, and the plan that creates them. (What validation
//! says when they lack a route or a range is in the invalid corpus: `tests/invalid/request_*`.)

use std::collections::BTreeMap;
use std::path::Path;

use pedestal::addr::Address;
use pedestal::plan::{PlanOptions, plan};
use pedestal::render::{self, HumanOptions};
use pedestal::resource::Value;
use pedestal::spec::{self, Config, LoadOptions};
use pedestal::state::State;

const SPEC: &str = r#"[stack]
name = "rq"

[provider.aws]
network = { subnets = ["subnet-1", "subnet-2"], security_groups = ["sg-1"] }

[compute.serving]

[gateway.public]

[endpoint.api]
compute = "serving"
image = "repo/api:1"
model = { version = "1.0.0" }
route = { gateway = "public", path = "/api/*" }
alarms = { cpu_high = 90, http_5xx_percent = 5, p99_latency_ms = 750, unhealthy_targets = 2 }
autoscaling = { min = 1, max = 8, target_requests = 1200, target_memory = 75 }

[endpoint.risk]
compute = "serving"
image = "repo/risk:1"
model = { version = "1.0.0" }
route = { gateway = "public", path = "/risk/*" }
deployment = { strategy = "canary", canary_percent = 10, interval = "5m", role = "arn:aws:iam::123456789012:role/ecs-lb" }
alarms = { http_5xx_percent = 2, p99_latency_ms = 400, unhealthy_targets = 1 }
autoscaling = { min = 2, max = 4, target_memory = 80 }
"#;

fn write(dir: &Path, text: &str) {
    std::fs::write(dir.join("pedestal.toml"), text).unwrap();
}

fn load(text: &str) -> Result<Config, String> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), text);
    spec::load(dir.path(), &LoadOptions::env("dev")).map_err(|d| d.render(false, 100))
}

fn attr<'a>(c: &'a Config, addr: &str, name: &str) -> &'a Value {
    &c.resources[&Address::new(addr)].attrs[name]
}

#[test]
fn request_alarms_and_scaling_lower_against_the_route() {
    let c = load(SPEC).unwrap();
    let picked: BTreeMap<&Address, &pedestal::resource::Resource> = c
        .resources
        .iter()
        .filter(|(a, _)| a.as_str().contains(".alarm.") || a.as_str().ends_with(".scaling"))
        .collect();
    assert_eq!(picked.len(), 9, "{:?}", picked.keys().collect::<Vec<_>>());
    insta::assert_snapshot!(
        "request_metrics_resources",
        serde_json::to_string_pretty(&picked).unwrap()
    );
    // The alarms and the request policy wait for what their dimensions name.
    let five = &c.resources[&Address::new("endpoint.api.alarm.http_5xx_percent")];
    for dep in ["gateway.public.load_balancer", "endpoint.api.target_group"] {
        assert!(five.depends_on.contains(&Address::new(dep)), "{dep}");
    }
    let risk = &c.resources[&Address::new("endpoint.risk.alarm.p99_latency_ms")];
    assert!(
        risk.depends_on
            .contains(&Address::new("endpoint.risk.target_group_alt"))
    );
    let scaling = &c.resources[&Address::new("endpoint.api.scaling")];
    assert!(
        scaling
            .depends_on
            .contains(&Address::new("endpoint.api.target_group"))
    );
    // No target written but memory: no CPU policy.
    assert_eq!(
        attr(&c, "endpoint.risk.scaling", "target_cpu"),
        &Value::Null
    );
    // The service watches every alarm during a release.
    let watched = attr(&c, "endpoint.api.service", "alarms").as_map().unwrap();
    assert_eq!(
        watched["names"],
        Value::List(
            [
                "cpu-high",
                "http-5xx-percent",
                "p99-latency-ms",
                "unhealthy-targets"
            ]
            .iter()
            .map(|k| Value::String(format!("rq-dev-api-{k}")))
            .collect()
        )
    );
}

#[test]
fn the_plan_creates_the_request_alarms_and_policies() {
    let c = load(SPEC).unwrap();
    let p = plan(&c, &State::new("rq", "dev"), &PlanOptions::default()).unwrap();
    let text = render::human(&p, &HumanOptions { color: false });
    let wanted: Vec<&str> = text
        .split("\n\n")
        .filter(|b| b.contains(".alarm.http_5xx_percent") || b.contains("endpoint.api.scaling"))
        .collect();
    insta::assert_snapshot!("request_metrics_plan", wanted.join("\n\n"));
}
