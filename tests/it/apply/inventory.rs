//! What a stack owns in moto, listed by name prefix and read back through the SDK, compared with
//! what its state records: buckets and the objects in them, clusters, the services in them,
//! ACTIVE task definition revisions, log groups, alarms, scalable targets, and load balancers
//! and target groups tagged with the stack with their listeners and rules. The crash and
//! fault suites call [`assert_matches_state`] after every run: nothing lives that state does not
//! know (no orphan, no duplicate), and nothing state records is missing.

use std::collections::BTreeSet;

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use aws_sdk_ecs::types::{ClusterField, TaskDefinitionStatus};
use pedestal::resource::ResourceKind;
use pedestal::state::State;

use super::ctx::Ctx;

/// Everything in moto whose name starts with `stack`, as `kind:name` entries.
pub async fn live(c: &Ctx, stack: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let s3 = c.s3();
    let buckets = s3.list_buckets().send().await.expect("ListBuckets");
    for b in buckets.buckets() {
        let Some(name) = b.name().filter(|n| n.starts_with(stack)) else {
            continue;
        };
        out.insert(format!("bucket:{name}"));
        let objects = s3
            .list_objects_v2()
            .bucket(name)
            .send()
            .await
            .expect("ListObjectsV2");
        for o in objects.contents() {
            out.insert(format!("object:{name}/{}", o.key().unwrap_or("")));
        }
    }
    let ecs = c.ecs();
    let mut ours: Vec<String> = Vec::new();
    let mut pages = ecs.list_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.expect("ListClusters");
        ours.extend(
            page.cluster_arns()
                .iter()
                .filter(|a| last(a, '/').starts_with(stack))
                .cloned(),
        );
    }
    if !ours.is_empty() {
        let described = ecs
            .describe_clusters()
            .set_clusters(Some(ours))
            .include(ClusterField::Tags)
            .send()
            .await
            .expect("DescribeClusters");
        for cl in described.clusters() {
            if cl.status() != Some("ACTIVE") {
                continue;
            }
            let name = cl.cluster_name().unwrap_or("");
            out.insert(format!("cluster:{name}"));
            live_services(c, name, &mut out).await;
        }
    }
    // `familyPrefix` matches a whole family name only: list all ACTIVE revisions, page by page.
    let mut pages = ecs
        .list_task_definitions()
        .status(TaskDefinitionStatus::Active)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for arn in page.expect("ListTaskDefinitions").task_definition_arns() {
            let def = after(arn, "task-definition/");
            if def.starts_with(stack) {
                out.insert(format!("taskdef:{def}"));
            }
        }
    }
    let groups = c
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(format!("/pedestal/{stack}/"))
        .send()
        .await
        .expect("DescribeLogGroups");
    for g in groups.log_groups() {
        out.insert(format!("loggroup:{}", g.log_group_name().unwrap_or("")));
    }
    let alarms = c
        .cw()
        .describe_alarms()
        .alarm_name_prefix(stack)
        .send()
        .await
        .expect("DescribeAlarms");
    for a in alarms.metric_alarms() {
        out.insert(format!("alarm:{}", a.alarm_name().unwrap_or("")));
    }
    let mut pages = c
        .aas()
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for t in page.expect("DescribeScalableTargets").scalable_targets() {
            if t.resource_id().starts_with(&format!("service/{stack}")) {
                out.insert(format!("scaling:{}", t.resource_id()));
            }
        }
    }
    live_load_balancing(c, stack, &mut out).await;
    // IAM roles (their names start with the stack's) and the stack's SSM parameters.
    let roles = c.iam().list_roles().send().await.expect("ListRoles");
    for r in roles.roles() {
        if r.role_name().starts_with(&format!("{stack}-")) {
            out.insert(format!("iam_role:{}", r.role_name()));
        }
    }
    let params = c
        .ssm()
        .get_parameters_by_path()
        .path(format!("/pedestal/{stack}/"))
        .recursive(true)
        .send()
        .await
        .expect("GetParametersByPath");
    for p in params.parameters() {
        out.insert(format!("ssm_parameter:{}", p.name().unwrap_or("")));
    }
    out
}

