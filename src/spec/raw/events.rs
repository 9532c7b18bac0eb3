//! The fast path of [`parse_document`](super::parse_document): builds the [`Node`] tree straight
//! from `toml_parser`'s event stream, without toml's `DeTable` in between. It assembles tables
//! the way `DeTable` does (headers in any order, dotted keys, implicit tables and their spans,
//! arrays of tables, inline tables) for documents without errors. Anything it cannot settle with
//! certainty (a syntax error, a duplicate or redefined key, a table extended where `DeTable`
//! refuses, a value the converter would report, deep nesting) makes it give up, and the caller
//! parses the file again through `DeTable`, which reports exactly as before.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::ops::Range;

use foldhash::fast::FixedState;
use toml_parser::decoder::{Encoding, ScalarKind};
use toml_parser::parser::EventReceiver;
use toml_parser::{ErrorSink, ParseError, Raw, Source, Span as TomlSpan};

use super::{Converter, Entry, Node, NodeKind, float};
use crate::spec::diag::{Diagnostics, FileId, SourceMap, Span};

mod split;

#[cfg(test)]
pub(super) use split::build_at;
pub(super) use split::build_split;
#[cfg(test)]
pub(in crate::spec) use split::{SPLIT_MIN, SPLIT_MIN_BYTES};

/// Nesting of arrays and inline tables, and length of a dotted key, beyond which the fast path
/// gives up (toml's own limit is 80; the slow path reports it).
const MAX_DEPTH: usize = 64;

/// Tables with more entries than this are searched through the hash index, smaller ones by scan.
const LINEAR: usize = 8;

/// The fewest bytes per token the token vector is first sized for. Generated stacks of every
/// bench shape lex to about one token every three bytes (whitespace runs, keys, `=`, values,
/// brackets and newlines are one token each); hand-written ones, with comments, to fewer.
const BYTES_PER_TOKEN: usize = 2;

/// The document as a table node, or `None` when the slow path must decide (see the module doc).
pub(super) fn build(sources: &SourceMap, file: FileId, templates: bool) -> Option<Node> {
    let len = sources.text(file).len();
    Some(Builder::parse(sources, file, templates, 0..len)?.finish())
}

/// Records whether the parser or a decoder reported anything.
/// Records whether the parser or a decoder reported anything.
struct Failed(bool);

impl ErrorSink for Failed {
    fn report_error(&mut self, _error: ParseError) {
        self.0 = true;
    }
}

/// One key of a (possibly dotted) key path, decoded, with the span of its token.
struct Key<'s> {
    name: Cow<'s, str>,
    span: Range<usize>,
}

/// A table under construction, with the flags `DeTable` keeps to refuse redefinitions.
#[derive(Default)]
struct Tab<'s> {
    slots: Vec<Slot<'s>>,
    /// Created on the way to a deeper key (a header's parent or a dotted key's prefix).
    implicit: bool,
    /// Created or extended by a dotted key.
    dotted: bool,
    /// Written inline (`{...}`), or created by a dotted key inside one.
    inline: bool,
}

/// An entry of a [`Tab`].
struct Slot<'s> {
    key: Cow<'s, str>,
    key_span: Range<usize>,
    item: Item,
}

/// A value under construction with its span.
struct Item {
    span: Range<usize>,
    val: Val,
}

enum Val {
    Leaf(NodeKind),
    /// The items, and whether the array is an array of tables (`[[x]]`).
    Array(Vec<Item>, bool),
    /// Index into [`Builder::tabs`].
    Table(usize),
}

/// An open array or inline table.
enum Frame<'s> {
    Array {
        start: usize,
        items: Vec<Item>,
    },
    Inline {
        start: usize,
        tab: usize,
        /// The key path waiting for its value (empty when none is).
        keys: Vec<Key<'s>>,
    },
}

