//! The pull-request comment: summary line first, a warning when anything is destroyed or
//! replaced, the release view, addresses per action, and the detail folded in `<details>` as a
//! ```` ```diff ```` block whose markers sit in column 0 (`~` becomes `!` so GitHub colours it).
//! A hidden `<!-- pedestal:STACK/ENV -->` marker lets CI find and update its previous comment.
//! The comment stays under [`MAX_COMMENT_CHARS`] by cutting the middle of the detail (saying
//! how many lines were cut) — never the summary or the warnings.
//!
//! Everything the plan carries from users (stack, environment, addresses, versions, image tags,
//! output names, the diff itself) is made inert: names and values go into code spans
//! ([`code`]), surrounding prose is escaped ([`text`]), and the diff's fence is longer than any
//! run of backticks inside it, so neither HTML (`<script>`, `</details>`) nor markdown in a
//! value changes the comment's structure. Warnings use GitHub's alert syntax and carry their
//! own bold first words, so they read the same where the alert is shown as a plain quote.

use std::fmt::Write;

use super::human::{detail, release_headline};
use super::short_sha;
use crate::plan::{Action, OutputChange, Plan, ReleaseChange};

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
    let title = format!("{} / {}", code(&plan.stack), code(&plan.env));
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
            "> [!WARNING]\n> **⚠ Warning:** this plan **{}**. Review the addresses below carefully.\n",
            parts.join("** and **")
        );
    }
    if !plan.targets.is_empty() {
        let _ = writeln!(
            head,
            "> [!NOTE]\n> **Note:** resource targeting is in effect: {}\n",
            plan.targets
                .iter()
                .map(|t| code(t))
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
        let sha = |s: &Option<String>| s.as_deref().map_or("(none)".into(), short_sha);
        match (&r.artifact_sha256_before, &r.artifact_sha256_after) {
            (b, a) if b == a => {}
            (None, Some(a)) => extra.push(format!("artifact sha256 {}", code(&short_sha(a)))),
            (b, a) => extra.push(format!(
                "artifact sha256 {} → {}",
                code(&sha(b)),
                code(&sha(a))
            )),
        }
        if r.image_before != r.image_after {
            let before = r.image_before.as_deref().map(|i| super::split_image(i).1);
            let after = r.image_after.as_deref().map(|i| super::split_image(i).1);
            extra.push(match (before, after) {
                (None, Some(a)) => format!("{} {}", a.label(), code(&a.short())),
                (Some(b), None) => format!("{} {} → `(none)`", b.label(), code(&b.short())),
                (Some(b), Some(a)) if b.label() == a.label() => {
                    format!("{} {} → {}", a.label(), code(&b.short()), code(&a.short()))
                }
                (b, a) => {
                    let show = |p: Option<super::ImagePin>| {
                        p.map_or("(none)".into(), |p| format!("{} {}", p.label(), p.short()))
                    };
                    format!("image {} → {}", code(&show(b)), code(&show(a)))
                }
            });
        }
        if let Some(note) = &r.note {
            extra.push(note.clone());
        }
        if let Some(s) = &r.strategy {
            extra.push(format!("rollout {s}"));
        }
        let _ = write!(head, "- **{}**", headline(r));
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
    for p in &plan.prunes {
        let _ = writeln!(head, "- {}", super::human::prune_line(p));
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
            let _ = writeln!(head, "- {}", code(a));
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
                .map(|(n, _)| code(n))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// `head` followed by the detail folded in `<details>`, the middle cut when the whole comment
/// (with a tail of `tail_len` characters) would pass [`MAX_COMMENT_CHARS`].
fn folded_detail(head: String, lines: &[String], tail_len: usize, env: &str) -> String {
    let fence = "`".repeat(3.max(1 + lines.iter().map(|l| backtick_run(l)).max().unwrap_or(0)));
    let open = |n: usize| {
        format!("<details><summary>Show plan detail ({n} lines)</summary>\n\n{fence}diff\n")
    };
    let close = format!("{fence}\n\n</details>\n\n");
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
    out.push_str(&close);
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

/// The release headline ([`release_headline`], so both renderings say the same) with the
/// endpoint and the versions as code spans and the words around them escaped.
fn headline(r: &ReleaseChange) -> String {
    // Private-use characters stand in for the user's values while the wording is built.
    const SLOTS: [(char, usize); 3] = [('\u{E000}', 0), ('\u{E001}', 1), ('\u{E002}', 2)];
    let values = [
        Some(r.endpoint.as_str()),
        r.version_before.as_deref(),
        r.version_after.as_deref(),
    ];
    let mut marked = r.clone();
    marked.endpoint = SLOTS[0].0.to_string();
    marked.version_before = r.version_before.as_ref().map(|_| SLOTS[1].0.to_string());
    // Equal versions keep one slot, so the wording still sees them equal ("redeployed").
    let after_slot = if r.version_after == r.version_before {
        SLOTS[1].0
    } else {
        SLOTS[2].0
    };
    marked.version_after = r.version_after.as_ref().map(|_| after_slot.to_string());
    let mut out = String::new();
    for part in release_headline(&marked).split_inclusive(|c| SLOTS.iter().any(|s| s.0 == c)) {
        let (words, slot) = match part.chars().last() {
            Some(c) => match SLOTS.iter().find(|s| s.0 == c) {
                Some(&(_, i)) => (&part[..part.len() - c.len_utf8()], values[i]),
                None => (part, None),
            },
            None => (part, None),
        };
        out.push_str(&text(words));
        if let Some(v) = slot {
            out.push_str(&code(v));
        }
    }
    out
}

/// `s` as an inline code span, inert on any CommonMark renderer (no HTML, emphasis, links or
/// mentions inside one): the fence is one backtick longer than the longest run in `s`, padded
/// with a space where `s` starts or ends with a backtick (or is space-padded itself, which the
/// renderer would strip), and control characters such as line breaks are shown escaped.
pub fn code(s: &str) -> String {
    let s = visible(s);
    if s.is_empty() {
        return "` `".into();
    }
    let fence = "`".repeat(backtick_run(&s) + 1);
    let spaced = s.starts_with(' ') && s.ends_with(' ') && !s.trim().is_empty();
    let pad = if s.starts_with('`') || s.ends_with('`') || spaced {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// `s` as inline prose: HTML-significant characters as entities, markdown punctuation
/// backslash-escaped, control characters shown escaped.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in visible(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' | '!' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Control characters (line breaks, tabs, escapes) written as Rust escapes, so a value stays
/// on its line.
fn visible(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The longest run of backticks in `s`.
fn backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}
