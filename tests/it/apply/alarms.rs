//! Endpoint alarms against moto through the `pedestal` binary: the CloudWatch alarms read back
//! with DescribeAlarms (namespace, metric, threshold, dimensions, actions, tags), the service's
//! deployment alarms read back with DescribeServices, a clean plan after apply (refresh reads
//! the alarms back without drift), a threshold change planned in place, and destroy leaving no
//! alarm.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{ComparisonOperator, MetricAlarm, Statistic};

use super::cli::Stack;
use super::ctx::{Ctx, plan_actions};

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:releases";

/// The alarms of these names, by name.
pub(super) async fn alarms(c: &Ctx, names: &[String]) -> BTreeMap<String, MetricAlarm> {
    c.cw()
        .describe_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .send()
        .await
        .unwrap()
        .metric_alarms()
        .iter()
        .map(|a| (a.alarm_name().unwrap().to_string(), a.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_are_created_wired_into_the_service_refreshed_and_destroyed() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("al").await;
    let cluster = format!("{}-dev-serving", st.name);
    let service = format!("{}-dev-hello", st.name);
    let cpu = format!("{service}-cpu-high");
    let mem = format!("{service}-memory-high");
    let names = [cpu.clone(), mem.clone()];
    st.edit(|t| {
        t.replace(
            "health_check = {",
            &format!(
                "alarms = {{ cpu_high = 90, memory_high = 80, notify = [\"{TOPIC}\"] }}\nhealth_check = {{"
            ),
        )
    });

    let r = st.run(&["plan", "--format", "json"]).expect(0);
    let acts = plan_actions(&r.stdout());
    for a in [
        "endpoint.hello.alarm.cpu_high",
        "endpoint.hello.alarm.memory_high",
    ] {
        assert!(
            acts.contains(&(a.to_string(), vec!["create".to_string()])),
            "{a} is planned: {acts:?}"
        );
    }
    let r = st.run(&["apply", "--auto-approve"]).expect(0);
    assert!(
        r.stdout()
            .contains("Apply complete! Resources: 10 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout()
    );

    let live = alarms(&c, &names).await;
    assert_eq!(live.len(), 2, "{live:?}");
    for (name, metric, threshold) in [
        (&cpu, "CPUUtilization", 90.0),
        (&mem, "MemoryUtilization", 80.0),
    ] {
        let a = &live[name];
        assert_eq!(a.namespace(), Some("AWS/ECS"));
        assert_eq!(a.metric_name(), Some(metric));
        assert_eq!(a.threshold(), Some(threshold));
        assert_eq!(a.statistic(), Some(&Statistic::Average));
        assert_eq!(a.period(), Some(60));
        assert_eq!(a.evaluation_periods(), Some(3));
        assert_eq!(
            a.comparison_operator(),
            Some(&ComparisonOperator::GreaterThanOrEqualToThreshold)
        );
        assert_eq!(a.alarm_actions(), [TOPIC]);
        let dims: BTreeMap<&str, &str> = a
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap(), d.value().unwrap()))
            .collect();
        assert_eq!(
            dims,
            BTreeMap::from([
                ("ClusterName", cluster.as_str()),
                ("ServiceName", service.as_str())
            ])
        );
        let tags = c
            .cw()
            .list_tags_for_resource()
            .resource_arn(a.alarm_arn().unwrap())
            .send()
            .await
            .unwrap();
        let tags: BTreeMap<&str, &str> = tags
            .tags()
            .iter()
            .map(|t| (t.key().unwrap(), t.value().unwrap()))
            .collect();
        assert_eq!(tags.get("pedestal:stack"), Some(&st.name.as_str()));
        assert_eq!(tags.get("owner"), Some(&"ml-platform"));
        let role = if metric == "CPUUtilization" {
            "cpu_high"
        } else {
            "memory_high"
        };
        assert_eq!(
            tags.get("pedestal:address").copied(),
            Some(format!("endpoint.hello.alarm.{role}").as_str())
        );
    }

    // Refresh reads both alarms back as applied.
    let r = st.run(&["plan", "--detailed-exitcode"]).expect(0);
    assert!(r.stdout().contains("No changes."), "{}", r.stdout());

    // A release sends the deployment configuration again (moto keeps it only from an update):
    // the service watches both alarms and rolls back on them.
    st.edit(|t| t.replace("alarms = {", "deployment = { wait = false }\nalarms = {"));
    st.run(&["apply", "--auto-approve", "--var", "model_version=0.2.0"])
        .expect(0);
    let svc = c
        .ecs()
        .describe_services()
        .cluster(&cluster)
        .services(&service)
        .send()
        .await
        .unwrap();
    let dc = svc.services()[0]
        .deployment_configuration()
        .expect("the service reports its deployment configuration");
    let da = dc.alarms().expect("deployment alarms are configured");
    assert!(da.enable());
    assert!(da.rollback());
    let mut got: Vec<&str> = da.alarm_names().iter().map(String::as_str).collect();
    got.sort();
    assert_eq!(got, [cpu.as_str(), mem.as_str()]);
    st.run(&[
        "plan",
        "--detailed-exitcode",
        "--var",
        "model_version=0.2.0",
    ])
    .expect(0);

    // A new threshold updates that alarm in place, nothing else.
    st.edit(|t| t.replace("cpu_high = 90", "cpu_high = 75"));
    let r = st
        .run(&["plan", "--var", "model_version=0.2.0", "--format", "json"])
        .expect(0);
    assert_eq!(
        plan_actions(&r.stdout()),
        [(
            "endpoint.hello.alarm.cpu_high".to_string(),
            vec!["update".to_string()]
        )]
    );
    st.run(&["apply", "--auto-approve", "--var", "model_version=0.2.0"])
        .expect(0);
    assert_eq!(alarms(&c, &names).await[&cpu].threshold(), Some(75.0));

    // Destroy leaves no alarm behind.
    let r = st
        .run(&["destroy", "--auto-approve", "--var", "model_version=0.2.0"])
        .expect(0);
    assert!(
        r.stdout()
            .contains("Destroy complete! Resources: 10 destroyed."),
        "{}",
        r.stdout()
    );
    assert!(alarms(&c, &names).await.is_empty());
}
