//! Stack generator for `scripts/bench-vs-terraform`: writes one graph shape at one size for
//! both tools, each with a matching recorded state and about 10% of the resources changed.
//!
//! Usage: `cargo bench --bench stacks -- DIR SHAPE RESOURCES`, SHAPE one of
//! - `flat`: independent buckets (`[storage.*]`);
//! - `chain`: buckets each depending on the one before (`depends_on`);
//! - `release`: release-shaped layers — one cluster, a tenth of the resources buckets, the rest
//!   endpoints (execution role and log group → task definition → service → scaling target,
//!   each task definition reading a bucket's name, each service running on the cluster).
//!
//! `DIR/pedestal` gets `pedestal.toml` (the changed spec) and `state/bench.json` (the state an
//! apply of the unchanged spec records); `DIR/terraform` gets `main.tf` with one
//! `terraform_data` per pedestal resource, the same dependency edges as references to the
//! dependencies' ids, and `terraform.tfstate` as Terraform would record the unchanged
//! configuration. The resources pedestal's planner finds changed are the ones whose `input`
//! changes in `main.tf`, so both tools plan the same number of changes on the same graph.
//! Prints `resources changed` on stdout.

// A benchmark reports on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/it/plan/fixture.rs"]
mod fixture;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use pedestal::addr::Address;
use pedestal::plan::{Action, PlanOptions, plan};
use pedestal::spec::{self, Config, LoadOptions};
use pedestal::state::{LocalStore, StateStore};

const HEADER: &str = "[stack]\nname = \"bench\"\nregion = \"us-east-1\"\n\n[provider.aws]\nregion = \"us-east-1\"\nnetwork = { subnets = [\"subnet-0a1b2c3d4e5f60001\"], security_groups = [\"sg-0a1b2c3d4e5f60001\"], public_ip = false }\n";

/// The spec of `shape` at about `n` resources; `changed` turns on the ~10% edit.
fn spec(shape: &str, n: usize, changed: bool) -> String {
    let mut s = String::from(HEADER);
    let bucket = |s: &mut String, i: usize, after: Option<usize>| {
        let versioning = changed && i.is_multiple_of(10);
        let _ = write!(s, "\n[storage.b{i:05}]\nversioning = {versioning}\n");
        if let Some(p) = after {
            let _ = writeln!(s, "depends_on = [\"storage.b{p:05}\"]");
        }
    };
    match shape {
        "flat" => (0..n).for_each(|i| bucket(&mut s, i, None)),
        "chain" => (0..n).for_each(|i| bucket(&mut s, i, i.checked_sub(1))),
        "release" => {
            // 1 cluster + B buckets + 5 per endpoint = n.
            let endpoints = n.saturating_sub(1 + n / 10) / 5;
            let buckets = (n - 1 - 5 * endpoints).max(1);
            s.push_str("\n[compute.cluster]\n");
            (0..buckets).for_each(|i| bucket(&mut s, i, None));
            for i in 0..endpoints {
                // Every fifth endpoint ships a new image: task definition and service change.
                let tag = if changed && i.is_multiple_of(5) {
                    "1.1.0"
                } else {
                    "1.0.0"
                };
                let _ = write!(
                    s,
                    "\n[endpoint.e{i:05}]\ncompute = \"cluster\"\nimage = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/m:{tag}\"\nmodel = {{ version = \"1\" }}\ncpu = 256\nmemory = 512\nport = 8080\nenvironment = {{ BUCKET = \"${{storage.b{b:05}.bucket}}\" }}\nautoscaling = {{ min = 1, max = 4, target_cpu = 60 }}\n",
                    b = i % buckets
                );
            }
        }
        other => panic!("unknown shape {other:?}: flat, chain or release"),
    }
    s
}

fn load(dir: &Path) -> Config {
    spec::load(dir, &LoadOptions::env("bench"))
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)))
}

