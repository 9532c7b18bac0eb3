//! Planner benchmark: a synthetic stack of N resources (5 per endpoint plus a bucket and a
//! cluster) against a matching recorded state with about 10% of the resources changed.
//! Measures reading the state file, planning and rendering; prints wall times and the peak
//! resident memory of the process. Run through `scripts/bench-plan` (release profile).
//!
//! Usage: `cargo bench --bench plan -- RESOURCES [RESOURCES...]` (each size in a fresh
//! process gives honest peak-memory figures; the script does that), or
//! `cargo bench --bench plan -- --e2e RESOURCES`: write a synthetic stack directory (4
//! resources per endpoint) and its recorded state, then time the real binary's
//! `pedestal plan --no-refresh` on it (spec loading included), under `/usr/bin/time` when present.

// A benchmark reports on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/it/plan/fixture.rs"]
mod fixture;

use std::time::{Duration, Instant};

use pedestal::plan::{PlanOptions, plan};
use pedestal::render::{self, HumanOptions};
use pedestal::state::{LocalStore, StateStore};

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn run(resources: usize) {
    let endpoints = (resources.saturating_sub(2) / 5).max(1);
    let base: Vec<fixture::Endpoint> = (0..endpoints)
        .map(|i| fixture::Endpoint::new(&format!("m{i:05}")))
        .collect();
    let recorded = fixture::applied(&fixture::config(&base), 3);
    // About 10% of resources change: a release (artifact, task definition, service), a scaling
    // limit, and an environment variable (task definition, service) per 10 endpoints.
    let desired: Vec<fixture::Endpoint> = base
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut e = e.clone();
            match i % 10 {
                0 => {
                    e.version = "1.4.0".into();
                    e.artifact = format!("{}-1.4.0", e.name);
                    e.image_tag = "2.5.0".into();
                }
                1 => e.max = 20,
                2 => e.log_level = "debug".into(),
                _ => {}
            }
            e
        })
        .collect();
    let config = fixture::config(&desired);

    let dir =
        std::env::temp_dir().join(format!("pedestal-bench-{}-{resources}", std::process::id()));
    let store = LocalStore::new(dir.join("prod.json"), fixture::STACK, fixture::ENV);
    store.write(&recorded).expect("write state");
    drop(recorded);
    let size = std::fs::metadata(store.path())
        .map(|m| m.len())
        .unwrap_or(0);
    // Setup (generating and writing the recorded state) is not part of `plan`: reset the
    // high-water mark so the peak below covers reading state, planning and rendering (with the
    // desired config alive, as in the CLI).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();

    let t = Instant::now();
    let state = store.read().expect("read state").expect("state exists");
    let read = t.elapsed();
    let t = Instant::now();
    let p = plan(&config, &state, &PlanOptions::default()).expect("plan");
    let planned = t.elapsed();
    let t = Instant::now();
    let human = render::human(&p, &HumanOptions::default());
    let human_t = t.elapsed();
    let peak_plan = peak_rss_mb();
    let t = Instant::now();
    let json = render::json(&p);
    let json_t = t.elapsed();
    let t = Instant::now();
    let md = render::markdown(&p);
    let md_t = t.elapsed();
    let total = read + planned + human_t;
    let s = p.summary();
    let changed = p
        .changes
        .iter()
        .filter(|c| c.action != pedestal::plan::Action::NoOp)
        .count();
    println!(
        "{} resources ({} changed: {} add, {} change, {} destroy), state file {:.1} MB",
        config.resources.len(),
        changed,
        s.add,
        s.change,
        s.destroy,
        size as f64 / 1e6
    );
    println!("  read state        {}", ms(read));
    println!("  plan              {}", ms(planned));
    println!(
        "  render human      {} ({} KB)",
        ms(human_t),
        human.len() / 1024
    );
    println!(
        "  render json       {} ({} KB)",
        ms(json_t),
        json.len() / 1024
    );
    println!("  render markdown   {} ({} chars)", ms(md_t), md.len());
    println!("  read+plan+human   {}", ms(total));
    if let Some(mb) = peak_plan {
        let note = if reset {
            ""
        } else {
            " (includes setup: clear_refs unavailable)"
        };
        println!(
            "  peak RSS after read+plan+human   {mb:.1} MB (the `plan --no-refresh` path){note}"
        );
    }
    if let Some(mb) = peak_rss_mb() {
        println!("  peak RSS after all renderers     {mb:.1} MB");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// End to end: a generated stack on disk, recorded state written, then the release binary.
fn e2e(resources: usize) {
    use std::fmt::Write as _;
    let endpoints = (resources.saturating_sub(3) / 4).max(1);
    let dir = std::env::temp_dir().join(format!("pedestal-e2e-{}-{resources}", std::process::id()));
    std::fs::create_dir_all(dir.join("artifacts")).expect("create stack dir");
    std::fs::write(dir.join("artifacts/model.onnx"), b"synthetic model").expect("artifact");
    let spec = |changed: bool| {
        let mut s = String::from(
            "[stack]\nname = \"bench\"\nregion = \"us-east-1\"\n\n[provider.aws]\nregion = \"us-east-1\"\nnetwork = { subnets = [\"subnet-0a1b2c3d4e5f60001\"], security_groups = [\"sg-0a1b2c3d4e5f60001\"], public_ip = false }\n\n[storage.models]\n\n[artifact.model]\nstorage = \"models\"\nsource = \"artifacts/model.onnx\"\n\n[compute.serving]\n",
        );
        for i in 0..endpoints {
            let (version, max, cpu) = match (changed, i % 10) {
                (true, 0) => ("1.1.0", 4, 256),
                (true, 1) => ("1.0.0", 8, 256),
                (true, 2) => ("1.0.0", 4, 512),
                _ => ("1.0.0", 4, 256),
            };
            let memory = if cpu == 512 { 1024 } else { 512 };
            let _ = write!(
                s,
                "\n[endpoint.e{i:05}]\ncompute = \"serving\"\nimage = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1.0.0\"\nmodel = {{ name = \"e{i:05}\", version = \"{version}\", artifact = \"${{artifact.model.uri}}\" }}\ncpu = {cpu}\nmemory = {memory}\nport = 8080\nautoscaling = {{ min = 1, max = {max}, target_cpu = 60 }}\n"
            );
        }
        s
    };
    std::fs::write(dir.join("pedestal.toml"), spec(false)).expect("spec");
    let config = pedestal::spec::load(&dir, &pedestal::spec::LoadOptions::env("bench"))
        .unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let recorded = fixture::applied(&config, 1);
    let store = LocalStore::new(dir.join("state/bench.json"), "bench", "bench");
    store.write(&recorded).expect("write state");
    drop((config, recorded));
    std::fs::write(dir.join("pedestal.toml"), spec(true)).expect("spec");
    let exe = env!("CARGO_BIN_EXE_pedestal");
    let args = [
        "plan",
        "-C",
        dir.to_str().unwrap_or("."),
        "--env",
        "bench",
        "--no-refresh",
    ];
    let timed = std::path::Path::new("/usr/bin/time").exists();
    let t = Instant::now();
    let out = if timed {
        std::process::Command::new("/usr/bin/time")
            .args(["-f", "%e s wall, %M KB max RSS"])
            .arg(exe)
            .args(args)
            .output()
    } else {
        std::process::Command::new(exe).args(args).output()
    }
    .expect("run pedestal");
    let wall = t.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("Plan:"))
        .unwrap_or("(no summary: see stderr)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!(
        "e2e `pedestal plan --no-refresh`, {} resources: {summary}",
        3 + endpoints * 4
    );
    println!("  wall              {}", ms(wall));
    if timed {
        println!(
            "  /usr/bin/time     {}",
            stderr.lines().last().unwrap_or("")
        );
    }
    if !out.status.success() {
        println!("  failed: {stderr}");
    }
    if timed {
        // For comparison: loading the spec alone (`pedestal validate`).
        let v = std::process::Command::new("/usr/bin/time")
            .args(["-f", "%e s wall, %M KB max RSS"])
            .arg(exe)
            .args([
                "validate",
                "-C",
                dir.to_str().unwrap_or("."),
                "--env",
                "bench",
            ])
            .output()
            .expect("run pedestal validate");
        let verr = String::from_utf8_lossy(&v.stderr);
        println!(
            "  spec load alone   {} (pedestal validate)",
            verr.lines().last().unwrap_or("")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--e2e") {
        for n in args[1..].iter().filter_map(|a| a.parse().ok()) {
            e2e(n);
        }
        return;
    }
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000]
    } else {
        sizes
    };
    for n in sizes {
        run(n);
    }
}
