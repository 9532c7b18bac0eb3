//! The human rendering: Terraform's plan grammar (legend of the symbols used, `# ADDR will be
//! created`, `~ attr = old -> new`, `# forces replacement`, `(known after apply)`, hidden
//! unchanged counters, `Plan: X to add, Y to change, Z to destroy.`), then what Terraform lacks:
//! a release view per endpoint, container definitions diffed field by field after
//! canonicalisation, and address lists per action.

use std::fmt::Write;

use super::{canonical_attrs, short_sha, split_image};
use crate::plan::{
    Action, Drift, OutputChange, Plan, PlanMode, Reason, ReleaseChange, ResourceChange,
};
use crate::resource::schema::{self, ecs_task_definition, ecs_task_definition::Container};
use crate::resource::{Attrs, ResourceKind, Value};

/// How to render.
#[derive(Clone, Copy, Debug, Default)]
pub struct HumanOptions {
    /// ANSI colours (the CLI decides: a terminal, no `--no-color`, no `NO_COLOR`).
    pub color: bool,
}

/// The whole plan for a terminal.
pub fn human(plan: &Plan, opts: &HumanOptions) -> String {
    let st = Style(opts.color);
    let mut out = String::new();
    if !plan.drift.is_empty() {
        drift_section(&mut out, plan, st);
    }
    if !plan.releases.is_empty() {
        out.push_str(&st.bold("Releases:"));
        out.push('\n');
        for r in &plan.releases {
            release_lines(&mut out, r, "  ");
        }
        for p in &plan.prunes {
            let _ = writeln!(out, "  {}", prune_line(p));
        }
        out.push('\n');
    }
    let changed: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    if changed.is_empty() {
        if plan.outputs.values().any(OutputChange::changed) {
            out.push_str("Changes to Outputs:\n");
            outputs(&mut out, plan, st);
            out.push_str(
                "\nYou can apply this plan to save these new output values, without changing any real infrastructure.\n",
            );
        } else {
            out.push_str(&st.bold("No changes."));
            out.push_str(" Your infrastructure matches the configuration.\n\n");
            out.push_str(
                "pedestal has compared your real infrastructure against your configuration and found no differences, so no changes are needed.\n",
            );
        }
        cost_section(&mut out, plan);
        return out;
    }
    legend(&mut out, &changed, st);
    out.push_str("pedestal will perform the following actions:\n\n");
    for c in &changed {
        block(&mut out, c, st);
        out.push('\n');
    }
    address_lists(&mut out, &changed, st);
    let s = plan.summary();
    let _ = writeln!(
        out,
        "{} {} to add, {} to change, {} to destroy.",
        st.bold("Plan:"),
        s.add,
        s.change,
        s.destroy
    );
    if plan.outputs.values().any(OutputChange::changed) {
        out.push_str("\nChanges to Outputs:\n");
        outputs(&mut out, plan, st);
    }
    cost_section(&mut out, plan);
    if !plan.targets.is_empty() {
        let _ = write!(
            out,
            "\n{} resource targeting is in effect ({}): the plan may be incomplete; it is not meant for routine use.\n",
            st.yellow("Warning:"),
            plan.targets.join(", ")
        );
    }
    out
}

/// The cost section after a blank line, when the plan has endpoints.
fn cost_section(out: &mut String, plan: &Plan) {
    let cost = super::cost::human(&plan.cost);
    if !cost.is_empty() {
        out.push('\n');
        out.push_str(&cost);
    }
}

/// Only the per-resource blocks (no colour): the body of a PR comment's diff.
pub fn detail(plan: &Plan) -> String {
    let st = Style(false);
    let mut out = String::new();
    for c in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        block(&mut out, c, st);
        out.push('\n');
    }
    out
}

