//! Snapshots of the three renderings over the standard scenarios, plus a plan too large for a
//! single pull-request comment.

use pedestal::plan::{Drift, Plan, PlanMode, PlanOptions, plan};
use pedestal::render::{self, HumanOptions, MAX_COMMENT_CHARS};
use pedestal::resource::Value;
use pedestal::state::State;

use super::fixture::{self, Endpoint, addr};

fn fraud() -> Endpoint {
    Endpoint::new("fraud")
}

fn scenario(name: &str) -> Plan {
    let base = fixture::config(&[fraud(), Endpoint::new("churn")]);
    let state = fixture::applied(&base, 3);
    match name {
        "create_all" => plan(
            &fixture::config(&[fraud()]),
            &State::new(fixture::STACK, fixture::ENV),
            &PlanOptions::default(),
        ),
        "no_changes" => plan(&base, &state, &PlanOptions::default()),
        "release_bump" => {
            let mut e = fraud();
            e.version = "1.4.0".into();
            e.artifact = "1.4.0".into();
            e.image_tag = "2.5.0".into();
            e.max = 20;
            let config = fixture::config(&[e, Endpoint::new("churn")]);
            plan(&config, &state, &PlanOptions::default())
        }
        "digest_pin" => {
            // The same release, its image now pinned by digest.
            let mut e = fraud();
            e.image_tag = format!("2.4.1@sha256:{}", "0123456789abcdef".repeat(4));
            let config = fixture::config(&[e, Endpoint::new("churn")]);
            plan(&config, &state, &PlanOptions::default())
        }
        "env_var_change" => {
            let mut e = fraud();
            e.log_level = "debug".into();
            let config = fixture::config(&[e, Endpoint::new("churn")]);
            plan(&config, &state, &PlanOptions::default())
        }
        "forced_replacement" => {
            // The cluster renamed in the spec: the cluster and everything that names it is
            // replaced.
            let renamed = fixture::Spec::new(&[fraud(), Endpoint::new("churn")])
                .replace(
                    "[compute.serving]\n",
                    "[compute.serving]\nname = \"fraud-detection-prod-serving-v2\"\n",
                )
                .load();
            plan(&renamed, &state, &PlanOptions::default())
        }
        "orphan_delete" => plan(
            &fixture::config(&[fraud()]),
            &state,
            &PlanOptions::default(),
        ),
        "destroy" => plan(
            &base,
            &state,
            &PlanOptions {
                mode: PlanMode::Destroy,
                ..Default::default()
            },
        ),
        "drift" => {
            // Someone pointed the service at the previous revision by hand: refresh reads the
            // service's task definition back (its desired count is autoscaling's, never drift).
            let mut refreshed = state.clone();
            let svc = addr("endpoint.fraud.service");
            let before = refreshed.resources[&svc].attrs.clone();
            let previous = before["task_definition"]
                .as_str()
                .unwrap()
                .replace(":3", ":2");
            refreshed
                .resources
                .get_mut(&svc)
                .unwrap()
                .attrs
                .insert("task_definition".into(), Value::str(previous));
            let after = refreshed.resources[&svc].attrs.clone();
            let opts = PlanOptions {
                drift: vec![Drift {
                    address: svc,
                    kind: pedestal::resource::ResourceKind::EcsService,
                    before,
                    after: Some(after),
                }],
                ..Default::default()
            };
            plan(&base, &refreshed, &opts)
        }
        other => panic!("unknown scenario {other}"),
    }
    .unwrap()
}

const SCENARIOS: [&str; 9] = [
    "create_all",
    "no_changes",
    "release_bump",
    "digest_pin",
    "env_var_change",
    "forced_replacement",
    "orphan_delete",
    "destroy",
    "drift",
];

#[test]
fn human_snapshots() {
    for name in SCENARIOS {
        let text = render::human(&scenario(name), &HumanOptions { color: false });
        assert!(!text.contains('\x1b'), "no colour unless asked");
        insta::assert_snapshot!(format!("human_{name}"), text);
    }
}

#[test]
fn json_snapshots() {
    for name in SCENARIOS {
        let text = render::json(&scenario(name));
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["format_version"], "1.0");
        insta::assert_snapshot!(format!("json_{name}"), text);
    }
}

