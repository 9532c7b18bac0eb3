//! Resource addresses: the stable, human-readable names that plans, state and `--target` use.
//!
//! An address is the user block (`endpoint.fraud`) followed by the lowered resource's role
//! (`service`, or `alarm.cpu_high` for one of several resources of a sort), optionally prefixed
//! by module calls: `module.churn.endpoint.churn.service`.
//! Addresses order lexicographically, which is what every rendered or serialised list uses.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The address of one provider resource (or, without the last segment, of a user block).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Address(String);

impl Address {
    /// Wraps an already well-formed address string.
    pub fn new(s: impl Into<String>) -> Self {
        Address(s.into())
    }

    /// Builds `<prefix><kind>.<name>.<role>` where prefix is `module.X.` repeated per nesting level.
    pub fn resource(module_prefix: &str, block_kind: &str, block_name: &str, role: &str) -> Self {
        Address(format!("{module_prefix}{block_kind}.{block_name}.{role}"))
    }

    /// The address as written (`endpoint.fraud.service`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The user block this resource was lowered from: `module.m.endpoint.fraud.service` →
    /// `module.m.endpoint.fraud`, `endpoint.fraud.alarm.cpu_high` → `endpoint.fraud`.
    pub fn block(&self) -> &str {
        &self.0[..self.block_len()]
    }

    /// The role of the resource inside its block: `service`, `bucket`, `alarm.cpu_high`, ...
    pub fn role(&self) -> &str {
        let n = self.block_len();
        self.0.get(n + 1..).unwrap_or(&self.0)
    }

    /// Length of the block part: the `module.X.` prefixes, then `<kind>.<name>`. An address
    /// with nothing after that (a block itself) drops its last segment.
    fn block_len(&self) -> usize {
        // Byte offsets of the dots: segment i ends at dots[i].
        let dots: Vec<usize> = self.0.match_indices('.').map(|(i, _)| i).collect();
        let segs = dots.len() + 1;
        let seg = |i: usize| {
            let from = if i == 0 { 0 } else { dots[i - 1] + 1 };
            let to = dots.get(i).copied().unwrap_or(self.0.len());
            &self.0[from..to]
        };
        let mut i = 0;
        while i + 2 < segs && seg(i) == "module" {
            i += 2;
        }
        let take = if i + 2 < segs { i + 2 } else { segs - 1 };
        match take {
            0 => self.0.len(),
            n => dots[n - 1],
        }
    }

    /// True when `self` equals `other` or lies inside it (`endpoint.fraud` contains
    /// `endpoint.fraud.service`; `module.churn` contains every resource of that module).
    pub fn is_within(&self, other: &str) -> bool {
        self.0 == other
            || (self.0.len() > other.len()
                && self.0.starts_with(other)
                && self.0.as_bytes()[other.len()] == b'.')
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Address {
    fn from(s: &str) -> Self {
        Address(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_and_role() {
        let a = Address::new("module.churn.endpoint.churn.service");
        assert_eq!(a.block(), "module.churn.endpoint.churn");
        assert_eq!(a.role(), "service");
        assert!(a.is_within("module.churn"));
        assert!(a.is_within("module.churn.endpoint.churn"));
        assert!(!a.is_within("module.chur"));
        let alarm = Address::new("module.m.endpoint.fraud.alarm.cpu_high");
        assert_eq!(alarm.block(), "module.m.endpoint.fraud");
        assert_eq!(alarm.role(), "alarm.cpu_high");
        assert_eq!(
            Address::new("endpoint.fraud.service").block(),
            "endpoint.fraud"
        );
        assert_eq!(Address::new("endpoint.fraud").block(), "endpoint");
        assert_eq!(Address::new("fraud").block(), "fraud");
    }
}
