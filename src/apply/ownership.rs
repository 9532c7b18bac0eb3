//! Ownership before harm: before any step runs, the applier reads the pedestal tags of every
//! recorded resource the plan would update, replace or delete, and refuses the whole apply
//! when one belongs to another stack or env, or to another address of this one (state that
//! points one resource's id at another's cloud object).

use std::collections::BTreeMap;
use std::time::Duration;

use super::{ApplyObserver, ApplyReport, Failure, OpKind};
use crate::addr::Address;
use crate::plan::{Action, Plan, ResourceChange};
use crate::provider::{Owner, Provider, read_concurrently};
use crate::state::State;

/// Reads the `pedestal:stack` / `pedestal:env` / `pedestal:address` tags of every recorded
/// resource the plan will update, replace or delete (batched reads, up to `parallelism` at
/// once) and returns a failure
/// for each that belongs to another stack, env or address, or whose owner cannot be read.
/// Untagged resources (imported ones), resources with no address tag, and resources already
/// gone pass.
pub(super) async fn verify_ownership(
    plan: &Plan,
    changes: &BTreeMap<Address, ResourceChange>,
    state: &State,
    provider: &dyn Provider,
    parallelism: usize,
) -> Vec<Failure> {
    let mut requests = Vec::new();
    for (addr, c) in changes {
        if c.action == Action::Create || !c.kind.taggable() {
            continue;
        }
        let (id, attrs) = match state.resources.get(addr) {
            Some(rs) => (rs.id.clone(), rs.attrs.clone()),
            None => (
                c.id.clone().unwrap_or_default(),
                c.before.clone().unwrap_or_default(),
            ),
        };
        if id.is_empty() {
            continue;
        }
        requests.push(crate::provider::ReadRequest {
            address: addr.clone(),
            kind: c.kind,
            id,
            attrs,
        });
    }
    if requests.is_empty() {
        return Vec::new();
    }
    let results = read_concurrently(provider, &requests, parallelism).await;
    let mut out = Vec::new();
    for (r, result) in requests.iter().zip(results) {
        let verb = match changes.get(&r.address).map(|c| c.action) {
            Some(Action::Delete) => "destroy",
            Some(Action::Update) => "update",
            _ => "replace",
        };
        let tags = match result {
            Ok(Some(live)) => crate::provider::tags_of(&live),
            Ok(None) => continue,
            Err(e) => {
                out.push(Failure {
                    address: r.address.clone(),
                    message: format!(
                        "{}: cannot verify who owns {} {} before changing it: {}",
                        r.address, r.kind, r.id, e.message
                    ),
                });
                continue;
            }
        };
        let owner = Owner::classify(&tags, &plan.stack, &plan.env, &r.address);
        let Owner::Other {
            stack,
            env,
            address,
        } = &owner
        else {
            continue;
        };
        let ours = *stack == plan.stack && *env == plan.env;
        let message = if !ours {
            if stack.is_empty() && env.is_empty() {
                continue;
            }
            format!(
                "{}: refusing to {verb} {} {}: it is {owner}, not by stack {} env {}; the state \
                 does not describe this stack's resources, so nothing was changed",
                r.address, r.kind, r.id, plan.stack, plan.env
            )
        } else if address.is_empty() {
            continue;
        } else {
            format!(
                "{}: refusing to {verb} {} {}: it belongs to {address} of this stack (tagged \
                 pedestal:address = {address}); the state records another resource's id for {}, \
                 so nothing was changed",
                r.address, r.kind, r.id, r.address
            )
        };
        out.push(Failure {
            address: r.address.clone(),
            message,
        });
    }
    out
}

/// The report of an apply refused before any step ran: each resource another stack or env
/// owns (or whose owner could not be read) failed, and nothing started.
pub(super) fn refusal(
    plan: &Plan,
    state: State,
    changes: &BTreeMap<Address, ResourceChange>,
    refused: Vec<Failure>,
    observer: &dyn ApplyObserver,
) -> ApplyReport {
    for f in &refused {
        let op = match changes.get(&f.address).map(|c| c.action) {
            Some(Action::Delete) => OpKind::Delete,
            _ => OpKind::Update,
        };
        observer.failed(&f.address, op, &f.message);
    }
    ApplyReport {
        state,
        mode: plan.mode,
        added: 0,
        changed: 0,
        destroyed: 0,
        failures: refused,
        skipped: Vec::new(),
        not_started: changes.keys().cloned().collect(),
        abandoned: Vec::new(),
        interrupted: false,
        persist_time: Duration::ZERO,
        persist_errors: Vec::new(),
    }
}