struct Builder<'s> {
    sources: &'s SourceMap,
    file: FileId,
    /// The whole file (spans are offsets into it).
    text: &'s str,
    /// Where the part of the file this builder reads starts.
    base: usize,
    templates: bool,
    /// Every table; 0 is the root.
    tabs: Vec<Tab<'s>>,
    /// Hash of (table, key) to the slot, for tables larger than [`LINEAR`].
    index: HashMap<u64, usize, FixedState>,
    /// The key path being read.
    keys: Vec<Key<'s>>,
    stack: Vec<Frame<'s>>,
    /// The table document-level key/values go into (the last header's, the root before any).
    current: usize,
    /// An open header: whether it is an array of tables, and where it starts.
    header_open: Option<(bool, usize)>,
    /// A document-level key path waiting for its value (empty when none is).
    doc_keys: Vec<Key<'s>>,
    /// Diagnostics of the string converter: any makes the slow path decide.
    scratch: Diagnostics,
    bail: bool,
}

impl<'s> Builder<'s> {
    /// Reads `range` of the file (the whole file, or a part that starts at a line with a
    /// header), or `None` when the slow path must decide.
    fn parse(
        sources: &'s SourceMap,
        file: FileId,
        templates: bool,
        range: Range<usize>,
    ) -> Option<Builder<'s>> {
        let text = sources.text(file);
        let part = text.get(range.clone())?;
        // Room for one token every [`BYTES_PER_TOKEN`] bytes: the lexer's own estimate (two
        // every seven) is short for a spec (about one every three), and a vector grown late
        // copies its megabytes into fresh memory. Room left unused is never touched.
        let mut tokens = Vec::with_capacity(part.len() / BYTES_PER_TOKEN + 1);
        tokens.extend(Source::new(part).lex());
        let mut builder = Builder {
            sources,
            file,
            text,
            base: range.start,
            templates,
            tabs: vec![Tab::default()],
            index: HashMap::default(),
            keys: Vec::new(),
            stack: Vec::new(),
            current: 0,
            header_open: None,
            doc_keys: Vec::new(),
            scratch: Diagnostics::default(),
            bail: false,
        };
        let mut failed = Failed(false);
        toml_parser::parser::parse_document(&tokens, &mut builder, &mut failed);
        let open = !builder.stack.is_empty() || builder.header_open.is_some();
        let pending = !builder.doc_keys.is_empty() || !builder.keys.is_empty();
        if failed.0 || builder.bail || open || pending {
            return None;
        }
        Some(builder)
    }

    /// The document read as a table node.
    fn finish(mut self) -> Node {
        let entries = self.table(0);
        Node {
            span: Span::new(self.file, 0..0),
            kind: NodeKind::Table(entries),
        }
    }

    /// The entries of a finished table, in source order of their keys like the slow path.
    fn table(&mut self, id: usize) -> Vec<Entry> {
        let slots = std::mem::take(&mut self.tabs[id].slots);
        let mut entries: Vec<Entry> = slots
            .into_iter()
            .map(|s| Entry {
                key: s.key.into_owned(),
                key_span: Span::new(self.file, s.key_span),
                value: self.node(s.item),
            })
            .collect();
        entries.sort_by_key(|e| e.key_span.range.start);
        entries
    }

    fn node(&mut self, item: Item) -> Node {
        let kind = match item.val {
            Val::Leaf(kind) => kind,
            Val::Array(items, _) => {
                NodeKind::Array(items.into_iter().map(|i| self.node(i)).collect())
            }
            Val::Table(id) => NodeKind::Table(self.table(id)),
        };
        Node {
            span: Span::new(self.file, item.span),
            kind,
        }
    }

    fn raw(&mut self, span: TomlSpan, encoding: Option<Encoding>) -> Option<Raw<'s>> {
        let raw = self
            .text
            .get(self.base + span.start()..self.base + span.end());
        if raw.is_none() {
            self.bail = true;
        }
        raw.map(|s| Raw::new_unchecked(s, encoding, span))
    }

    fn new_tab(&mut self, implicit: bool, dotted: bool, inline: bool) -> usize {
        self.tabs.push(Tab {
            slots: Vec::new(),
            implicit,
            dotted,
            inline,
        });
        self.tabs.len() - 1
    }

    /// The slot of `name` in table `t`; `Err` on a hash collision (left to the slow path).
    fn find(&self, t: usize, name: &str) -> Result<Option<usize>, ()> {
        let slots = &self.tabs[t].slots;
        if slots.len() <= LINEAR {
            return Ok(slots.iter().position(|s| s.key == name));
        }
        match self.index.get(&FixedState::default().hash_one((t, name))) {
            None => Ok(None),
            Some(&i) if slots[i].key == name => Ok(Some(i)),
            Some(_) => Err(()),
        }
    }

    /// Adds an entry known to be absent.
    fn push(&mut self, t: usize, key: Key<'s>, item: Item) -> Option<()> {
        let slots = &mut self.tabs[t].slots;
        slots.push(Slot {
            key: key.name,
            key_span: key.span,
            item,
        });
        let len = slots.len();
        if len > LINEAR {
            let first = if len == LINEAR + 1 { 0 } else { len - 1 };
            for i in first..len {
                let h = FixedState::default().hash_one((t, &*self.tabs[t].slots[i].key));
                if self.index.insert(h, i).is_some() {
                    return None;
                }
            }
        }
        Some(())
    }

    /// Adds an entry; `None` when the key is taken (a duplicate key).
    fn insert(&mut self, t: usize, key: Key<'s>, item: Item) -> Option<()> {
        if self.find(t, &key.name).ok()?.is_some() {
            return None;
        }
        self.push(t, key, item)
    }

    /// Walks `path` from table `t` outside inline tables, creating implicit tables, as
    /// `DeTable`'s document parser does; `None` where it reports an error.
    fn descend(&mut self, mut t: usize, path: &mut Vec<Key<'s>>, dotted: bool) -> Option<usize> {
        for k in path.drain(..) {
            t = match self.find(t, &k.name).ok()? {
                None => {
                    let id = self.new_tab(true, dotted, false);
                    let span = k.span.clone();
                    let val = Val::Table(id);
                    self.push(t, k, Item { span, val })?;
                    id
                }
                Some(slot) => match &self.tabs[t].slots[slot].item.val {
                    Val::Array(items, true) => match items.last() {
                        Some(Item {
                            val: Val::Table(id),
                            ..
                        }) => *id,
                        _ => return None,
                    },
                    Val::Table(id) => {
                        let id = *id;
                        let child = &mut self.tabs[id];
                        if child.inline || dotted && !child.implicit {
                            return None;
                        }
                        if dotted {
                            child.dotted = true;
                        }
                        id
                    }
                    _ => return None,
                },
            };
        }
        Some(t)
    }

    /// Walks a dotted key's prefix inside inline table `t`, as `DeTable`'s inline table
    /// parser does.
    fn descend_inline(&mut self, mut t: usize, path: &mut Vec<Key<'s>>) -> Option<usize> {
        for k in path.drain(..) {
            t = match self.find(t, &k.name).ok()? {
                None => {
                    let id = self.new_tab(true, true, true);
                    let span = k.span.clone();
                    self.push(
                        t,
                        k,
                        Item {
                            span,
                            val: Val::Table(id),
                        },
                    )?;
                    id
                }
                Some(slot) => match &self.tabs[t].slots[slot].item.val {
                    Val::Table(id) if self.tabs[*id].implicit => *id,
                    _ => return None,
                },
            };
        }
        Some(t)
    }

    /// A document-level `key = value` into the current table.
    fn key_value(&mut self, keys: &mut Vec<Key<'s>>, item: Item) -> Option<()> {
        let key = keys.pop()?;
        let dotted = !keys.is_empty();
        let parent = self.descend(self.current, keys, dotted)?;
        if dotted && !self.tabs[parent].implicit {
            return None;
        }
        self.insert(parent, key, item)
    }

    /// A `key = value` inside inline table `tab`.
    fn inline_key_value(&mut self, tab: usize, keys: &mut Vec<Key<'s>>, item: Item) -> Option<()> {
        let key = keys.pop()?;
        let plain = keys.is_empty();
        let t = self.descend_inline(tab, keys)?;
        if self.tabs[t].dotted == plain {
            return None;
        }
        self.insert(t, key, item)
    }

    /// A `[table]` or `[[array]]` header: the table it opens becomes the current one.
    fn header(&mut self, array: bool, span: Range<usize>) -> Option<()> {
        let mut path = std::mem::take(&mut self.keys);
        let key = path.pop()?;
        let parent = self.descend(0, &mut path, false)?;
        let found = self.find(parent, &key.name).ok()?;
        let id = match (array, found) {
            (true, None) => {
                let id = self.new_tab(false, false, false);
                let first = Item {
                    span: span.clone(),
                    val: Val::Table(id),
                };
                let val = Val::Array(vec![first], true);
                self.push(parent, key, Item { span, val })?;
                id
            }
            (true, Some(slot)) => {
                let id = self.new_tab(false, false, false);
                let Val::Array(items, true) = &mut self.tabs[parent].slots[slot].item.val else {
                    return None;
                };
                items.push(Item {
                    span,
                    val: Val::Table(id),
                });
                id
            }
            (false, None) => {
                let id = self.new_tab(false, false, false);
                self.push(
                    parent,
                    key,
                    Item {
                        span,
                        val: Val::Table(id),
                    },
                )?;
                id
            }
            (false, Some(slot)) => {
                // An implicit table (from an earlier header's path) is defined now: it takes
                // this header's key and span, as `DeTable` re-inserts it.
                let s = &mut self.tabs[parent].slots[slot];
                let Val::Table(id) = s.item.val else {
                    return None;
                };
                s.key_span = key.span;
                s.item.span = span;
                let tab = &mut self.tabs[id];
                if !tab.implicit || tab.dotted {
                    return None;
                }
                tab.implicit = false;
                id
            }
        };
        self.current = id;
        Some(())
    }

    /// A finished value goes to the open array, the open inline table or the current table.
    fn deliver(&mut self, item: Item) {
        let done = match self.stack.last_mut() {
            Some(Frame::Array { items, .. }) => {
                items.push(item);
                Some(())
            }
            Some(Frame::Inline { tab, keys, .. }) => {
                let tab = *tab;
                let mut keys = std::mem::take(keys);
                let done = self.inline_key_value(tab, &mut keys, item);
                keys.clear();
                if let Some(Frame::Inline { keys: k, .. }) = self.stack.last_mut() {
                    *k = keys;
                }
                done
            }
            None => {
                let mut keys = std::mem::take(&mut self.doc_keys);
                let done = self.key_value(&mut keys, item);
                keys.clear();
                self.doc_keys = keys;
                done
            }
        };
        if done.is_none() {
            self.bail = true;
        }
    }

    fn string(&mut self, text: String, range: Range<usize>) -> NodeKind {
        if !(self.templates && text.contains("${")) {
            return NodeKind::Str { text, tpl: None };
        }
        let mut cv = Converter {
            sources: self.sources,
            file: self.file,
            text: self.text,
            templates: true,
            diags: &mut self.scratch,
        };
        let kind = cv.string(text, range);
        if !self.scratch.is_empty() {
            self.bail = true;
        }
        kind
    }

    fn open_header(&mut self, array: bool, span: TomlSpan) {
        let busy = !self.stack.is_empty() || !self.doc_keys.is_empty() || !self.keys.is_empty();
        if busy || self.header_open.is_some() {
            self.bail = true;
        }
        self.header_open = Some((array, self.base + span.start()));
    }

    fn close_header(&mut self, array: bool, span: TomlSpan) {
        match self.header_open.take() {
            Some((a, start)) if a == array && !self.bail => {
                if self.header(array, start..self.base + span.end()).is_none() {
                    self.bail = true;
                }
            }
            _ => self.bail = true,
        }
    }
}

