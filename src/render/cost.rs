//! The cost section of the human plan and the markdown comment: each endpoint's monthly cost
//! before → after (with the autoscaling ceiling), the stack's total and delta, and the date
//! and source of the prices. Reads only [`crate::plan::Plan::cost`].

use std::fmt::Write;

use crate::cost::{CostEstimate, EndpointCost, Side, usd, write_usd};

/// How many endpoints the markdown table lists before saying "and N more".
const MAX_LISTED: usize = 50;

/// `$36.04/mo -> $72.08/mo (+$36.04/mo)` for one endpoint, or its single side.
fn write_change(out: &mut String, e: &EndpointCost, arrow: &str) {
    let price = |s: &Option<Side>| s.as_ref().and_then(|s| s.monthly_cents);
    match (&e.before, &e.after) {
        (None, Some(a)) => {
            out.push_str("new, ");
            a.write_price(out);
        }
        (Some(b), None) => {
            out.push_str("removed, was ");
            b.write_price(out);
        }
        (Some(b), Some(a)) => match (price(&e.before), price(&e.after)) {
            (Some(x), Some(y)) if x == y => {
                a.write_price(out);
                out.push_str(" (unchanged)");
            }
            (Some(x), Some(y)) => {
                write_usd(out, x, false);
                out.push_str("/mo ");
                out.push_str(arrow);
                out.push(' ');
                a.write_price(out);
                out.push_str(" (");
                write_usd(out, y - x, true);
                out.push_str("/mo)");
            }
            _ => {
                b.write_price(out);
                out.push(' ');
                out.push_str(arrow);
                out.push(' ');
                a.write_price(out);
            }
        },
        (None, None) => {}
    }
}

/// [`write_change`] into a new string.
fn change_text(e: &EndpointCost, arrow: &str) -> String {
    let mut s = String::new();
    write_change(&mut s, e, arrow);
    s
}

/// The basis line: hours, prices date and source, Spot estimate.
fn basis(c: &CostEstimate) -> String {
    format!(
        "Fargate, {} hours/month, prices of {} ({}); Fargate Spot at {}% off on-demand",
        c.hours_per_month,
        c.prices_date,
        c.prices_source,
        crate::cost::prices::SPOT_DISCOUNT_PERCENT
    )
}

/// The human section (empty when the plan touches no endpoint).
pub fn human(c: &CostEstimate) -> String {
    let mut out = String::new();
    write_human(&mut out, c);
    out
}

/// Appends the human section to `out` (nothing when the plan touches no endpoint).
pub fn write_human(out: &mut String, c: &CostEstimate) {
    if c.endpoints.is_empty() {
        return;
    }
    let _ = writeln!(out, "Monthly cost ({}):", basis(c));
    for e in &c.endpoints {
        out.push_str("  ");
        out.push_str(&e.endpoint);
        out.push_str(": ");
        write_change(out, e, "->");
        out.push('\n');
        if let Some(s) = e.after.as_ref().or(e.before.as_ref()) {
            out.push_str("      ");
            s.write_shape(out);
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "  Total: {}/mo -> {}/mo ({}/mo)",
        usd(c.before_cents, false),
        usd(c.after_cents, false),
        usd(c.delta_cents, true)
    );
}

/// The markdown section (empty when the plan touches no endpoint). Endpoint addresses and
/// regions are spec names (letters, digits, `-`, `_`, `.`), safe in a table cell.
pub fn markdown(c: &CostEstimate) -> String {
    let mut out = String::new();
    if c.endpoints.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "**Monthly cost: {} → {} ({})**\n",
        usd(c.before_cents, false),
        usd(c.after_cents, false),
        usd(c.delta_cents, true)
    );
    out.push_str("| Endpoint | Runs | Monthly cost |\n|---|---|---|\n");
    // Endpoints whose cost changes first, then the others, at most MAX_LISTED rows in
    // address order.
    let changes = |e: &&EndpointCost| {
        e.before.as_ref().and_then(|s| s.monthly_cents)
            != e.after.as_ref().and_then(|s| s.monthly_cents)
    };
    let mut listed: Vec<&EndpointCost> = c.endpoints.iter().filter(changes).collect();
    listed.extend(c.endpoints.iter().filter(|e| !changes(e)));
    listed.truncate(MAX_LISTED);
    listed.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    for e in &listed {
        let shape = e
            .after
            .as_ref()
            .or(e.before.as_ref())
            .map(Side::shape)
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            e.endpoint,
            cell(&shape),
            cell(&change_text(e, "→"))
        );
    }
    if c.endpoints.len() > listed.len() {
        let _ = writeln!(
            out,
            "| … and {} more endpoints | | |",
            c.endpoints.len() - listed.len()
        );
    }
    let _ = writeln!(out, "\n<sub>{}</sub>\n", cell(&basis(c)));
    out
}

/// Text safe inside a table cell (no pipes, no HTML).
fn cell(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}
