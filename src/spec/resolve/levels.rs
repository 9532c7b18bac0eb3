//! Lowering a large stack by levels, on two threads. A node's level is one more than the
//! highest level among what it references, so the nodes of one level never read each other:
//! a level's blocks are split in two, one half lowered here and the other by a fork of the
//! load ([`Loader::fork`]) on a second thread, and the fork's resources and exports are taken
//! back before the next level starts.
//!
//! Every consumer of what lowering produces is indifferent to the order blocks were lowered
//! in when nothing is reported: resources are ordered by address, exports are found by block,
//! routes are sorted by rule. Diagnostics are not (one error per tag limit goes to the first
//! block lowered), so when anything is reported, the caller forgets it all and evaluates again
//! in the one order, on one thread. Stacks with artifacts are always lowered in order: their
//! lowering reads and hashes files.

use std::sync::Mutex;

use super::EvalNode;
use crate::spec::load::{BlockId, BlockKind, Loader};

/// Levels with fewer blocks are lowered on this thread: a second thread and a fork would cost
/// more than they save (about 400 blocks is a 2,000-resource stack).
pub(in crate::spec) const SPLIT_FROM: usize = 400;

#[cfg(test)]
thread_local! {
    /// The level size from which blocks are lowered on two threads, lowered by tests.
    pub(in crate::spec) static SPLIT_MIN: std::cell::Cell<usize> =
        const { std::cell::Cell::new(SPLIT_FROM) };
}

/// The level size from which blocks are lowered on two threads.
#[cfg(not(test))]
pub(in crate::spec) fn split_from() -> usize {
    SPLIT_FROM
}

/// The level size from which blocks are lowered on two threads (as a test set it).
#[cfg(test)]
pub(in crate::spec) fn split_from() -> usize {
    SPLIT_MIN.with(std::cell::Cell::get)
}

/// The level of each of `n` nodes, given a topological `order` of them (dependencies first)
/// and `(dependent, dependency)` edges.
pub(super) fn levels(n: usize, order: &[u32], edges: impl Iterator<Item = (u32, u32)>) -> Vec<u32> {
    let mut edges: Vec<(u32, u32)> = edges.collect();
    edges.sort_unstable();
    let mut start = vec![0usize; n + 1];
    for &(a, _) in &edges {
        start[a as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut level = vec![0u32; n];
    for &i in order {
        let i = i as usize;
        level[i] = edges[start[i]..start[i + 1]]
            .iter()
            .map(|&(_, d)| level[d as usize] + 1)
            .max()
            .unwrap_or(0);
    }
    level
}

impl Loader<'_> {
    /// Whether the stack is lowered by levels: it has at least [`SPLIT_FROM`] blocks (so one
    /// level may be worth splitting) and no artifact.
    pub(super) fn by_levels(&self) -> bool {
        let mut blocks = 0;
        for (_, b) in self.blocks_by_id() {
            if b.kind == BlockKind::Artifact {
                return false;
            }
            blocks += usize::from(b.kind != BlockKind::Module);
        }
        blocks >= split_from()
    }

    /// Evaluates the nodes of `order` level by level (`level` holds each one's), lowering the
    /// blocks of a large level on two threads. `false` when anything was reported: the caller
    /// then starts again in order.
    pub(super) fn evaluate_by_levels(&mut self, order: &[EvalNode], level: &[u32]) -> bool {
        // Positions in `order`, by level (stably: in order within a level).
        let mut by_level: Vec<usize> = (0..order.len()).collect();
        by_level.sort_by_key(|&i| level[i]);
        for nodes in by_level.chunk_by(|&a, &b| level[a] == level[b]) {
            let mut blocks = Vec::with_capacity(nodes.len());
            for &i in nodes {
                match &order[i] {
                    EvalNode::Block(id) => blocks.push(*id),
                    EvalNode::Input(sid, name) => self.eval_input(*sid, name),
                    EvalNode::Output(sid, name) => self.eval_output(*sid, name),
                }
            }
            self.lower_level(&blocks);
            if self.has_errors() {
                return false;
            }
        }
        true
    }

    /// Lowers `blocks`, which do not read each other: the first half here and the second on
    /// another thread when there are enough of them.
    fn lower_level(&mut self, blocks: &[BlockId]) {
        if blocks.len() < split_from().max(2) {
            for &id in blocks {
                self.lower_block(id);
            }
            return;
        }
        let (mine, theirs) = blocks.split_at(blocks.len() / 2);
        let fork = Mutex::new(Some(self.fork()));
        let (forked, ()) = crate::par::both(
            "lower",
            true,
            || {
                let fork = fork.lock().map(|mut f| f.take()).ok().flatten();
                fork.map(|f| f.lower_forked(theirs))
            },
            || {
                for &id in mine {
                    self.lower_block(id);
                }
            },
        );
        match forked {
            Some(f) => self.absorb(f),
            None => {
                for &id in theirs {
                    self.lower_block(id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::levels;

    #[test]
    fn a_node_is_one_level_above_its_highest_dependency() {
        // 0 <- 1 <- 3, 0 <- 2, 4 alone; 3 also reads 2.
        let l = levels(
            5,
            &[0, 4, 1, 2, 3],
            [(1, 0), (2, 0), (3, 1), (3, 2)].into_iter(),
        );
        assert_eq!(l, [0, 1, 1, 2, 0]);
    }
}
