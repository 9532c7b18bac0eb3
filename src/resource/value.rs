//! Attribute values of resources: what the spec resolves to, what the planner diffs, what state
//! records and what the provider sends.
//!
//! Besides plain data a value may be
//! - [`Value::Ref`]: a reference to an attribute of another resource that is only known after that
//!   resource is applied (an ARN, a version id). The plan carries it, renders it as
//!   `(known after apply)`, and the applier substitutes it from the dependency's applied state;
//! - [`Value::Template`]: a string interpolating such references;
//! - [`Value::Sensitive`]: a secret. It is never written in clear: serialisation keeps only a
//!   keyed digest (`{"$sensitive": "hmac-sha256:…"}`, HMAC-SHA-256 under the stack's key, see
//!   [`super::secret_key`]), which is what deserialisation gives back as [`Value::Redacted`].
//!   Diffs compare digests.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Attrs;
use crate::addr::Address;
use crate::resource::Key;

/// A reference to one attribute of another (lowered) resource.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ref {
    /// The resource referenced.
    pub address: Address,
    /// The attribute of it.
    pub attr: String,
}

/// One piece of an interpolated string.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplatePart {
    /// Literal text.
    Lit(String),
    /// A reference whose value is substituted.
    Ref(Ref),
}

#[derive(Clone, Debug, PartialEq, Default)]
/// An attribute value: plain data, or something known only after apply, or a secret.
pub enum Value {
    #[default]
    /// No value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A map with sorted keys, shared until written (see [`Attrs`]).
    Map(Attrs),
    /// Known only after apply, with no way to compute it from other resources.
    Unknown,
    /// Known after the referenced resource is applied (boxed: it is rare, and keeps every
    /// other value at 32 bytes).
    Ref(Box<Ref>),
    /// A string with references inside, known after they are.
    Template(Vec<TemplatePart>),
    /// A secret held in memory; serialised as its digest only.
    Sensitive(Box<Value>),
    /// A secret read back from a plan or state: only its digest survives.
    Redacted(String),
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, when this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The boolean, when this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The map, when this is one.
    pub fn as_map(&self) -> Option<&Attrs> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The list, when this is one.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// True when the value (or anything inside it) is only known after apply.
    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Unknown | Value::Ref(_) | Value::Template(_) => true,
            Value::List(l) => l.iter().any(Value::is_unknown),
            Value::Map(m) => m.values().any(Value::is_unknown),
            _ => false,
        }
    }

    /// True when the value is (or contains) a secret.
    pub fn is_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) | Value::Redacted(_) => true,
            Value::List(l) => l.iter().any(Value::is_sensitive),
            Value::Map(m) => m.values().any(Value::is_sensitive),
            _ => false,
        }
    }

    /// The digest under which a secret is stored: `hmac-sha256:<hex>` of its canonical JSON,
    /// keyed with the stack's key, or its salted slow hash when the stack has no key (see
    /// [`super::secret_key`]).
    pub fn secret_digest(inner: &Value) -> String {
        let json = serde_json::to_string(inner).unwrap_or_default();
        super::secret_key::digester().digest(json.as_bytes())
    }

    /// Whether `digest` (as recorded in a plan or state) is that of the secret `inner`: keyed
    /// digests under the current key, salted slow-hash digests, and the unkeyed `sha256:` ones
    /// of earlier versions.
    pub fn digest_matches(inner: &Value, digest: &str) -> bool {
        let json = serde_json::to_string(inner).unwrap_or_default();
        match digest.strip_prefix(super::secret_key::LEGACY_PREFIX) {
            Some(hex_digest) => hex::encode(Sha256::digest(json.as_bytes())) == hex_digest,
            None => super::secret_key::digester().matches(json.as_bytes(), digest),
        }
    }

    /// Every reference inside the value, in order of appearance.
    pub fn refs(&self) -> Vec<&Ref> {
        let mut out = Vec::new();
        self.for_each_ref(&mut |r| out.push(r));
        out
    }

    /// True when the value is (or contains) a reference or a template.
    pub fn has_refs(&self) -> bool {
        match self {
            Value::Ref(_) | Value::Template(_) => true,
            Value::List(l) => l.iter().any(Value::has_refs),
            Value::Map(m) => m.values().any(Value::has_refs),
            Value::Sensitive(v) => v.has_refs(),
            _ => false,
        }
    }

    /// Calls `f` with every reference inside the value, in order of appearance, without
    /// collecting them.
    pub fn for_each_ref<'a>(&'a self, f: &mut impl FnMut(&'a Ref)) {
        match self {
            Value::Ref(r) => f(r),
            Value::Template(parts) => {
                for p in parts {
                    if let TemplatePart::Ref(r) = p {
                        f(r);
                    }
                }
            }
            Value::List(l) => l.iter().for_each(|v| v.for_each_ref(f)),
            Value::Map(m) => m.values().for_each(|v| v.for_each_ref(f)),
            Value::Sensitive(v) => v.for_each_ref(f),
            _ => {}
        }
    }

    /// Replaces every reference by what `lookup` returns for it (or leaves it when `None`).
    /// A template whose references are all known collapses to a string.
    pub fn substitute(&self, lookup: &dyn Fn(&Ref) -> Option<Value>) -> Value {
        self.substituted(lookup).unwrap_or_else(|| self.clone())
    }

    /// What [`Value::substitute`] gives, or `None` when the value holds no reference (it would
    /// give a copy of itself): one walk, and nothing built for the parts without references.
    pub fn substituted(&self, lookup: &dyn Fn(&Ref) -> Option<Value>) -> Option<Value> {
        match self {
            Value::Ref(r) => Some(lookup(r).unwrap_or_else(|| self.clone())),
            Value::Template(parts) => {
                let mut out = String::new();
                for p in parts {
                    match p {
                        TemplatePart::Lit(s) => out.push_str(s),
                        TemplatePart::Ref(r) => match lookup(r) {
                            Some(v) if !v.is_unknown() => out.push_str(&v.to_plain_string()),
                            _ => return Some(self.clone()),
                        },
                    }
                }
                Some(Value::String(out))
            }
            Value::List(l) => {
                // Elements before the first reference are copied as they are.
                let (first, new) = l
                    .iter()
                    .enumerate()
                    .find_map(|(i, v)| Some((i, v.substituted(lookup)?)))?;
                let mut out = Vec::with_capacity(l.len());
                out.extend_from_slice(&l[..first]);
                out.push(new);
                out.extend(l[first + 1..].iter().map(|v| v.substitute(lookup)));
                Some(Value::List(out))
            }
            Value::Map(m) => Some(Value::Map(Value::substituted_entries(m, lookup)?)),
            Value::Sensitive(v) => Some(Value::Sensitive(Box::new(v.substituted(lookup)?))),
            _ => None,
        }
    }

    /// [`Value::substituted`] for the entries of a map (or a resource's attributes): `None`
    /// when no entry holds a reference. The map is copied once, at the first entry that
    /// changes; entries without references stay as they are.
    pub fn substituted_entries(m: &Attrs, lookup: &dyn Fn(&Ref) -> Option<Value>) -> Option<Attrs> {
        let mut entries = m.iter();
        let mut out = loop {
            let (k, v) = entries.next()?;
            if let Some(new) = v.substituted(lookup) {
                let mut out = m.clone();
                out.insert(k.clone(), new);
                break out;
            }
        };
        for (k, v) in entries {
            if let Some(new) = v.substituted(lookup) {
                out.insert(k.clone(), new);
            }
        }
        Some(out)
    }

    /// Whether `self.substitute(lookup).likeness(other)` is [`Likeness::Identical`], found
    /// without building the substituted value (but for a template's string). `lookup` may
    /// lend the value it finds, which is then compared where it is.
    pub fn identical_once_substituted<'v>(
        &self,
        other: &Value,
        lookup: &dyn Fn(&Ref) -> Option<Cow<'v, Value>>,
    ) -> bool {
        match (self, other) {
            // The common leaves first, compared directly.
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            // Unresolved, it stays a reference: unknown.
            (Value::Ref(r), _) => {
                lookup(r).is_some_and(|v| v.likeness(other) == Likeness::Identical)
            }
            (Value::Template(_), _) => self
                .substituted(&|r| lookup(r).map(Cow::into_owned))
                .is_some_and(|v| v.likeness(other) == Likeness::Identical),
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.identical_once_substituted(y, lookup))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter().zip(b).all(|((ka, va), (kb, vb))| {
                        ka == kb && va.identical_once_substituted(vb, lookup)
                    })
            }
            // A list or map against another shape, a secret: never identical. Anything else
            // holds no reference.
            (Value::List(_) | Value::Map(_) | Value::Sensitive(_), _) => false,
            (a, b) => a.likeness(b) == Likeness::Identical,
        }
    }

    /// The value as it reads inside an interpolated string (no quotes).
    pub fn to_plain_string(&self) -> String {
        match self {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// Equality as the planner sees it: secrets compare by digest.
    pub fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Sensitive(a), Value::Sensitive(b)) => a.same_as(b),
            (Value::Sensitive(a), Value::Redacted(d))
            | (Value::Redacted(d), Value::Sensitive(a)) => Value::digest_matches(a, d),
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka == kb && va.same_as(vb))
            }
            (a, b) => a == b,
        }
    }

    /// How the value (as planned) compares with `other` (as recorded), in one walk:
    /// [`Likeness::Differs`] exactly when `self.is_unknown() || !self.same_as(other)`, and
    /// [`Likeness::Identical`] when besides both would also serialise alike (no secrets, floats
    /// equal bit for bit), so either may stand for the other.
    pub fn likeness(&self, other: &Value) -> Likeness {
        let exact = |same: bool| {
            if same {
                Likeness::Identical
            } else {
                Likeness::Differs
            }
        };
        match (self, other) {
            // The common leaves first, compared directly.
            (Value::String(a), Value::String(b)) => exact(a == b),
            (Value::Int(a), Value::Int(b)) => exact(a == b),
            (Value::Bool(a), Value::Bool(b)) => exact(a == b),
            (Value::Unknown | Value::Ref(_) | Value::Template(_), _) => Likeness::Differs,
            (Value::List(a), Value::List(b)) => {
                if a.len() != b.len() {
                    return Likeness::Differs;
                }
                let mut out = Likeness::Identical;
                for (x, y) in a.iter().zip(b) {
                    out = out.min(x.likeness(y));
                    if out == Likeness::Differs {
                        break;
                    }
                }
                out
            }
            (Value::Map(a), Value::Map(b)) => {
                if a.len() != b.len() {
                    return Likeness::Differs;
                }
                let mut out = Likeness::Identical;
                for ((ka, va), (kb, vb)) in a.iter().zip(b) {
                    out = if ka == kb {
                        out.min(va.likeness(vb))
                    } else {
                        Likeness::Differs
                    };
                    if out == Likeness::Differs {
                        break;
                    }
                }
                out
            }
            (Value::Float(x), Value::Float(y)) => match (x == y, x.to_bits() == y.to_bits()) {
                (false, _) => Likeness::Differs,
                (true, true) => Likeness::Identical,
                (true, false) => Likeness::Same,
            },
            (Value::Sensitive(_) | Value::Redacted(_), _)
            | (_, Value::Sensitive(_) | Value::Redacted(_)) => {
                if self.same_as(other) {
                    Likeness::Same
                } else {
                    Likeness::Differs
                }
            }
            // Any other list or map meets a value of another shape: never the same.
            (a, b) if a == b => Likeness::Identical,
            _ => Likeness::Differs,
        }
    }
}

