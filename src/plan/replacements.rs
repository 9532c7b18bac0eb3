//! Ordering replacements so that every plan can be applied: a resource replaced create-first
//! (`+/-`) whose dependency is replaced delete-first (`-/+`) would need the new dependency
//! before the old one is gone and the old dependent gone before the old dependency is deleted —
//! a cycle (a renamed bucket holding an artifact object). As Terraform does, the dependency
//! becomes create-first too when that is possible (its physical name changes, so both copies
//! can exist at once); otherwise the dependent becomes delete-first, and so on along the chain
//! until no such pair is left. The same holds for a create-first resource whose recorded
//! dependency is replaced delete-first (an artifact moved out of a renamed bucket): the old copy
//! must go before the old bucket does, yet it waits for its dependents to move to objects that
//! need the new bucket; a renamed dependency becomes create-first. [`check_acyclic`] then proves
//! the steps apply will walk have no cycle.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Action, ResourceChange};
use crate::addr::Address;
use crate::graph::Dag;
use crate::resource::Value;
use crate::state::State;

/// Whether a replacement gives the resource a new physical name (so the new copy can be made
/// while the old one still exists).
fn renames(c: &ResourceChange) -> bool {
    let name = c.kind.schema().name_attr;
    let before = c.before.as_ref().and_then(|b| b.get(name));
    let after = c.after.as_ref().and_then(|a| a.get(name));
    match (before, after) {
        (Some(Value::String(b)), Some(Value::String(a))) => a != b,
        _ => false,
    }
}

/// Resolves every create-first replacement that depends (or depended, in `prior`) on a
/// delete-first one (see the module documentation). Each resource changes order at most twice,
/// so this ends.
///
/// The old copy of a resource counts too: an object moved out of a renamed bucket (or deleted
/// outright) is deleted only after its old dependents moved on, and they may need what the
/// bucket's new copy holds, so that bucket is made create-first as well when it can be.
pub(super) fn order_replacements(changes: &mut [ResourceChange], prior: &State) {
    if !changes.iter().any(|c| c.action == Action::DeleteThenCreate) {
        // Nothing is replaced delete-first: no pair can conflict.
        return;
    }
    let index: HashMap<Address, usize> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.address.clone(), i))
        .collect();
    // Made delete-first for good: never turned create-first again.
    let mut pinned: BTreeSet<usize> = BTreeSet::new();
    loop {
        let mut moved = false;
        for d in 0..changes.len() {
            let late_delete = match changes[d].action {
                Action::CreateThenDelete => false,
                Action::Delete => true,
                _ => continue,
            };
            let recorded = prior
                .resources
                .get(&changes[d].address)
                .map(|r| &r.dependencies);
            let new_deps = (!late_delete).then_some(&changes[d].depends_on);
            let conflicting = new_deps
                .into_iter()
                .flatten()
                .chain(recorded.into_iter().flatten())
                .filter_map(|a| index.get(a).copied())
                .find(|&p| p != d && changes[p].action == Action::DeleteThenCreate);
            let Some(p) = conflicting else { continue };
            if !pinned.contains(&p) && renames(&changes[p]) {
                changes[p].action = Action::CreateThenDelete;
            } else if !late_delete {
                changes[d].action = Action::DeleteThenCreate;
                pinned.insert(d);
            } else {
                // A delete cannot change its order; check_acyclic reports what remains.
                continue;
            }
            moved = true;
        }
        if !moved {
            break;
        }
    }
}

/// The addresses on a cycle of the steps apply would walk for `changes`, if any.
pub(super) fn check_acyclic(changes: &[ResourceChange], prior: &State) -> Result<(), Vec<Address>> {
    // Without a step that deletes, every step waits only on the creates and updates of what
    // it depends on in the spec: edges of the planner's graph, already ordered, unless a
    // resource names itself.
    if !changes.iter().any(|c| {
        matches!(
            c.action,
            Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete
        ) || c.depends_on.contains(&c.address)
    }) {
        return Ok(());
    }
    // A no-op has no step and adds no edge: only the changes that do something count.
    let by_address: BTreeMap<Address, &ResourceChange> = changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.clone(), c))
        .collect();
    let steps = crate::apply::walk::steps_for(&by_address, prior);
    let dag = Dag::from_deps(steps.iter());
    match dag.try_order() {
        Ok(_) => Ok(()),
        Err(on_cycle) => {
            let addresses: BTreeSet<Address> = on_cycle.into_iter().map(|s| s.address).collect();
            Err(addresses.into_iter().collect())
        }
    }
}
