//! `pedestal status [ENDPOINT] [--format json]`: the live status as a compact table (coloured
//! on a terminal) or JSON (`docs/status-json.md`).

use std::fmt::Write;

use pedestal::ops::status::{EndpointStatus, Status, status};

use super::state_request;
use crate::cli::{Error, Exit, Global, ListFormat, StatusArgs};

pub async fn run(g: &Global, a: &StatusArgs) -> Result<Exit, Error> {
    let s = status(&g.dir, &state_request(&a.env)?, a.endpoint.as_deref()).await?;
    match a.format {
        ListFormat::Json => {
            let doc = pedestal::state::canonical_json(serde_json::to_value(&s)?);
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        ListFormat::Human => print!("{}", human(&s, g.color())),
    }
    Ok(Exit::Success)
}

fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn rollout(color: bool, e: &EndpointStatus) -> String {
    let state = e.rollout_state.as_deref().unwrap_or("-");
    let code = match state {
        "COMPLETED" => "32",
        "FAILED" => "31",
        _ => "33",
    };
    paint(color, code, state)
}

/// The status as text.
pub fn human(s: &Status, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} / {}", s.stack, s.env);
    if s.endpoints.is_empty() {
        out.push_str("No endpoints in state.\n");
    }
    for e in &s.endpoints {
        let _ = writeln!(
            out,
            "\n{}  release {}  revision {}  ({}/{}, {})",
            paint(color, "1", &e.endpoint),
            e.release.as_deref().unwrap_or("(not recorded)"),
            e.revision.map_or("-".into(), |r| r.to_string()),
            e.cluster,
            e.service,
            e.service_status
        );
        let _ = writeln!(
            out,
            "  tasks     desired {}  running {}  pending {}",
            e.desired, e.running, e.pending
        );
        let _ = write!(out, "  rollout   {}", rollout(color, e));
        if let Some(r) = &e.rollout_reason {
            let _ = write!(out, "  {r}");
        }
        if e.other_deployments > 0 {
            let _ = write!(out, "  (+{} other deployment(s))", e.other_deployments);
        }
        out.push('\n');
        if let Some(u) = &e.url {
            let _ = writeln!(out, "  url       {u}");
        }
        if let Some(t) = &e.targets {
            let _ = write!(
                out,
                "  targets   {} healthy  {} unhealthy",
                paint(color, "32", &t.healthy.to_string()),
                paint(
                    color,
                    if t.unhealthy > 0 { "31" } else { "0" },
                    &t.unhealthy.to_string()
                )
            );
            if t.other > 0 {
                let _ = write!(out, "  {} starting or draining", t.other);
            }
            out.push('\n');
        }
        if let Some(a) = &e.autoscaling {
            let _ = writeln!(
                out,
                "  scaling   min {}  max {}  current {}",
                a.min, a.max, a.current
            );
        }
        for (i, a) in e.alarms.iter().enumerate() {
            let code = match a.state.as_str() {
                "OK" => "32",
                "ALARM" | "MISSING" => "31",
                _ => "33",
            };
            let _ = writeln!(
                out,
                "  {}  {} {}{}",
                if i == 0 { "alarms" } else { "      " },
                a.name,
                paint(color, code, &a.state),
                a.since
                    .as_deref()
                    .map(|t| format!(" since {t}"))
                    .unwrap_or_default()
            );
        }
        for (i, ev) in e.events.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {}  {} {}",
                if i == 0 { "events" } else { "      " },
                ev.at.as_deref().unwrap_or("-"),
                ev.message
            );
        }
    }
    if !s.clusters.is_empty() {
        out.push_str("\nclusters\n");
        for c in &s.clusters {
            let _ = writeln!(
                out,
                "  {}  {}  services {}  tasks running {} pending {}",
                c.name, c.status, c.active_services, c.running_tasks, c.pending_tasks
            );
        }
    }
    if !s.buckets.is_empty() {
        out.push_str("\nbuckets\n");
        for b in &s.buckets {
            let _ = writeln!(
                out,
                "  {}  {}  versioning {}",
                b.name,
                if b.exists { "exists" } else { "MISSING" },
                b.versioning.as_deref().unwrap_or("off")
            );
        }
    }
    out
}
