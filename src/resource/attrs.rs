//! [`Attrs`]: a sorted map of attribute names to values, shared until written.
//!
//! The same attributes travel from the spec into the plan's `after`, from state into the plan's
//! `before`, and into every lookup and renderer along the way. Cloning an [`Attrs`] only counts
//! a reference; the first write through a shared copy copies the map (copy on write), so a
//! change stays local to the copy written, exactly as with an owned map.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Value;

/// Attributes (or a map value's entries), always in sorted order. Reads go through
/// `Deref<Target = BTreeMap<String, Value>>`; writes through `DerefMut`, which copies the map
/// first when another clone still shares it.
#[derive(Clone, Default, PartialEq)]
pub struct Attrs(Arc<BTreeMap<String, Value>>);

impl Attrs {
    /// An empty map.
    pub fn new() -> Attrs {
        Attrs::default()
    }

    /// The entries as an owned map (copied only when shared).
    pub fn into_map(self) -> BTreeMap<String, Value> {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| (*shared).clone())
    }

    /// Whether both share one map: then they are equal without comparing entries.
    pub fn ptr_eq(&self, other: &Attrs) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for Attrs {
    type Target = BTreeMap<String, Value>;

    fn deref(&self) -> &BTreeMap<String, Value> {
        &self.0
    }
}

impl DerefMut for Attrs {
    fn deref_mut(&mut self) -> &mut BTreeMap<String, Value> {
        Arc::make_mut(&mut self.0)
    }
}

impl fmt::Debug for Attrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<BTreeMap<String, Value>> for Attrs {
    fn from(map: BTreeMap<String, Value>) -> Attrs {
        Attrs(Arc::new(map))
    }
}

impl From<Attrs> for BTreeMap<String, Value> {
    fn from(attrs: Attrs) -> BTreeMap<String, Value> {
        attrs.into_map()
    }
}

impl<const N: usize> From<[(String, Value); N]> for Attrs {
    fn from(entries: [(String, Value); N]) -> Attrs {
        Attrs(Arc::new(BTreeMap::from(entries)))
    }
}

impl FromIterator<(String, Value)> for Attrs {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Attrs {
        Attrs(Arc::new(iter.into_iter().collect()))
    }
}

impl Extend<(String, Value)> for Attrs {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        Arc::make_mut(&mut self.0).extend(iter);
    }
}

impl IntoIterator for Attrs {
    type Item = (String, Value);
    type IntoIter = std::collections::btree_map::IntoIter<String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_map().into_iter()
    }
}

impl<'a> IntoIterator for &'a Attrs {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::collections::btree_map::Iter<'a, String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a mut Attrs {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = std::collections::btree_map::IterMut<'a, String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        Arc::make_mut(&mut self.0).iter_mut()
    }
}

impl Serialize for Attrs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Attrs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Attrs, D::Error> {
        BTreeMap::deserialize(d).map(Attrs::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_through_a_clone_leaves_the_original_alone() {
        let original = Attrs::from([("a".to_string(), Value::Int(1))]);
        let mut copy = original.clone();
        assert!(copy.ptr_eq(&original));
        copy.insert("b".into(), Value::Int(2));
        assert!(!copy.ptr_eq(&original));
        assert_eq!(original.len(), 1);
        assert_eq!(copy.len(), 2);
        for (_, v) in &mut copy {
            *v = Value::Null;
        }
        assert_eq!(original.get("a"), Some(&Value::Int(1)));
    }

    #[test]
    fn reads_serialises_and_debugs_as_the_map_it_holds() {
        let map = BTreeMap::from([("k".to_string(), Value::str("v"))]);
        let attrs = Attrs::from(map.clone());
        assert_eq!(format!("{attrs:?}"), format!("{map:?}"));
        let json = serde_json::to_string(&attrs).unwrap();
        assert_eq!(json, serde_json::to_string(&map).unwrap());
        let back: Attrs = serde_json::from_str(&json).unwrap();
        assert_eq!(back, attrs);
        assert_eq!(back.into_map(), map);
    }
}
