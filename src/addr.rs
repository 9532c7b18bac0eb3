//! Resource addresses: the stable, human-readable names that plans, state and `--target` use.
//!
//! An address is the user block (`endpoint.fraud`) followed by the lowered resource's role
//! (`service`, or `alarm.cpu_high` for one of several resources of a sort), optionally prefixed
//! by module calls: `module.churn.endpoint.churn.service`.
//! Addresses order lexicographically, which is what every rendered or serialised list uses.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The address of one provider resource (or, without the last segment, of a user block).
///
/// Shared text: an address is cloned into every dependency set, graph node, plan change and
/// state record that names it, and a clone only counts a reference.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(Arc<str>);

impl Address {
    /// Wraps an already well-formed address string.
    pub fn new(s: impl AsRef<str>) -> Self {
        Address(Arc::from(s.as_ref()))
    }

    /// Builds `<prefix><kind>.<name>.<role>` where prefix is `module.X.` repeated per nesting level.
    pub fn resource(module_prefix: &str, block_kind: &str, block_name: &str, role: &str) -> Self {
        Address::new(format!("{module_prefix}{block_kind}.{block_name}.{role}"))
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
        let s = self.0.as_bytes();
        let dot_after = |from: usize| s[from..].iter().position(|b| *b == b'.').map(|i| from + i);
        let segs = s.iter().filter(|b| **b == b'.').count() + 1;
        // Skip `module.X.` pairs while at least two segments follow them.
        let (mut i, mut start) = (0, 0);
        while i + 2 < segs && s[start..].starts_with(b"module.") {
            match dot_after(start + "module.".len()) {
                Some(d) => start = d + 1,
                None => break,
            }
            i += 2;
        }
        if i + 2 < segs {
            // `<kind>.<name>`: up to the second dot from `start`.
            let first = dot_after(start).unwrap_or(s.len());
            dot_after(first + 1).unwrap_or(s.len())
        } else {
            // Everything but the last segment.
            s.iter().rposition(|b| *b == b'.').unwrap_or(s.len())
        }
    }

    /// True when `self` equals `other` or lies inside it (`endpoint.fraud` contains
    /// `endpoint.fraud.service`; `module.churn` contains every resource of that module).
    pub fn is_within(&self, other: &str) -> bool {
        &*self.0 == other
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
        Address::new(s)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(AddressVisitor)
    }
}

/// Takes the text as the deserializer has it (borrowed, transient or owned) and copies it
/// once, into the address.
struct AddressVisitor;

impl serde::de::Visitor<'_> for AddressVisitor {
    type Value = Address;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Address, E> {
        Ok(Address::new(v))
    }
}

/// A sorted set of addresses (what a resource follows), shared until written: the spec's
/// resource, its planned change and the record apply writes all hold the same set, and a
/// clone only counts a reference.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AddressSet(Arc<BTreeSet<Address>>);

impl AddressSet {
    /// Adds `address` (the set is copied first when shared); true when it was not there.
    pub fn insert(&mut self, address: Address) -> bool {
        Arc::make_mut(&mut self.0).insert(address)
    }
}

impl Deref for AddressSet {
    type Target = BTreeSet<Address>;

    fn deref(&self) -> &BTreeSet<Address> {
        &self.0
    }
}

impl From<BTreeSet<Address>> for AddressSet {
    fn from(set: BTreeSet<Address>) -> AddressSet {
        AddressSet(Arc::new(set))
    }
}

impl FromIterator<Address> for AddressSet {
    fn from_iter<I: IntoIterator<Item = Address>>(iter: I) -> AddressSet {
        AddressSet(Arc::new(iter.into_iter().collect()))
    }
}

impl<'a> IntoIterator for &'a AddressSet {
    type Item = &'a Address;
    type IntoIter = std::collections::btree_set::Iter<'a, Address>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Debug for AddressSet {
    /// As the `BTreeSet` it holds prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for AddressSet {
    /// As the `BTreeSet` it holds: a sorted list.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for AddressSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeSet::<Address>::deserialize(deserializer).map(AddressSet::from)
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
        for (address, block) in [
            (
                "module.a.module.b.endpoint.e.service",
                "module.a.module.b.endpoint.e",
            ),
            ("module.a.endpoint", "module.a"),
            ("module.a.b", "module.a"),
            ("module.module.module.x.y", "module.module.module.x"),
            ("module.a", "module"),
            ("module", "module"),
            ("a.b.c.d", "a.b"),
            ("", ""),
        ] {
            assert_eq!(Address::new(address).block(), block, "{address}");
        }
    }
}
