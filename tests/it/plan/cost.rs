//! The cost section against a hand computation, and the cost-delta policy refusing a plan.
//!
//! Prices (us-east-1, Linux/x86 on demand, table of 2026-11-01): $0.04048 per vCPU-hour,
//! $0.004445 per GB-hour; a month is 730 hours.

use std::path::Path;

use pedestal::cost::{self, prices};
use pedestal::plan::{PlanError, PlanOptions, plan};
use pedestal::spec::{self, Config, LoadOptions};
use pedestal::state::State;

use super::fixture;

fn load(dir: &str) -> Config {
    spec::load(Path::new(dir), &LoadOptions::env("dev")).expect("the cost stacks are valid")
}

fn line<'a>(c: &'a cost::CostEstimate, endpoint: &str) -> &'a cost::EndpointCost {
    c.endpoints
        .iter()
        .find(|e| e.endpoint == endpoint)
        .unwrap_or_else(|| panic!("{endpoint} has a cost line"))
}

fn cents(s: &Option<cost::Side>) -> Option<i64> {
    s.as_ref().and_then(|s| s.monthly_cents)
}

#[test]
fn cost_lines_match_a_hand_computation() {
    let v1 = load("tests/cost/v1");
    let applied: State = fixture::applied(&v1, 1);
    let p = plan(&load("tests/cost/v2"), &applied, &PlanOptions::default()).unwrap();
    let c = &p.cost;
    assert_eq!(
        (c.hours_per_month, c.prices_date.as_str()),
        (730, "2026-11-01")
    );

    // endpoint.fraud: 1 vCPU, 2 GB per task.
    //   per task-hour  1 × 0.04048 + 2 × 0.004445 = 0.04937
    //   per task-month 0.04937 × 730             = 36.0401
    //   before 2 tasks: 72.0802  → $72.08;  after 3 tasks: 108.1203 → $108.12
    let fraud = line(c, "endpoint.fraud");
    assert_eq!(
        (cents(&fraud.before), cents(&fraud.after)),
        (Some(7208), Some(10812))
    );
    assert_eq!(fraud.after.as_ref().unwrap().replicas, Some(3));
    assert_eq!(fraud.after.as_ref().unwrap().max_replicas, None);

    // endpoint.churn: 0.5 vCPU, 1 GB, autoscaling 1..4 (unchanged).
    //   per task-hour  0.5 × 0.04048 + 1 × 0.004445 = 0.024685
    //   per task-month 0.024685 × 730               = 18.02005
    //   min 1 task:  18.02005 → $18.02;  ceiling 4 tasks: 72.0802 → $72.08
    let churn = line(c, "endpoint.churn");
    let after = churn.after.as_ref().unwrap();
    assert_eq!(
        (cents(&churn.before), after.monthly_cents),
        (Some(1802), Some(1802))
    );
    assert_eq!(
        (after.max_replicas, after.max_monthly_cents),
        (Some(4), Some(7208))
    );
    assert_eq!(
        after.price_text(),
        "$18.02/mo, up to $72.08/mo at max 4 replicas"
    );

    // endpoint.rank (new): 0.25 vCPU, 0.5 GB, 1 task.
    //   0.25 × 0.04048 + 0.5 × 0.004445 = 0.0123425; × 730 = 9.010025 → $9.01
    let rank = line(c, "endpoint.rank");
    assert_eq!((cents(&rank.before), cents(&rank.after)), (None, Some(901)));

    // Stack: before 72.08 + 18.02 = 90.10; after 108.12 + 18.02 + 9.01 = 135.15; +45.05.
    assert_eq!(
        (c.before_cents, c.after_cents, c.delta_cents),
        (9010, 13515, 4505)
    );

    let human = pedestal::render::human(&p, &Default::default());
    assert!(
        human.contains("  endpoint.fraud: $72.08/mo -> $108.12/mo (+$36.04/mo)\n"),
        "{human}"
    );
    assert!(
        human.contains("  Total: $90.10/mo -> $135.15/mo (+$45.05/mo)\n"),
        "{human}"
    );
    let md = pedestal::render::markdown(&p);
    assert!(
        md.contains("**Monthly cost: $90.10 → $135.15 (+$45.05)**"),
        "{md}"
    );
    let json: serde_json::Value = serde_json::from_str(&pedestal::render::json(&p)).unwrap();
    assert_eq!(json["cost"]["delta_cents"], 4505);
    assert_eq!(json["cost"]["endpoints"][0]["endpoint"], "endpoint.churn");

    // The same inputs give the same bytes.
    let again = plan(&load("tests/cost/v2"), &applied, &PlanOptions::default()).unwrap();
    assert_eq!(pedestal::render::json(&p), pedestal::render::json(&again));
}

#[test]
fn spot_and_unpriced_regions() {
    let us = prices::fargate("us-east-1").unwrap();
    // 2 tasks of 1 vCPU / 2 GB all on FARGATE_SPOT at 70% off: 72.0802 × 0.3 = 21.62406 → $21.62.
    let spot = [("FARGATE_SPOT".to_string(), 1, 0)];
    assert_eq!(cost::monthly_cents(us, 1024, 2048, 2, Some(&spot)), 2162);
    // 4 tasks, base 1 on FARGATE, the other 3 split FARGATE 1 : FARGATE_SPOT 3 → 1.75 on
    // demand, 2.25 on Spot: 36.0401 × (1.75 + 2.25 × 0.3) = 36.0401 × 2.425 = 87.3972… → $87.40.
    let mixed = [
        ("FARGATE".to_string(), 1, 1),
        ("FARGATE_SPOT".to_string(), 3, 0),
    ];
    assert_eq!(cost::monthly_cents(us, 1024, 2048, 4, Some(&mixed)), 8740);
    assert_eq!(prices::fargate("sa-east-1"), None);
}

#[test]
fn a_region_without_a_price_is_named_and_left_out_of_the_total() {
    let mut v1 = load("tests/cost/v1");
    v1.region = "sa-east-1".into();
    for r in v1.resources.values_mut() {
        if let Some(pedestal::resource::Value::Map(c)) = r.attrs.get_mut("container") {
            c.insert("region".into(), pedestal::resource::Value::str("sa-east-1"));
        }
    }
    let p = plan(&v1, &State::new("costs", "dev"), &PlanOptions::default()).unwrap();
    let fraud = line(&p.cost, "endpoint.fraud");
    let after = fraud.after.as_ref().unwrap();
    assert_eq!(after.monthly_cents, None);
    assert_eq!(
        after.unpriced.as_deref(),
        Some("no Fargate price for region sa-east-1 in the table of 2026-11-01")
    );
    assert_eq!(p.cost.after_cents, 0);
}

#[test]
fn the_cost_delta_policy_refuses_the_plan_at_its_location() {
    let applied = fixture::applied(&load("tests/cost/v1"), 1);
    let err = plan(
        &load("tests/cost/v2-budget"),
        &applied,
        &PlanOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        PlanError::CostPolicy {
            delta_cents: 4505,
            ..
        }
    ));
    insta::assert_snapshot!("cost_delta_policy", err.to_string());
}
