//! The human rendering: Terraform's plan grammar (legend of the symbols used, `# ADDR will be
//! created`, `~ attr = old -> new`, `# forces replacement`, `(known after apply)`, hidden
//! unchanged counters, `Plan: X to add, Y to change, Z to destroy.`), then what Terraform lacks:
//! a release view per endpoint, container definitions diffed field by field after
//! canonicalisation, and address lists per action.

use std::cmp::Ordering;
use std::fmt::Write;

use super::text::{Key, key_len, pad, quoted, scalar, scalar_string};
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
    blocks(&mut out, &changed, st);
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
    if !plan.cost.endpoints.is_empty() {
        out.push('\n');
        super::cost::write_human(out, &plan.cost);
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
    /// Starts the colour `code` (nothing without colour).
    fn open(self, out: &mut String, code: &str) {
        if self.0 {
            out.push_str("\x1b[");
            out.push_str(code);
            out.push('m');
        }
    }
    /// Ends a colour started by [`Style::open`].
    fn close(self, out: &mut String) {
        if self.0 {
            out.push_str("\x1b[0m");
        }
    }
    fn paint(self, code: &str, s: &str) -> String {
        let mut out = String::new();
        self.open(&mut out, code);
        out.push_str(s);
        self.close(&mut out);
        out
    }
    fn bold(self, s: &str) -> String {
        self.paint("1", s)
    }
    fn yellow(self, s: &str) -> String {
        self.paint("33", s)
    }
    /// Appends a diff symbol, coloured.
    fn write_sym(self, out: &mut String, sym: &str) {
        let code = match sym {
            "+" => "32",
            "-" => "31",
            "~" => "33",
            "-/+" | "+/-" => "35",
            _ => {
                out.push_str(sym);
                return;
            }
        };
        self.open(out, code);
        out.push_str(sym);
        self.close(out);
    }
    /// A diff symbol, coloured.
    fn sym(self, sym: &str) -> String {
        let mut out = String::new();
        self.write_sym(&mut out, sym);
        out
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

/// `# ADDR will be created as "name"` (bold).
fn header(out: &mut String, c: &ResourceChange, st: Style) {
    let what = match (c.action, &c.reason) {
        (Action::Create, _) => "will be created",
        (Action::Update, _) => "will be updated in-place",
        (Action::Delete, _) => "will be destroyed",
        (_, Some(Reason::Tainted)) => "is tainted, so must be replaced",
        (_, Some(Reason::ReplaceRequested)) => "will be replaced, as requested",
        (Action::DeleteThenCreate | Action::CreateThenDelete, _) => "must be replaced",
        (Action::NoOp, _) => "is unchanged",
    };
    heading(out, st, c.address.as_str(), what);
    if c.action == Action::Create
        && let Some(name) = physical_name(c)
    {
        out.push_str(" as ");
        quoted(out, name);
    }
    st.close(out);
    out.push('\n');
}

/// The name the resource has (or will have) in the cloud, when the plan knows it.
fn physical_name(c: &ResourceChange) -> Option<&str> {
    let attrs = c.after.as_ref().or(c.before.as_ref())?;
    attrs.get(c.kind.schema().name_attr)?.as_str()
}

/// Appends `items` separated by `, `.
fn join(out: &mut String, items: &[String]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(item);
    }
}

/// `  # (because …)`, when the reason says more than the header.
fn reason_line(out: &mut String, c: &ResourceChange) {
    let Some(reason) = c.reason.as_ref() else {
        return;
    };
    let start = out.len();
    out.push_str("  # (because ");
    match reason {
        Reason::NotInSpec => {
            out.push_str(c.address.as_str());
            out.push_str(" is not in the spec");
        }
        Reason::ForcedBy { attrs } => {
            join(out, attrs);
            out.push_str(" changed, which forces replacement");
        }
        Reason::DependencyReplaced { address, attrs } => {
            out.push_str(address.as_str());
            out.push_str(" is replaced, and ");
            join(out, attrs);
            out.push_str(" names it");
        }
        Reason::Drifted => out.push_str("it was changed outside pedestal"),
        Reason::SpecChanged { attrs } => {
            join(out, attrs);
            out.push_str(" changed in the spec");
        }
        r @ (Reason::ReleaseUnfinished { .. } | Reason::RolledBack { .. }) => {
            out.push_str(&r.release_text().unwrap_or_default());
        }
        Reason::NewRevision => out.push_str(
            "task definitions are immutable: a new revision is registered and the old one kept for rollback",
        ),
        Reason::DestroyRequested | Reason::Tainted | Reason::ReplaceRequested => {
            out.truncate(start);
            return;
        }
    }
    out.push_str(")\n");
}

/// `  ~ resource "KIND" "ADDR" {` with the action's symbol.
fn resource_line(out: &mut String, sym: &str, kind: ResourceKind, address: &str, st: Style) {
    if sym.len() == 1 {
        out.push_str("  ");
    }
    st.write_sym(out, sym);
    out.push_str(" resource \"");
    out.push_str(kind.as_str());
    out.push_str("\" \"");
    out.push_str(address);
    out.push_str("\" {\n");
}

/// Below this many changed resources their blocks are rendered on the calling thread alone.
const PARALLEL_BLOCKS: usize = 256;

/// Every changed resource's block, each followed by a blank line. A long plan's second half is
/// rendered on a thread of its own into its own string, appended after the first: the same
/// text, in half the time on two cores.
fn blocks(out: &mut String, changed: &[&ResourceChange], st: Style) {
    let render = |out: &mut String, part: &[&ResourceChange]| {
        for c in part {
            block(out, c, st);
            out.push('\n');
        }
    };
    let (first, second) = changed.split_at(changed.len() / 2);
    let (rest, ()) = crate::par::both(
        "render",
        changed.len() >= PARALLEL_BLOCKS,
        || {
            let mut rest = String::new();
            render(&mut rest, second);
            rest
        },
        || render(out, first),
    );
    out.push_str(&rest);
}

fn block(out: &mut String, c: &ResourceChange, st: Style) {
    header(out, c, st);
    reason_line(out, c);
    resource_line(out, action_symbol(c.action), c.kind, c.address.as_str(), st);
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

/// `  # <address> <what>` in bold, left open for the caller to add to and close.
fn heading(out: &mut String, st: Style, address: &str, what: &str) {
    out.push_str("  ");
    st.open(out, "1");
    out.push_str("# ");
    out.push_str(address);
    out.push(' ');
    out.push_str(what);
}

fn drift_block(out: &mut String, d: &Drift, st: Style) {
    let before = canonical_attrs(d.kind, &d.before);
    let (what, sym) = match &d.after {
        Some(_) => ("has changed", "~"),
        None => ("has been deleted", "-"),
    };
    heading(out, st, d.address.as_str(), what);
    st.close(out);
    out.push_str("\n  ");
    st.write_sym(out, sym);
    out.push_str(" resource \"");
    out.push_str(d.kind.as_str());
    out.push_str("\" \"");
    out.push_str(d.address.as_str());
    out.push_str("\" {\n");
    let mut w = Writer { out, st };
    match &d.after {
        Some(after) => {
            let after = canonical_attrs(d.kind, after);
            w.diff_map(6, &before, &after, &[], None, "attributes");
        }
        None => w.all(6, "-", &before, " -> null"),
    }
    out.push_str("    }\n");
}

fn address_lists(out: &mut String, changed: &[&ResourceChange], st: Style) {
    let groups: [(&str, &str, &[Action]); 4] = [
        ("create", "+", &[Action::Create]),
        ("update in-place", "~", &[Action::Update]),
        (
            "replace",
            "",
            &[Action::DeleteThenCreate, Action::CreateThenDelete],
        ),
        ("destroy", "-", &[Action::Delete]),
    ];
    for (label, sym, actions) in groups {
        let count = changed
            .iter()
            .filter(|c| actions.contains(&c.action))
            .count();
        if count == 0 {
            continue;
        }
        st.open(out, "1");
        out.push_str("To ");
        out.push_str(label);
        st.close(out);
        let _ = writeln!(out, " ({count}):");
        for c in changed.iter().filter(|c| actions.contains(&c.action)) {
            let s = if sym.is_empty() {
                action_symbol(c.action)
            } else {
                sym
            };
            if s.len() == 1 {
                out.push_str("  ");
            }
            st.write_sym(out, s);
            out.push(' ');
            out.push_str(c.address.as_str());
            out.push('\n');
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

/// One attribute of a field-by-field diff.
enum Row<'v> {
    Same(&'v Value),
    Changed(&'v Value, &'v Value),
    Added(&'v Value),
    Removed(&'v Value),
}

/// The keys of two attribute maps in order, each with its value on either side: one pass over
/// both sorted maps.
fn zip_sorted<'v>(
    before: &'v Attrs,
    after: &'v Attrs,
    mut each: impl FnMut(&'v str, Option<&'v Value>, Option<&'v Value>),
) {
    let (mut b, mut a) = (before.iter().peekable(), after.iter().peekable());
    loop {
        let order = match (b.peek(), a.peek()) {
            (Some((kb, _)), Some((ka, _))) => kb.as_str().cmp(ka.as_str()),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => return,
        };
        match order {
            Ordering::Less => {
                if let Some((k, v)) = b.next() {
                    each(k, Some(v), None);
                }
            }
            Ordering::Greater => {
                if let Some((k, v)) = a.next() {
                    each(k, None, Some(v));
                }
            }
            Ordering::Equal => {
                if let (Some((k, bv)), Some((_, av))) = (b.next(), a.next()) {
                    each(k, Some(bv), Some(av));
                }
            }
        }
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

/// The widest shown key among the attributes that are not null.
fn key_width(attrs: &Attrs) -> usize {
    attrs
        .iter()
        .filter(|(_, v)| **v != Value::Null)
        .map(|(k, _)| key_len(k))
        .max()
        .unwrap_or(0)
}

impl Writer<'_> {
    /// Starts a line: the indent, the symbol and a space.
    fn start(&mut self, indent: usize, sym: &str) {
        pad(self.out, indent);
        self.st.write_sym(self.out, sym);
        self.out.push(' ');
    }

    /// `KEY = ` with the key padded to `width`.
    fn name(&mut self, k: &Key, width: usize) {
        k.write(self.out, width);
        self.out.push_str(" = ");
    }

    /// The closing `}` or `]` of a collection opened at `indent`, then `suffix`.
    fn close(&mut self, indent: usize, bracket: char, suffix: &str) {
        pad(self.out, indent + 2);
        self.out.push(bracket);
        self.out.push_str(suffix);
        self.out.push('\n');
    }

    /// `# (N unchanged WORDs hidden)`.
    fn hidden(&mut self, indent: usize, hidden: usize, noun: &str) {
        if hidden == 0 {
            return;
        }
        let word = if hidden == 1 {
            noun.trim_end_matches('s')
        } else {
            noun
        };
        pad(self.out, indent + 2);
        let _ = writeln!(self.out, "# ({hidden} unchanged {word} hidden)");
    }

    /// Every attribute with one symbol (create: `+`, destroy: `-` and ` -> null`).
    fn all(&mut self, indent: usize, sym: &str, attrs: &Attrs, suffix: &str) {
        let width = key_width(attrs);
        for (k, v) in attrs.iter().filter(|(_, v)| **v != Value::Null) {
            self.value(indent, sym, (&Key::new(k), width), v, suffix);
        }
    }

    /// One value with a single symbol, nested collections expanded.
    fn value(&mut self, indent: usize, sym: &str, name: (&Key, usize), v: &Value, suffix: &str) {
        self.start(indent, sym);
        self.name(name.0, name.1);
        match v {
            Value::Map(m) if !m.is_empty() => {
                self.out.push_str("{\n");
                let width = key_width(m);
                for (ik, iv) in m.iter().filter(|(_, v)| **v != Value::Null) {
                    self.value(indent + 4, sym, (&Key::new(ik), width), iv, "");
                }
                self.close(indent, '}', suffix);
            }
            Value::List(l) if !l.is_empty() => {
                self.out.push_str("[\n");
                for item in l {
                    self.start(indent + 4, sym);
                    scalar(self.out, item);
                    self.out.push_str(",\n");
                }
                self.close(indent, ']', suffix);
            }
            _ => {
                scalar(self.out, v);
                self.out.push_str(suffix);
                self.out.push('\n');
            }
        }
    }

    fn diff_top(&mut self, c: &ResourceChange, before: &Attrs, after: &Attrs) {
        let ids = [
            c.kind.schema().name_attr,
            ecs_task_definition::Attr::Revision.as_str(),
        ];
        let n = if c.kind == ResourceKind::EcsTaskDefinition {
            2
        } else {
            1
        };
        self.diff_map(
            6,
            before,
            after,
            &c.replace_paths,
            Some(&ids[..n]),
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
        let mut rows: Vec<(&str, Row)> = Vec::new();
        let mut hidden = 0usize;
        let mut width = 0usize;
        zip_sorted(before, after, |k, b, a| {
            let row = match (is_present(b), is_present(a)) {
                (Some(b), Some(a)) if same(b, a) => {
                    if identity.is_some_and(|ids| ids.contains(&k)) {
                        Row::Same(a)
                    } else {
                        hidden += 1;
                        return;
                    }
                }
                (Some(b), Some(a)) => Row::Changed(b, a),
                (None, Some(a)) => Row::Added(a),
                (Some(b), None) => Row::Removed(b),
                (None, None) => return,
            };
            width = width.max(key_len(k));
            rows.push((k, row));
        });
        for (k, row) in rows {
            let name = Key::new(k);
            let forced = forces.iter().any(|f| f == k);
            let force = if forced { " # forces replacement" } else { "" };
            match row {
                Row::Same(v) => {
                    self.start(indent, " ");
                    self.name(&name, width);
                    scalar(self.out, v);
                    self.out.push('\n');
                }
                Row::Added(v) => self.value(indent, "+", (&name, width), v, force),
                Row::Removed(v) => {
                    let suffix = if forced {
                        " -> null # forces replacement"
                    } else {
                        " -> null"
                    };
                    self.value(indent, "-", (&name, width), v, suffix);
                }
                Row::Changed(b, a) => {
                    self.start(indent, "~");
                    self.name(&name, width);
                    self.changed(indent, k, b, a, force);
                }
            }
        }
        self.hidden(indent, hidden, hidden_noun);
    }

    /// The rest of a `~ KEY = ` line: both values, or the nested diff of two collections.
    fn changed(&mut self, indent: usize, k: &str, b: &Value, a: &Value, force: &str) {
        match (b, a) {
            (Value::Map(bm), Value::Map(am)) => {
                self.out.push('{');
                self.out.push_str(force);
                self.out.push('\n');
                self.diff_map(indent + 4, bm, am, &[], None, noun(Some(k)));
                self.close(indent, '}', "");
            }
            (Value::List(bl), Value::List(al)) if !a.is_unknown() => {
                self.out.push('[');
                self.out.push_str(force);
                self.out.push('\n');
                self.diff_list(indent + 4, bl, al);
                self.close(indent, ']', "");
            }
            (b, a) if b.is_sensitive() && a.is_sensitive() => {
                self.out.push_str("(sensitive)");
                self.out.push_str(force);
                self.out.push('\n');
            }
            (b, a) => {
                scalar(self.out, b);
                self.out.push_str(" -> ");
                scalar(self.out, a);
                self.out.push_str(force);
                self.out.push('\n');
            }
        }
    }

    /// Lines of `items` with one symbol, each followed by a comma.
    fn items(&mut self, indent: usize, sym: &str, items: &[String]) {
        for item in items {
            self.start(indent, sym);
            self.out.push_str(item);
            self.out.push_str(",\n");
        }
    }

    fn diff_list(&mut self, indent: usize, before: &[Value], after: &[Value]) {
        let b: Vec<String> = before.iter().map(scalar_string).collect();
        let a: Vec<String> = after.iter().map(scalar_string).collect();
        let mut hidden = 0usize;
        for op in similar::capture_diff_slices(similar::Algorithm::Myers, &b, &a) {
            match op {
                similar::DiffOp::Equal { len, .. } => hidden += len,
                similar::DiffOp::Delete {
                    old_index, old_len, ..
                } => self.items(indent, "-", &b[old_index..old_index + old_len]),
                similar::DiffOp::Insert {
                    new_index, new_len, ..
                } => self.items(indent, "+", &a[new_index..new_index + new_len]),
                similar::DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => {
                    self.items(indent, "-", &b[old_index..old_index + old_len]);
                    self.items(indent, "+", &a[new_index..new_index + new_len]);
                }
            }
        }
        self.hidden(indent, hidden, "elements");
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
    let mut attrs = canonical_attrs(r.kind, &r.attrs).into_owned();
    attrs.insert(schema::ID.into(), Value::str(r.id.clone()));
    let mut w = Writer {
        out: &mut out,
        st: Style(false),
    };
    w.all(0, " ", &attrs, "");
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Address;

    /// A create, an update and a delete of a bucket, each with attributes of its own.
    fn changes(n: usize) -> Vec<ResourceChange> {
        (0..n)
            .map(|i| {
                let attrs = |v: usize| -> Attrs {
                    [
                        (
                            crate::resource::Key::from("bucket"),
                            Value::str(format!("b-{i}")),
                        ),
                        (
                            crate::resource::Key::from("versioning"),
                            Value::Bool(v.is_multiple_of(2)),
                        ),
                    ]
                    .into_iter()
                    .collect()
                };
                let (action, before, after) = match i % 3 {
                    0 => (Action::Create, None, Some(attrs(i))),
                    1 => (Action::Update, Some(attrs(i)), Some(attrs(i + 1))),
                    _ => (Action::Delete, Some(attrs(i)), None),
                };
                ResourceChange {
                    address: Address::new(format!("storage.s{i:04}.bucket")),
                    kind: ResourceKind::S3Bucket,
                    action,
                    reason: None,
                    before,
                    after,
                    replace_paths: Vec::new(),
                    id: None,
                    depends_on: Default::default(),
                    lifecycle: Default::default(),
                }
            })
            .collect()
    }

    #[test]
    fn blocks_of_a_long_plan_come_out_as_rendered_one_by_one() {
        for n in [
            0,
            1,
            PARALLEL_BLOCKS - 1,
            PARALLEL_BLOCKS,
            3 * PARALLEL_BLOCKS + 1,
        ] {
            let all = changes(n);
            let refs: Vec<&ResourceChange> = all.iter().collect();
            for st in [Style(false), Style(true)] {
                let mut one_by_one = String::new();
                for c in &refs {
                    block(&mut one_by_one, c, st);
                    one_by_one.push('\n');
                }
                let mut out = String::new();
                blocks(&mut out, &refs, st);
                assert_eq!(out, one_by_one, "{n} changes");
                assert_eq!(out.matches("    }\n").count(), n);
            }
        }
    }
}
