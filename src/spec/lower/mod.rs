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

pub(in crate::spec) use endpoint::RouteInfo;
pub use endpoint::fargate_memory;
pub(in crate::spec) use gateway::GatewayInfo;
pub use storage::bucket_name_problem;

use super::load::{BlockId, BlockKind, Loader};

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
        self.lowered_mut().added[start..].sort_by(|a, b| a.address.cmp(&b.address));
    }
}
