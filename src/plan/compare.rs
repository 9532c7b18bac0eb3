//! Comparing a resource's planned attributes with its recorded ones: which attributes change,
//! whether the plan's `after` would be the record itself, and keeping the recorded computed
//! attributes. Both sides are sorted maps, so each comparison is one merge of two walks.

use std::borrow::Cow;

use crate::resource::Key;
use crate::resource::{Attrs, Likeness, Ref, Value};
use crate::state::ResourceState;

/// The attributes whose planned value differs from the recorded one, sorted: one pass over both
/// sorted maps. A recorded attribute the spec leaves out counts unless it is computed or null.
/// Also whether `after` with the recorded computed attributes kept would be identical to
/// `before` (same names, values alike down to how they serialise).
pub(super) fn changed_attrs<'a>(
    after: &'a Attrs,
    before: &'a Attrs,
    computed: &[&str],
) -> (Vec<&'a str>, bool) {
    use std::cmp::Ordering;
    let mut changed: Vec<&str> = Vec::new();
    let mut identical = true;
    let (mut a, mut b) = (after.iter().peekable(), before.iter().peekable());
    loop {
        let order = match (a.peek(), b.peek()) {
            (Some((ka, _)), Some((kb, _))) => ka.cmp(kb),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => return (changed, identical),
        };
        match order {
            Ordering::Less => {
                if let Some((k, v)) = a.next() {
                    identical = false;
                    if *v != Value::Null {
                        changed.push(k);
                    }
                }
            }
            Ordering::Greater => {
                if let Some((k, v)) = b.next() {
                    let kept = computed.contains(&k.as_str());
                    identical &= kept;
                    if *v != Value::Null && !kept {
                        changed.push(k);
                    }
                }
            }
            Ordering::Equal => {
                if let (Some((k, va)), Some((_, vb))) = (a.next(), b.next()) {
                    match va.likeness(vb) {
                        Likeness::Differs => changed.push(k),
                        Likeness::Same => identical = false,
                        Likeness::Identical => {}
                    }
                }
            }
        }
    }
}

/// Whether the spec's attributes, references resolved, are identical to the recorded ones but
/// for computed attributes the spec leaves out: what [`changed_attrs`] reports as no change
/// and identical, found without building the resolved attributes.
pub(super) fn matches_record<'v>(
    desired: &Attrs,
    recorded: &Attrs,
    computed: &[&str],
    lookup: &dyn Fn(&Ref) -> Option<Cow<'v, Value>>,
) -> bool {
    use std::cmp::Ordering;
    let (mut a, mut b) = (desired.iter().peekable(), recorded.iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => return true,
            (Some(_), None) => return false,
            (None, Some((kb, _))) => {
                if !computed.contains(&kb.as_str()) {
                    return false;
                }
                b.next();
            }
            (Some((ka, va)), Some((kb, vb))) => match ka.cmp(kb) {
                Ordering::Less => return false,
                Ordering::Greater => {
                    if !computed.contains(&kb.as_str()) {
                        return false;
                    }
                    b.next();
                }
                Ordering::Equal => {
                    if !va.identical_once_substituted(vb, lookup) {
                        return false;
                    }
                    a.next();
                    b.next();
                }
            },
        }
    }
}

/// [`matches_record`] with a `lookup` that gives the values it finds rather than lending them.
pub(super) fn matches_owned(
    desired: &Attrs,
    recorded: &Attrs,
    computed: &[&str],
    lookup: &dyn Fn(&Ref) -> Option<Value>,
) -> bool {
    matches_record(desired, recorded, computed, &|rf| {
        lookup(rf).map(Cow::Owned)
    })
}

pub(super) fn keep_computed(after: &mut Attrs, p: &ResourceState, computed: &[&'static str]) {
    for c in computed {
        if let Some(v) = p.attrs.get(c)
            && after.get(c) != Some(v)
        {
            after.insert(Key::from(*c), v.clone());
        }
    }
}
