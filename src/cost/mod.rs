//! The cost estimate every plan carries: each endpoint's monthly Fargate cost before and after
//! the plan, and the stack's delta, from the dated table in [`prices`].
//!
//! Model (per endpoint, per side of the plan):
//! - a task costs `vCPU × price per vCPU-hour + GB × price per GB-hour` per hour, where vCPU is
//!   the task definition's `cpu / 1024` and GB its `memory / 1024`;
//! - replicas are the service's desired count, or the autoscaling minimum when autoscaling owns
//!   the count (its maximum gives the ceiling);
//! - a month is [`prices::HOURS_PER_MONTH`] hours;
//! - a service whose capacity provider strategy names `FARGATE_SPOT` pays the Spot estimate for
//!   the share of tasks placed there (`base` first, the rest by `weight`);
//! - the region is the one the task definition's container logs to (the stack's region).
//!
//! Everything is integer arithmetic in nano-dollars, rounded half up to cents once per
//! endpoint, so plans stay byte-for-byte reproducible and totals are the sums of the lines
//! shown. Endpoints on EC2 capacity (GPU tasks), in a region without a price, or with sizes
//! known only after apply are listed with the reason and left out of the totals.
//!
//! Load balancers: no gateway kind exists yet. When one does, its hourly and LCU prices join
//! [`prices`] and its cost is added to its endpoint's [`Side::monthly_cents`] in [`side`].

pub mod prices;

use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use crate::resource::schema::{ecs_service as svc, ecs_task_definition as td, scaling_target};
use crate::resource::{Attrs, ResourceKind, Value};

/// The cost section of a plan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostEstimate {
    /// Monthly cost of the priced endpoints after the plan, in cents.
    pub after_cents: i64,
    /// Monthly cost of the priced endpoints before the plan, in cents.
    pub before_cents: i64,
    /// `after_cents - before_cents`.
    pub delta_cents: i64,
    /// One entry per endpoint, sorted by endpoint address.
    pub endpoints: Vec<EndpointCost>,
    /// Hours in a month (730).
    pub hours_per_month: u64,
    /// Date of the price table.
    pub prices_date: String,
    /// Where the prices come from.
    pub prices_source: String,
}

/// One endpoint's cost before and after the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointCost {
    /// `None` when the plan creates the endpoint.
    pub after: Option<Side>,
    /// `None` when the endpoint does not exist yet.
    pub before: Option<Side>,
    /// The endpoint block address (`endpoint.fraud`, `module.m.endpoint.churn`).
    pub endpoint: String,
}

/// What one endpoint runs on one side of the plan, and what that costs per month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    /// `FARGATE`, `FARGATE_SPOT`, `FARGATE+FARGATE_SPOT` or `EC2`.
    pub capacity: String,
    /// CPU units per task (1024 = 1 vCPU); `None` when known only after apply.
    pub cpu: Option<i64>,
    /// The autoscaling maximum, when autoscaling owns the count.
    pub max_replicas: Option<i64>,
    /// Cost at `max_replicas`, in cents.
    pub max_monthly_cents: Option<i64>,
    /// Memory per task in MiB; `None` when known only after apply.
    pub memory: Option<i64>,
    /// Monthly cost in cents; `None` when it cannot be priced (see `unpriced`).
    pub monthly_cents: Option<i64>,
    /// The region whose prices apply.
    pub region: String,
    /// Tasks running: the desired count or the autoscaling minimum.
    pub replicas: Option<i64>,
    /// Why there is no price, when there is none.
    pub unpriced: Option<String>,
}

/// One resource of an endpoint as the plan sees it.
pub struct Part<'a> {
    /// The endpoint block address.
    pub endpoint: &'a str,
    /// The resource's kind (task definition, service or scaling target).
    pub kind: ResourceKind,
    /// Its attributes before the plan (`None`: created by it).
    pub before: Option<&'a Attrs>,
    /// Its attributes after the plan (`None`: destroyed by it).
    pub after: Option<&'a Attrs>,
}

