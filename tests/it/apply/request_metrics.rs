//! Request metrics of a routed endpoint against moto through the `pedestal` binary: the
//! `http_5xx_percent`, `p99_latency_ms` and `unhealthy_targets` alarms read back with
//! DescribeAlarms (metric math over the target group's metrics, dimensioned by the load
//! balancer's and target group's ARN suffixes), the service's deployment alarms, the
//! `target_requests` and `target_memory` scaling policies read back with
//! DescribeScalingPolicies, a clean plan after apply, a policy dropped and a target changed in
//! place, and destroy leaving no alarm or policy behind.

use std::collections::BTreeMap;

use aws_sdk_applicationautoscaling::types::{MetricType, ServiceNamespace};
use aws_sdk_cloudwatch::types::Statistic;

use super::alarms::alarms;
use super::cli::Stack;
use super::ctx::{Ctx, plan_actions};
use super::moto;

/// The service's target-tracking policies: name → (metric type, target, resource label).
async fn policies(
    c: &Ctx,
    resource_id: &str,
) -> BTreeMap<String, (MetricType, f64, Option<String>)> {
    c.aas()
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .send()
        .await
        .unwrap()
        .scaling_policies()
        .iter()
        .map(|p| {
            let conf = p.target_tracking_scaling_policy_configuration().unwrap();
            let spec = conf.predefined_metric_specification().unwrap();
            (
                p.policy_name().to_string(),
                (
                    spec.predefined_metric_type().clone(),
                    conf.target_value(),
                    spec.resource_label().map(str::to_string),
                ),
            )
        })
        .collect()
}