/// The release view of one endpoint, each line prefixed by `indent`.
pub fn release_lines(out: &mut String, r: &ReleaseChange, indent: &str) {
    let _ = writeln!(out, "{indent}{}", release_headline(r));
    if let Some(note) = &r.note {
        let _ = writeln!(out, "{indent}    ({note})");
    }
    let removed = r.image_after.is_none() && r.version_after.is_none();
    if removed {
        return;
    }
    match (&r.artifact_sha256_before, &r.artifact_sha256_after) {
        (b, a) if b == a => {}
        (Some(b), Some(a)) => {
            let _ = writeln!(
                out,
                "{indent}    artifact sha256  {} → {}",
                short_sha(b),
                short_sha(a)
            );
        }
        (_, a) => {
            let _ = writeln!(
                out,
                "{indent}    artifact sha256  {}",
                a.as_deref().map_or("(none)".into(), short_sha)
            );
        }
    }
    if r.image_before != r.image_after {
        let _ = writeln!(out, "{indent}    {}", image_line(r));
    }
    if let Some(s) = &r.strategy {
        let _ = writeln!(out, "{indent}    rollout          {s}");
    }
}

/// `artifact.fraud_model: prunes 1.0.0 after the release, kept: 1.3.0, 1.4.0`.
pub fn prune_line(p: &crate::plan::Prune) -> String {
    let pruned: Vec<&str> = p.objects.iter().map(|o| o.label.as_str()).collect();
    format!(
        "{}: prunes {} once the release completes, kept: {}",
        p.address.block(),
        pruned.join(", "),
        p.kept.join(", ")
    )
}

/// `endpoint.fraud: release 1.3.0 → 1.4.0` (or new / removed / redeployed).
pub fn release_headline(r: &ReleaseChange) -> String {
    let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "(unversioned)".into());
    match (&r.version_before, &r.version_after) {
        (None, None) if r.image_after.is_none() => format!("{}: removed", r.endpoint),
        (None, Some(a)) if r.image_before.is_none() => {
            format!("{}: first release {a}", r.endpoint)
        }
        (Some(b), None) if r.image_after.is_none() => {
            format!("{}: removed (was release {b})", r.endpoint)
        }
        (b, a) if b == a => format!("{}: release {} redeployed", r.endpoint, v(a)),
        (b, a) => format!("{}: release {} → {}", r.endpoint, v(b), v(a)),
    }
}

/// `image tag 2.4.1 → 2.5.0  (repo)` when only the tag changed (`image digest sha256:…` for
/// an image pinned by digest), else both images in full.
pub fn image_line(r: &ReleaseChange) -> String {
    match (&r.image_before, &r.image_after) {
        (Some(b), Some(a)) => {
            let (rb, pb) = split_image(b);
            let (ra, pa) = split_image(a);
            if rb != ra {
                format!("image            {b} → {a}")
            } else if pb.label() == pa.label() {
                format!("{:17}{} → {}  ({ra})", pa.label(), pb.short(), pa.short())
            } else {
                format!(
                    "image            {} {} → {} {}  ({ra})",
                    pb.label(),
                    pb.short(),
                    pa.label(),
                    pa.short()
                )
            }
        }
        (None, Some(a)) => {
            let (repo, pin) = split_image(a);
            format!("{:17}{}  ({repo})", pin.label(), pin.short())
        }
        (Some(b), None) => format!("image            {b} → (none)"),
        (None, None) => "image            (none)".into(),
    }
}

#[derive(Clone, Copy)]
struct Style(bool);

impl Style {
    fn paint(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(self, s: &str) -> String {
        self.paint("1", s)
    }
    fn yellow(self, s: &str) -> String {
        self.paint("33", s)
    }
    /// Colours a diff symbol.
    fn sym(self, sym: &str) -> String {
        match sym {
            "+" => self.paint("32", sym),
            "-" => self.paint("31", sym),
            "~" => self.paint("33", sym),
            "-/+" | "+/-" => self.paint("35", sym),
            _ => sym.to_string(),
        }
    }
}

fn action_symbol(a: Action) -> &'static str {
    match a {
        Action::NoOp => " ",
        Action::Create => "+",
        Action::Update => "~",
        Action::DeleteThenCreate => "-/+",
        Action::CreateThenDelete => "+/-",
        Action::Delete => "-",
    }
}