/// How a planned value compares with a recorded one (see [`Value::likeness`]); ordered from
/// least to most alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Likeness {
    /// Unknown now, or different.
    Differs,
    /// The same as the planner sees it (secrets by digest), though not written alike.
    Same,
    /// Equal in every respect, down to how it serialises.
    Identical,
}

impl fmt::Display for Value {
    /// A compact, TOML-like rendering used in diagnostics and plans.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, " {k} = {v}")?;
                }
                f.write_str(if m.is_empty() { "}" } else { " }" })
            }
            Value::Unknown | Value::Ref(_) | Value::Template(_) => {
                f.write_str("(known after apply)")
            }
            Value::Sensitive(_) | Value::Redacted(_) => f.write_str("(sensitive)"),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(x) => s.serialize_f64(*x),
            Value::String(v) => s.serialize_str(v),
            Value::List(l) => l.serialize(s),
            Value::Map(m) => m.serialize(s),
            Value::Unknown => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("$unknown", &true)?;
                m.end()
            }
            Value::Ref(r) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("$ref", &format!("{}.{}", r.address, r.attr))?;
                m.end()
            }
            Value::Template(parts) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("$template", parts)?;
                m.end()
            }
            Value::Sensitive(inner) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("$sensitive", &Value::secret_digest(inner))?;
                m.end()
            }
            Value::Redacted(d) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("$sensitive", d)?;
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    /// Straight from the input, without an intermediate JSON tree (a large state file would
    /// otherwise be built twice). Gives exactly what [`Value::from_json`] gives for the same
    /// text: a single-entry object under a `$` key is re-read through it.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// Builds a [`Value`] from whatever the deserializer finds.
