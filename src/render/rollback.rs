//! The confirmation screen of `pedestal rollback`: what changes when an endpoint's service goes
//! back to an earlier release's recorded revision (release, revision, image, artifact), and that
//! the spec stays the source of truth.

use std::fmt::Write;

use crate::state::Release;

/// The screen shown before `pedestal rollback` asks (or, with `--auto-approve`, goes ahead):
/// `from` is what runs now per state (when recorded), `to` the release to go back to.
pub fn rollback_screen(endpoint: &str, from: Option<&Release>, to: &Release) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{endpoint}: roll back");
    let sha = |r: &Release| r.artifact_sha256.clone().unwrap_or_else(|| "-".into());
    let uri = |r: &Release| r.artifact_uri.clone().unwrap_or_else(|| "-".into());
    let rows: [(&str, Option<String>, String); 5] = [
        (
            "release",
            from.map(|f| f.version.clone()),
            to.version.clone(),
        ),
        (
            "revision",
            from.map(|f| f.task_definition_arn.clone()),
            to.task_definition_arn.clone(),
        ),
        ("image", from.map(|f| f.image.clone()), to.image.clone()),
        ("artifact", from.map(sha), sha(to)),
        ("uri", from.map(uri), uri(to)),
    ];
    for (label, before, after) in rows {
        let _ = match before {
            Some(b) if b == after => writeln!(out, "  {label:<9} {after} (unchanged)"),
            Some(b) => writeln!(out, "  {label:<9} {b} → {after}"),
            None => writeln!(out, "  {label:<9} → {after}"),
        };
    }
    let _ = writeln!(
        out,
        "  recorded  {} by {}, {}",
        to.started_at,
        to.who.as_deref().unwrap_or("-"),
        to.outcome
    );
    let _ = writeln!(
        out,
        "\nThe spec is unchanged: the next `pedestal plan` shows {endpoint} as rolled back and still to release."
    );
    out
}
