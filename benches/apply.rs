//! Apply benchmark against moto: N independent log groups created then destroyed at several
//! parallelism levels. Reports wall time, API calls the provider made, and time spent persisting
//! state, for both persistence strategies: the local store's journal (one fsynced append per
//! resource, one full write at the end) and a full atomic state rewrite after every resource.
//!
//! Run through `scripts/bench-apply` (which installs and starts moto and sets
//! `PEDESTAL_BENCH_ENDPOINT`). `PEDESTAL_BENCH_SIZES` (default `100,1000`) and
//! `PEDESTAL_BENCH_PARALLELISM` (default `1,10,50`) pick the grid.

// A benchmark reports on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use pedestal::addr::Address;
use pedestal::apply::{self, ApplyOptions, NullObserver, Persist, StorePersist};
use pedestal::ops::apply::FilePersist;
use pedestal::plan::{Action, Plan, PlanMode, ResourceChange, StateRef};
use pedestal::provider::Provider;
use pedestal::provider::aws::{AwsOptions, AwsProvider};
use pedestal::resource::{Attrs, Lifecycle, ResourceKind, Value};
use pedestal::state::State;

fn list(var: &str, default: &str) -> Vec<usize> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn plan(stack: &str, n: usize, state: &State, destroy: bool) -> Plan {
    let changes = if destroy {
        state
            .resources
            .iter()
            .map(|(a, rs)| ResourceChange {
                address: a.clone(),
                kind: rs.kind,
                action: Action::Delete,
                reason: None,
                before: Some(rs.attrs.clone()),
                after: None,
                replace_paths: vec![],
                id: Some(rs.id.clone()),
                depends_on: rs.dependencies.clone(),
                lifecycle: Lifecycle::default(),
            })
            .collect()
    } else {
        (0..n)
            .map(|i| {
                let addr = format!("endpoint.e{i:04}.log_group");
                let mut attrs = Attrs::new();
                attrs.insert("name".into(), Value::str(format!("/bench/{stack}/{i:04}")));
                attrs.insert("retention_days".into(), Value::Int(7));
                attrs.insert(
                    "tags".into(),
                    Value::Map(
                        [
                            ("pedestal:stack", stack),
                            ("pedestal:env", "bench"),
                            ("pedestal:address", addr.as_str()),
                        ]
                        .into_iter()
                        .map(|(k, v)| (pedestal::resource::Key::from(k), Value::str(v)))
                        .collect(),
                    ),
                );
                ResourceChange {
                    address: Address::new(addr),
                    kind: ResourceKind::LogGroup,
                    action: Action::Create,
                    reason: None,
                    before: None,
                    after: Some(attrs),
                    replace_paths: vec![],
                    id: None,
                    depends_on: Default::default(),
                    lifecycle: Lifecycle::default(),
                }
            })
            .collect()
    };
    Plan {
        format_version: pedestal::plan::FORMAT_VERSION.into(),
        stack: stack.into(),
        env: "bench".into(),
        mode: if destroy {
            PlanMode::Destroy
        } else {
            PlanMode::Normal
        },
        prior_state: StateRef::default(),
        spec_digest: String::new(),
        git_commit: None,
        provider: Default::default(),
        changes,
        drift: vec![],
        releases: vec![],
        prunes: vec![],
        outputs: Default::default(),
        targets: vec![],
        cost: Default::default(),
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let Ok(endpoint) = std::env::var("PEDESTAL_BENCH_ENDPOINT") else {
        eprintln!("PEDESTAL_BENCH_ENDPOINT is not set; run scripts/bench-apply");
        std::process::exit(2);
    };
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "static",
        ))
        .endpoint_url(&endpoint)
        .retry_config(pedestal::provider::aws::retry_config())
        .load()
        .await;
    let dir = std::env::temp_dir().join(format!("pedestal-bench-{}", std::process::id()));
    println!(
        "| resources | parallelism | persistence | apply wall | API calls | state serial | state write time | destroy wall | destroy API calls |"
    );
    println!("|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    let modes: Vec<String> = std::env::var("PEDESTAL_BENCH_PERSIST")
        .unwrap_or_else(|_| "journal,rewrite".into())
        .split(',')
        .map(str::to_string)
        .collect();
    for n in list("PEDESTAL_BENCH_SIZES", "100,1000") {
        for par in list("PEDESTAL_BENCH_PARALLELISM", "1,10,50") {
            for mode in &modes {
                let stack = format!("b{n}p{par}{mode}x{}", std::process::id());
                let provider = Arc::new(AwsProvider::from_sdk_config(&conf, AwsOptions::default()));
                let path = dir.join(format!("{stack}.json"));
                let mut state = State::new(&stack, "bench");
                let persist: Arc<dyn Persist> = if mode == "journal" {
                    let store: Arc<dyn pedestal::state::StateStore> =
                        Arc::new(pedestal::state::LocalStore::new(&path, &stack, "bench"));
                    store.write(&state).expect("initial state");
                    state = store.read().expect("read").expect("state");
                    Arc::new(StorePersist { store })
                } else {
                    Arc::new(FilePersist::new(&path))
                };
                let p = plan(&stack, n, &state, false);
                let calls0 = provider.api_calls();
                let t = Instant::now();
                let report = apply::apply(
                    &p,
                    state,
                    provider.clone(),
                    persist.clone(),
                    Arc::new(NullObserver),
                    ApplyOptions {
                        parallelism: par,
                        still_interval: Duration::from_secs(3600),
                        cancel: None,
                        abandon: None,
                    },
                )
                .await;
                let wall = t.elapsed();
                let calls = provider.api_calls() - calls0;
                assert!(report.ok(), "apply failed: {:?}", report.failures.first());
                let writes = report.state.serial;
                let persist_time = report.persist_time;
                let d = plan(&stack, n, &report.state, true);
                let calls1 = provider.api_calls();
                let t = Instant::now();
                let destroyed = apply::apply(
                    &d,
                    report.state,
                    provider.clone(),
                    persist,
                    Arc::new(NullObserver),
                    ApplyOptions {
                        parallelism: par,
                        still_interval: Duration::from_secs(3600),
                        cancel: None,
                        abandon: None,
                    },
                )
                .await;
                let dwall = t.elapsed();
                assert!(
                    destroyed.ok(),
                    "destroy failed: {:?}",
                    destroyed.failures.first()
                );
                println!(
                    "| {n} | {par} | {mode} | {:.2}s | {calls} | {writes} | {:.2}s | {:.2}s | {} |",
                    wall.as_secs_f64(),
                    persist_time.as_secs_f64(),
                    dwall.as_secs_f64(),
                    provider.api_calls() - calls1
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