struct ValueVisitor;

/// The keys of single-entry objects that stand for something other than a map.
const MARKERS: [&str; 4] = ["$unknown", "$ref", "$sensitive", "$template"];

impl<'de> de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        // As JSON numbers convert: an integer beyond i64 becomes a float.
        Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        Ok(Value::Float(x))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    /// Lists are short and many (most hold one element): each keeps only the room it uses.
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Some(first) = seq.next_element::<Value>()? else {
            return Ok(Value::List(Vec::new()));
        };
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).saturating_add(1).min(4096));
        out.push(first);
        while let Some(v) = seq.next_element::<Value>()? {
            out.push(v);
        }
        out.shrink_to_fit();
        Ok(Value::List(out))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        let out = super::attrs::read_entries(map)?;
        match out.first_key_value() {
            Some((k, _)) if out.len() == 1 && MARKERS.contains(&k.as_str()) => {
                let (k, v) = out.into_iter().next().unwrap_or_default();
                marker(k, v)
            }
            _ => Ok(Value::Map(out)),
        }
    }
}

/// The value a single-entry object under a `$` key stands for: a digest or an unknown
/// directly, anything else read exactly as [`Value::from_json`] reads it.
fn marker<E: de::Error>(key: Key, value: Value) -> Result<Value, E> {
    match (key.as_str(), value) {
        ("$sensitive", Value::String(digest)) => Ok(Value::Redacted(digest)),
        ("$unknown", Value::Bool(true)) => Ok(Value::Unknown),
        (_, value) => {
            let json = serde_json::to_value(&value).map_err(E::custom)?;
            let object = serde_json::Map::from_iter([(String::from(key), json)]);
            Value::from_json(serde_json::Value::Object(object)).map_err(E::custom)
        }
    }
}

