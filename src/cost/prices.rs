//! The dated Fargate price table the cost estimate reads: Linux/x86 on-demand prices per
//! vCPU-hour and per GB-hour for a handful of regions, and how Fargate Spot is estimated.
//!
//! Prices are kept in nano-dollars (10⁻⁹ USD) so every estimate is integer arithmetic and a
//! plan stays byte-for-byte reproducible. A region missing here is reported as "no price for
//! region X" instead of guessed. Update [`PRICES_DATE`] with the table.

/// When the prices below were read from [`PRICES_SOURCE`].
pub const PRICES_DATE: &str = "2026-11-01";
/// Where they come from.
pub const PRICES_SOURCE: &str = "https://aws.amazon.com/fargate/pricing/";
/// Hours in a month, as AWS's pricing calculator counts them.
pub const HOURS_PER_MONTH: u64 = 730;
/// Fargate Spot has no fixed price (AWS: "up to 70% cheaper"); it is estimated at that
/// discount off the region's on-demand price.
pub const SPOT_DISCOUNT_PERCENT: u64 = 70;

/// On-demand prices in one region, in nano-dollars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionPrice {
    /// The AWS region code (`us-east-1`).
    pub region: &'static str,
    /// Per vCPU-hour.
    pub vcpu_hour: u64,
    /// Per GB-hour of memory.
    pub gb_hour: u64,
}

/// Linux/x86 on-demand, sorted by region.
pub const FARGATE: &[RegionPrice] = &[
    RegionPrice {
        region: "ap-northeast-1",
        vcpu_hour: 50_560_000,
        gb_hour: 5_530_000,
    },
    RegionPrice {
        region: "eu-central-1",
        vcpu_hour: 46_560_000,
        gb_hour: 5_110_000,
    },
    RegionPrice {
        region: "eu-west-1",
        vcpu_hour: 40_480_000,
        gb_hour: 4_445_000,
    },
    RegionPrice {
        region: "us-east-1",
        vcpu_hour: 40_480_000,
        gb_hour: 4_445_000,
    },
    RegionPrice {
        region: "us-east-2",
        vcpu_hour: 40_480_000,
        gb_hour: 4_445_000,
    },
    RegionPrice {
        region: "us-west-2",
        vcpu_hour: 40_480_000,
        gb_hour: 4_445_000,
    },
];

/// The on-demand price in `region`, if the table has it.
pub fn fargate(region: &str) -> Option<RegionPrice> {
    FARGATE.iter().find(|p| p.region == region).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_us_east_1_matches_the_published_price() {
        assert!(FARGATE.windows(2).all(|w| w[0].region < w[1].region));
        let p = fargate("us-east-1").expect("us-east-1 is priced");
        // $0.04048 per vCPU-hour, $0.004445 per GB-hour.
        assert_eq!((p.vcpu_hour, p.gb_hour), (40_480_000, 4_445_000));
        assert_eq!(fargate("mars-north-1"), None);
    }
}
