//! [`Attrs`]: a sorted map of attribute names to values, shared until written.
//!
//! The same attributes travel from the spec into the plan's `after`, from state into the plan's
//! `before`, and into every lookup and renderer along the way. Cloning an [`Attrs`] only counts
//! a reference; the first write through a shared copy copies the map (copy on write), so a
//! change stays local to the copy written, exactly as with an owned map.
//!
//! The entries are one sorted vector, not a B-tree: an attribute map holds a handful of
//! entries (five on average in a release stack), where a B-tree spends a node of eleven slots
//! on each map and an allocation on each node. Lookups are a binary search; inserts shift the
//! entries after the new one, which for maps this small costs less than a tree walk.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::{Key, Value};

/// One entry: an attribute name and its value.
type Entry = (Key, Value);

/// Attributes (or a map value's entries), always in sorted order of their names, each name
/// once.
#[derive(Clone, Default, PartialEq)]
pub struct Attrs(Arc<Vec<Entry>>);

impl Attrs {
    /// An empty map.
    pub fn new() -> Attrs {
        Attrs::default()
    }

    /// Entries already sorted by name with no name twice, kept as they are.
    ///
    /// Sorted input is checked (in debug builds) rather than trusted blindly.
    pub(crate) fn from_sorted(entries: Vec<Entry>) -> Attrs {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        Attrs(Arc::new(entries))
    }

    /// Entries in any order; a later entry wins over an earlier one with the same name (as
    /// inserting them one by one would).
    pub(crate) fn from_unsorted(mut entries: Vec<Entry>) -> Attrs {
        if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
            // Stable: among equal names the last one inserted stays last.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
            for e in entries {
                match out.last_mut() {
                    Some(last) if last.0 == e.0 => *last = e,
                    _ => out.push(e),
                }
            }
            entries = out;
        }
        Attrs(Arc::new(entries))
    }

    /// The entries, in order, writable (copied first when shared).
    fn entries_mut(&mut self) -> &mut Vec<Entry> {
        Arc::make_mut(&mut self.0)
    }

    /// Where `key` is, or where it would go.
    fn find(&self, key: &str) -> Result<usize, usize> {
        // A known name asked for by the program's own text is often the very text stored.
        self.0.binary_search_by(|(k, _)| {
            if std::ptr::eq(k.as_str(), key) {
                std::cmp::Ordering::Equal
            } else {
                k.as_str().cmp(key)
            }
        })
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    /// The entry under `key`, with the name as stored.
    pub fn get_key_value(&self, key: &str) -> Option<(&Key, &Value)> {
        self.find(key).ok().map(|i| {
            let (k, v) = &self.0[i];
            (k, v)
        })
    }

    /// The value under `key`, writable (the map is copied first when shared).
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let i = self.find(key).ok()?;
        Some(&mut self.entries_mut()[i].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`, giving back the value it replaces.
    ///
    /// A full map grows by a quarter, not by doubling: most maps are built once and then
    /// receive a few entries (the computed attributes a plan carries over), and a doubled
    /// map would keep up to half of its room unused for the rest of the run.
    pub fn insert(&mut self, key: Key, value: Value) -> Option<Value> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries_mut()[i].1, value)),
            Err(i) => {
                let entries = self.entries_mut();
                if entries.len() == entries.capacity() {
                    entries.reserve_exact(entries.len() / 4 + 1);
                }
                entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes `key`, giving back its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key).ok()?;
        Some(self.entries_mut().remove(i).1)
    }

    /// The value under `key`, set to `make()` first when there is none.
    pub fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> Value) -> &mut Value {
        let i = match self.find(key) {
            Ok(i) => i,
            Err(i) => {
                self.entries_mut().insert(i, (Key::intern(key), make()));
                i
            }
        };
        &mut self.entries_mut()[i].1
    }

    /// Keeps only the entries `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&Key, &mut Value) -> bool) {
        self.entries_mut().retain_mut(|(k, v)| keep(k, v));
    }

    /// The entries in order of their names.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.0.iter())
    }

    /// The entries in order, values writable (the map is copied first when shared).
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        IterMut(self.entries_mut().iter_mut())
    }

    /// The names in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Key> + ExactSizeIterator {
        self.0.iter().map(|(k, _)| k)
    }

    /// The values in order of their names.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.0.iter().map(|(_, v)| v)
    }

    /// The values in order of their names, writable (the map is copied first when shared).
    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.entries_mut().iter_mut().map(|(_, v)| v)
    }

    /// The first entry.
    pub fn first_key_value(&self) -> Option<(&Key, &Value)> {
        self.0.first().map(|(k, v)| (k, v))
    }

    /// The last entry.
    pub fn last_key_value(&self) -> Option<(&Key, &Value)> {
        self.0.last().map(|(k, v)| (k, v))
    }

    /// The entries as an owned map (copied only when shared).
    pub fn into_map(self) -> BTreeMap<String, Value> {
        self.into_iter().map(|(k, v)| (k.into(), v)).collect()
    }

    /// Whether both share one map: then they are equal without comparing entries.
    pub fn ptr_eq(&self, other: &Attrs) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Index<&str> for Attrs {
    type Output = Value;

    /// The value under `key`; panics when there is none, as indexing a map does.
    fn index(&self, key: &str) -> &Value {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no attribute {key:?}"),
        }
    }
}

