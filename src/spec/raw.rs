//! The raw spec: a TOML document as a tree of [`Node`]s, every key and value carrying its
//! [`Span`], with `${...}` interpolations parsed into [`Template`]s. Nothing here knows what a
//! stack, a variable or an endpoint is; `resolve` and `lower` give the tree its meaning.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diag::{Diagnostics, ErrorCode, FileId, SourceMap, Span, SpecError};

#[cfg(test)]
mod equivalence;
mod events;

#[cfg(test)]
pub(super) use events::{SPLIT_MIN, SPLIT_MIN_BYTES};

/// One `${a.b.c}` reference inside a string.
#[derive(Clone, Debug, PartialEq)]
pub struct RefExpr {
    /// The dotted path, split: `["endpoint", "fraud", "service_arn"]`.
    pub path: Vec<String>,
    /// Where the reference sits (the whole string when offsets cannot be mapped exactly).
    pub span: Span,
}

impl RefExpr {
    pub fn text(&self) -> String {
        self.path.join(".")
    }
}

/// A piece of an interpolated string.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Lit(String),
    Ref(RefExpr),
}

/// A string containing at least one reference.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub parts: Vec<Part>,
}

impl Template {
    /// The reference when the string is exactly one `${...}`, which keeps the referenced type.
    pub fn single(&self) -> Option<&RefExpr> {
        match self.parts.as_slice() {
            [Part::Ref(r)] => Some(r),
            _ => None,
        }
    }

    pub fn refs(&self) -> impl Iterator<Item = &RefExpr> {
        self.parts.iter().filter_map(|p| match p {
            Part::Ref(r) => Some(r),
            Part::Lit(_) => None,
        })
    }
}

/// A key of a table with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// A string; `tpl` is set when it interpolates references.
    Str {
        text: String,
        tpl: Option<Template>,
    },
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<Entry>),
}

/// A TOML value with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: NodeKind,
}

impl Node {
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Str { .. } => "a string",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a float",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Datetime(_) => "a datetime",
            NodeKind::Array(_) => "a list",
            NodeKind::Table(_) => "a table",
        }
    }

    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.kind {
            NodeKind::Table(e) => Some(e),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().find(|e| e.key == key)
    }

    /// A string without interpolation.
    pub fn literal_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str { text, tpl: None } => Some(text),
            _ => None,
        }
    }

    /// Every reference anywhere inside the node.
    pub fn refs<'a>(&'a self, out: &mut Vec<&'a RefExpr>) {
        match &self.kind {
            NodeKind::Str { tpl: Some(t), .. } => out.extend(t.refs()),
            NodeKind::Array(items) => items.iter().for_each(|n| n.refs(out)),
            NodeKind::Table(entries) => entries.iter().for_each(|e| e.value.refs(out)),
            _ => {}
        }
    }
}

/// Beyond this many lines with syntax errors a file is reported as not a spec.
pub const MAX_SYNTAX_LINES: usize = 3;

/// Parses one TOML file into a table node. Syntax errors are reported once per line; a file
/// with errors on more than [`MAX_SYNTAX_LINES`] lines is most likely not a spec at all, and
/// only its first error is shown, with the offending line and none of the others. `None` when the document
/// could not be read at all. `templates` turns `${...}` parsing on (spec files) or off
/// (environment files, where values are literal).
///
/// Documents without errors are built straight from the parser's events (a large one in two
/// parts on two threads); any other document (and anything the event builder is not certain
/// of) goes through toml's `DeTable`, which reports the errors.
pub fn parse_document(
    sources: &SourceMap,
    file: FileId,
    templates: bool,
    diags: &mut Diagnostics,
) -> Option<Node> {
    let built = events::build_split(sources, file, templates)
        .or_else(|| events::build(sources, file, templates));
    if let Some(node) = built {
        return Some(node);
    }
    parse_through_tables(sources, file, templates, diags)
}