/// Load balancers and target groups tagged with the stack, the listeners of those load
/// balancers and their rules (the default rule aside), by ARN.
async fn live_load_balancing(c: &Ctx, stack: &str, out: &mut BTreeSet<String>) {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c.conf);
    let mut lbs = Vec::new();
    let mut pages = elb.describe_load_balancers().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.expect("DescribeLoadBalancers");
        lbs.extend(
            page.load_balancers()
                .iter()
                .filter_map(|l| l.load_balancer_arn().map(str::to_string)),
        );
    }
    let mut tgs = Vec::new();
    let mut pages = elb.describe_target_groups().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.expect("DescribeTargetGroups");
        tgs.extend(
            page.target_groups()
                .iter()
                .filter_map(|t| t.target_group_arn().map(str::to_string)),
        );
    }
    let mut ours = BTreeSet::new();
    for chunk in lbs
        .iter()
        .chain(&tgs)
        .cloned()
        .collect::<Vec<_>>()
        .chunks(20)
    {
        let tags = elb
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .expect("DescribeTags");
        for d in tags.tag_descriptions() {
            let mine = d
                .tags()
                .iter()
                .any(|t| t.key() == Some("pedestal:stack") && t.value() == Some(stack));
            if let (true, Some(arn)) = (mine, d.resource_arn()) {
                ours.insert(arn.to_string());
            }
        }
    }
    for tg in tgs.iter().filter(|a| ours.contains(*a)) {
        out.insert(format!("target_group:{tg}"));
    }
    for lb in lbs.iter().filter(|a| ours.contains(*a)) {
        out.insert(format!("load_balancer:{lb}"));
        let listeners = elb
            .describe_listeners()
            .load_balancer_arn(lb)
            .send()
            .await
            .expect("DescribeListeners");
        for l in listeners.listeners() {
            let Some(arn) = l.listener_arn() else {
                continue;
            };
            out.insert(format!("lb_listener:{arn}"));
            let rules = elb
                .describe_rules()
                .listener_arn(arn)
                .send()
                .await
                .expect("DescribeRules");
            for r in rules.rules() {
                if r.is_default() != Some(true)
                    && let Some(rule) = r.rule_arn()
                {
                    out.insert(format!("listener_rule:{rule}"));
                }
            }
        }
    }
}

async fn live_services(c: &Ctx, cluster: &str, out: &mut BTreeSet<String>) {
    let ecs = c.ecs();
    let mut arns: Vec<String> = Vec::new();
    let mut pages = ecs.list_services().cluster(cluster).into_paginator().send();
    while let Some(page) = pages.next().await {
        arns.extend(page.expect("ListServices").service_arns().iter().cloned());
    }
    for chunk in arns.chunks(10) {
        let described = ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .send()
            .await
            .expect("DescribeServices");
        for s in described.services() {
            if s.status() == Some("ACTIVE") {
                out.insert(format!(
                    "service:{cluster}/{}",
                    s.service_name().unwrap_or("")
                ));
            }
        }
    }
}

fn last(s: &str, sep: char) -> &str {
    s.rsplit(sep).next().unwrap_or(s)
}

fn after<'a>(s: &'a str, marker: &str) -> &'a str {
    s.split_once(marker).map(|(_, r)| r).unwrap_or(s)
}

/// What `state` records, as the same `kind:name` entries as [`live`].
pub fn recorded(state: &State) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in state.resources.values() {
        let id = r.id.as_str();
        out.insert(match r.kind {
            ResourceKind::S3Bucket => format!("bucket:{}", after(id, "arn:aws:s3:::")),
            ResourceKind::S3Object => match id.strip_prefix("s3://") {
                Some(rest) => format!("object:{rest}"),
                None => {
                    let bucket = r.attrs.get("bucket").and_then(|v| v.as_str()).unwrap_or("");
                    format!("object:{bucket}/{id}")
                }
            },
            ResourceKind::EcsCluster => format!("cluster:{}", last(id, '/')),
            ResourceKind::EcsService => format!("service:{}", after(id, "service/")),
            ResourceKind::EcsTaskDefinition => {
                format!("taskdef:{}", after(id, "task-definition/"))
            }
            ResourceKind::LogGroup => format!(
                "loggroup:{}",
                after(id, "log-group:").trim_end_matches(":*")
            ),
            ResourceKind::ScalingTarget => format!("scaling:{id}"),
            ResourceKind::CloudwatchAlarm => format!("alarm:{}", after(id, ":alarm:")),
            // Load balancers, listeners, target groups and listener rules, by ARN.
            other => format!("{other}:{id}"),
        });
    }
    out
}

/// Task definition revisions the state's release history names (kept ACTIVE for rollback).
fn released(state: &State) -> BTreeSet<String> {
    state
        .releases
        .values()
        .flatten()
        .map(|r| {
            format!(
                "taskdef:{}",
                after(&r.task_definition_arn, "task-definition/")
            )
        })
        .collect()
}

/// Asserts that what lives in moto under `stack` is exactly what `state` records (revisions
/// named by the release history may also live). `when` says which run this follows.
pub async fn assert_matches_state(c: &Ctx, stack: &str, state: &State, when: &str) {
    let live = live(c, stack).await;
    let recorded = recorded(state);
    let released = released(state);
    let orphans: Vec<&String> = live
        .iter()
        .filter(|l| !recorded.contains(*l) && !released.contains(*l))
        .collect();
    let missing: Vec<&String> = recorded.iter().filter(|r| !live.contains(*r)).collect();
    assert!(
        orphans.is_empty() && missing.is_empty(),
        "{when}: moto and state disagree\n  in moto, unknown to state: {orphans:?}\n  \
         in state, missing from moto: {missing:?}\n  live: {live:?}"
    );
}