#[test]
fn markdown_snapshots() {
    for name in SCENARIOS {
        let text = render::markdown(&scenario(name));
        assert!(text.contains("<!-- pedestal:fraud-detection/prod -->"));
        insta::assert_snapshot!(format!("markdown_{name}"), text);
    }
}

#[test]
fn one_env_var_renders_as_one_changed_line() {
    let text = render::human(&scenario("env_var_change"), &HumanOptions { color: false });
    let changed: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("~ ") && l.contains("->"))
        .collect();
    assert!(
        changed
            .iter()
            .any(|l| l.trim() == "~ LOG_LEVEL = \"info\" -> \"debug\""),
        "{text}"
    );
    assert!(
        !text.contains("MODEL_NAME"),
        "unchanged env vars are hidden:\n{text}"
    );
}

#[test]
fn colour_only_when_asked() {
    let text = render::human(&scenario("release_bump"), &HumanOptions { color: true });
    assert!(text.contains("\x1b[33m~\x1b[0m"));
}

#[test]
fn secrets_never_appear_in_any_rendering() {
    let mut config = fixture::config(&[fraud()]);
    config
        .resources
        .get_mut(&addr("endpoint.fraud.log_group"))
        .unwrap()
        .attrs
        .insert(
            "token".into(),
            Value::Sensitive(Box::new(Value::str("hunter2"))),
        );
    let p = plan(
        &config,
        &State::new(fixture::STACK, fixture::ENV),
        &PlanOptions::default(),
    )
    .unwrap();
    for text in [
        render::human(&p, &HumanOptions::default()),
        render::json(&p),
        render::markdown(&p),
        serde_json::to_string(&p).unwrap(),
    ] {
        assert!(!text.contains("hunter2"));
    }
    let doc: serde_json::Value = serde_json::from_str(&render::json(&p)).unwrap();
    let lg = doc["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "endpoint.fraud.log_group")
        .unwrap();
    assert_eq!(lg["after"]["token"], serde_json::Value::Null);
    assert_eq!(lg["after_sensitive"]["token"], true);
    assert_eq!(lg["after_unknown"]["arn"], true);
    assert_eq!(lg["actions"], serde_json::json!(["create"]));
}

#[test]
fn huge_plan_fits_one_comment_with_summary_kept() {
    let endpoints: Vec<Endpoint> = (0..1000)
        .map(|i| Endpoint::new(&format!("m{i:04}")))
        .collect();
    let config = fixture::config(&endpoints);
    assert!(config.resources.len() >= 5000);
    let p = plan(
        &config,
        &State::new(fixture::STACK, fixture::ENV),
        &PlanOptions::default(),
    )
    .unwrap();
    let text = render::markdown(&p);
    assert!(text.len() < MAX_COMMENT_CHARS, "{} chars", text.len());
    // Per endpoint: object, log group, task role, task definition, service, scaling target.
    assert!(text.starts_with("**Plan: 6002 to add, 0 to change, 0 to destroy.**"));
    assert!(text.contains("lines cut from the middle"));
    assert!(text.contains("<!-- pedestal:fraud-detection/prod -->"));
    assert!(text.contains("</details>"));
    // Both ends of the detail survive.
    assert!(text.contains("# compute.serving.cluster will be created"));
    assert!(text.contains("# endpoint.m0999.scaling will be created"));
    insta::assert_snapshot!("markdown_huge", text);
    let human = render::human(&p, &HumanOptions::default());
    assert!(human.contains("Plan: 6002 to add, 0 to change, 0 to destroy."));
}

/// A stack whose endpoint has alarms, lowered from its spec text.
fn alarm_config(cpu_high: i64) -> pedestal::spec::Config {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pedestal.toml"),
        format!(
            r#"[stack]
name = "alarms"

[provider.aws]
network = {{ subnets = ["subnet-1"], security_groups = ["sg-1"] }}

[compute.serving]

[endpoint.fraud]
compute = "serving"
image = "repo/fraud:1"
model = {{ version = "1.0.0" }}
alarms = {{ cpu_high = {cpu_high}, memory_high = 90, notify = ["arn:aws:sns:us-east-1:123456789012:releases"] }}
"#
        ),
    )
    .unwrap();
    pedestal::spec::load(dir.path(), &pedestal::spec::LoadOptions::env("dev"))
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)))
}