#[derive(Default)]
struct Parts<'a> {
    td: Option<&'a Attrs>,
    svc: Option<&'a Attrs>,
    scaling: Option<&'a Attrs>,
}

impl Parts<'_> {
    /// True when both hold the very same attributes (a resource the plan leaves alone is
    /// passed with one map on both sides), so both sides cost the same.
    fn same_as(&self, other: &Parts) -> bool {
        let same = |a: Option<&Attrs>, b: Option<&Attrs>| match (a, b) {
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            (None, None) => true,
            _ => false,
        };
        same(self.td, other.td) && same(self.svc, other.svc) && same(self.scaling, other.scaling)
    }
}

/// A multiply-rotate hasher (FxHash's) for the endpoint index: its keys are the stack's own
/// block addresses, short and not chosen to collide, where the default hasher costs more than
/// the rest of the lookup.
#[derive(Default)]
struct NameHasher(u64);

impl NameHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The estimate over an endpoint's task definitions, services and scaling targets
/// (`default_region` when a task definition does not say). A part with the same attributes on
/// both sides (the same reference) is priced once.
#[inline(never)]
pub fn estimate<'a>(
    parts: impl IntoIterator<Item = Part<'a>>,
    default_region: &str,
) -> CostEstimate {
    // Parts arrive grouped by endpoint for the most part: look the last group up first.
    let mut groups: Vec<(&str, Parts, Parts)> = Vec::new();
    let mut index: HashMap<&str, usize, BuildHasherDefault<NameHasher>> = HashMap::default();
    let mut last: Option<usize> = None;
    for p in parts {
        let at = match last {
            Some(i) if groups[i].0 == p.endpoint => i,
            _ => *index.entry(p.endpoint).or_insert_with(|| {
                groups.push((p.endpoint, Parts::default(), Parts::default()));
                groups.len() - 1
            }),
        };
        last = Some(at);
        let (_, b, a) = &mut groups[at];
        for (side, attrs) in [(b, p.before), (a, p.after)] {
            match p.kind {
                ResourceKind::EcsTaskDefinition => side.td = attrs,
                ResourceKind::EcsService => side.svc = attrs,
                ResourceKind::ScalingTarget => side.scaling = attrs,
                _ => {}
            }
        }
    }
    groups.sort_unstable_by(|x, y| x.0.cmp(y.0));
    let mut out = CostEstimate {
        hours_per_month: prices::HOURS_PER_MONTH,
        prices_date: prices::PRICES_DATE.into(),
        prices_source: prices::PRICES_SOURCE.into(),
        endpoints: Vec::with_capacity(groups.len()),
        ..Default::default()
    };
    for (endpoint, b, a) in groups {
        let before = side(&b, default_region);
        let after = if a.same_as(&b) {
            before.clone()
        } else {
            side(&a, default_region)
        };
        if before.is_none() && after.is_none() {
            continue;
        }
        out.before_cents += before.as_ref().and_then(|s| s.monthly_cents).unwrap_or(0);
        out.after_cents += after.as_ref().and_then(|s| s.monthly_cents).unwrap_or(0);
        out.endpoints.push(EndpointCost {
            after,
            before,
            endpoint: endpoint.to_string(),
        });
    }
    out.delta_cents = out.after_cents - out.before_cents;
    out
}

fn int(attrs: Option<&Attrs>, k: &str) -> Option<i64> {
    attrs?.get(k)?.as_i64()
}

