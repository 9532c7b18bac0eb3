//! Snapshots of the renderings over values the standard scenarios do not reach: keys that need
//! quoting (spaces, non-ASCII), strings with escapes, floats, lists diffed element by element,
//! nested maps with added and removed keys, secrets, unknown values, a deleted resource under
//! drift, sensitive outputs, colour, `state show`, and cost sections with every kind of line.

use pedestal::addr::Address;
use pedestal::cost::{CostEstimate, EndpointCost, Side};
use pedestal::plan::{
    Action, Drift, OutputChange, Plan, PlanOptions, Reason, ResourceChange, plan,
};
use pedestal::render::{self, HumanOptions};
use pedestal::resource::{Attrs, ResourceKind, Value};
use pedestal::state::{ResourceState, Status};

use super::fixture::{self, Endpoint};

fn s(v: &str) -> Value {
    Value::str(v)
}

fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(attrs(entries))
}

fn attrs(entries: &[(&str, Value)]) -> Attrs {
    entries
        .iter()
        .map(|(k, v)| (pedestal::resource::Key::intern(k), v.clone()))
        .collect()
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|i| s(i)).collect())
}

fn secret(v: &str) -> Value {
    Value::Sensitive(Box::new(s(v)))
}

/// Attributes before: every shape of value the renderer distinguishes.
fn odd_before() -> Attrs {
    attrs(&[
        ("bucket", s("odd-bucket")),
        ("a key", s("spaced")),
        ("ключ", s("кириллица")),
        ("escapes", s("line\nbreak\t\"quoted\" \\ é \u{7}")),
        ("ratio", Value::Float(1.5)),
        ("count", Value::Int(-3)),
        ("flag", Value::Bool(false)),
        ("items", list(&["a", "b", "c", "d", "e"])),
        ("ids", list(&["x", "y"])),
        (
            "nested",
            map(&[
                ("keep", s("same")),
                ("gone", s("old")),
                ("deep", map(&[("x", Value::Int(1)), ("z", Value::Null)])),
                ("odd key!", Value::Int(7)),
            ]),
        ),
        ("tags", map(&[("team", s("ml")), ("cost-centre", s("42"))])),
        ("token", secret("hunter2")),
        ("other_token", secret("one")),
        ("redacted", Value::Redacted("sha256:abc".into())),
        ("empties", Value::List(vec![])),
        ("empty_map", map(&[])),
        ("removed_list", list(&["p", "q"])),
        ("removed_map", map(&[("k", s("v"))])),
        ("to_unknown", list(&["u"])),
        ("kind_change", map(&[("a", Value::Int(1))])),
        ("nothing", Value::Null),
    ])
}

/// Attributes after: each of the above changed in its own way.
fn odd_after() -> Attrs {
    attrs(&[
        ("bucket", s("odd-bucket")),
        ("a key", s("spaced out")),
        ("ключ", s("кириллица")),
        ("escapes", s("line\nbreak\t\"quoted\" \\ è \u{7}")),
        ("ratio", Value::Float(2.25)),
        ("count", Value::Int(4)),
        ("flag", Value::Bool(true)),
        ("items", list(&["a", "c", "d", "x", "e"])),
        ("ids", list(&["x", "y", "z"])),
        (
            "nested",
            map(&[
                ("keep", s("same")),
                ("new", s("added")),
                ("deep", map(&[("x", Value::Int(2)), ("y", list(&["n"]))])),
                ("odd key!", Value::Int(7)),
            ]),
        ),
        ("tags", map(&[("team", s("ml")), ("cost-centre", s("43"))])),
        ("token", secret("hunter3")),
        ("other_token", s("now plain")),
        ("redacted", Value::Redacted("sha256:abc".into())),
        ("empties", Value::List(vec![])),
        ("empty_map", map(&[])),
        ("added_list", list(&["r"])),
        ("added_map", map(&[("k", s("v")), ("e", map(&[]))])),
        ("to_unknown", Value::Unknown),
        ("kind_change", s("flat")),
        ("unknown_new", Value::Unknown),
        ("nothing", Value::Null),
    ])
}

