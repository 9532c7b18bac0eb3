//! The planner's work on two threads for a large stack: finding the edges of its graph and
//! matching resources against their records ahead of its walk ([`link`]).
//!
//! Most resources of a stack are unchanged, and finding that out (comparing every desired
//! attribute, references resolved, with the recorded one) is most of the walk's work. It does
//! not depend on the order of the walk when every reference resolves to a recorded value, so it
//! can be done first, in parallel: [`link`] tells, for each resource in both the spec and the
//! state, whether it matches its record with references resolved against the recorded state
//! only. The walk takes a `true` only when what it would resolve those references to is
//! provably the same recorded values (see the planner's `settled`); otherwise, and for every
//! `false`, it compares as before.

use std::borrow::Cow;
use std::ops::Range;

use super::PlanMode;
use super::compare::matches_record;
use super::planner::{AddressIndex, Graph, Node, PlanOptions};
use crate::resource::schema;
use crate::resource::{Ref, Value};
use crate::state::Status;

/// Below this many resources (or changes) everything runs on the calling thread: starting a
/// thread costs more than it saves.
pub(super) const PARALLEL_FROM: usize = 2_000;

/// Gives every node its edges (see [`Graph::deps_of`]) and tells for each, in a normal plan,
/// whether it has a spec resource and a record that the walk may find to match (not tainted,
/// no `ignore_changes`, not named by `--replace`) and whose attributes match the record with
/// references resolved by [`recorded`]. Half the nodes are done on a second thread when there
/// are at least [`PARALLEL_FROM`] of them.
pub(super) fn link(graph: &mut Graph, opts: &PlanOptions) -> Vec<bool> {
    let normal = opts.mode == PlanMode::Normal;
    let g = &*graph;
    let found = halves(g.nodes.len(), |range| {
        range
            .map(|i| {
                let matched = normal && matches(&g.nodes[i], &g.nodes, &g.index, &opts.replace);
                (g.deps_of(i), matched)
            })
            .collect()
    });
    let mut matched = Vec::with_capacity(found.len());
    for (node, (deps, m)) in graph.nodes.iter_mut().zip(found) {
        node.deps = deps;
        matched.push(m);
    }
    matched
}

/// `part` over `0..n`, in order: the second half on another thread when `n` is at least
/// [`PARALLEL_FROM`] (and a thread can be had).
fn halves<T: Send>(n: usize, part: impl Fn(Range<usize>) -> Vec<T> + Sync) -> Vec<T> {
    let mid = n / 2;
    let (second, mut out) =
        crate::par::both("plan", n >= PARALLEL_FROM, || part(mid..n), || part(0..mid));
    out.extend(second);
    out
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
pub(super) fn recorded<'n>(
    nodes: &[Node<'n>],
    index: &AddressIndex,
    rf: &Ref,
) -> Option<Cow<'n, Value>> {
    let p = nodes[*index.get(&rf.address)?].prior?;
    if rf.attr == schema::ID {
        return match p.attrs.contains_key(schema::ID) {
            true => None,
            false => Some(Cow::Owned(Value::str(p.id.clone()))),
        };
    }
    p.attrs.get(&rf.attr).map(Cow::Borrowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Address;
    use crate::resource::{Attrs, ResourceKind};
    use crate::state::ResourceState;

    fn record(id: &str, attrs: &[(&str, &str)]) -> ResourceState {
        ResourceState {
            kind: ResourceKind::LogGroup,
            id: id.into(),
            attrs: attrs
                .iter()
                .map(|(k, v)| (crate::resource::Key::intern(k), Value::str(*v)))
                .collect::<Attrs>(),
            dependencies: Default::default(),
            status: Status::Ok,
        }
    }

    #[test]
    fn references_resolve_to_the_record_only_where_both_readings_agree() {
        let (a, b) = (Address::new("x.a.log_group"), Address::new("x.b.log_group"));
        let (plain, with_id) = (
            record("id-a", &[("arn", "arn:a")]),
            record("id-b", &[("arn", "arn:b"), ("id", "other")]),
        );
        let nodes = [
            Node {
                address: &a,
                desired: None,
                prior: Some(&plain),
                deps: Vec::new(),
            },
            Node {
                address: &b,
                desired: None,
                prior: Some(&with_id),
                deps: Vec::new(),
            },
        ];
        let mut index = AddressIndex::default();
        index.extend([(&a, 0), (&b, 1)]);
        let get = |address: &Address, attr: &str| {
            let rf = Ref {
                address: address.clone(),
                attr: attr.into(),
            };
            recorded(&nodes, &index, &rf).map(Cow::into_owned)
        };
        assert_eq!(get(&a, "arn"), Some(Value::str("arn:a")));
        assert_eq!(get(&a, "id"), Some(Value::str("id-a")));
        assert_eq!(get(&a, "name"), None);
        // Planned with the record as `after`, `id` reads the attribute; left out, the
        // recorded id: no answer, so no match.
        assert_eq!(get(&b, "id"), None);
        assert_eq!(get(&b, "arn"), Some(Value::str("arn:b")));
        assert_eq!(get(&Address::new("x.c.log_group"), "arn"), None);
    }

    #[test]
    fn work_split_in_two_comes_back_whole_and_in_order() {
        for n in [
            0,
            1,
            PARALLEL_FROM - 1,
            PARALLEL_FROM,
            PARALLEL_FROM * 3 + 1,
        ] {
            let got = halves(n, |range| {
                range.map(|i| (i, std::thread::current().id())).collect()
            });
            assert!(got.iter().map(|(i, _)| *i).eq(0..n), "{n}");
            let here = std::thread::current().id();
            let threads = got.iter().filter(|(_, t)| *t != here).count();
            assert_eq!(
                threads,
                if n < PARALLEL_FROM { 0 } else { n - n / 2 },
                "{n}"
            );
        }
    }
}