/// `endpoint.e00001.service` → `endpoint_e00001_service`.
fn tf_name(a: &Address) -> String {
    a.as_str().replace(['.', '-'], "_")
}

/// A deterministic id shaped like the UUIDs `terraform_data` assigns.
fn tf_id(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

/// `main.tf` and `terraform.tfstate` mirroring `config`'s graph; `changed` inputs differ.
fn terraform(dir: &Path, config: &Config, changed: &BTreeSet<Address>) {
    let index: std::collections::BTreeMap<&Address, usize> = config
        .resources
        .keys()
        .enumerate()
        .map(|(i, a)| (a, i))
        .collect();
    let mut tf = String::new();
    let mut resources = Vec::new();
    for (i, (a, r)) in config.resources.iter().enumerate() {
        let name = tf_name(a);
        let value = format!(
            "{}:{}",
            r.kind.as_str(),
            r.physical_name().unwrap_or(a.as_str())
        );
        let deps: Vec<String> = r.depends_on.iter().map(tf_name).collect();
        let edit = if changed.contains(a) { "-changed" } else { "" };
        let refs: Vec<String> = deps
            .iter()
            .map(|d| format!("terraform_data.{d}.id"))
            .collect();
        let _ = write!(
            tf,
            "resource \"terraform_data\" \"{name}\" {{\n  input = {{\n    value = \"{value}{edit}\"\n    deps  = [{}]\n  }}\n}}\n\n",
            refs.join(", ")
        );
        let dep_ids: Vec<String> = r.depends_on.iter().map(|d| tf_id(index[d])).collect();
        let input = serde_json::json!({
            "value": {"deps": dep_ids, "value": value},
            "type": ["object", {"deps": ["tuple", vec!["string"; dep_ids.len()]], "value": "string"}],
        });
        let mut instance = serde_json::json!({
            "schema_version": 0,
            "attributes": {"id": tf_id(i), "input": input, "output": input, "triggers_replace": null},
            "sensitive_attributes": [],
        });
        if !deps.is_empty() {
            instance["dependencies"] = deps
                .iter()
                .map(|d| format!("terraform_data.{d}"))
                .collect::<Vec<_>>()
                .into();
        }
        resources.push(serde_json::json!({
            "mode": "managed",
            "type": "terraform_data",
            "name": name,
            "provider": "provider[\"terraform.io/builtin/terraform\"]",
            "instances": [instance],
        }));
    }
    let state = serde_json::json!({
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 1,
        "lineage": "6f1c2a0e-0000-4000-8000-000000000001",
        "outputs": {},
        "resources": resources,
        "check_results": null,
    });
    std::fs::create_dir_all(dir).expect("terraform dir");
    std::fs::write(dir.join("main.tf"), tf).expect("main.tf");
    let text = serde_json::to_string_pretty(&state).expect("state json");
    std::fs::write(dir.join("terraform.tfstate"), text).expect("terraform.tfstate");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, shape, n] = &args[..] else {
        eprintln!(
            "usage: stacks DIR flat|chain|release RESOURCES (see scripts/bench-vs-terraform)"
        );
        return;
    };
    let n: usize = n.parse().expect("RESOURCES is a number");
    let root = Path::new(dir);
    let ours = root.join("pedestal");
    std::fs::create_dir_all(&ours).expect("stack dir");
    std::fs::write(ours.join("pedestal.toml"), spec(shape, n, false)).expect("spec");
    let before = load(&ours);
    let recorded = fixture::applied(&before, 1);
    let store = LocalStore::new(ours.join("state/bench.json"), "bench", "bench");
    store.write(&recorded).expect("write state");
    std::fs::write(ours.join("pedestal.toml"), spec(shape, n, true)).expect("spec");
    let after = load(&ours);
    let p = plan(&after, &recorded, &PlanOptions::default()).expect("plan");
    let changed: BTreeSet<Address> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| c.address.clone())
        .collect();
    terraform(&root.join("terraform"), &before, &changed);
    println!("{} {}", after.resources.len(), changed.len());
}