/// One side of an endpoint: present when its service is.
fn side(p: &Parts, default_region: &str) -> Option<Side> {
    let svc_attrs = p.svc?;
    let td_attrs = p.td;
    let region = td_attrs
        .and_then(|t| t.get(td::Attr::Container.as_str()))
        .and_then(Value::as_map)
        .and_then(|c| c.get(td::Container::Region.as_str()))
        .and_then(Value::as_str)
        .unwrap_or(default_region)
        .to_string();
    let cpu = int(td_attrs, td::Attr::Cpu.as_str());
    let memory = int(td_attrs, td::Attr::Memory.as_str());
    let gpu = int(td_attrs, td::Attr::Gpu.as_str()).unwrap_or(0);
    let (min, max) = match p.scaling {
        Some(s) => (
            int(Some(s), scaling_target::Attr::Min.as_str()),
            int(Some(s), scaling_target::Attr::Max.as_str()),
        ),
        None => (None, None),
    };
    let replicas = if p.scaling.is_some() {
        min
    } else {
        match svc_attrs.get(svc::Attr::DesiredCount.as_str()) {
            None | Some(Value::Null) => Some(svc::DEFAULT_DESIRED_COUNT),
            Some(v) => v.as_i64(),
        }
    };
    let strategy = strategy(svc_attrs);
    let launch = svc_attrs
        .get(svc::Attr::LaunchType.as_str())
        .and_then(Value::as_str)
        .unwrap_or(svc::DEFAULT_LAUNCH_TYPE);
    let capacity = match &strategy {
        Some(items) => {
            let mut names: Vec<&str> = items.iter().map(|i| i.0.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            names.join("+")
        }
        None if gpu > 0 => "EC2".to_string(),
        None => launch.to_string(),
    };
    let mut s = Side {
        capacity,
        cpu,
        max_replicas: max,
        max_monthly_cents: None,
        memory,
        monthly_cents: None,
        region,
        replicas,
        unpriced: None,
    };
    let (Some(cpu), Some(memory), Some(replicas)) = (cpu, memory, replicas) else {
        s.unpriced = Some("task size or count known only after apply".into());
        return Some(s);
    };
    let on_fargate = match &strategy {
        Some(items) => items.iter().all(|i| i.0.starts_with("FARGATE")),
        None => gpu == 0 && launch == "FARGATE",
    };
    if !on_fargate {
        s.unpriced = Some("runs on EC2 capacity: instance cost not estimated".into());
        return Some(s);
    }
    let Some(price) = prices::fargate(&s.region) else {
        s.unpriced = Some(format!(
            "no Fargate price for region {} in the table of {}",
            s.region,
            prices::PRICES_DATE
        ));
        return Some(s);
    };
    s.monthly_cents = Some(monthly_cents(
        price,
        cpu,
        memory,
        replicas,
        strategy.as_deref(),
    ));
    s.max_monthly_cents = max.map(|m| monthly_cents(price, cpu, memory, m, strategy.as_deref()));
    Some(s)
}

/// `(capacity provider, weight, base)` of a capacity provider strategy, if one is set.
fn strategy(svc_attrs: &Attrs) -> Option<Vec<(String, i64, i64)>> {
    let list = svc_attrs
        .get(svc::Attr::CapacityProviderStrategy.as_str())
        .and_then(Value::as_list)
        .filter(|l| !l.is_empty())?;
    Some(
        list.iter()
            .filter_map(Value::as_map)
            .filter_map(|m| {
                let name = m
                    .get(svc::CapacityProviderItem::CapacityProvider.as_str())?
                    .as_str()?;
                let get = |k: svc::CapacityProviderItem, d: i64| {
                    m.get(k.as_str()).and_then(Value::as_i64).unwrap_or(d)
                };
                Some((
                    name.to_string(),
                    get(svc::CapacityProviderItem::Weight, svc::DEFAULT_WEIGHT).max(0),
                    get(svc::CapacityProviderItem::Base, svc::DEFAULT_BASE).max(0),
                ))
            })
            .collect(),
    )
}

/// Monthly cost in cents, rounded half up:
/// `replicas × (cpu/1024 × vCPU-hour + memory/1024 × GB-hour) × 730`, with the share of tasks
/// on `FARGATE_SPOT` at the Spot discount.
pub fn monthly_cents(
    price: prices::RegionPrice,
    cpu: i64,
    memory: i64,
    replicas: i64,
    strategy: Option<&[(String, i64, i64)]>,
) -> i64 {
    let (cpu, memory, replicas) = (
        cpu.max(0) as u128,
        memory.max(0) as u128,
        replicas.max(0) as u128,
    );
    // Nano-dollars per task-hour × 1024.
    let task_hour_x1024 = cpu * price.vcpu_hour as u128 + memory * price.gb_hour as u128;
    // Tasks on Spot out of `replicas`, as a fraction spot_num / den.
    let (spot_num, den) = match strategy {
        None => (0u128, 1u128),
        Some(items) => spot_share(items, replicas),
    };
    let on_demand_num = replicas * den - spot_num;
    let pct = 100u128;
    let spot_pct = pct - prices::SPOT_DISCOUNT_PERCENT as u128;
    // nano-dollars × 1024 × den × 100 per month.
    let scaled = task_hour_x1024
        * prices::HOURS_PER_MONTH as u128
        * (on_demand_num * pct + spot_num * spot_pct);
    // One cent is 10⁷ nano-dollars.
    let divisor = 1024 * den * pct * 10_000_000;
    ((scaled + divisor / 2) / divisor) as i64
}

/// Tasks placed on `FARGATE_SPOT` out of `replicas` under a strategy: `base` tasks first on
/// their provider, the rest by weight. Returned as a fraction (numerator, denominator).
fn spot_share(items: &[(String, i64, i64)], replicas: u128) -> (u128, u128) {
    let mut left = replicas;
    let mut spot_base = 0u128;
    for (name, _, base) in items {
        let b = (*base as u128).min(left);
        left -= b;
        if name == "FARGATE_SPOT" {
            spot_base += b;
        }
    }
    let total_w: u128 = items.iter().map(|i| i.1 as u128).sum();
    if total_w == 0 {
        return (spot_base, 1);
    }
    let spot_w: u128 = items
        .iter()
        .filter(|i| i.0 == "FARGATE_SPOT")
        .map(|i| i.1 as u128)
        .sum();
    (spot_base * total_w + left * spot_w, total_w)
}

/// `$1,234.56` (with a sign when asked: `+$1.00`, `-$0.50`).
pub fn usd(cents: i64, signed: bool) -> String {
    let mut s = String::new();
    write_usd(&mut s, cents, signed);
    s
}

/// Appends [`usd`]`(cents, signed)` to `out`.
pub fn write_usd(out: &mut String, cents: i64, signed: bool) {
    match (signed, cents < 0) {
        (_, true) => out.push('-'),
        (true, false) => out.push('+'),
        (false, false) => {}
    }
    out.push('$');
    let abs = cents.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut n = abs / 100;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in (0..len).rev() {
        out.push(char::from(digits[i]));
        if i > 0 && i % 3 == 0 {
            out.push(',');
        }
    }
    let c = abs % 100;
    out.push('.');
    out.push(char::from(b'0' + (c / 10) as u8));
    out.push(char::from(b'0' + (c % 10) as u8));
}

/// Appends `v` in decimal.
fn push_int(out: &mut String, v: i64) {
    let mut digits = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push('-');
    }
    for d in &digits[at..] {
        out.push(char::from(*d));
    }
}

