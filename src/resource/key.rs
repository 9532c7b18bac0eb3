//! [`Key`]: the name of one attribute in an [`Attrs`](super::Attrs) map.
//!
//! Nearly every name a map holds is one the schemas declare (`arn`, `tags`, `container`, ...)
//! or a tag pedestal writes itself: those are borrowed from the program's own text and cost
//! no allocation, whether the map was lowered from the spec or read back from a state file
//! ([`Key::intern`], and every conversion from text). Any other name (a tag key or an
//! environment variable the user chose) is owned. Either way a key compares, hashes, orders,
//! prints and serialises as its text.

use std::borrow::{Borrow, Cow};
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::LazyLock;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// An attribute name: borrowed when it is one the program knows, owned otherwise.
#[derive(Clone, Default)]
pub struct Key(Cow<'static, str>);

/// Two known names are the same text at the same place: they compare equal without their
/// bytes being read (the planner's match of each resource's attributes with its record
/// compares every name on both sides). Otherwise, and in order, as their text.
impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        let (a, b) = (self.as_str(), other.as_str());
        std::ptr::eq(a, b) || a == b
    }
}

impl Eq for Key {}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        let (a, b) = (self.as_str(), other.as_str());
        if std::ptr::eq(a, b) {
            std::cmp::Ordering::Equal
        } else {
            a.cmp(b)
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// As its text hashes, so that a map keyed by names can be searched with a `&str`.
impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Key {
    /// The name `s`, borrowed from the known names when it is one of them (no allocation),
    /// copied otherwise.
    pub fn intern(s: &str) -> Key {
        match known(s) {
            Some(known) => Key(Cow::Borrowed(known)),
            None => Key(Cow::Owned(s.to_string())),
        }
    }

    /// The name's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the name is borrowed from the program's own text (a known name), not owned.
    pub fn is_borrowed(&self) -> bool {
        matches!(self.0, Cow::Borrowed(_))
    }
}

/// Every attribute name the schemas declare, and pedestal's own tag keys.
static KNOWN: LazyLock<HashSet<&'static str, foldhash::fast::FixedState>> =
    LazyLock::new(|| super::schema::known_names().into_iter().collect());

/// `s` as the program's own text, when it is a known name.
fn known(s: &str) -> Option<&'static str> {
    KNOWN.get(s).copied()
}

impl Deref for Key {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Key {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Key {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&'static str> for Key {
    fn from(s: &'static str) -> Key {
        Key(Cow::Borrowed(s))
    }
}

impl From<String> for Key {
    /// Borrowed (and the string dropped) when it is a known name, as [`Key::intern`].
    fn from(s: String) -> Key {
        match known(&s) {
            Some(known) => Key(Cow::Borrowed(known)),
            None => Key(Cow::Owned(s)),
        }
    }
}

impl From<&String> for Key {
    fn from(s: &String) -> Key {
        Key::intern(s)
    }
}

impl From<Key> for String {
    fn from(k: Key) -> String {
        k.0.into_owned()
    }
}

impl PartialEq<str> for Key {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Key {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Key {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Key> for str {
    fn eq(&self, other: &Key) -> bool {
        *self == *other.0
    }
}

impl PartialEq<Key> for &str {
    fn eq(&self, other: &Key) -> bool {
        **self == *other.0
    }
}

impl PartialEq<Key> for String {
    fn eq(&self, other: &Key) -> bool {
        **self == *other.0
    }
}

impl fmt::Debug for Key {
    /// As the name's `String` would print: quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Key {
    /// Interned as it is read: a known name costs no allocation.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

/// Reads a key's text, borrowing the known names.
struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key::intern(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        Ok(Key::from(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_are_borrowed_and_others_owned_and_both_behave_as_text() {
        for name in [
            "arn",
            "tags",
            "pedestal:address",
            "container",
            "circuit_breaker",
        ] {
            assert!(
                matches!(Key::intern(name).0, Cow::Borrowed(_)),
                "{name} is not known"
            );
        }
        let own = Key::intern("MY_SETTING");
        assert!(matches!(own.0, Cow::Owned(_)));
        assert_eq!(own, "MY_SETTING");
        assert_eq!(format!("{own:?}"), format!("{:?}", "MY_SETTING"));
        let (a, b) = (Key::from("a"), Key::from(String::from("b")));
        assert!(a < b);
        let (interned, owned) = (Key::intern("arn"), Key::from(String::from("arn")));
        assert_eq!(interned, owned);
    }

    #[test]
    fn the_same_text_compares_equal_wherever_it_is_and_orders_and_hashes_as_text() {
        use std::cmp::Ordering;
        use std::hash::BuildHasher;
        let hasher = std::collections::hash_map::RandomState::new();
        let names = ["arn", "tags", "MY_SETTING", "", "a", "ab", "b"];
        let copies = |name: &str| {
            [
                Key::intern(name),
                Key(Cow::Owned(name.to_string())),
                Key(Cow::Owned(name.to_string())),
            ]
        };
        for x in names {
            for y in names {
                for kx in copies(x) {
                    for ky in copies(y) {
                        assert_eq!(kx.cmp(&ky), x.cmp(y), "{x:?} against {y:?}");
                        assert_eq!(kx == ky, x == y, "{x:?} against {y:?}");
                        assert_eq!(kx.partial_cmp(&ky), Some(x.cmp(y)));
                    }
                    assert_eq!(hasher.hash_one(&kx), hasher.hash_one(x));
                }
            }
        }
        // Borrowed twice from the known names: the same text at the same place.
        let (a, b) = (Key::intern("arn"), Key::intern("arn"));
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_eq!(a.cmp(&b), Ordering::Equal);
    }
}
