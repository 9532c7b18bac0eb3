//! `pedestal releases [ENDPOINT] [--format json]`: the release history recorded in state, newest
//! first, as a table (release, revision, artifact sha, image tag, commit, when, outcome, and a
//! marker on the release the service runs) or JSON.

use pedestal::ops::releases::{self, History};

use super::state_request;
use crate::cli::{Error, Exit, Global, ListFormat, ReleasesArgs};

pub fn run(g: &Global, a: &ReleasesArgs) -> Result<Exit, Error> {
    let endpoint = a.endpoint.as_deref().map(releases::endpoint_block);
    let histories = releases::list(&g.dir, &state_request(&a.env)?, endpoint.as_deref())?;
    match a.format {
        ListFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&releases::to_json(&histories))?
            );
        }
        ListFormat::Human => {
            if histories.is_empty() {
                println!("No releases recorded yet (apply to make one).");
            }
            for h in &histories {
                print!("{}", table(h));
            }
        }
    }
    Ok(Exit::Success)
}

/// One endpoint's history as an aligned table, newest first.
pub fn table(h: &History) -> String {
    let head = [
        "",
        "RELEASE",
        "REVISION",
        "ARTIFACT",
        "IMAGE TAG",
        "COMMIT",
        "WHEN",
        "OUTCOME",
    ];
    let mut rows: Vec<[String; 8]> = Vec::new();
    for (i, r) in h.releases.iter().enumerate().rev() {
        let tag = r
            .image
            .rsplit_once(':')
            .filter(|(repo, _)| !repo.ends_with('/'))
            .map_or("latest", |(_, t)| t);
        let outcome = match &r.reason {
            Some(why) if !r.outcome.settled() || r.outcome.as_str() == "rolled_back" => {
                format!("{} ({why})", r.outcome)
            }
            _ => r.outcome.to_string(),
        };
        rows.push([
            if h.current == Some(i) { "*" } else { "" }.to_string(),
            r.version.clone(),
            r.revision().map_or("-".into(), |n| n.to_string()),
            r.artifact_sha256
                .as_deref()
                .map_or("-".into(), |s| s.chars().take(12).collect()),
            tag.to_string(),
            r.git_commit
                .as_deref()
                .map_or("-".into(), |c| c.chars().take(8).collect()),
            r.started_at.clone(),
            outcome,
        ]);
    }
    let mut widths = head.map(str::len);
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[&str]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = format!("{}:\n", h.endpoint);
    out.push_str(&line(&head));
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        out.push_str(&line(&cells));
    }
    if h.current.is_some() {
        out.push_str("(* = running now, per state)\n");
    }
    out.push('\n');
    out
}