fn change(
    address: &str,
    action: Action,
    before: Option<Attrs>,
    after: Option<Attrs>,
) -> ResourceChange {
    ResourceChange {
        address: Address::new(address),
        kind: ResourceKind::S3Bucket,
        action,
        reason: None,
        before,
        after,
        replace_paths: vec![],
        id: None,
        depends_on: Default::default(),
        lifecycle: Default::default(),
    }
}

/// A real plan (a release with its cost section) plus synthetic changes of odd values.
fn odd_plan() -> Plan {
    let base = fixture::config(&[Endpoint::new("fraud"), Endpoint::new("churn")]);
    let state = fixture::applied(&base, 3);
    let mut e = Endpoint::new("fraud");
    e.version = "1.4.0".into();
    e.image_tag = "2.5.0".into();
    let config = fixture::config(&[e, Endpoint::new("churn")]);
    let mut p = plan(&config, &state, &PlanOptions::default()).unwrap();
    let mut update = change(
        "storage.odd.bucket",
        Action::Update,
        Some(odd_before()),
        Some(odd_after()),
    );
    update.reason = Some(Reason::SpecChanged {
        attrs: vec!["a key".into(), "items".into()],
    });
    let mut replace = change(
        "storage.replaced.bucket",
        Action::DeleteThenCreate,
        Some(odd_before()),
        Some(odd_after()),
    );
    replace.reason = Some(Reason::ForcedBy {
        attrs: vec!["bucket".into(), "nested".into()],
    });
    replace.replace_paths = vec!["a key".into(), "nested".into(), "added_map".into()];
    let mut cbd = change(
        "storage.swapped.bucket",
        Action::CreateThenDelete,
        Some(attrs(&[("bucket", s("one"))])),
        Some(attrs(&[("bucket", s("two"))])),
    );
    cbd.reason = Some(Reason::Tainted);
    let mut gone = change(
        "storage.gone.bucket",
        Action::Delete,
        Some(odd_before()),
        None,
    );
    gone.reason = Some(Reason::NotInSpec);
    let created = change(
        "storage.new.bucket",
        Action::Create,
        None,
        Some(odd_after()),
    );
    p.changes.extend([update, replace, cbd, gone, created]);
    p.drift.push(Drift {
        address: Address::new("storage.odd.bucket"),
        kind: ResourceKind::S3Bucket,
        before: odd_before(),
        after: Some(odd_after()),
    });
    p.drift.push(Drift {
        address: Address::new("storage.gone.bucket"),
        kind: ResourceKind::S3Bucket,
        before: odd_before(),
        after: None,
    });
    let out = |before: Option<Value>, after: Option<Value>, sensitive: bool| OutputChange {
        before,
        after,
        sensitive,
    };
    p.outputs
        .insert("a".into(), out(None, Some(s("new")), false));
    p.outputs.insert(
        "longer_name".into(),
        out(Some(s("x")), Some(list(&["y"])), false),
    );
    p.outputs
        .insert("password".into(), out(Some(s("p1")), Some(s("p2")), true));
    p.outputs
        .insert("removed".into(), out(Some(Value::Int(1)), None, false));
    p.targets = vec!["storage.odd.bucket".into(), "endpoint.fraud".into()];
    p
}

#[test]
fn odd_values_render_the_same_in_every_format() {
    let p = odd_plan();
    let plain = render::human(&p, &HumanOptions { color: false });
    assert!(!plain.contains("hunter"), "{plain}");
    insta::assert_snapshot!("edges_human", plain);
    let color = render::human(&p, &HumanOptions { color: true });
    insta::assert_snapshot!("edges_human_color", color);
    insta::assert_snapshot!("edges_detail", render::human::detail(&p));
    let md = render::markdown(&p);
    assert!(!md.contains("hunter"), "{md}");
    insta::assert_snapshot!("edges_markdown", md);
    let json = render::json(&p);
    assert!(!json.contains("hunter"), "{json}");
    insta::assert_snapshot!("edges_json", json);
}