/// JSON that does not describe a [`Value`].
#[derive(Debug, thiserror::Error)]
pub enum FromJsonError {
    #[error("malformed reference {0:?}")]
    MalformedRef(String),
    #[error("malformed template: {0}")]
    MalformedTemplate(#[source] serde_json::Error),
}

impl Value {
    /// Converts plain JSON (as written by [`Serialize`]) back into a value.
    pub fn from_json(json: serde_json::Value) -> Result<Value, FromJsonError> {
        Ok(match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => Value::List(
                a.into_iter()
                    .map(Value::from_json)
                    .collect::<Result<_, _>>()?,
            ),
            serde_json::Value::Object(mut o) => {
                if o.len() == 1 {
                    if o.get("$unknown") == Some(&serde_json::Value::Bool(true)) {
                        return Ok(Value::Unknown);
                    }
                    if let Some(serde_json::Value::String(r)) = o.get("$ref") {
                        let (addr, attr) = r
                            .rsplit_once('.')
                            .ok_or_else(|| FromJsonError::MalformedRef(r.clone()))?;
                        return Ok(Value::Ref(Box::new(Ref {
                            address: Address::new(addr),
                            attr: attr.to_string(),
                        })));
                    }
                    if let Some(serde_json::Value::String(d)) = o.get("$sensitive") {
                        return Ok(Value::Redacted(d.clone()));
                    }
                    if let Some(parts) = o.remove("$template") {
                        let parts: Vec<TemplatePart> = serde_json::from_value(parts)
                            .map_err(FromJsonError::MalformedTemplate)?;
                        return Ok(Value::Template(parts));
                    }
                }
                Value::Map(
                    o.into_iter()
                        .map(|(k, v)| Ok((Key::from(k), Value::from_json(v)?)))
                        .collect::<Result<_, FromJsonError>>()?,
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_takes_32_bytes() {
        // Every attribute of every resource is one: state, spec and plan hold hundreds of
        // thousands at 10,000 resources. A larger variant should be boxed, as `Ref` is.
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }

    #[test]
    fn secrets_never_serialise_in_clear() {
        let v = Value::Sensitive(Box::new(Value::str("hunter2")));
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("hunter2"));
        let back: Value = serde_json::from_str(&json).unwrap();
        assert!(matches!(back, Value::Redacted(_)));
        assert!(back.same_as(&v));
        assert!(!back.same_as(&Value::Sensitive(Box::new(Value::str("other")))));
        let digest = Value::secret_digest(&Value::str("hunter2"));
        assert!(digest.starts_with("hmac-sha256:"), "{digest}");
        let bare = hex::encode(Sha256::digest(b"\"hunter2\""));
        assert!(!json.contains(&bare), "never the bare SHA-256 of the value");
    }

    #[test]
    fn digests_of_earlier_versions_still_compare() {
        let legacy = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(b"\"not-a-real-token\""))
        );
        let v = Value::str("not-a-real-token");
        assert!(Value::digest_matches(&v, &legacy));
        assert!(!Value::digest_matches(&Value::str("other"), &legacy));
        assert!(Value::Redacted(legacy).same_as(&Value::Sensitive(Box::new(v))));
    }

    /// Reading a value straight from text gives what reading it through a JSON tree gives.
    #[test]
    fn direct_reading_equals_reading_through_json() {
        for text in [
            r#"null"#,
            r#"[true, -3, 18446744073709551615, 1.5, 2.0, "s", [], {}]"#,
            r#"{"$unknown": true}"#,
            r#"{"$unknown": false}"#,
            r#"{"$unknown": true, "x": 1}"#,
            r#"{"$ref": "endpoint.a.service.arn"}"#,
            r#"{"$ref": 3}"#,
            r#"{"$sensitive": "sha256:ab"}"#,
            r#"{"$template": [{"lit": "v="}, {"ref": {"address": "a.b.c", "attr": "id"}}]}"#,
            r#"{"a": {"$ref": "x.y.z.w"}, "b": [{"$sensitive": "d"}], "c": {"d": {}}}"#,
            r#"{"k": 1, "k": 2}"#,
        ] {
            let json: serde_json::Value = serde_json::from_str(text).unwrap();
            let direct: Value = serde_json::from_str(text).unwrap();
            assert_eq!(direct, Value::from_json(json).unwrap(), "{text}");
        }
        for bad in [r#"{"$ref": "noattr"}"#, r#"{"$template": 3}"#] {
            let json: serde_json::Value = serde_json::from_str(bad).unwrap();
            assert!(Value::from_json(json).is_err());
            assert!(serde_json::from_str::<Value>(bad).is_err(), "{bad}");
        }
    }

    /// Maps are read into sorted maps whatever order their keys come in (a hand-edited file);
    /// of duplicate keys the last wins; escaped keys, floats, secrets and nesting survive; all
    /// exactly as through a JSON tree.
    #[test]
    fn maps_read_sorted_with_secrets_escapes_floats_and_duplicate_keys() {
        let text = r#"{
            "z": {"b": [1, 2.5, -0.0, 1e300, {"y": null, "x": true}], "a": {"$sensitive": "hmac-sha256:00"}},
            "a\"q\\u00e9\n": "v\t\u00e9",
            "m": {"k": 1, "j": {"$unknown": true}, "k": 3},
            "\u0041": [{"$ref": "a.b.c.d"}, {"$sensitive": "x", "$sensitive": "y"}],
            "e": {}
        }"#;
        let direct: Value = serde_json::from_str(text).unwrap();
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(direct, Value::from_json(json).unwrap());
        let map = direct.as_map().unwrap();
        let keys: Vec<&str> = map.keys().map(Key::as_str).collect();
        assert_eq!(keys, ["A", "a\"q\\u00e9\n", "e", "m", "z"]);
        let m = map["m"].as_map().unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["j", "k"]);
        assert_eq!(m["k"], Value::Int(3), "the last of duplicate keys wins");
        assert_eq!(m["j"], Value::Unknown);
        let z = map["z"].as_map().unwrap();
        assert_eq!(z["a"], Value::Redacted("hmac-sha256:00".into()));
        let b = z["b"].as_list().unwrap();
        assert_eq!(b[1], Value::Float(2.5));
        assert_eq!(b[3], Value::Float(1e300));
        assert_eq!(
            b[4].as_map().unwrap().keys().collect::<Vec<_>>(),
            ["x", "y"]
        );
        assert_eq!(map["a\"q\\u00e9\n"], Value::str("v\t\u{e9}"));
        assert_eq!(map["A"].as_list().unwrap()[1], Value::Redacted("y".into()));
        assert_eq!(map["e"], Value::Map(Attrs::new()));
        let again: Value = serde_json::from_slice(text.as_bytes()).unwrap();
        assert_eq!(again, direct, "from bytes as from text");
    }

