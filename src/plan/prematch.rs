//! Matching resources against their records ahead of the planner's walk, on two threads for a
//! large stack.
//!
//! Most resources of a stack are unchanged, and finding that out (comparing every desired
//! attribute, references resolved, with the recorded one) is most of the walk's work. It does
//! not depend on the order of the walk when every reference resolves to a recorded value, so it
//! can be done first, in parallel: [`prematch`] tells, for each resource in both the spec and
//! the state, whether it matches its record with references resolved against the recorded
//! state only. The walk takes a `true` only when what it would resolve those references to is
//! provably the same recorded values (see the planner's `settled`); otherwise, and for every
//! `false`, it compares as before.

use super::compare::matches_record;
use super::planner::{AddressIndex, Node};
use crate::resource::schema;
use crate::resource::{Ref, Value};
use crate::state::Status;

/// Below this many resources the matching runs on the calling thread: starting a thread
/// costs more than it saves.
const PARALLEL_FROM: usize = 2_000;

/// For each node: whether it has a spec resource and a record that the walk may find to match
/// (not tainted, no `ignore_changes`, not named by `--replace`) and whose attributes match the
/// record with references resolved by [`recorded`]. Half the nodes are matched on a second
/// thread when there are at least [`PARALLEL_FROM`] of them.
pub(super) fn prematch(nodes: &[Node], index: &AddressIndex, replace: &[String]) -> Vec<bool> {
    let part = |range: std::ops::Range<usize>| -> Vec<bool> {
        nodes[range]
            .iter()
            .map(|node| matches(node, nodes, index, replace))
            .collect()
    };
    if nodes.len() < PARALLEL_FROM {
        return part(0..nodes.len());
    }
    let mid = nodes.len() / 2;
    std::thread::scope(|s| {
        let spawned = std::thread::Builder::new()
            .name("prematch".into())
            .spawn_scoped(s, || part(mid..nodes.len()));
        let mut out = part(0..mid);
        let second = match spawned {
            // A panic there is a bug here: it must not pass unseen.
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had: the second half is matched here too.
            Err(_) => part(mid..nodes.len()),
        };
        out.extend(second);
        out
    })
}

/// Whether one node's spec resource matches its record, references resolved by [`recorded`].
fn matches(node: &Node, nodes: &[Node], index: &AddressIndex, replace: &[String]) -> bool {
    let (Some(r), Some(p)) = (node.desired, node.prior) else {
        return false;
    };
    if p.status == Status::Tainted
        || !r.lifecycle.ignore_changes.is_empty()
        || replace.iter().any(|t| node.address.is_within(t))
    {
        return false;
    }
    matches_record(&r.attrs, &p.attrs, r.kind.schema().computed, &|rf| {
        recorded(nodes, index, rf)
    })
}

/// A reference resolved against the referenced resource's record: the value the walk resolves
/// it to whether the resource is left out of the plan (its record stands) or planned with the
/// record itself as `after` and nothing pending.
///
/// The two readings differ only where `None` is given here, which makes the match fail (a
/// reference that does not resolve is never identical to a recorded value):
/// - an `id` the record also holds as an attribute (planned, the attribute is read; left out,
///   the recorded id);
/// - a recorded value that is not known (planned, it resolves to nothing; left out, to the
///   value, which is never identical to anything either, so the answers agree).
pub(super) fn recorded(nodes: &[Node], index: &AddressIndex, rf: &Ref) -> Option<Value> {
    let p = nodes[*index.get(&rf.address)?].prior?;
    if rf.attr == schema::ID {
        return match p.attrs.contains_key(schema::ID) {
            true => None,
            false => Some(Value::str(p.id.clone())),
        };
    }
    p.attrs.get(&rf.attr).cloned()
}