/// Appends a whole number (`?` when unknown).
fn write_count(out: &mut String, v: Option<i64>) {
    match v {
        Some(v) => push_int(out, v),
        None => out.push('?'),
    }
}

/// Appends CPU units or MiB as vCPUs or GB: `1`, `0.25`, `1.5` (`?` when unknown).
fn write_size(out: &mut String, v: Option<i64>) {
    let Some(v) = v else {
        out.push('?');
        return;
    };
    let whole = v / 1024;
    let frac = (v % 1024) * 100 / 1024;
    if frac == 0 {
        push_int(out, whole);
    } else if v < 0 {
        let start = out.len();
        let _ = write!(out, "{whole}.{frac:02}");
        let kept = out[start..].trim_end_matches('0').len();
        out.truncate(start + kept);
    } else {
        // Two decimals without their trailing zero (`frac` is not 0).
        push_int(out, whole);
        out.push('.');
        out.push(char::from(b'0' + (frac / 10) as u8));
        if frac % 10 != 0 {
            out.push(char::from(b'0' + (frac % 10) as u8));
        }
    }
}

impl Side {
    /// `2 × 1 vCPU / 2 GB on FARGATE in us-east-1`.
    pub fn shape(&self) -> String {
        let mut s = String::new();
        self.write_shape(&mut s);
        s
    }