    /// Lists read keep no spare room: a state holds many short ones.
    #[test]
    fn lists_read_hold_exactly_their_elements() {
        let text = r#"[[], ["a"], [1, 2], [1, 2, 3], [[4], {"k": [5, 6, 7, 8, 9]}]]"#;
        let direct: Value = serde_json::from_str(text).unwrap();
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(direct, Value::from_json(json).unwrap());
        fn exact(v: &Value) -> bool {
            match v {
                Value::List(l) => l.capacity() == l.len() && l.iter().all(exact),
                Value::Map(m) => m.values().all(exact),
                _ => true,
            }
        }
        assert!(exact(&direct), "{direct:?}");
        assert_eq!(direct.as_list().unwrap().len(), 5);
        assert_eq!(direct.as_list().unwrap()[3].as_list().unwrap().len(), 3);
    }

    #[test]
    fn round_trip_refs_and_templates() {
        let r = Ref {
            address: Address::new("artifact.m.object"),
            attr: "version_id".into(),
        };
        let v = Value::Map(
            std::collections::BTreeMap::from([
                ("a".to_string(), Value::Ref(Box::new(r.clone()))),
                (
                    "b".to_string(),
                    Value::Template(vec![TemplatePart::Lit("v=".into()), TemplatePart::Ref(r)]),
                ),
                ("c".to_string(), Value::Int(3)),
            ])
            .into(),
        );
        let json = serde_json::to_string(&v).unwrap();
        let back: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, v);
        let sub = back.substitute(&|_| Some(Value::str("x1")));
        assert_eq!(
            sub.as_map().unwrap()["b"],
            Value::str("v=x1"),
            "templates collapse once their references are known"
        );
    }
}
