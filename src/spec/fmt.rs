//! Canonical formatting of spec files (`pedestal fmt`): the same document, comments kept, with
//! one layout everybody shares.
//!
//! The canonical form:
//! - sections in the order of the language: `[stack]`, `[backend]`, `[provider.*]`,
//!   `[variables.*]`, `[storage.*]`, `[artifact.*]`, `[compute.*]`, `[endpoint.*]`, `[module.*]`,
//!   `[outputs]`, then anything else; blocks of one kind keep the order they were written in;
//! - one blank line before every table header, none at the start, one newline at the end;
//! - `key = value` with single spaces, no indentation, at most one blank line between keys;
//! - single-line arrays and inline tables spaced as `[a, b]` and `{ a = 1, b = 2 }` (a multi-line
//!   array that holds comments is left as written);
//! - comments stay attached to the line they precede or end, without indentation.
//!
//! Formatting never changes meaning: the formatted document parses to the same values.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, RawString, Table, Value};

/// Errors of `pedestal fmt`.
#[derive(Debug, thiserror::Error)]
pub enum FmtError {
    #[error("{path}: {message}")]
    /// A file is not valid TOML.
    Parse {
        /// The file.
        path: PathBuf,
        /// What the TOML parser reported.
        message: String,
    },
    #[error("could not read or write {path}: {source}")]
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        #[source]
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Section order of the spec language; unknown sections sort last.
const SECTION_ORDER: &[&str] = &[
    "stack",
    "backend",
    "provider",
    "inputs",
    "variables",
    "storage",
    "artifact",
    "compute",
    "endpoint",
    "module",
    "outputs",
];

fn section_rank(name: &str) -> usize {
    SECTION_ORDER
        .iter()
        .position(|s| *s == name)
        .unwrap_or(SECTION_ORDER.len())
}

/// Formats one TOML document. `path` only names the file in errors.
pub fn format_str(path: &Path, src: &str) -> Result<String, FmtError> {
    let mut doc: DocumentMut = src
        .parse()
        .map_err(|e: toml_edit::TomlError| FmtError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    order_sections(doc.as_table_mut());
    // The first table header gets no blank line before it, unless root keys precede it.
    let first = if doc.as_table().iter().any(|(_, i)| i.is_value()) {
        None
    } else {
        Some(1)
    };
    normalise_table(doc.as_table_mut(), first, true);
    // Comments after the last item.
    let trailing = doc.trailing().as_str().unwrap_or("").to_string();
    doc.set_trailing(normalise_comments(&trailing, false));
    let mut out = doc.to_string();
    let trimmed_start = out.trim_start_matches(['\n', '\r']).len();
    out.drain(..out.len() - trimmed_start);
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Renumbers table positions so sections follow [`SECTION_ORDER`], stable within a section.
fn order_sections(root: &mut Table) {
    let mut positioned: Vec<(usize, isize, Vec<String>)> = Vec::new();
    collect_positions(root, &mut Vec::new(), &mut positioned);
    positioned.sort_by_key(|(rank, pos, _)| (*rank, *pos));
    for (new_pos, (_, _, path)) in positioned.into_iter().enumerate() {
        if let Some(t) = table_at(root, &path) {
            t.set_position(Some(new_pos as isize + 1));
        }
    }
}

fn collect_positions(
    t: &Table,
    path: &mut Vec<String>,
    out: &mut Vec<(usize, isize, Vec<String>)>,
) {
    for (k, item) in t.iter() {
        if let Item::Table(child) = item {
            path.push(k.to_string());
            if let Some(pos) = child.position() {
                out.push((section_rank(&path[0]), pos, path.clone()));
            }
            collect_positions(child, path, out);
            path.pop();
        }
    }
}

fn table_at<'a>(root: &'a mut Table, path: &[String]) -> Option<&'a mut Table> {
    let mut t = root;
    for k in path {
        t = t.get_mut(k)?.as_table_mut()?;
    }
    Some(t)
}

fn normalise_table(t: &mut Table, first: Option<isize>, is_root: bool) {
    if !is_root && !t.is_implicit() {
        let prefix = t.decor().prefix().and_then(RawString::as_str).unwrap_or("");
        let mut p = normalise_comments(prefix, false);
        if t.position() != first {
            p.insert(0, '\n');
        }
        t.decor_mut().set_prefix(p);
        let suffix = suffix_comment(t.decor().suffix().and_then(RawString::as_str).unwrap_or(""));
        t.decor_mut().set_suffix(suffix);
    }
    for (mut key, item) in t.iter_mut() {
        match item {
            Item::Value(v) => {
                let prefix = key
                    .leaf_decor()
                    .prefix()
                    .and_then(RawString::as_str)
                    .unwrap_or("")
                    .to_string();
                key.leaf_decor_mut()
                    .set_prefix(normalise_comments(&prefix, true));
                key.leaf_decor_mut().set_suffix(" ");
                normalise_value(v, true);
            }
            Item::Table(child) => normalise_table(child, first, false),
            Item::ArrayOfTables(arr) => {
                for child in arr.iter_mut() {
                    normalise_table(child, first, false);
                }
            }
            Item::None => {}
        }
    }
}

/// Normalises a value's own spacing and, when safe, the layout of arrays and inline tables.
fn normalise_value(v: &mut Value, top: bool) {
    if top {
        let suffix = v.decor().suffix().and_then(RawString::as_str).unwrap_or("");
        let suffix = suffix_comment(suffix);
        v.decor_mut().set_prefix(" ");
        v.decor_mut().set_suffix(suffix);
    }
    match v {
        Value::Array(a) => {
            let has_comments = a.iter().any(|e| decor_has_comment(e.decor()))
                || a.trailing().as_str().is_some_and(|s| s.contains('#'));
            for e in a.iter_mut() {
                normalise_value(e, false);
            }
            if !has_comments {
                let decor = a.decor().clone();
                a.fmt();
                *a.decor_mut() = decor;
            }
        }
        Value::InlineTable(t) => {
            for (_, e) in t.iter_mut() {
                normalise_value(e, false);
            }
            let decor = t.decor().clone();
            t.fmt();
            *t.decor_mut() = decor;
        }
        _ => {}
    }
}

fn decor_has_comment(d: &toml_edit::Decor) -> bool {
    let has = |r: Option<&RawString>| {
        r.and_then(RawString::as_str)
            .is_some_and(|s| s.contains('#'))
    };
    has(d.prefix()) || has(d.suffix())
}

/// A trailing `# comment` after a value or header, spaced as ` # comment`; nothing otherwise.
fn suffix_comment(s: &str) -> String {
    match s.find('#') {
        Some(i) => format!(" {}", s[i..].trim_end()),
        None => String::new(),
    }
}

/// Comment lines before an item: unindented, trailing spaces removed, runs of blank lines cut
/// to one (and, before keys, leading blank lines kept as a single separator).
fn normalise_comments(s: &str, keep_leading_blank: bool) -> String {
    let mut lines: Vec<&str> = s.split('\n').collect();
    // What follows the last newline is the indentation of the item itself.
    lines.pop();
    let mut out = String::new();
    let mut blank_pending = false;
    let mut seen_content = false;
    for line in lines {
        let l = line.trim();
        if l.is_empty() {
            blank_pending = true;
            continue;
        }
        if blank_pending && (seen_content || keep_leading_blank) {
            out.push('\n');
        }
        blank_pending = false;
        seen_content = true;
        out.push_str(l);
        out.push('\n');
    }
    if blank_pending && (seen_content || keep_leading_blank) {
        out.push('\n');
    }
    out
}

/// The files `pedestal fmt` looks after in a stack directory: `pedestal.toml` and `env/*.toml`,
/// in sorted order.
pub fn stack_files(dir: &Path) -> Result<Vec<PathBuf>, FmtError> {
    let mut files = vec![dir.join("pedestal.toml")];
    let env = dir.join("env");
    if env.is_dir() {
        let rd = std::fs::read_dir(&env).map_err(|source| FmtError::Io {
            path: env.clone(),
            source,
        })?;
        let mut envs: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        envs.sort();
        files.extend(envs);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: &str) -> String {
        format_str(Path::new("t.toml"), s).unwrap()
    }

    #[test]
    fn orders_sections_and_keeps_comments() {
        let src = "# endpoint first\n[endpoint.a]\ncompute   =  \"c\"   # trailing\n\n\n\n[stack]\n  name=\"s\"\n";
        let out = fmt(src);
        assert_eq!(
            out,
            "[stack]\nname = \"s\"\n\n# endpoint first\n[endpoint.a]\ncompute = \"c\" # trailing\n"
        );
    }

    #[test]
    fn spaces_arrays_and_inline_tables() {
        let out = fmt("[stack]\ntags={team=\"risk\",x=1}\nl=[1,2 ,3]\n");
        assert_eq!(
            out,
            "[stack]\ntags = { team = \"risk\", x = 1 }\nl = [1, 2, 3]\n"
        );
    }

    #[test]
    fn idempotent_and_meaning_preserving() {
        let src = "[stack]\nname = \"s\" # n\n\n# vars\n[variables.v]\ntype = \"string\"\n\n[outputs]\na = \"${var.v}\"\nl = [\n  1, # one\n  2,\n]\n";
        let once = fmt(src);
        assert_eq!(fmt(&once), once);
        let a: toml::Value = toml::from_str(src).unwrap();
        let b: toml::Value = toml::from_str(&once).unwrap();
        assert_eq!(a, b);
        assert!(
            once.contains("# one"),
            "comments inside multi-line arrays survive"
        );
    }

    #[test]
    fn invalid_toml_is_an_error() {
        assert!(format_str(Path::new("bad.toml"), "[stack\nname=").is_err());
    }
}
