//! The pull-request comment: summary line first, a warning when anything is destroyed or
//! replaced, the release view, addresses per action, and the detail folded in `<details>` as a
//! ```` ```diff ```` block whose markers sit in column 0 (`~` becomes `!` so GitHub colours it).
//! A hidden `<!-- pedestal:STACK/ENV -->` marker lets CI find and update its previous comment.
//! The comment stays under [`MAX_COMMENT_CHARS`] by cutting the middle of the detail (saying
//! how many lines were cut) — never the summary or the warnings.

use std::fmt::Write;

use super::human::{detail, release_headline};
use super::short_sha;
use crate::plan::{Action, OutputChange, Plan};

/// GitHub rejects comments over 65,536 characters; stay well below, as tfcmt does.
pub const MAX_COMMENT_CHARS: usize = 60_000;

/// How many addresses each per-action list shows before saying "and N more".
const MAX_LISTED: usize = 50;

/// The PR comment for `plan`.
pub fn markdown(plan: &Plan) -> String {
    let mut head = summary_line(plan);
    warnings(plan, &mut head);
    releases(plan, &mut head);
    head.push_str(&super::cost::markdown(&plan.cost));
    action_lists(plan, &mut head);
    changed_outputs(plan, &mut head);
    let tail = format!("<!-- pedestal:{}/{} -->\n", plan.stack, plan.env);
    let body = detail(plan);
    if body.is_empty() {
        return format!("{head}{tail}");
    }
    let lines: Vec<String> = body.lines().map(diff_line).collect();
    let mut out = folded_detail(head, &lines, tail.len(), &plan.env);
    out.push_str(&tail);
    out
}

/// The first line: the counts, or "No changes.", and which stack and environment.
fn summary_line(plan: &Plan) -> String {
    let s = plan.summary();
    let title = format!("`{}` / `{}`", plan.stack, plan.env);
    let mut head = if plan.has_changes() {
        format!(
            "**Plan: {} to add, {} to change, {} to destroy.** — pedestal plan for {title}\n",
            s.add, s.change, s.destroy
        )
    } else {
        format!(
            "**No changes.** Your infrastructure matches the configuration. — pedestal plan for {title}\n"
        )
    };
    head.push('\n');
    head
}

