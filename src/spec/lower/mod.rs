//! Lowering: each user block becomes provider [`Resource`](crate::resource::Resource)s with
//! their own addresses and the attribute names of
//! [`ResourceKind`](crate::resource::ResourceKind)'s contract, defaults filled in and values
//! validated (bucket names, Fargate sizes, GPU placement, autoscaling bounds, artifact files).
//! Each block also publishes the attributes other blocks may reference (`exports`).
//!
//! One module per block kind: [`storage`], [`artifact`], [`compute`], [`endpoint`], [`gateway`]; what every
//! block shares (tags, `depends_on`, `lifecycle`, adding a resource, exports) is in [`common`].
//! A new block kind (`gateway`, `alarm`, ...) gets its own module here with a
//! `Loader::lower_<kind>` method, a `BlockKind` variant in `load.rs`, and one arm in
//! [`Loader::lower_block`].

mod artifact;
mod common;
mod compute;
mod endpoint;
mod gateway;
mod storage;
mod tags;

pub(in crate::spec) use common::Exports;
pub(in crate::spec) use endpoint::RouteInfo;
pub use endpoint::fargate_memory;
pub(in crate::spec) use gateway::GatewayInfo;
pub use storage::bucket_name_problem;

use super::load::{BlockId, BlockKind, Loader};
use crate::resource::Resource;

impl Loader<'_> {
    /// Lowers one block and records its exports.
    ///
    /// The block's resources are put in address order (stably: of two at one address the
    /// later still comes later). Blocks are lowered mostly in address order too, so the map of
    /// every resource is then collected from long sorted runs.
    pub fn lower_block(&mut self, id: BlockId) {
        let b = self.block(id).clone();
        let start = self.lowered().added.len();
        match b.kind {
            BlockKind::Storage => self.lower_storage(id),
            BlockKind::Artifact => self.lower_artifact(id),
            BlockKind::Compute => self.lower_compute(id),
            BlockKind::Endpoint => self.lower_endpoint(id),
            BlockKind::Gateway => self.lower_gateway(id),
            BlockKind::Module => {}
        }
        let lowered = self.lowered_mut();
        let end = lowered.added.len();
        if end > start {
            lowered.added[start..].sort_by(|a, b| a.address.cmp(&b.address));
            lowered.block_runs.push((start, end));
        }
    }
}

/// Puts resources in address order at the cost of one scan when each block's resources come
/// together and sorted, as `lower_block` leaves them (`blocks` holds where each block's
/// resources start and end), whatever the order blocks were lowered in: the blocks' runs are
/// ordered by their first address. When runs do not cover every resource or would interleave
/// (or name one address twice), the resources are left as they are, for the map's own stable
/// sort.
pub(in crate::spec) fn order_runs(added: &mut Vec<Resource>, blocks: &[(usize, usize)]) {
    if blocks.iter().map(|(a, b)| b - a).sum::<usize>() != added.len() {
        return;
    }
    let mut runs = blocks.to_vec();
    // Stable: blocks are lowered mostly in address order, which this sort finds as runs.
    runs.sort_by(|a, b| added[a.0].address.cmp(&added[b.0].address));
    if !runs
        .windows(2)
        .all(|w| added[w[0].1 - 1].address < added[w[1].0].address)
    {
        return;
    }
    let mut slots: Vec<Option<Resource>> = std::mem::take(added).into_iter().map(Some).collect();
    added.reserve_exact(slots.len());
    for (from, to) in runs {
        added.extend(slots[from..to].iter_mut().filter_map(Option::take));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Address;
    use crate::resource::ResourceKind;

    fn resources(addrs: &[&str]) -> Vec<Resource> {
        addrs
            .iter()
            .map(|a| Resource {
                address: Address::new(*a),
                kind: ResourceKind::LogGroup,
                attrs: Default::default(),
                depends_on: Default::default(),
                lifecycle: Default::default(),
            })
            .collect()
    }

    fn addresses(rs: &[Resource]) -> Vec<&str> {
        rs.iter().map(|r| r.address.as_str()).collect()
    }

    #[test]
    fn block_runs_are_put_in_order() {
        let mut rs = resources(&["b.x.a", "b.x.b", "a.y.a", "a.y.c", "c.z.a"]);
        order_runs(&mut rs, &[(0, 2), (2, 4), (4, 5)]);
        assert_eq!(
            addresses(&rs),
            ["a.y.a", "a.y.c", "b.x.a", "b.x.b", "c.z.a"]
        );
    }

    #[test]
    fn interleaved_runs_repeated_addresses_and_uncovered_resources_are_left_as_they_are() {
        let mut rs = resources(&["a.x.b", "a.x.d", "a.x.a", "a.x.c"]);
        order_runs(&mut rs, &[(0, 2), (2, 4)]);
        assert_eq!(addresses(&rs), ["a.x.b", "a.x.d", "a.x.a", "a.x.c"]);
        let mut rs = resources(&["b.x.a", "a.x.a", "b.x.a"]);
        order_runs(&mut rs, &[(0, 1), (1, 3)]);
        assert_eq!(addresses(&rs), ["b.x.a", "a.x.a", "b.x.a"]);
        let mut rs = resources(&["b.x.a", "a.x.a"]);
        order_runs(&mut rs, &[(0, 1)]);
        assert_eq!(addresses(&rs), ["b.x.a", "a.x.a"]);
    }
}
