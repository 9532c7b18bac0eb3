//! A large document read on two threads: the text is cut at a line that opens a table header
//! near its middle, each part is read by its own [`Builder`], and the second part's tables are
//! merged into the first's as reading on would have put them. The merge takes only what it can
//! settle with certainty: a table of the second part new to the first moves over whole, and a
//! table both parts reach is merged only when the second part merely passes through it on the
//! way to a deeper header (and the first part made it neither inline nor by a dotted key).
//! Anything else (an error in either part, a table defined or extended in both, an array of
//! tables in both) gives up, and the document is read again in one piece, so the tree and
//! every diagnostic are exactly those of a single reading. The second part's thread also
//! builds the nodes of everything the merge cannot enter.

use super::{Builder, Item, Key, Val};
use crate::spec::diag::{FileId, SourceMap};
use crate::spec::raw::Node;

/// Documents shorter than this are read in one piece: a second thread would cost more than
/// it saves (64 KiB is about 350 blocks).
pub(in crate::spec) const SPLIT_MIN_BYTES: usize = 64 * 1024;

/// Where the first part ends, as a share of the text: the first part's thread also merges the
/// parts and builds the nodes the merge enters, so it reads a little less than half.
const FIRST_SHARE: (usize, usize) = (47, 100);

#[cfg(test)]
thread_local! {
    /// The size from which documents are split, lowered by tests to split small documents.
    pub(in crate::spec) static SPLIT_MIN: std::cell::Cell<usize> =
        const { std::cell::Cell::new(SPLIT_MIN_BYTES) };
}

/// The size from which documents are split.
#[cfg(not(test))]
fn split_min() -> usize {
    SPLIT_MIN_BYTES
}

/// The size from which documents are split (as a test set it).
#[cfg(test)]
fn split_min() -> usize {
    SPLIT_MIN.with(std::cell::Cell::get)
}

/// The document read in two parts on two threads, or `None` when it is small, has no header
/// line to cut at, or the parts cannot be merged with certainty (the caller reads it whole).
pub(in crate::spec::raw) fn build_split(
    sources: &SourceMap,
    file: FileId,
    templates: bool,
) -> Option<Node> {
    let text = sources.text(file);
    if text.len() < split_min() {
        return None;
    }
    let at = cut(text, text.len() * FIRST_SHARE.0 / FIRST_SHARE.1)?;
    build_at(sources, file, templates, at, true)
}

/// The start of the first line after `from` that opens a header (`[` in its first column).
fn cut(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let from = from.min(bytes.len());
    bytes[from..]
        .windows(2)
        .position(|w| w == b"\n[")
        .map(|i| from + i + 1)
}

/// The document read as two parts cut at `at` (the start of a line opening a header), on two
/// threads when `threads` is set; `None` when the parts cannot be merged with certainty.
pub(in crate::spec::raw) fn build_at(
    sources: &SourceMap,
    file: FileId,
    templates: bool,
    at: usize,
    threads: bool,
) -> Option<Node> {
    let text = sources.text(file);
    let starts_header = at > 0 && text.as_bytes().get(at - 1) == Some(&b'\n');
    if !starts_header || !text.get(at..).is_some_and(|t| t.starts_with('[')) {
        return None;
    }
    let first = || Builder::parse(sources, file, templates, 0..at);
    let second = || {
        let mut second = Builder::parse(sources, file, templates, at..text.len())?;
        second.settle(0);
        Some(second)
    };
    let (second, first) = crate::par::both("spec", threads, second, first);
    let mut first = first?;
    first.absorb(second?)?;
    Some(first.finish())
}

impl<'s> Builder<'s> {
    /// Takes in the tables of `other`, the builder of the rest of the document, merging its
    /// root into this one's; `None` when the merge is not certain to match one reading.
    fn absorb(&mut self, other: Builder<'s>) -> Option<()> {
        let offset = self.tabs.len();
        for mut tab in other.tabs {
            for slot in &mut tab.slots {
                relocate(&mut slot.item, offset);
            }
            self.tabs.push(tab);
        }
        self.merge(0, offset)
    }

    /// Builds the nodes of every entry under table `t` that a merge cannot enter (all but
    /// the tables only passed through on the way to a header), so that the second part's
    /// thread does that work too. A settled entry the first part also has fails the merge,
    /// as it would unsettled.
    fn settle(&mut self, t: usize) {
        let slots = std::mem::take(&mut self.tabs[t].slots);
        let slots = slots
            .into_iter()
            .map(|mut slot| {
                match slot.item.val {
                    Val::Table(id) if self.passed_through(id) => self.settle(id),
                    Val::Leaf(_) => {}
                    _ => {
                        let span = slot.item.span.clone();
                        let node = self.node(slot.item);
                        slot.item = Item {
                            span,
                            val: Val::Leaf(node.kind),
                        };
                    }
                }
                slot
            })
            .collect();
        self.tabs[t].slots = slots;
    }

    /// Whether table `id` (of the second part) was only passed through on the way to a
    /// header: made implicitly, not by a dotted key, not inline.
    fn passed_through(&self, id: usize) -> bool {
        let t = &self.tabs[id];
        t.implicit && !t.dotted && !t.inline
    }

    /// Moves the entries of table `from` (of the second part) into table `into` (of the
    /// first): new keys are added, and a table both have is merged when the second part only
    /// passed through it on the way to a header, as reading on descends into it.
    fn merge(&mut self, into: usize, from: usize) -> Option<()> {
        let slots = std::mem::take(&mut self.tabs[from].slots);
        for slot in slots {
            let Some(i) = self.find(into, &slot.key).ok()? else {
                let key = Key {
                    name: slot.key,
                    span: slot.key_span,
                };
                self.push(into, key, slot.item)?;
                continue;
            };
            let (Val::Table(mine), Val::Table(theirs)) =
                (&self.tabs[into].slots[i].item.val, &slot.item.val)
            else {
                return None;
            };
            let (mine, theirs) = (*mine, *theirs);
            let m = &self.tabs[mine];
            if m.inline || m.dotted || !self.passed_through(theirs) {
                return None;
            }
            self.merge(mine, theirs)?;
        }
        Some(())
    }
}

/// Shifts the table indices inside `item` by `offset` (the second part's tables are appended
/// to the first's).
fn relocate(item: &mut Item, offset: usize) {
    match &mut item.val {
        Val::Table(id) => *id += offset,
        Val::Array(items, _) => items.iter_mut().for_each(|i| relocate(i, offset)),
        Val::Leaf(_) => {}
    }
}