#[test]
fn state_show_renders_every_value_shape() {
    let r = ResourceState {
        kind: ResourceKind::S3Bucket,
        id: "odd-bucket".into(),
        attrs: odd_after(),
        dependencies: Default::default(),
        status: Status::Tainted,
    };
    insta::assert_snapshot!(
        "edges_state_show",
        render::human::state_resource("storage.odd.bucket", &r)
    );
}

fn side(replicas: Option<i64>, cpu: Option<i64>, memory: Option<i64>, cents: Option<i64>) -> Side {
    Side {
        capacity: "FARGATE".into(),
        cpu,
        max_replicas: None,
        max_monthly_cents: None,
        memory,
        monthly_cents: cents,
        region: "us-east-1".into(),
        replicas,
        unpriced: None,
    }
}

/// Every kind of cost line: new, removed, unchanged, up, down, with a ceiling, unpriced on one
/// or both sides, sizes unknown, fractional sizes; and more endpoints than the comment lists.
fn odd_cost() -> CostEstimate {
    let mut endpoints = Vec::new();
    let ep = |name: &str, before: Option<Side>, after: Option<Side>| EndpointCost {
        after,
        before,
        endpoint: name.into(),
    };
    endpoints.push(ep(
        "endpoint.a_new",
        None,
        Some(side(Some(2), Some(1024), Some(2048), Some(7208))),
    ));
    endpoints.push(ep(
        "endpoint.b_removed",
        Some(side(Some(1), Some(256), Some(512), Some(901))),
        None,
    ));
    let mut ceiling = side(Some(1), Some(512), Some(1024), Some(1802));
    ceiling.max_replicas = Some(4);
    ceiling.max_monthly_cents = Some(7208);
    ceiling.capacity = "FARGATE+FARGATE_SPOT".into();
    endpoints.push(ep(
        "endpoint.c_same",
        Some(ceiling.clone()),
        Some(ceiling.clone()),
    ));
    endpoints.push(ep(
        "endpoint.d_up",
        Some(side(Some(2), Some(1024), Some(2048), Some(7208))),
        Some(ceiling),
    ));
    endpoints.push(ep(
        "endpoint.e_down",
        Some(side(Some(3), Some(1536), Some(3072), Some(123_456_789))),
        Some(side(Some(1), Some(1100), Some(3000), Some(5))),
    ));
    let mut gpu = side(Some(1), Some(4096), Some(8192), None);
    gpu.capacity = "EC2".into();
    gpu.unpriced = Some("runs on EC2 capacity: instance cost not estimated".into());
    endpoints.push(ep(
        "endpoint.f_gpu",
        Some(side(Some(1), Some(4096), Some(8192), Some(100))),
        Some(gpu.clone()),
    ));
    endpoints.push(ep(
        "endpoint.g_unknown",
        None,
        Some(side(None, None, None, None)),
    ));
    endpoints.push(ep("endpoint.h_both_unpriced", Some(gpu.clone()), Some(gpu)));
    for i in 0..60 {
        let cents = Some(100 + i);
        endpoints.push(ep(
            &format!("endpoint.z{i:03}"),
            Some(side(Some(1), Some(256), Some(512), cents)),
            Some(side(Some(1), Some(256), Some(512), cents)),
        ));
    }
    CostEstimate {
        after_cents: 1_234_567,
        before_cents: 123_469_000,
        delta_cents: 1_234_567 - 123_469_000,
        endpoints,
        hours_per_month: 730,
        prices_date: "2026-11-01".into(),
        prices_source: "https://aws.amazon.com/fargate/pricing/".into(),
    }
}

#[test]
fn cost_sections_render_every_kind_of_line() {
    let c = odd_cost();
    insta::assert_snapshot!("edges_cost_human", render::cost::human(&c));
    insta::assert_snapshot!("edges_cost_markdown", render::cost::markdown(&c));
    assert_eq!(render::cost::human(&CostEstimate::default()), "");
    assert_eq!(render::cost::markdown(&CostEstimate::default()), "");
}