fn legend(out: &mut String, changed: &[&ResourceChange], st: Style) {
    out.push_str(
        "pedestal generated the following execution plan. Resource actions are indicated with the following symbols:\n",
    );
    let rows = [
        (Action::Create, "  ", "create"),
        (Action::Update, "  ", "update in-place"),
        (Action::Delete, "  ", "destroy"),
        (
            Action::DeleteThenCreate,
            "",
            "destroy and then create replacement",
        ),
        (
            Action::CreateThenDelete,
            "",
            "create replacement and then destroy",
        ),
    ];
    for (a, pad, text) in rows {
        if changed.iter().any(|c| c.action == a) {
            let _ = writeln!(out, "{pad}{} {text}", st.sym(action_symbol(a)));
        }
    }
    out.push('\n');
}

fn header(c: &ResourceChange) -> String {
    let what = match (c.action, &c.reason) {
        (Action::Create, _) => "will be created",
        (Action::Update, _) => "will be updated in-place",
        (Action::Delete, _) => "will be destroyed",
        (_, Some(Reason::Tainted)) => "is tainted, so must be replaced",
        (_, Some(Reason::ReplaceRequested)) => "will be replaced, as requested",
        (Action::DeleteThenCreate | Action::CreateThenDelete, _) => "must be replaced",
        (Action::NoOp, _) => "is unchanged",
    };
    match physical_name(c) {
        Some(name) if c.action == Action::Create => {
            format!("# {} {what} as {name:?}", c.address)
        }
        _ => format!("# {} {what}", c.address),
    }
}

/// The name the resource has (or will have) in the cloud, when the plan knows it.
fn physical_name(c: &ResourceChange) -> Option<&str> {
    let attrs = c.after.as_ref().or(c.before.as_ref())?;
    attrs.get(c.kind.schema().name_attr)?.as_str()
}

fn reason_line(c: &ResourceChange) -> Option<String> {
    let text = match c.reason.as_ref()? {
        Reason::NotInSpec => format!("{} is not in the spec", c.address),
        Reason::ForcedBy { attrs } => format!(
            "{} changed, which forces replacement",
            attrs.join(", ")
        ),
        Reason::DependencyReplaced { address, attrs } => format!(
            "{address} is replaced, and {} names it",
            attrs.join(", ")
        ),
        Reason::Drifted => "it was changed outside pedestal".into(),
        Reason::SpecChanged { attrs } => format!("{} changed in the spec", attrs.join(", ")),
        r @ (Reason::ReleaseUnfinished { .. } | Reason::RolledBack { .. }) => {
            r.release_text().unwrap_or_default()
        }
        Reason::NewRevision => {
            "task definitions are immutable: a new revision is registered and the old one kept for rollback".into()
        }
        Reason::DestroyRequested | Reason::Tainted | Reason::ReplaceRequested => return None,
    };
    Some(format!("# (because {text})"))
}

fn block(out: &mut String, c: &ResourceChange, st: Style) {
    let _ = writeln!(out, "  {}", st.bold(&header(c)));
    if let Some(r) = reason_line(c) {
        let _ = writeln!(out, "  {r}");
    }
    let sym = action_symbol(c.action);
    let pad = if sym.len() == 1 { "  " } else { "" };
    let _ = writeln!(
        out,
        "{pad}{} resource \"{}\" \"{}\" {{",
        st.sym(sym),
        c.kind,
        c.address
    );
    let before = c.before.as_ref().map(|a| canonical_attrs(c.kind, a));
    let after = c.after.as_ref().map(|a| canonical_attrs(c.kind, a));
    let mut w = Writer { out, st };
    match (&before, &after) {
        (None, Some(a)) => w.all(6, "+", a, ""),
        (Some(b), None) => w.all(6, "-", b, " -> null"),
        (Some(b), Some(a)) => w.diff_top(c, b, a),
        (None, None) => {}
    }
    out.push_str("    }\n");
}