/// The destroy/replace warning and the targeting note.
fn warnings(plan: &Plan, head: &mut String) {
    let destroyed: Vec<&crate::plan::ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action.destroys())
        .collect();
    if !destroyed.is_empty() {
        let deletes = destroyed
            .iter()
            .filter(|c| c.action == Action::Delete)
            .count();
        let replaces = destroyed.len() - deletes;
        let count =
            |n: usize, verb: &str| format!("{verb} {n} resource{}", if n == 1 { "" } else { "s" });
        let mut parts = Vec::new();
        if deletes > 0 {
            parts.push(count(deletes, "destroys"));
        }
        if replaces > 0 {
            parts.push(count(replaces, "replaces"));
        }
        let _ = writeln!(
            head,
            "> [!WARNING]\n> This plan **{}**. Review the addresses below carefully.\n",
            parts.join("** and **")
        );
    }
    if !plan.targets.is_empty() {
        let _ = writeln!(
            head,
            "> [!NOTE]\n> Resource targeting is in effect: {}\n",
            plan.targets
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// The release view: one bullet per endpoint release with what changed.
fn releases(plan: &Plan, head: &mut String) {
    if plan.releases.is_empty() {
        return;
    }
    head.push_str("#### Releases\n\n");
    for r in plan.releases.iter().take(MAX_LISTED) {
        let mut extra = Vec::new();
        if r.artifact_sha256_before != r.artifact_sha256_after {
            extra.push(format!(
                "artifact sha256 `{}` → `{}`",
                r.artifact_sha256_before
                    .as_deref()
                    .map_or("(none)".into(), short_sha),
                r.artifact_sha256_after
                    .as_deref()
                    .map_or("(none)".into(), short_sha)
            ));
        }
        if r.image_before != r.image_after {
            let tag = |i: &Option<String>| {
                i.as_deref()
                    .map(|i| super::split_image(i).1.unwrap_or("latest").to_string())
                    .unwrap_or_else(|| "(none)".into())
            };
            extra.push(format!(
                "image tag `{}` → `{}`",
                tag(&r.image_before),
                tag(&r.image_after)
            ));
        }
        let _ = write!(head, "- **{}**", release_headline(r));
        if !extra.is_empty() {
            let _ = write!(head, " ({})", extra.join(", "));
        }
        head.push('\n');
    }
    if plan.releases.len() > MAX_LISTED {
        let _ = writeln!(
            head,
            "- … and {} more releases",
            plan.releases.len() - MAX_LISTED
        );
    }
    head.push('\n');
}

/// Addresses per action, each list cut at [`MAX_LISTED`].
fn action_lists(plan: &Plan, head: &mut String) {
    let groups: [(&str, &[Action]); 4] = [
        ("Create", &[Action::Create]),
        ("Update in-place", &[Action::Update]),
        (
            "Replace",
            &[Action::DeleteThenCreate, Action::CreateThenDelete],
        ),
        ("Destroy", &[Action::Delete]),
    ];
    for (label, actions) in groups {
        let items: Vec<&str> = plan
            .changes
            .iter()
            .filter(|c| actions.contains(&c.action))
            .map(|c| c.address.as_str())
            .collect();
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(head, "**{label}** ({}):", items.len());
        for a in items.iter().take(MAX_LISTED) {
            let _ = writeln!(head, "- `{a}`");
        }
        if items.len() > MAX_LISTED {
            let _ = writeln!(head, "- … and {} more", items.len() - MAX_LISTED);
        }
        head.push('\n');
    }
}

/// The names of outputs whose value changes.
fn changed_outputs(plan: &Plan, head: &mut String) {
    let changed: Vec<(&String, &OutputChange)> =
        plan.outputs.iter().filter(|(_, o)| o.changed()).collect();
    if !changed.is_empty() {
        let _ = writeln!(
            head,
            "**Outputs changing:** {}\n",
            changed
                .iter()
                .map(|(n, _)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// `head` followed by the detail folded in `<details>`, the middle cut when the whole comment
/// (with a tail of `tail_len` characters) would pass [`MAX_COMMENT_CHARS`].
fn folded_detail(head: String, lines: &[String], tail_len: usize, env: &str) -> String {
    let open =
        |n: usize| format!("<details><summary>Show plan detail ({n} lines)</summary>\n\n```diff\n");
    let close = "```\n\n</details>\n\n";
    let total: usize = lines.iter().map(|l| l.len() + 1).sum();
    let fixed = head.len() + open(lines.len()).len() + close.len() + tail_len;
    let mut out = head;
    out.push_str(&open(lines.len()));
    if fixed + total <= MAX_COMMENT_CHARS {
        push_lines(&mut out, lines);
    } else {
        // Keep the first and last lines that fit, cut the middle.
        let marker_room = 200;
        let budget = MAX_COMMENT_CHARS.saturating_sub(fixed + marker_room);
        let (front, back) = kept_ends(lines, budget / 2);
        push_lines(&mut out, &lines[..front]);
        let _ = writeln!(
            out,
            "\n... {} lines cut from the middle to fit a comment; run `pedestal plan -C <stack> --env {env}` for the full plan ...\n",
            back - front,
        );
        push_lines(&mut out, &lines[back..]);
    }
    out.push_str(close);
    out
}

/// How many lines to keep from the front, and from which index to keep the back, each within
/// `half` characters.
fn kept_ends(lines: &[String], half: usize) -> (usize, usize) {
    let mut front = 0;
    let mut used = 0;
    while front < lines.len() && used + lines[front].len() < half {
        used += lines[front].len() + 1;
        front += 1;
    }
    let mut back = lines.len();
    let mut used_back = 0;
    while back > front && used_back + lines[back - 1].len() < half {
        used_back += lines[back - 1].len() + 1;
        back -= 1;
    }
    (front, back)
}

fn push_lines(out: &mut String, lines: &[String]) {
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
}

/// Moves a line's diff marker to column 0 (`~` → `!`, replacements → `!`).
fn diff_line(line: &str) -> String {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    for (sym, marker) in [
        ("-/+ ", '!'),
        ("+/- ", '!'),
        ("+ ", '+'),
        ("- ", '-'),
        ("~ ", '!'),
    ] {
        if let Some(rest) = trimmed.strip_prefix(sym) {
            let pad = indent + sym.len();
            return format!("{marker}{}{rest}", " ".repeat(pad.saturating_sub(1)));
        }
    }
    if line.is_empty() {
        String::new()
    } else {
        format!(" {line}")
    }
}
