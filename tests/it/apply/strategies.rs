//! The ECS native release strategies on the wire, against scripted ECS responses (moto does not
//! model them): a routed endpoint lowered from a spec with `strategy = "blue_green"`, `"canary"`
//! or `"linear"`, then created and switched from a rolling release through the AWS provider,
//! each CreateService / UpdateService request checked field by field — the deployment
//! configuration's strategy, bake time and canary or linear configuration, and the load
//! balancer's advanced configuration (alternate target group, production listener rule, role).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ecs::operation::create_service::{CreateServiceInput, CreateServiceOutput};
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::update_service::{UpdateServiceInput, UpdateServiceOutput};
use aws_sdk_ecs::types::{DeploymentConfiguration, DeploymentStrategy, LoadBalancer, Service};
use aws_smithy_mocks::mock;
use pedestal::addr::Address;
use pedestal::provider::{ApplyResource, Provider};
use pedestal::resource::{Attrs, ResourceKind, Value};
use pedestal::spec::{self, LoadOptions};

use super::ctx::scripted_provider;

const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/st-dev-api/1111";
const ALT: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/st-dev-api-alt/2222";
const RULE: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/st-dev-public/3333/4444/5555";
const ROLE: &str = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers";
const SERVICE_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service/st-dev-serving/st-dev-api";

/// The service of a routed endpoint `api` released with `deployment`, lowered from a spec and
/// resolved as apply would (the target groups', rule's and task definition's ARNs filled in).
fn service(deployment: &str) -> Attrs {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pedestal.toml"),
        format!(
            r#"[stack]
name = "st"

[provider.aws]
network = {{ subnets = ["subnet-1", "subnet-2"], security_groups = ["sg-1"] }}

[compute.serving]

[gateway.public]

[endpoint.api]
compute = "serving"
image = "repo/api:1"
model = {{ version = "1.0.0" }}
port = 8080
route = {{ gateway = "public", path = "/api/*" }}
deployment = {deployment}
"#
        ),
    )
    .unwrap();
    let c = match spec::load(dir.path(), &LoadOptions::env("dev")) {
        Ok(c) => c,
        Err(d) => panic!("{}", d.render(false, 100)),
    };
    let svc = &c.resources[&Address::new("endpoint.api.service")];
    let lookup = |r: &pedestal::resource::Ref| {
        let v = match (r.address.as_str(), r.attr.as_str()) {
            ("endpoint.api.target_group", "arn") => TG.to_string(),
            ("endpoint.api.target_group_alt", "arn") => ALT.to_string(),
            ("endpoint.api.listener_rule", "arn") => RULE.to_string(),
            ("endpoint.api.task_definition", "arn") => {
                "arn:aws:ecs:us-east-1:123456789012:task-definition/st-dev-api:7".to_string()
            }
            ("compute.serving.cluster", "name") => "st-dev-serving".to_string(),
            (a, k) => panic!("unexpected reference {a}.{k}"),
        };
        Some(Value::String(v))
    };
    svc.attrs
        .iter()
        .map(|(k, v)| (k.clone(), v.substitute(&lookup)))
        .collect()
}

/// The provider over scripted ECS: no service before the create, and every CreateService and
/// UpdateService request kept.
fn provider(
    created: Arc<Mutex<Vec<CreateServiceInput>>>,
    updated: Arc<Mutex<Vec<UpdateServiceInput>>>,
) -> pedestal::provider::aws::AwsProvider {
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .then_compute_output(|_| DescribeServicesOutput::builder().build());
    let create = mock!(aws_sdk_ecs::Client::create_service).then_compute_output(move |req| {
        created.lock().unwrap().push(req.clone());
        CreateServiceOutput::builder()
            .service(Service::builder().service_arn(SERVICE_ARN).build())
            .build()
    });
    let update = mock!(aws_sdk_ecs::Client::update_service).then_compute_output(move |req| {
        updated.lock().unwrap().push(req.clone());
        UpdateServiceOutput::builder().build()
    });
    scripted_provider(
        &[&describe, &create, &update],
        &[],
        Duration::from_millis(5),
    )
}

/// Creates the service with `deployment`, then updates a rolling one to it; the requests.
async fn requests(deployment: &str) -> (CreateServiceInput, UpdateServiceInput) {
    let created = Arc::new(Mutex::new(Vec::new()));
    let updated = Arc::new(Mutex::new(Vec::new()));
    let p = provider(created.clone(), updated.clone());
    let attrs = service(deployment);
    let res = ApplyResource {
        address: Address::new("endpoint.api.service"),
        kind: ResourceKind::EcsService,
        attrs: attrs.clone(),
    };
    p.create(&res).await.unwrap();
    // The same service as a rolling release left it: one target group, no strategy.
    let before = service("{ wait = false }");
    p.update(SERVICE_ARN, &before, &res).await.unwrap();
    let c = created.lock().unwrap().pop().expect("a CreateService");
    let u = updated.lock().unwrap().pop().expect("an UpdateService");
    (c, u)
}