/// [`parse_document`] through toml's `DeTable`: the path that reports syntax errors.
fn parse_through_tables(
    sources: &SourceMap,
    file: FileId,
    templates: bool,
    diags: &mut Diagnostics,
) -> Option<Node> {
    let text = sources.text(file);
    let (doc, errors) = DeTable::parse_recoverable(text);
    let had_errors = !errors.is_empty();
    let mut by_line: BTreeMap<usize, _> = BTreeMap::new();
    for e in errors {
        let range = e.span().unwrap_or(0..0);
        let line = text[..range.start.min(text.len())].matches('\n').count();
        by_line.entry(line).or_insert((range, e));
    }
    let not_a_spec = by_line.len() > MAX_SYNTAX_LINES;
    let more = by_line.len().saturating_sub(1);
    for (range, e) in by_line
        .into_values()
        .take(if not_a_spec { 1 } else { usize::MAX })
    {
        let message = format!("invalid TOML: {}", e.message().trim());
        if not_a_spec {
            // Not a spec at all: name the place and the offending line, show nothing else.
            let span = Span::new(file, range);
            let start = span.range.start.min(text.len());
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            let line = &text[line_start..line_end];
            diags.push(
                SpecError::bare(
                    ErrorCode::Syntax,
                    format!("{}: {message}\n  | {line}", sources.location(&span)),
                )
                .with_help(format!(
                    "{more} more lines are not TOML either: is {} a pedestal spec?",
                    sources.get(file).name
                )),
            );
            continue;
        }
        diags.push(
            SpecError::at(
                sources,
                ErrorCode::Syntax,
                &Span::new(file, range),
                message,
                "here",
            )
            .with_help("see https://toml.io for the syntax"),
        );
    }
    if had_errors {
        return None;
    }
    let mut cv = Converter {
        sources,
        file,
        text,
        templates,
        diags,
    };
    let span = doc.span();
    let table = doc.into_inner();
    Some(Node {
        span: Span::new(file, span),
        kind: NodeKind::Table(cv.table(table)),
    })
}

/// Parses a single TOML value (a `--var` or `PEDESTAL_VAR_*` of type list or map).
pub fn parse_value(sources: &SourceMap, file: FileId, diags: &mut Diagnostics) -> Option<Node> {
    let text = sources.text(file);
    let (value, errors) = DeValue::parse_recoverable(text);
    if let Some(e) = errors.into_iter().next() {
        diags.push(SpecError::at(
            sources,
            ErrorCode::VariableType,
            &Span::new(file, e.span().unwrap_or(0..text.len())),
            format!("invalid value: {}", e.message().trim()),
            "not a TOML value",
        ));
        return None;
    }
    let mut cv = Converter {
        sources,
        file,
        text,
        templates: false,
        diags,
    };
    Some(cv.value(value))
}

struct Converter<'a> {
    sources: &'a SourceMap,
    file: FileId,
    text: &'a str,
    templates: bool,
    diags: &'a mut Diagnostics,
}

