//! Reading a state snapshot: [`parse_snapshot`]. A reader made for the snapshot's JSON builds
//! the [`State`] in one pass over the text; whenever it meets anything it does not expect (a
//! syntax error, an unknown or repeated field, an escape it does not decode, a number it does
//! not parse itself, nesting deeper than a snapshot has), it gives up and the text is read
//! again by `serde_json` through the types' `Deserialize`, so errors read exactly as they
//! always have. What the reader gives is exactly what `serde_json` gives for the same text
//! (tests and a fuzz target compare the two).
//!
//! Where the time goes otherwise: `serde_json` walks every map key and value through the
//! visitor machinery, scans strings byte by byte for escapes and control characters, and
//! gathers each map's entries in a scratch buffer first. Here strings end at the first quote
//! or backslash (found eight bytes at a time); control characters, which no string
//! may hold, are counted over the whole text in one vectorised pass and matched against those
//! passed over as whitespace; a map's entries go straight into one stack shared by all levels,
//! and into its [`Attrs`] at their exact number, in the order written when that is sorted.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::de::value::{Error as PlainError, StrDeserializer};

use super::{ResourceState, State, Status};
use crate::addr::{Address, AddressSet};
use crate::resource::{Attrs, Key, ResourceKind, Value};

/// Parses a snapshot's text into a [`State`], with `serde_json`'s errors when it does not parse.
pub fn parse_snapshot(text: &str) -> Result<State, serde_json::Error> {
    match read_fast(text) {
        Some(state) => Ok(state),
        None => serde_json::from_str(text),
    }
}

/// The snapshot as the fast reader reads it, or `None` where it gives up (and `serde_json`
/// decides). Public only for the fuzz target and benchmark that compare it with `serde_json`.
#[doc(hidden)]
pub fn read_fast(text: &str) -> Option<State> {
    let mut reader = Reader::new(text);
    let state = reader.state()?;
    reader.ws();
    // Every control byte was passed over as whitespace: none is inside a string.
    (reader.pos == text.len() && reader.controls == controls(text.as_bytes())).then_some(state)
}

/// How many bytes of `text` are control characters (below 0x20), counted many at a time:
/// in runs short enough for a byte-wide count in each lane.
fn controls(text: &[u8]) -> usize {
    text.chunks(255)
        .map(|run| usize::from(run.iter().fold(0u8, |n, b| n + u8::from(*b < 0x20))))
        .sum()
}

/// Eight bytes of `c`.
const fn splat(c: u8) -> u64 {
    u64::from_ne_bytes([c; 8])
}

