//! Planner benchmark: a synthetic stack of N resources (5 per endpoint plus a bucket and a
//! cluster) against a matching recorded state with about 10% of the resources changed.
//! Measures reading the state file, planning and rendering; prints wall times and the peak
//! resident memory of the process. Run through `scripts/bench-plan` (release profile).
//!
//! Usage: `cargo bench --bench plan -- RESOURCES [RESOURCES...]` (each size in a fresh
//! process gives honest peak-memory figures; the script does that).

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
                    e.sha256 = fixture::sha(&format!("{}-1.4.0", e.name));
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

fn main() {
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