impl Converter<'_> {
    fn span(&self, r: Range<usize>) -> Span {
        Span::new(self.file, r)
    }

    fn table(&mut self, t: DeTable<'_>) -> Vec<Entry> {
        let mut entries: Vec<Entry> = t
            .into_iter()
            .map(|(k, v)| {
                let key_span = self.span(k.span());
                Entry {
                    key: k.into_inner().into_owned(),
                    key_span,
                    value: self.value(v),
                }
            })
            .collect();
        entries.sort_by_key(|e| e.key_span.range.start);
        entries
    }

    fn value(&mut self, v: Spanned<DeValue<'_>>) -> Node {
        let range = v.span();
        let span = self.span(range.clone());
        let kind = match v.into_inner() {
            DeValue::String(s) => self.string(s.into_owned(), range),
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => NodeKind::Int(n),
                Err(_) => {
                    self.diags.push(SpecError::at(
                        self.sources,
                        ErrorCode::InvalidValue,
                        &span,
                        "integer out of range",
                        "does not fit in 64 bits",
                    ));
                    NodeKind::Int(0)
                }
            },
            DeValue::Float(f) => float(f.as_str()),
            DeValue::Boolean(b) => NodeKind::Bool(b),
            DeValue::Datetime(d) => NodeKind::Datetime(d.to_string()),
            DeValue::Array(a) => NodeKind::Array(a.into_iter().map(|v| self.value(v)).collect()),
            DeValue::Table(t) => NodeKind::Table(self.table(t)),
        };
        Node { span, kind }
    }

    /// A string node: `${...}` references are parsed when templates are on.
    fn string(&mut self, text: String, range: Range<usize>) -> NodeKind {
        let tpl = if self.templates && text.contains("${") {
            self.template(&text, range)
        } else {
            None
        };
        NodeKind::Str { text, tpl }
    }

    /// Splits `text` into literal and reference parts. `$${` escapes a literal `${`.
    fn template(&mut self, text: &str, range: Range<usize>) -> Option<Template> {
        // Map offsets inside the decoded string onto the source when the string is written
        // without escapes (the usual case); otherwise point at the whole string.
        let raw = self.text.get(range.clone()).unwrap_or("");
        let base = if (raw.starts_with('"') && !raw.starts_with("\"\"\"")
            || raw.starts_with('\'') && !raw.starts_with("'''"))
            && raw.len() >= 2
            && raw.get(1..raw.len() - 1) == Some(text)
        {
            Some(range.start + 1)
        } else {
            None
        };
        let sub = |a: usize, b: usize| match base {
            Some(s) => s + a..s + b,
            None => range.clone(),
        };
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        let mut ok = true;
        while i < text.len() {
            if text[i..].starts_with("$${") {
                lit.push_str("${");
                i += 3;
            } else if text[i..].starts_with("${") {
                let Some(end) = text[i + 2..].find('}') else {
                    self.diags.push(
                        SpecError::at(
                            self.sources,
                            ErrorCode::Syntax,
                            &self.span(sub(i, text.len())),
                            "unterminated `${` in string",
                            "this reference has no closing `}`",
                        )
                        .with_help("write `${kind.name.attribute}`, or `$${` for a literal `${`"),
                    );
                    ok = false;
                    break;
                };
                let inner = &text[i + 2..i + 2 + end];
                let span = self.span(sub(i, i + 3 + end));
                let path: Vec<String> = inner.trim().split('.').map(str::to_string).collect();
                let valid = path.iter().all(|s| {
                    !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                });
                if !valid {
                    self.diags.push(
                        SpecError::at(
                            self.sources,
                            ErrorCode::Syntax,
                            &span,
                            format!("malformed reference `${{{inner}}}`"),
                            "not a reference",
                        )
                        .with_help(
                            "references look like `${var.name}`, `${env}`, `${stack.name}`, \
                             `${kind.name.attribute}` or `${module.name.output}`",
                        ),
                    );
                    ok = false;
                } else {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Ref(RefExpr { path, span }));
                }
                i += 3 + end;
            } else {
                let ch = text[i..].chars().next().unwrap_or('\0');
                lit.push(ch);
                i += ch.len_utf8().max(1);
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        if !ok {
            return None;
        }
        Some(Template { parts })
    }
}

/// A float node from TOML's decoded float text (`inf`, `nan` and signs included).
fn float(decoded: &str) -> NodeKind {
    NodeKind::Float(decoded.parse().unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (SourceMap, Option<Node>, Diagnostics) {
        let mut s = SourceMap::default();
        let f = s.add("t.toml", text.to_string());
        let mut d = Diagnostics::default();
        let n = parse_document(&s, f, true, &mut d);
        (s, n, d)
    }

    #[test]
    fn templates_with_exact_spans() {
        let text = "a = \"x-${var.v}-y\"\n";
        let (_, n, d) = parse(text);
        assert!(d.is_empty());
        let n = n.unwrap();
        let e = n.get("a").unwrap();
        let NodeKind::Str { tpl: Some(t), .. } = &e.value.kind else {
            panic!("expected a template")
        };
        assert_eq!(t.parts.len(), 3);
        let r = t.refs().next().unwrap();
        assert_eq!(r.path, vec!["var", "v"]);
        assert_eq!(&text[r.span.range.clone()], "${var.v}");
    }

    #[test]
    fn single_reference_and_escape() {
        let (_, n, _) = parse("a = \"${env}\"\nb = \"$${env}\"\n");
        let n = n.unwrap();
        let NodeKind::Str { tpl: Some(t), .. } = &n.get("a").unwrap().value.kind else {
            panic!()
        };
        assert!(t.single().is_some());
        let NodeKind::Str { tpl: Some(t), .. } = &n.get("b").unwrap().value.kind else {
            panic!()
        };
        assert_eq!(t.parts, vec![Part::Lit("${env}".into())]);
    }

    #[test]
    fn malformed_references_are_reported() {
        let (_, _, d) = parse("a = \"${var.}\"\nb = \"${oops\"\n");
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn syntax_errors_have_spans() {
        let (_, n, d) = parse("[stack\nname = 1");
        assert!(n.is_none());
        assert!(!d.is_empty());
    }
}