    /// Appends [`Side::shape`] to `out`.
    pub fn write_shape(&self, out: &mut String) {
        write_count(out, self.replicas);
        out.push_str(" × ");
        write_size(out, self.cpu);
        out.push_str(" vCPU / ");
        write_size(out, self.memory);
        out.push_str(" GB on ");
        out.push_str(&self.capacity);
        out.push_str(" in ");
        out.push_str(&self.region);
    }

    /// `$72.08/mo, up to $360.40/mo at max 10 replicas`, or why there is no price.
    pub fn price_text(&self) -> String {
        let mut s = String::new();
        self.write_price(&mut s);
        s
    }

    /// Appends [`Side::price_text`] to `out`.
    pub fn write_price(&self, out: &mut String) {
        match (self.monthly_cents, &self.unpriced) {
            (Some(c), _) => {
                write_usd(out, c, false);
                out.push_str("/mo");
                if let (Some(m), Some(max)) = (self.max_monthly_cents, self.max_replicas) {
                    out.push_str(", up to ");
                    write_usd(out, m, false);
                    out.push_str("/mo at max ");
                    push_int(out, max);
                    out.push_str(" replicas");
                }
            }
            (None, Some(why)) => {
                out.push_str("not priced: ");
                out.push_str(why);
            }
            (None, None) => out.push_str("not priced"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_counts_read_as_before() {
        for v in [
            0,
            1,
            256,
            512,
            1000,
            1024,
            1100,
            1536,
            3000,
            4096,
            123_456,
            -1,
            -300,
            -2048,
            i64::MAX,
            i64::MIN,
        ] {
            let whole = v / 1024;
            let frac = (v % 1024) * 100 / 1024;
            let old = if frac == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{frac:02}")
                    .trim_end_matches('0')
                    .to_string()
            };
            let mut new = String::new();
            write_size(&mut new, Some(v));
            assert_eq!(new, old, "{v}");
            let mut n = String::new();
            push_int(&mut n, v);
            assert_eq!(n, v.to_string());
        }
    }

    #[test]
    fn usd_groups_thousands_and_signs() {
        assert_eq!(usd(0, false), "$0.00");
        assert_eq!(usd(7208, true), "+$72.08");
        assert_eq!(usd(-5, true), "-$0.05");
        assert_eq!(usd(123_456_789, false), "$1,234,567.89");
    }

    #[test]
    fn spot_share_places_base_first_then_weights() {
        let s = |v: &[(&str, i64, i64)]| -> Vec<(String, i64, i64)> {
            v.iter().map(|(a, b, c)| (a.to_string(), *b, *c)).collect()
        };
        // 1 on FARGATE by base, the other 3 split 1:3 → 9/4 on Spot.
        assert_eq!(
            spot_share(&s(&[("FARGATE", 1, 1), ("FARGATE_SPOT", 3, 0)]), 4),
            (9, 4)
        );
        assert_eq!(spot_share(&s(&[("FARGATE_SPOT", 1, 0)]), 2), (2, 1));
    }
}