fn drift_section(out: &mut String, plan: &Plan, st: Style) {
    let _ = writeln!(
        out,
        "{}\n\npedestal detected the following changes made outside of pedestal since the last \"pedestal apply\":\n",
        st.bold("Drift: objects have changed outside of pedestal")
    );
    for d in &plan.drift {
        drift_block(out, d, st);
        out.push('\n');
    }
    out.push_str(
        "Unless you have made equivalent changes to your configuration, the plan below undoes them.\n\n",
    );
}

fn drift_block(out: &mut String, d: &Drift, st: Style) {
    let before = canonical_attrs(d.kind, &d.before);
    match &d.after {
        Some(after) => {
            let _ = writeln!(
                out,
                "  {}",
                st.bold(&format!("# {} has changed", d.address))
            );
            let _ = writeln!(
                out,
                "  {} resource \"{}\" \"{}\" {{",
                st.sym("~"),
                d.kind,
                d.address
            );
            let after = canonical_attrs(d.kind, after);
            let mut w = Writer { out, st };
            w.diff_map(6, &before, &after, &[], None, "attributes");
        }
        None => {
            let _ = writeln!(
                out,
                "  {}",
                st.bold(&format!("# {} has been deleted", d.address))
            );
            let _ = writeln!(
                out,
                "  {} resource \"{}\" \"{}\" {{",
                st.sym("-"),
                d.kind,
                d.address
            );
            let mut w = Writer { out, st };
            w.all(6, "-", &before, " -> null");
        }
    }
    out.push_str("    }\n");
}

fn address_lists(out: &mut String, changed: &[&ResourceChange], st: Style) {
    let groups = [
        ("create", "  +", vec![Action::Create]),
        ("update in-place", "  ~", vec![Action::Update]),
        (
            "replace",
            "",
            vec![Action::DeleteThenCreate, Action::CreateThenDelete],
        ),
        ("destroy", "  -", vec![Action::Delete]),
    ];
    for (label, sym, actions) in groups {
        let items: Vec<&&ResourceChange> = changed
            .iter()
            .filter(|c| actions.contains(&c.action))
            .collect();
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "{} ({}):",
            st.bold(&format!("To {label}")),
            items.len()
        );
        for c in items {
            let s = if sym.is_empty() {
                action_symbol(c.action).to_string()
            } else {
                sym.trim_start().to_string()
            };
            let pad = if s.len() == 1 { "  " } else { "" };
            let _ = writeln!(out, "{pad}{} {}", st.sym(&s), c.address);
        }
    }
    out.push('\n');
}

fn outputs(out: &mut String, plan: &Plan, st: Style) {
    let changed: Vec<(&String, &OutputChange)> =
        plan.outputs.iter().filter(|(_, o)| o.changed()).collect();
    let width = changed.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (name, o) in changed {
        let show = |v: &Value| {
            if o.sensitive {
                "(sensitive)".to_string()
            } else {
                v.to_string()
            }
        };
        let line = match (&o.before, &o.after) {
            (None, Some(a)) => format!("{} {name:width$} = {}", st.sym("+"), show(a)),
            (Some(b), None) => format!("{} {name:width$} = {} -> null", st.sym("-"), show(b)),
            (Some(b), Some(a)) => {
                format!("{} {name:width$} = {} -> {}", st.sym("~"), show(b), show(a))
            }
            (None, None) => continue,
        };
        let _ = writeln!(out, "  {line}");
    }
    if plan.mode == PlanMode::Destroy {
        // Terraform prints nothing more; the summary above already says everything goes.
    }
}

/// Renders attribute lines into `out`.
struct Writer<'a> {
    out: &'a mut String,
    st: Style,
}

/// How a map key is shown: bare when it is an identifier, quoted otherwise.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}

fn is_present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| **v != Value::Null)
}

fn same(a: &Value, b: &Value) -> bool {
    a.same_as(b) && !a.is_unknown()
}

/// Which word a hidden counter uses inside `attr`.
fn noun(attr: Option<&str>) -> &'static str {
    const ENVIRONMENT: &str = Container::Environment.as_str();
    const SECRETS: &str = Container::Secrets.as_str();
    match attr {
        Some(ENVIRONMENT | SECRETS | schema::TAGS) => "elements",
        _ => "attributes",
    }
}