/// The entries of an [`Attrs`], in order.
#[derive(Clone)]
pub struct Iter<'a>(std::slice::Iter<'a, Entry>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Key, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// The entries of an [`Attrs`], in order, values writable.
pub struct IterMut<'a>(std::slice::IterMut<'a, Entry>);

impl<'a> Iterator for IterMut<'a> {
    type Item = (&'a Key, &'a mut Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (&*k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for IterMut<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (&*k, v))
    }
}

impl ExactSizeIterator for IterMut<'_> {}

impl fmt::Debug for Attrs {
    /// As a `BTreeMap` of the same entries prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl From<BTreeMap<String, Value>> for Attrs {
    fn from(map: BTreeMap<String, Value>) -> Attrs {
        Attrs::from_sorted(map.into_iter().map(|(k, v)| (Key::from(k), v)).collect())
    }
}

impl From<Attrs> for BTreeMap<String, Value> {
    fn from(attrs: Attrs) -> BTreeMap<String, Value> {
        attrs.into_map()
    }
}

impl<const N: usize> From<[(Key, Value); N]> for Attrs {
    fn from(entries: [(Key, Value); N]) -> Attrs {
        Attrs::from_unsorted(Vec::from(entries))
    }
}

impl FromIterator<(Key, Value)> for Attrs {
    fn from_iter<I: IntoIterator<Item = (Key, Value)>>(iter: I) -> Attrs {
        Attrs::from_unsorted(iter.into_iter().collect())
    }
}

impl Extend<(Key, Value)> for Attrs {
    fn extend<I: IntoIterator<Item = (Key, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl IntoIterator for Attrs {
    type Item = (Key, Value);
    type IntoIter = std::vec::IntoIter<Entry>;

    fn into_iter(self) -> Self::IntoIter {
        Arc::try_unwrap(self.0)
            .unwrap_or_else(|shared| (*shared).clone())
            .into_iter()
    }
}

impl<'a> IntoIterator for &'a Attrs {
    type Item = (&'a Key, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Attrs {
    type Item = (&'a Key, &'a mut Value);
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}

impl Serialize for Attrs {
    /// As a `BTreeMap` of the same entries serialises: an object with sorted keys.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Attrs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Attrs, D::Error> {
        d.deserialize_map(AttrsVisitor)
    }
}

/// Reads a map's entries into an [`Attrs`].
struct AttrsVisitor;

impl<'de> de::Visitor<'de> for AttrsVisitor {
    type Value = Attrs;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of attributes")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Attrs, A::Error> {
        read_entries(map)
    }
}

/// Reads every entry of `map`: in the order written when that is sorted (as pedestal writes
/// its files), sorted after the fact otherwise, the last of a repeated name winning.
///
/// Entries are gathered in a scratch buffer reused across maps (one per level of nesting), so
/// each map allocates its entries once, at their exact number.
pub(super) fn read_entries<'de, A: MapAccess<'de>>(mut map: A) -> Result<Attrs, A::Error> {
    let mut scratch = SCRATCH.with_borrow_mut(Vec::pop).unwrap_or_default();
    let read = (|| {
        while let Some(entry) = map.next_entry::<Key, Value>()? {
            scratch.push(entry);
        }
        Ok(())
    })();
    let mut out: Vec<Entry> = Vec::with_capacity(scratch.len());
    out.append(&mut scratch);
    if scratch.capacity() <= MAX_SCRATCH {
        SCRATCH.with_borrow_mut(|pool| pool.push(scratch));
    }
    read.map(|()| Attrs::from_unsorted(out))
}

/// The largest scratch buffer kept for reuse, in entries.
const MAX_SCRATCH: usize = 1024;

thread_local! {
    /// Scratch buffers for [`read_entries`], free for the next map read on this thread.
    static SCRATCH: std::cell::RefCell<Vec<Vec<Entry>>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_through_a_clone_leaves_the_original_alone() {
        let original = Attrs::from([(Key::from("a"), Value::Int(1))]);
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

    #[test]
    fn behaves_as_a_sorted_map_whatever_the_order_of_writes() {
        let writes = [("m", 1), ("c", 2), ("x", 3), ("c", 4), ("a", 5), ("m", 6)];
        let mut attrs = Attrs::new();
        let mut map = BTreeMap::new();
        for (k, v) in writes {
            assert_eq!(
                attrs.insert(Key::from(k), Value::Int(v)),
                map.insert(k.to_string(), Value::Int(v))
            );
        }
        assert_eq!(attrs.clone().into_map(), map);
        let collected: Attrs = writes
            .iter()
            .map(|(k, v)| (Key::from(*k), Value::Int(*v)))
            .collect();
        assert_eq!(collected, attrs);
        assert_eq!(attrs.keys().collect::<Vec<_>>(), ["a", "c", "m", "x"]);
        assert_eq!(attrs.remove("c"), map.remove("c"));
        assert_eq!(attrs.remove("c"), None);
        assert_eq!(attrs.into_map(), map);
    }

    #[test]
    fn reads_unsorted_and_repeated_names_as_a_map_would() {
        let back: Attrs = serde_json::from_str(r#"{"b":1,"a":2,"b":3}"#).unwrap();
        assert_eq!(
            back.into_map(),
            BTreeMap::from([
                ("a".to_string(), Value::Int(2)),
                ("b".to_string(), Value::Int(3))
            ])
        );
    }
}