/// Where the first quote or backslash at or after `at` is: eight bytes at a time (a byte is
/// found as a zero of the word xor'd with the byte wanted; a borrow can only mark bytes after
/// a true zero, so the lowest mark is exact).
#[inline]
fn quote_or_backslash(b: &[u8], mut at: usize) -> Option<usize> {
    const LOW: u64 = splat(0x01);
    const HIGH: u64 = splat(0x80);
    while let Some(word) = b.get(at..at + 8) {
        let w = u64::from_le_bytes(word.try_into().ok()?);
        let (q, s) = (w ^ splat(b'"'), w ^ splat(b'\\'));
        let found = (q.wrapping_sub(LOW) & !q | s.wrapping_sub(LOW) & !s) & HIGH;
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let rest = b.get(at..)?;
    rest.iter()
        .position(|c| *c == b'"' || *c == b'\\')
        .map(|i| at + i)
}

/// Nesting the reader follows before it gives up: well under `serde_json`'s limit of 128, so
/// that whatever the reader accepts `serde_json` accepts too.
const MAX_DEPTH: u32 = 100;

/// One entry of a map.
type Entry = (Key, Value);

/// The reader: a position in the text, and the stacks of entries and elements of the maps and
/// lists open around it.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
    /// Control bytes (tab, line feed, carriage return) passed over as whitespace.
    controls: usize,
    entries: Vec<Entry>,
    items: Vec<Value>,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Reader<'a> {
        Reader {
            text,
            pos: 0,
            depth: 0,
            controls: 0,
            entries: Vec::with_capacity(64),
            items: Vec::with_capacity(64),
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Passes over whitespace.
    #[inline]
    fn ws(&mut self) {
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            match c {
                b' ' => {}
                b'\n' | b'\t' | b'\r' => self.controls += 1,
                _ => break,
            }
            self.pos += 1;
        }
    }

    /// The next byte that is not whitespace, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes().get(self.pos).copied()
    }

    /// Consumes `c`, the next byte that is not whitespace.
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.pos += 1)
    }

    /// After an entry or element: `true` at a comma (consumed), `false` at `close` (consumed).
    fn more(&mut self, close: u8) -> Option<bool> {
        let c = self.peek()?;
        self.pos += 1;
        match c {
            b',' => Some(true),
            _ if c == close => Some(false),
            _ => None,
        }
    }

    /// Opens a map or list at `open`: `false` when it is empty (and closed already).
    fn open(&mut self, open: u8, close: u8) -> Option<bool> {
        self.eat(open)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        if self.peek()? == close {
            self.pos += 1;
            self.depth -= 1;
            return Some(false);
        }
        Some(true)
    }

    /// The end of a map or list opened with [`Reader::open`].
    fn close(&mut self) {
        self.depth -= 1;
    }

    /// A string, borrowed from the text unless it holds escapes.
    fn str(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let (b, start) = (self.bytes(), self.pos);
        let end = quote_or_backslash(b, start)?;
        if b[end] == b'"' {
            self.pos = end + 1;
            return Some(Cow::Borrowed(self.text.get(start..end)?));
        }
        self.escaped(start, end).map(Cow::Owned)
    }

    /// The rest of a string from `start`, whose first backslash is at `at`.
    fn escaped(&mut self, start: usize, mut at: usize) -> Option<String> {
        let b = self.bytes();
        let mut out = String::with_capacity(at - start + 16);
        let mut from = start;
        loop {
            out.push_str(self.text.get(from..at)?);
            if b[at] == b'"' {
                self.pos = at + 1;
                return Some(out);
            }
            let mut next = at + 2;
            out.push(match *b.get(at + 1)? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let (c, len) = self.unicode(next)?;
                    next += len;
                    c
                }
                _ => return None,
            });
            from = next;
            at = quote_or_backslash(b, from)?;
        }
    }

    /// The character of a `\u` escape whose hex digits start at `at`, and how many bytes it
    /// takes from there: a surrogate pair as two escapes, a lone surrogate not at all.
    fn unicode(&self, at: usize) -> Option<(char, usize)> {
        let b = self.bytes();
        let hex = |at: usize| {
            let digits = std::str::from_utf8(b.get(at..at + 4)?).ok()?;
            if !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
                return None;
            }
            u32::from_str_radix(digits, 16).ok()
        };
        let high = hex(at)?;
        match high {
            0xD800..=0xDBFF => {
                if b.get(at + 4..at + 6)? != b"\\u" {
                    return None;
                }
                let low = hex(at + 6)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return None;
                }
                let c = char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?;
                Some((c, 10))
            }
            _ => Some((char::from_u32(high)?, 4)),
        }
    }

    /// An owned string.
    fn string(&mut self) -> Option<String> {
        self.str().map(Cow::into_owned)
    }

    /// Any value.
    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => self.string().map(Value::String),
            b'{' => self.map_value(),
            b'[' => self.list(),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// `word` (the next bytes) as `value`.
    fn literal(&mut self, word: &str, value: Value) -> Option<Value> {
        let end = self.pos + word.len();
        (self.bytes().get(self.pos..end)? == word.as_bytes()).then(|| {
            self.pos = end;
            value
        })
    }

    /// A number: an integer of up to 18 digits directly, anything else (fractions, exponents,
    /// larger integers, `-0`) through `serde_json`, so that it converts exactly as there.
    fn number(&mut self) -> Option<Value> {
        let (b, start) = (self.bytes(), self.pos);
        let negative = b[start] == b'-';
        let digits = start + usize::from(negative);
        let mut at = digits;
        let mut n: u64 = 0;
        while let Some(&d) = b.get(at).filter(|d| d.is_ascii_digit()) {
            n = n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            at += 1;
        }
        let len = at - digits;
        let plain = (1..=18).contains(&len)
            && (len == 1 || b[digits] != b'0')
            && !(negative && n == 0)
            && !matches!(b.get(at), Some(b'.' | b'e' | b'E' | b'+' | b'-'));
        if plain {
            self.pos = at;
            // At most 18 digits: it fits.
            let n = i64::try_from(n).ok()?;
            return Some(Value::Int(if negative { -n } else { n }));
        }
        while matches!(
            b.get(at),
            Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
        ) {
            at += 1;
        }
        let value = serde_json::from_str(self.text.get(start..at)?).ok()?;
        self.pos = at;
        Some(value)
    }

    /// A list.
    fn list(&mut self) -> Option<Value> {
        if !self.open(b'[', b']')? {
            return Some(Value::List(Vec::new()));
        }
        let base = self.items.len();
        loop {
            let v = self.value()?;
            self.items.push(v);
            if !self.more(b']')? {
                break;
            }
        }
        self.close();
        Some(Value::List(tail(&mut self.items, base)))
    }

    /// A map's entries, sorted by name, the last of a repeated name winning.
    fn attrs(&mut self) -> Option<Attrs> {
        if !self.open(b'{', b'}')? {
            return Some(Attrs::new());
        }
        let base = self.entries.len();
        let mut sorted = true;
        loop {
            // A known name is borrowed, not copied.
            let key = match self.str()? {
                Cow::Borrowed(s) => Key::intern(s),
                Cow::Owned(s) => Key::from(s),
            };
            self.eat(b':')?;
            let value = self.value()?;
            if let Some((last, _)) = self.entries[base..].last() {
                sorted &= *last < key;
            }
            self.entries.push((key, value));
            if !self.more(b'}')? {
                break;
            }
        }
        self.close();
        let entries = tail(&mut self.entries, base);
        Some(if sorted {
            Attrs::from_sorted(entries)
        } else {
            Attrs::from_unsorted(entries)
        })
    }

    /// A map as a value: a single entry under a marker key stands for what `Value`'s
    /// `Deserialize` makes of it (a digest and an unknown here, the rarer ones through
    /// `serde_json`).
    fn map_value(&mut self) -> Option<Value> {
        // At the brace: `value` passed over the whitespace before it.
        let start = self.pos;
        let attrs = self.attrs()?;
        let marker = match attrs.first_key_value() {
            Some((k, _)) if attrs.len() == 1 && k.starts_with('$') => k.as_str(),
            _ => return Some(Value::Map(attrs)),
        };
        match (marker, &attrs[marker]) {
            ("$sensitive", Value::String(digest)) => Some(Value::Redacted(digest.clone())),
            ("$unknown", Value::Bool(true)) => Some(Value::Unknown),
            ("$sensitive" | "$unknown" | "$ref" | "$template", _) => {
                serde_json::from_str(self.text.get(start..self.pos)?).ok()
            }
            _ => Some(Value::Map(attrs)),
        }
    }

    /// A value of a type read through `serde_json`: the extent of its text is found by
    /// reading it as a [`Value`].
    fn through_serde<T: DeserializeOwned>(&mut self) -> Option<T> {
        self.ws();
        let start = self.pos;
        self.value()?;
        serde_json::from_str(self.text.get(start..self.pos)?).ok()
    }

    /// A whole snapshot.
    fn state(&mut self) -> Option<State> {
        let (mut format_version, mut lineage, mut serial, mut stack, mut env) =
            (None, None, None, None, None);
        let (mut resources, mut intents, mut releases, mut outputs) = (None, None, None, None);
        if self.open(b'{', b'}')? {
            loop {
                let key = self.str()?;
                self.eat(b':')?;
                match &*key {
                    "format_version" => once(&mut format_version, self.unsigned(u32::MAX.into())?)?,
                    "lineage" => once(&mut lineage, self.string()?)?,
                    "serial" => once(&mut serial, self.unsigned(u64::MAX)?)?,
                    "stack" => once(&mut stack, self.string()?)?,
                    "env" => once(&mut env, self.string()?)?,
                    "resources" => once(&mut resources, self.resources()?)?,
                    "intents" => once(&mut intents, self.through_serde()?)?,
                    "releases" => once(&mut releases, self.through_serde()?)?,
                    "outputs" => once(&mut outputs, self.through_serde()?)?,
                    _ => return None,
                }
                if !self.more(b'}')? {
                    break;
                }
            }
            self.close();
        }
        Some(State {
            format_version: u32::try_from(format_version?).ok()?,
            lineage: lineage?,
            serial: serial?,
            stack: stack?,
            env: env?,
            resources: resources.unwrap_or_default(),
            intents: intents.unwrap_or_default(),
            releases: releases.unwrap_or_default(),
            outputs: outputs.unwrap_or_default(),
        })
    }

    /// A non-negative integer up to `max`, as `serde_json` reads one into an unsigned field.
    fn unsigned(&mut self, max: u64) -> Option<u64> {
        self.ws();
        let (b, start) = (self.bytes(), self.pos);
        let mut at = start;
        let mut n: u64 = 0;
        while let Some(&d) = b.get(at).filter(|d| d.is_ascii_digit()) {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            at += 1;
        }
        let leading_zero = at - start > 1 && b[start] == b'0';
        if at == start
            || leading_zero
            || matches!(b.get(at), Some(b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        self.pos = at;
        (n <= max).then_some(n)
    }

    /// The resources, by address, into a map built in bulk as `map_in_bulk` builds it.
    fn resources(&mut self) -> Option<BTreeMap<Address, ResourceState>> {
        let mut out = Vec::new();
        if self.open(b'{', b'}')? {
            loop {
                let address = Address::new(self.str()?);
                self.eat(b':')?;
                out.push((address, self.resource()?));
                if !self.more(b'}')? {
                    break;
                }
            }
            self.close();
        }
        Some(out.into_iter().collect())
    }

    /// One resource.
    fn resource(&mut self) -> Option<ResourceState> {
        let (mut kind, mut id, mut attrs, mut dependencies, mut status) =
            (None, None, None, None, None);
        if self.open(b'{', b'}')? {
            loop {
                let key = self.str()?;
                self.eat(b':')?;
                match &*key {
                    "attrs" => once(&mut attrs, self.attrs()?)?,
                    "dependencies" => once(&mut dependencies, self.addresses()?)?,
                    "id" => once(&mut id, self.string()?)?,
                    "kind" => once(&mut kind, self.unit_variant::<ResourceKind>()?)?,
                    "status" => once(&mut status, self.unit_variant::<Status>()?)?,
                    _ => return None,
                }
                if !self.more(b'}')? {
                    break;
                }
            }
            self.close();
        }
        Some(ResourceState {
            kind: kind?,
            id: id?,
            attrs: attrs?,
            dependencies: dependencies.map(AddressSet::from).unwrap_or_default(),
            status: status.unwrap_or_default(),
        })
    }

    /// A list of addresses, as a set.
    fn addresses(&mut self) -> Option<BTreeSet<Address>> {
        let mut out = Vec::new();
        if self.open(b'[', b']')? {
            loop {
                out.push(Address::new(self.str()?));
                if !self.more(b']')? {
                    break;
                }
            }
            self.close();
        }
        Some(out.into_iter().collect())
    }

    /// An enum's variant without data, written as its name.
    fn unit_variant<T: DeserializeOwned>(&mut self) -> Option<T> {
        let name = self.str()?;
        T::deserialize(StrDeserializer::<PlainError>::new(&name)).ok()
    }
}

/// The entries of `stack` from `base` on, moved out into a vector of their exact number.
fn tail<T>(stack: &mut Vec<T>, base: usize) -> Vec<T> {
    if base > 0 {
        return stack.split_off(base);
    }
    // `split_off(0)` would hand over the stack itself, with all its room.
    let mut out = Vec::with_capacity(stack.len());
    out.append(stack);
    out
}

/// Sets a field that may be read once only (`serde_json` refuses a repeated one).
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