impl Writer<'_> {
    fn line(&mut self, indent: usize, sym: &str, text: &str) {
        let _ = writeln!(
            self.out,
            "{}{} {text}",
            " ".repeat(indent),
            self.st.sym(sym)
        );
    }

    fn scalar(v: &Value) -> String {
        match v {
            Value::Sensitive(_) | Value::Redacted(_) => "(sensitive)".into(),
            Value::Map(m) if m.is_empty() => "{}".into(),
            Value::List(l) if l.is_empty() => "[]".into(),
            other => other.to_string(),
        }
    }

    /// Every attribute with one symbol (create: `+`, destroy: `-` and ` -> null`).
    fn all(&mut self, indent: usize, sym: &str, attrs: &Attrs, suffix: &str) {
        let present: Vec<(&String, &Value)> =
            attrs.iter().filter(|(_, v)| **v != Value::Null).collect();
        let width = present.iter().map(|(k, _)| key(k).len()).max().unwrap_or(0);
        for (k, v) in present {
            self.value(indent, sym, &format!("{:width$}", key(k)), v, suffix);
        }
    }

    /// One value with a single symbol, nested collections expanded.
    fn value(&mut self, indent: usize, sym: &str, k: &str, v: &Value, suffix: &str) {
        match v {
            Value::Map(m) if !m.is_empty() => {
                self.line(indent, sym, &format!("{k} = {{"));
                let present: Vec<(&String, &Value)> =
                    m.iter().filter(|(_, v)| **v != Value::Null).collect();
                let width = present.iter().map(|(k, _)| key(k).len()).max().unwrap_or(0);
                for (ik, iv) in present {
                    self.value(indent + 4, sym, &format!("{:width$}", key(ik)), iv, "");
                }
                let _ = writeln!(self.out, "{}}}{suffix}", " ".repeat(indent + 2));
            }
            Value::List(l) if !l.is_empty() => {
                self.line(indent, sym, &format!("{k} = ["));
                for item in l {
                    self.line(indent + 4, sym, &format!("{},", Self::scalar(item)));
                }
                let _ = writeln!(self.out, "{}]{suffix}", " ".repeat(indent + 2));
            }
            _ => self.line(indent, sym, &format!("{k} = {}{suffix}", Self::scalar(v))),
        }
    }

    fn diff_top(&mut self, c: &ResourceChange, before: &Attrs, after: &Attrs) {
        let schema = c.kind.schema();
        let mut identity: Vec<&str> = vec![schema.name_attr];
        if c.kind == ResourceKind::EcsTaskDefinition {
            identity.push(ecs_task_definition::Attr::Revision.as_str());
        }
        self.diff_map(
            6,
            before,
            after,
            &c.replace_paths,
            Some(&identity),
            "attributes",
        );
    }

    /// A field-by-field diff of two maps at `indent`.
    fn diff_map(
        &mut self,
        indent: usize,
        before: &Attrs,
        after: &Attrs,
        forces: &[String],
        identity: Option<&[&str]>,
        hidden_noun: &str,
    ) {
        enum Row<'v> {
            Same(&'v Value),
            Changed(&'v Value, &'v Value),
            Added(&'v Value),
            Removed(&'v Value),
        }
        let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
        keys.sort();
        keys.dedup();
        let mut rows: Vec<(&String, Row)> = Vec::new();
        let mut hidden = 0usize;
        for k in keys {
            let row = match (is_present(before.get(k)), is_present(after.get(k))) {
                (Some(b), Some(a)) if same(b, a) => {
                    if identity.is_some_and(|ids| ids.contains(&k.as_str())) {
                        Row::Same(a)
                    } else {
                        hidden += 1;
                        continue;
                    }
                }
                (Some(b), Some(a)) => Row::Changed(b, a),
                (None, Some(a)) => Row::Added(a),
                (Some(b), None) => Row::Removed(b),
                (None, None) => continue,
            };
            rows.push((k, row));
        }
        let width = rows.iter().map(|(k, _)| key(k).len()).max().unwrap_or(0);
        for (k, row) in rows {
            let name = format!("{:width$}", key(k));
            let force = if forces.iter().any(|f| f == k) {
                " # forces replacement"
            } else {
                ""
            };
            match row {
                Row::Same(v) => {
                    self.line(indent, " ", &format!("{name} = {}", Self::scalar(v)));
                }
                Row::Added(v) => self.value(indent, "+", &name, v, force),
                Row::Removed(v) => self.value(indent, "-", &name, v, &format!(" -> null{force}")),
                Row::Changed(b, a) => match (b, a) {
                    (Value::Map(bm), Value::Map(am)) => {
                        self.line(indent, "~", &format!("{name} = {{{force}"));
                        self.diff_map(indent + 4, bm, am, &[], None, noun(Some(k)));
                        let _ = writeln!(self.out, "{}}}", " ".repeat(indent + 2));
                    }
                    (Value::List(bl), Value::List(al)) if !a.is_unknown() => {
                        self.line(indent, "~", &format!("{name} = [{force}"));
                        self.diff_list(indent + 4, bl, al);
                        let _ = writeln!(self.out, "{}]", " ".repeat(indent + 2));
                    }
                    (b, a) if b.is_sensitive() && a.is_sensitive() => {
                        self.line(indent, "~", &format!("{name} = (sensitive){force}"));
                    }
                    (b, a) => self.line(
                        indent,
                        "~",
                        &format!("{name} = {} -> {}{force}", Self::scalar(b), Self::scalar(a)),
                    ),
                },
            }
        }
        if hidden > 0 {
            let word = if hidden == 1 {
                hidden_noun.trim_end_matches('s')
            } else {
                hidden_noun
            };
            let _ = writeln!(
                self.out,
                "{}# ({hidden} unchanged {word} hidden)",
                " ".repeat(indent + 2)
            );
        }
    }

    fn diff_list(&mut self, indent: usize, before: &[Value], after: &[Value]) {
        let b: Vec<String> = before.iter().map(Self::scalar).collect();
        let a: Vec<String> = after.iter().map(Self::scalar).collect();
        let mut hidden = 0usize;
        for op in similar::capture_diff_slices(similar::Algorithm::Myers, &b, &a) {
            match op {
                similar::DiffOp::Equal { len, .. } => hidden += len,
                similar::DiffOp::Delete {
                    old_index, old_len, ..
                } => {
                    for item in &b[old_index..old_index + old_len] {
                        self.line(indent, "-", &format!("{item},"));
                    }
                }
                similar::DiffOp::Insert {
                    new_index, new_len, ..
                } => {
                    for item in &a[new_index..new_index + new_len] {
                        self.line(indent, "+", &format!("{item},"));
                    }
                }
                similar::DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => {
                    for item in &b[old_index..old_index + old_len] {
                        self.line(indent, "-", &format!("{item},"));
                    }
                    for item in &a[new_index..new_index + new_len] {
                        self.line(indent, "+", &format!("{item},"));
                    }
                }
            }
        }
        if hidden > 0 {
            let word = if hidden == 1 { "element" } else { "elements" };
            let _ = writeln!(
                self.out,
                "{}# ({hidden} unchanged {word} hidden)",
                " ".repeat(indent + 2)
            );
        }
    }
}

/// One resource recorded in state, as `pedestal state show` prints it.
pub fn state_resource(address: &str, r: &crate::state::ResourceState) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {address}:");
    if r.status == crate::state::Status::Tainted {
        let _ = writeln!(out, "# (tainted: the next apply replaces it)");
    }
    let _ = writeln!(out, "resource \"{}\" \"{address}\" {{", r.kind);
    let mut attrs = canonical_attrs(r.kind, &r.attrs);
    attrs.insert(schema::ID.into(), Value::str(r.id.clone()));
    let mut w = Writer {
        out: &mut out,
        st: Style(false),
    };
    w.all(0, " ", &attrs, "");
    out.push_str("}\n");
    out
}