fn dims(d: &[aws_sdk_cloudwatch::types::Dimension]) -> BTreeMap<String, String> {
    d.iter()
        .map(|d| (d.name().unwrap().into(), d.value().unwrap().into()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_alarms_and_request_scaling_are_applied_read_back_and_destroyed() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("rq").await;
    let m = moto::moto();
    let cluster = format!("{}-dev-serving", st.name);
    let service = format!("{}-dev-hello", st.name);
    let names: Vec<String> = ["http-5xx-percent", "p99-latency-ms", "unhealthy-targets"]
        .iter()
        .map(|k| format!("{service}-{k}"))
        .collect();
    let gateway = format!(
        "[gateway.public]\nsubnets = [\"{}\", \"{}\"]\n\n[endpoint.hello]",
        m.subnets[0], m.subnets[1]
    );
    st.edit(|t| {
        t.replace("[endpoint.hello]", &gateway)
            .replace("replicas = 1\n", "")
            .replace(
                "health_check = {",
                "route = { gateway = \"public\", path = \"/hello/*\" }\n\
                 alarms = { http_5xx_percent = 5, p99_latency_ms = 750, unhealthy_targets = 1 }\n\
                 autoscaling = { min = 1, max = 3, target_requests = 500, target_memory = 70 }\n\
                 deployment = { wait = false }\n\
                 health_check = {",
            )
    });

    let r = st.run(&["plan", "--format", "json"]).expect(0);
    let acts = plan_actions(&r.stdout());
    for a in [
        "endpoint.hello.alarm.http_5xx_percent",
        "endpoint.hello.alarm.p99_latency_ms",
        "endpoint.hello.alarm.unhealthy_targets",
        "endpoint.hello.scaling",
    ] {
        assert!(
            acts.contains(&(a.to_string(), vec!["create".to_string()])),
            "{a} is planned: {acts:?}"
        );
    }
    st.run(&["apply", "--auto-approve"]).expect(0);

    // The dimensions: the ARN suffixes of the gateway's load balancer and the target group.
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c.conf);
    let lb = elb
        .describe_load_balancers()
        .names(format!("{}-dev-public", st.name))
        .send()
        .await
        .unwrap();
    let lb_arn = lb.load_balancers()[0].load_balancer_arn().unwrap();
    let lb_suffix = lb_arn.split_once(":loadbalancer/").unwrap().1.to_string();
    let tg = elb
        .describe_target_groups()
        .names(format!("{}-dev-hello", st.name))
        .send()
        .await
        .unwrap();
    let tg_arn = tg.target_groups()[0].target_group_arn().unwrap();
    let tg_suffix = tg_arn[tg_arn.rfind(":targetgroup/").unwrap() + 1..].to_string();
    let want_dims = BTreeMap::from([
        ("LoadBalancer".to_string(), lb_suffix.clone()),
        ("TargetGroup".to_string(), tg_suffix.clone()),
    ]);

    let live = alarms(&c, &names).await;
    assert_eq!(live.len(), 3, "{live:?}");
    for a in live.values() {
        assert_eq!(a.evaluation_periods(), Some(3));
    }
    // 5xx share: metric math over the target group's 5xx answers and requests.
    let five = &live[&names[0]];
    assert_eq!(five.threshold(), Some(5.0));
    let queries = five.metrics();
    let expr = queries
        .iter()
        .find(|q| q.return_data() == Some(true))
        .unwrap();
    assert_eq!(expr.expression(), Some("100 * FILL(m1, 0) / m2"));
    let stats: BTreeMap<&str, (&str, &str, BTreeMap<String, String>)> = queries
        .iter()
        .filter_map(|q| {
            let s = q.metric_stat()?;
            let metric = s.metric()?;
            Some((
                q.id()?,
                (metric.metric_name()?, s.stat()?, dims(metric.dimensions())),
            ))
        })
        .collect();
    assert_eq!(
        stats,
        BTreeMap::from([
            (
                "m1",
                ("HTTPCode_Target_5XX_Count", "Sum", want_dims.clone())
            ),
            ("m2", ("RequestCount", "Sum", want_dims.clone())),
        ])
    );
    for q in queries.iter().filter_map(|q| q.metric_stat()) {
        assert_eq!(q.metric().unwrap().namespace(), Some("AWS/ApplicationELB"));
        assert_eq!(q.period(), Some(60));
    }
    // p99 latency: the 99th percentile of TargetResponseTime, in milliseconds.
    let p99 = &live[&names[1]];
    assert_eq!(p99.threshold(), Some(750.0));
    let q = p99.metrics();
    assert_eq!(
        q.iter().find_map(|q| q.expression()),
        Some("1000 * m1"),
        "{q:?}"
    );
    let stat = q.iter().find_map(|q| q.metric_stat()).unwrap();
    assert_eq!(stat.stat(), Some("p99"));
    assert_eq!(
        stat.metric().unwrap().metric_name(),
        Some("TargetResponseTime")
    );
    assert_eq!(dims(stat.metric().unwrap().dimensions()), want_dims);
    // Unhealthy targets: one metric, its maximum.
    let unhealthy = &live[&names[2]];
    assert_eq!(unhealthy.namespace(), Some("AWS/ApplicationELB"));
    assert_eq!(unhealthy.metric_name(), Some("UnHealthyHostCount"));
    assert_eq!(unhealthy.statistic(), Some(&Statistic::Maximum));
    assert_eq!(unhealthy.threshold(), Some(1.0));
    assert_eq!(dims(unhealthy.dimensions()), want_dims);

    // The service watches all three during a release (moto keeps the deployment
    // configuration only from an update: release a new model version).
    st.edit(|t| t.replace("default = \"0.1.0\"", "default = \"0.2.0\""));
    st.run(&["apply", "--auto-approve"]).expect(0);
    let svc = c.service(&cluster, &service).await;
    let da = svc
        .deployment_configuration()
        .and_then(|d| d.alarms())
        .expect("deployment alarms are configured");
    let mut got: Vec<String> = da.alarm_names().to_vec();
    got.sort();
    assert_eq!(got, names);

    // Scaling on requests per target of the target group, and on memory; no CPU policy.
    let rid = format!("service/{cluster}/{service}");
    let pols = policies(&c, &rid).await;
    assert_eq!(
        pols,
        BTreeMap::from([
            (
                format!("{service}-memory"),
                (MetricType::EcsServiceAverageMemoryUtilization, 70.0, None)
            ),
            (
                format!("{service}-requests"),
                (
                    MetricType::AlbRequestCountPerTarget,
                    500.0,
                    Some(format!("{lb_suffix}/{tg_suffix}"))
                )
            ),
        ])
    );

    // Refresh reads the alarms and policies back as applied.
    let r = st.run(&["plan", "--detailed-exitcode"]).expect(0);
    assert!(r.stdout().contains("No changes."), "{}", r.stdout());

    // Dropping the memory target and changing the request target update the scaling target.
    st.edit(|t| {
        t.replace(
            "target_requests = 500, target_memory = 70",
            "target_requests = 800",
        )
    });
    let r = st.run(&["plan", "--format", "json"]).expect(0);
    assert_eq!(
        plan_actions(&r.stdout()),
        [(
            "endpoint.hello.scaling".to_string(),
            vec!["update".to_string()]
        )]
    );
    st.run(&["apply", "--auto-approve"]).expect(0);
    let pols = policies(&c, &rid).await;
    assert_eq!(
        pols.keys().collect::<Vec<_>>(),
        [&format!("{service}-requests")]
    );
    assert_eq!(pols[&format!("{service}-requests")].1, 800.0);

    // Destroy leaves no alarm and no policy behind.
    st.run(&["destroy", "--auto-approve"]).expect(0);
    assert!(alarms(&c, &names).await.is_empty());
    assert!(policies(&c, &rid).await.is_empty());
}
