//! Text primitives the renderers write with: indentation, quoted strings, attribute keys and
//! scalar values, each appended to one output `String` (no temporary strings on the common
//! paths; the rare ones fall back to `std::fmt` and give the same bytes).

use std::fmt::Write;

use crate::resource::Value;

/// Appends `n` spaces.
pub fn pad(out: &mut String, n: usize) {
    const SPACES: &str = "                                ";
    let mut left = n;
    while left > 0 {
        let take = left.min(SPACES.len());
        out.push_str(&SPACES[..take]);
        left -= take;
    }
}

/// True when `s` reads the same inside Rust's `{:?}` quotes: printable ASCII, no `"` or `\`.
fn plain(s: &str) -> bool {
    s.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

/// Appends `s` quoted and escaped exactly as `format!("{s:?}")` does.
pub fn quoted(out: &mut String, s: &str) {
    if plain(s) {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        let _ = write!(out, "{s:?}");
    }
}

/// True when a map key is shown bare: an identifier of letters, digits, `_` and `-`.
fn bare(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// How a map key is shown, and how many columns it takes.
pub enum Key<'a> {
    /// An identifier, shown as is.
    Bare(&'a str),
    /// Anything else, shown quoted (the quoted text, its width in characters).
    Quoted(String, usize),
}

impl<'a> Key<'a> {
    /// Bare when `k` is an identifier, quoted otherwise.
    pub fn new(k: &'a str) -> Key<'a> {
        if bare(k) {
            Key::Bare(k)
        } else {
            let q = format!("{k:?}");
            let chars = q.chars().count();
            Key::Quoted(q, chars)
        }
    }

    /// Bytes of the shown key: what the column width is measured in.
    pub fn len(&self) -> usize {
        match self {
            Key::Bare(k) => k.len(),
            Key::Quoted(q, _) => q.len(),
        }
    }

    /// Appends the key padded with spaces to `width` characters (as `{:width$}` does).
    pub fn write(&self, out: &mut String, width: usize) {
        let (text, chars) = match self {
            Key::Bare(k) => (*k, k.len()),
            Key::Quoted(q, n) => (q.as_str(), *n),
        };
        out.push_str(text);
        pad(out, width.saturating_sub(chars));
    }
}

/// Bytes of the shown key `k` (without building it when it is bare).
pub fn key_len(k: &str) -> usize {
    if bare(k) { k.len() } else { Key::new(k).len() }
}

/// Appends a value as one line shows it: secrets as `(sensitive)`, empty collections as `{}`
/// and `[]`, everything else as its `Display`.
pub fn scalar(out: &mut String, v: &Value) {
    match v {
        Value::Sensitive(_) | Value::Redacted(_) => out.push_str("(sensitive)"),
        Value::Map(m) if m.is_empty() => out.push_str("{}"),
        Value::List(l) if l.is_empty() => out.push_str("[]"),
        Value::String(s) => quoted(out, s),
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Unknown | Value::Ref(_) | Value::Template(_) => out.push_str("(known after apply)"),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// [`scalar`] into a new string.
pub fn scalar_string(v: &Value) -> String {
    let mut s = String::new();
    scalar(&mut s, v);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_matches_debug_formatting() {
        for s in [
            "",
            "plain text",
            "quote \" and \\ backslash",
            "line\nbreak\ttab\r",
            "é ключ 🦀",
            "\u{7}\u{0}\u{7f}\u{200b}\u{301}",
            "'single'",
            "~ ` { }",
        ] {
            let mut out = String::new();
            quoted(&mut out, s);
            assert_eq!(out, format!("{s:?}"), "{s}");
        }
    }

    #[test]
    fn keys_pad_like_format_width() {
        for k in ["a", "with space", "ключ", "", "tab\t", "snake_case-1"] {
            let shown = if bare(k) {
                k.to_string()
            } else {
                format!("{k:?}")
            };
            assert_eq!(key_len(k), shown.len());
            for width in [0, 3, 12, 40, 70] {
                let mut out = String::new();
                Key::new(k).write(&mut out, width);
                assert_eq!(out, format!("{shown:width$}"), "{k} {width}");
            }
        }
    }

    #[test]
    fn scalars_match_display() {
        let values = [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(-42),
            Value::Int(i64::MIN),
            Value::Float(2.5),
            Value::Float(1e21),
            Value::str("s \"q\""),
            Value::List(vec![Value::str("a"), Value::Int(1)]),
            Value::Map(
                [(crate::resource::Key::from("k"), Value::str("v"))]
                    .into_iter()
                    .collect(),
            ),
            Value::Unknown,
        ];
        for v in values {
            assert_eq!(scalar_string(&v), v.to_string(), "{v:?}");
        }
        assert_eq!(
            scalar_string(&Value::Sensitive(Box::new(Value::str("x")))),
            "(sensitive)"
        );
        assert_eq!(scalar_string(&Value::List(vec![])), "[]");
    }
}