#[test]
fn alarm_plan_snapshots() {
    let config = alarm_config(90);
    let created = plan(
        &config,
        &State::new("alarms", "dev"),
        &PlanOptions::default(),
    )
    .unwrap();
    let human = |p: &Plan| render::human(p, &HumanOptions { color: false });
    insta::assert_snapshot!("human_alarms_create", human(&created));
    let state = fixture::applied(&config, 1);
    let changed = plan(&alarm_config(75), &state, &PlanOptions::default()).unwrap();
    let text = human(&changed);
    assert!(
        text.contains("endpoint.fraud.alarm.cpu_high will be updated in-place"),
        "{text}"
    );
    insta::assert_snapshot!("human_alarms_threshold_change", text);
}

/// A plan whose user-supplied text is hostile: HTML in a version and an output name, backticks
/// in a target, an address and a value shown in the diff, markdown in an image tag. The
/// snapshot shows every piece inert; the assertions pin the structure.
#[test]
fn markdown_escapes_user_supplied_text() {
    let hostile = "1.4.0</details><script>alert(1)</script>";
    let mut e = fraud();
    e.version = hostile.into();
    e.image_tag = "2.5.0**_[x](http://e)".into();
    e.log_level = "```\n</details>\n<img src=x onerror=alert(2)>".into();
    let base = fixture::config(&[fraud(), Endpoint::new("churn")]);
    let state = fixture::applied(&base, 3);
    let config = fixture::config(&[e, Endpoint::new("churn")]);
    let mut p = plan(&config, &state, &PlanOptions::default()).unwrap();
    p.targets = vec!["endpoint.`fraud`".into(), "``x".into()];
    p.outputs.insert(
        "</details><b>out</b>".into(),
        pedestal::plan::OutputChange {
            before: None,
            after: Some(Value::str("v")),
            sensitive: false,
        },
    );
    p.changes[0].address = pedestal::addr::Address::new("endpoint.a`b<i>`.service");
    p.changes[0].action = pedestal::plan::Action::Delete;
    let text = render::markdown(&p);
    insta::assert_snapshot!("markdown_hostile", text);

    // One <details> block, closed once, after the fence that holds the diff.
    assert_eq!(text.matches("<details>").count(), 1, "{text}");
    let closing: Vec<&str> = text.lines().filter(|l| *l == "</details>").collect();
    assert_eq!(closing.len(), 1, "{text}");
    // Outside code (spans and the fenced diff), no tag survives.
    let prose = outside_code(&text);
    for tag in ["<script", "<img", "<b>", "<i>", "</details><"] {
        assert!(!prose.contains(tag), "{tag} is live in:\n{prose}");
    }
    // The release line keeps the version whole, inside a code span.
    assert!(
        text.contains("`1.4.0</details><script>alert(1)</script>`"),
        "{text}"
    );
    // The warning reads as a warning where the alert syntax is not understood.
    assert!(
        text.contains("> **⚠ Warning:** this plan **destroys 1 resource"),
        "{text}"
    );
    assert!(
        text.contains(
            "> **Note:** resource targeting is in effect: `` endpoint.`fraud` ``, ``` ``x ```"
        ),
        "{text}"
    );
}

/// `text` with inline code spans and fenced blocks removed (a CommonMark-ish scan that is
/// enough for the renderer's output: fences open at column 0, spans close on the same line).
fn outside_code(text: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let ticks: String = line.chars().take_while(|c| *c == '`').collect();
        if let Some(f) = &fence {
            if ticks.len() >= f.len() && line.trim_end() == ticks {
                fence = None;
            }
            continue;
        }
        if ticks.len() >= 3 {
            fence = Some(ticks);
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find('`') {
            out.push_str(&rest[..start]);
            let run = rest[start..].chars().take_while(|c| *c == '`').count();
            let after = &rest[start + run..];
            let closer = "`".repeat(run);
            let mut search = 0;
            let mut end = None;
            while let Some(i) = after[search..].find(&closer) {
                let at = search + i;
                let more = after[at + run..].starts_with('`');
                if !more && (at == 0 || !after[..at].ends_with('`')) {
                    end = Some(at);
                    break;
                }
                search = at + run;
            }
            match end {
                Some(e) => rest = &after[e + run..],
                None => {
                    out.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}