impl EventReceiver for Builder<'_> {
    fn std_table_open(&mut self, span: TomlSpan, _error: &mut dyn ErrorSink) {
        self.open_header(false, span);
    }

    fn std_table_close(&mut self, span: TomlSpan, _error: &mut dyn ErrorSink) {
        self.close_header(false, span);
    }

    fn array_table_open(&mut self, span: TomlSpan, _error: &mut dyn ErrorSink) {
        self.open_header(true, span);
    }

    fn array_table_close(&mut self, span: TomlSpan, _error: &mut dyn ErrorSink) {
        self.close_header(true, span);
    }

    fn inline_table_open(&mut self, span: TomlSpan, _error: &mut dyn ErrorSink) -> bool {
        if self.stack.len() >= MAX_DEPTH {
            self.bail = true;
        }
        let tab = self.new_tab(false, false, true);
        self.stack.push(Frame::Inline {
            start: self.base + span.start(),
            tab,
            keys: Vec::new(),
        });
        true
    }

    fn inline_table_close(&mut self, span: TomlSpan, _error: &mut dyn ErrorSink) {
        match self.stack.pop() {
            Some(Frame::Inline { start, tab, keys }) if keys.is_empty() => self.deliver(Item {
                span: start..self.base + span.end(),
                val: Val::Table(tab),
            }),
            _ => self.bail = true,
        }
    }

    fn array_open(&mut self, span: TomlSpan, _error: &mut dyn ErrorSink) -> bool {
        if self.stack.len() >= MAX_DEPTH {
            self.bail = true;
        }
        self.stack.push(Frame::Array {
            start: self.base + span.start(),
            items: Vec::new(),
        });
        true
    }

    fn array_close(&mut self, span: TomlSpan, _error: &mut dyn ErrorSink) {
        match self.stack.pop() {
            Some(Frame::Array { start, items }) => self.deliver(Item {
                span: start..self.base + span.end(),
                val: Val::Array(items, false),
            }),
            _ => self.bail = true,
        }
    }

    fn simple_key(
        &mut self,
        span: TomlSpan,
        encoding: Option<Encoding>,
        error: &mut dyn ErrorSink,
    ) {
        if self.keys.len() >= MAX_DEPTH {
            self.bail = true;
        }
        let Some(raw) = self.raw(span, encoding) else {
            return;
        };
        let bare = raw.as_bytes();
        let plain = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
        let name = if encoding.is_none() && !bare.is_empty() && bare.iter().all(plain) {
            // A bare key of letters, digits, `-` and `_` decodes to itself without error.
            Cow::Borrowed(raw.as_str())
        } else {
            let mut name = Cow::Borrowed("");
            raw.decode_key(&mut name, error);
            name
        };
        self.keys.push(Key {
            name,
            span: self.base + span.start()..self.base + span.end(),
        });
    }

    fn key_val_sep(&mut self, _span: TomlSpan, _error: &mut dyn ErrorSink) {
        let waiting = match self.stack.last_mut() {
            None => &mut self.doc_keys,
            Some(Frame::Inline { keys, .. }) => keys,
            Some(Frame::Array { .. }) => {
                self.bail = true;
                return;
            }
        };
        if self.keys.is_empty() || !waiting.is_empty() || self.header_open.is_some() {
            self.bail = true;
            return;
        }
        std::mem::swap(waiting, &mut self.keys);
    }

    fn scalar(&mut self, span: TomlSpan, encoding: Option<Encoding>, error: &mut dyn ErrorSink) {
        let Some(raw) = self.raw(span, encoding) else {
            return;
        };
        let range = self.base + span.start()..self.base + span.end();
        let mut decoded = Cow::Borrowed("");
        let kind = match raw.decode_scalar(&mut decoded, error) {
            ScalarKind::String => self.string(decoded.into_owned(), range.clone()),
            ScalarKind::Boolean(b) => NodeKind::Bool(b),
            ScalarKind::DateTime => match decoded.parse::<toml::value::Datetime>() {
                Ok(d) => NodeKind::Datetime(d.to_string()),
                Err(_) => {
                    self.bail = true;
                    return;
                }
            },
            ScalarKind::Float => float(&decoded),
            ScalarKind::Integer(radix) => match i64::from_str_radix(&decoded, radix.value()) {
                Ok(n) => NodeKind::Int(n),
                Err(_) => {
                    // Out of range: the slow path reports it.
                    self.bail = true;
                    return;
                }
            },
        };
        self.deliver(Item {
            span: range,
            val: Val::Leaf(kind),
        });
    }

    fn comment(&mut self, span: TomlSpan, error: &mut dyn ErrorSink) {
        if let Some(raw) = self.raw(span, None) {
            raw.decode_comment(error);
        }
    }

    fn newline(&mut self, span: TomlSpan, error: &mut dyn ErrorSink) {
        if let Some(raw) = self.raw(span, None) {
            raw.decode_newline(error);
        }
    }

    fn error(&mut self, _span: TomlSpan, _error: &mut dyn ErrorSink) {
        self.bail = true;
    }
}