/// The load balancer ECS shifts traffic with: the target group, the alternate one, the
/// production rule and the role.
fn assert_shifting(lbs: &[LoadBalancer]) {
    assert_eq!(lbs.len(), 1, "{lbs:?}");
    let lb = &lbs[0];
    assert_eq!(lb.target_group_arn(), Some(TG));
    assert_eq!(lb.container_name(), Some("api"));
    assert_eq!(lb.container_port(), Some(8080));
    let adv = lb
        .advanced_configuration()
        .expect("an advanced configuration");
    assert_eq!(adv.alternate_target_group_arn(), Some(ALT));
    assert_eq!(adv.production_listener_rule(), Some(RULE));
    assert_eq!(adv.role_arn(), Some(ROLE));
    assert_eq!(adv.test_listener_rule(), None);
}

fn both(
    (c, u): &(CreateServiceInput, UpdateServiceInput),
) -> [(&DeploymentConfiguration, &[LoadBalancer]); 2] {
    [
        (c.deployment_configuration().unwrap(), c.load_balancers()),
        (u.deployment_configuration().unwrap(), u.load_balancers()),
    ]
}

#[tokio::test]
async fn blue_green_sends_the_strategy_bake_time_and_alternate_target_group() {
    let r = requests(&format!(
        "{{ strategy = \"blue_green\", bake = \"15m\", role = \"{ROLE}\", wait = false }}"
    ))
    .await;
    for (dc, lbs) in both(&r) {
        assert_eq!(dc.strategy(), Some(&DeploymentStrategy::BlueGreen));
        assert_eq!(dc.bake_time_in_minutes(), Some(15));
        assert!(dc.canary_configuration().is_none());
        assert!(dc.linear_configuration().is_none());
        assert_shifting(lbs);
    }
    assert_eq!(r.0.health_check_grace_period_seconds(), Some(60));
}

#[tokio::test]
async fn canary_sends_its_percentage_and_interval() {
    let r = requests(&format!(
        "{{ strategy = \"canary\", canary_percent = 10, interval = \"5m\", role = \"{ROLE}\", wait = false }}"
    ))
    .await;
    for (dc, lbs) in both(&r) {
        assert_eq!(dc.strategy(), Some(&DeploymentStrategy::Canary));
        // No bake written: the default.
        assert_eq!(
            dc.bake_time_in_minutes(),
            Some(pedestal::resource::schema::ecs_service::DEFAULT_BAKE_MINUTES as i32)
        );
        let canary = dc.canary_configuration().expect("a canary configuration");
        assert_eq!(canary.canary_percent(), Some(10.0));
        assert_eq!(canary.canary_bake_time_in_minutes(), Some(5));
        assert!(dc.linear_configuration().is_none());
        assert_shifting(lbs);
    }
}

#[tokio::test]
async fn linear_sends_its_step_and_interval_in_whole_minutes() {
    let r = requests(&format!(
        "{{ strategy = \"linear\", step_percent = 25, interval = \"90s\", bake = \"2m\", role = \"{ROLE}\", wait = false }}"
    ))
    .await;
    for (dc, lbs) in both(&r) {
        assert_eq!(dc.strategy(), Some(&DeploymentStrategy::Linear));
        assert_eq!(dc.bake_time_in_minutes(), Some(2));
        let linear = dc.linear_configuration().expect("a linear configuration");
        assert_eq!(linear.step_percent(), Some(25.0));
        // 90 s rounds up to 2 minutes: ECS counts whole minutes.
        assert_eq!(linear.step_bake_time_in_minutes(), Some(2));
        assert!(dc.canary_configuration().is_none());
        assert_shifting(lbs);
    }
}

#[tokio::test]
async fn back_to_rolling_says_rolling_and_drops_the_alternate_target_group() {
    let created = Arc::new(Mutex::new(Vec::new()));
    let updated = Arc::new(Mutex::new(Vec::new()));
    let p = provider(created, updated.clone());
    let before = service(&format!(
        "{{ strategy = \"canary\", role = \"{ROLE}\", wait = false }}"
    ));
    let after = service("{ wait = false }");
    let res = ApplyResource {
        address: Address::new("endpoint.api.service"),
        kind: ResourceKind::EcsService,
        attrs: after,
    };
    p.update(SERVICE_ARN, &before, &res).await.unwrap();
    let u = updated.lock().unwrap().pop().unwrap();
    let dc = u.deployment_configuration().unwrap();
    assert_eq!(dc.strategy(), Some(&DeploymentStrategy::Rolling));
    assert!(dc.canary_configuration().is_none());
    let lbs = u.load_balancers();
    assert_eq!(lbs.len(), 1);
    assert_eq!(lbs[0].target_group_arn(), Some(TG));
    assert!(lbs[0].advanced_configuration().is_none());
}
