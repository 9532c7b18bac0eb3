//! Spec diagnostics: the source files a load read ([`SourceMap`]), byte spans into them
//! ([`Span`]), one error with a labelled span and a hint ([`SpecError`]) and the collection of
//! every error of a run ([`Diagnostics`]). Rendering to text (miette's graphical handler) lives
//! here too so that the CLI and the snapshot tests print exactly the same thing.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, ThemeCharacters,
    ThemeStyles,
};

/// Index of a file in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range inside one source file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub range: Range<usize>,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Self {
        Span { file, range }
    }
}

/// One source file: its display name (a path as the user gave it) and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<String>,
}

/// Every file read during a load (spec files, environment files, `--var` pseudo-files).
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, name: impl Into<String>, text: String) -> FileId {
        self.files.push(SourceFile {
            name: name.into(),
            text: Arc::new(text),
        });
        FileId(self.files.len() as u32 - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn text(&self, id: FileId) -> &str {
        self.get(id).text.as_str()
    }

    /// `name:line:col` (1-based) of a span's start.
    pub fn location(&self, span: &Span) -> String {
        let f = self.get(span.file);
        let (line, col) = line_col(&f.text, span.range.start);
        format!("{}:{line}:{col}", f.name)
    }

    fn named(&self, id: FileId) -> NamedSource<Arc<String>> {
        let f = self.get(id);
        NamedSource::new(&f.name, f.text.clone())
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// What went wrong, as a stable code (`pedestal::spec::<code>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorCode {
    /// A file could not be read.
    Io,
    /// The TOML does not parse.
    Syntax,
    /// A key no block or section has.
    UnknownKey,
    /// A value of the wrong type.
    WrongType,
    /// A required key is missing.
    MissingKey,
    /// A value outside what is allowed.
    InvalidValue,
    /// A `${...}` reference to something not declared.
    UnknownReference,
    /// A reference to an attribute the block does not export.
    UnknownAttribute,
    /// An S3 bucket name AWS would refuse.
    InvalidBucketName,
    /// A CPU and memory pair Fargate does not offer.
    FargateSize,
    /// GPUs asked for on Fargate.
    GpuOnFargate,
    /// Autoscaling settings that do not fit together.
    Autoscaling,
    /// An artifact source that is missing or unreadable.
    ArtifactSource,
    /// A `depends_on` entry that names nothing.
    DependsOn,
    /// A module source that is missing or invalid.
    ModuleSource,
    /// A variable with no value.
    MissingVariable,
    /// A variable value of the wrong type.
    VariableType,
    /// Blocks, inputs or outputs that reference each other in a cycle.
    Cycle,
    /// An invalid stack name.
    StackName,
    /// An unknown or invalid environment.
    Environment,
    /// A `[policy]` rule the spec breaks.
    Policy,
    /// Loading was interrupted (Ctrl-C while hashing an artifact).
    Cancelled,
    /// A sensitive value where it would be stored or shown in clear.
    Sensitive,
}

impl ErrorCode {
    fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Io => "pedestal::spec::io",
            ErrorCode::Syntax => "pedestal::spec::syntax",
            ErrorCode::UnknownKey => "pedestal::spec::unknown_key",
            ErrorCode::WrongType => "pedestal::spec::wrong_type",
            ErrorCode::MissingKey => "pedestal::spec::missing_key",
            ErrorCode::InvalidValue => "pedestal::spec::invalid_value",
            ErrorCode::UnknownReference => "pedestal::spec::unknown_reference",
            ErrorCode::UnknownAttribute => "pedestal::spec::unknown_attribute",
            ErrorCode::InvalidBucketName => "pedestal::spec::bucket_name",
            ErrorCode::FargateSize => "pedestal::spec::fargate_size",
            ErrorCode::GpuOnFargate => "pedestal::spec::gpu_on_fargate",
            ErrorCode::Autoscaling => "pedestal::spec::autoscaling",
            ErrorCode::ArtifactSource => "pedestal::spec::artifact_source",
            ErrorCode::DependsOn => "pedestal::spec::depends_on",
            ErrorCode::ModuleSource => "pedestal::spec::module_source",
            ErrorCode::MissingVariable => "pedestal::spec::missing_variable",
            ErrorCode::VariableType => "pedestal::spec::variable_type",
            ErrorCode::Cycle => "pedestal::spec::cycle",
            ErrorCode::StackName => "pedestal::spec::stack_name",
            ErrorCode::Environment => "pedestal::spec::environment",
            ErrorCode::Policy => "pedestal::spec::policy",
            ErrorCode::Cancelled => "pedestal::spec::cancelled",
            ErrorCode::Sensitive => "pedestal::spec::sensitive",
        }
    }
}

/// One spec error: a message, where it is (with a label under the span) and a hint.
#[derive(Debug, Clone)]
pub struct SpecError {
    /// The stable code (`pedestal::spec::<code>`).
    pub code: ErrorCode,
    /// What is wrong, in one line.
    pub message: String,
    source_code: Option<NamedSource<Arc<String>>>,
    /// Sort key: file and offset of the primary span.
    pub(crate) at: Option<(FileId, usize)>,
    labels: Vec<LabeledSpan>,
    /// How to fix it, when there is a hint.
    pub help: Option<String>,
}

impl SpecError {
    /// An error without a location (missing files, a bad `--env`).
    pub fn bare(code: ErrorCode, message: impl Into<String>) -> Self {
        SpecError {
            code,
            message: message.into(),
            source_code: None,
            at: None,
            labels: Vec::new(),
            help: None,
        }
    }

    /// An error with its primary label at `span`.
    pub fn at(
        sources: &SourceMap,
        code: ErrorCode,
        span: &Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        let len = sources.text(span.file).len();
        let start = span.range.start.min(len);
        let end = span.range.end.clamp(start, len);
        SpecError {
            code,
            message: message.into(),
            source_code: Some(sources.named(span.file)),
            at: Some((span.file, start)),
            labels: vec![LabeledSpan::new_primary_with_span(
                Some(label.into()),
                start..end,
            )],
            help: None,
        }
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary label; ignored when `span` lies in another file than the primary one.
    pub fn with_label(mut self, span: &Span, label: impl Into<String>) -> Self {
        self.label(span, label);
        self
    }

    /// In-place form of [`SpecError::with_label`].
    pub fn label(&mut self, span: &Span, label: impl Into<String>) -> &mut Self {
        if let (Some((file, _)), Some(src)) = (self.at, &self.source_code)
            && file == span.file
        {
            let len = src.inner().len();
            let start = span.range.start.min(len);
            let end = span.range.end.clamp(start, len);
            self.labels
                .push(LabeledSpan::new_with_span(Some(label.into()), start..end));
        }
        self
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SpecError {}

impl Diagnostic for SpecError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source_code
            .as_ref()
            .map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

/// Every error found while loading a spec, in file and position order.
#[derive(Debug, Default)]
pub struct Diagnostics {
    /// The errors, sorted by file and position.
    pub errors: Vec<SpecError>,
}

impl Diagnostics {
    /// Adds an error.
    pub fn push(&mut self, e: SpecError) {
        self.errors.push(e);
    }

    /// Whether no error was found.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Whether loading was interrupted (Ctrl-C while hashing) rather than the spec refused.
    pub fn cancelled(&self) -> bool {
        self.errors.iter().any(|e| e.code == ErrorCode::Cancelled)
    }

    /// How many errors were found.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Sorts errors by location (errors without one first) and drops exact duplicates.
    pub(crate) fn finish(&mut self) {
        self.errors
            .sort_by(|a, b| (a.at, a.code, &a.message).cmp(&(b.at, b.code, &b.message)));
        self.errors
            .dedup_by(|a, b| a.at == b.at && a.code == b.code && a.message == b.message);
    }

    /// Renders every error as text: `path:line:col`, the source line with carets under the
    /// span, the label and the hint, then a count. Without colour the output is plain ASCII
    /// (`^^^` under the span), which is what logs, `NO_COLOR` and snapshots use.
    pub fn render(&self, color: bool, width: usize) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme {
                characters: ThemeCharacters::ascii(),
                styles: ThemeStyles::none(),
            }
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(width)
            .with_links(false)
            .with_wrap_lines(false);
        let mut out = String::new();
        for e in &self.errors {
            let mut one = String::new();
            if handler.render_report(&mut one, e).is_err() {
                one = format!("Error: {}\n", e.message);
            }
            out.push_str(one.trim_end());
            out.push_str("\n\n");
        }
        out.push_str(&format!("Error: {self}.\n"));
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cancelled() {
            return f.write_str("interrupted; the configuration was not fully checked");
        }
        let n = self.errors.len();
        write!(
            f,
            "the configuration is invalid ({n} error{})",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Diagnostics {}

impl Diagnostic for Diagnostics {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.errors.iter().map(|e| e as &dyn Diagnostic)))
    }
}

/// "did you mean `x`?" for the closest candidate, if any is close enough.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let jw = strsim::jaro_winkler(word, c);
        let edits = strsim::damerau_levenshtein(word, c);
        let close = jw > 0.8 || edits <= (word.chars().count() / 3).max(1);
        let score = jw - edits as f64;
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let t = "a = 1\nbé = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 9), (2, 3));
        assert_eq!(line_col(t, 999), (3, 1));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("replica", ["replicas", "port"]).as_deref(),
            Some("did you mean `replicas`?")
        );
        assert_eq!(did_you_mean("zzz", ["replicas", "port"]), None);
    }

    #[test]
    fn renders_location_caret_and_help() {
        let mut sources = SourceMap::default();
        let f = sources.add("stack/pedestal.toml", "[stack]\nnmae = \"x\"\n".into());
        let mut d = Diagnostics::default();
        d.push(
            SpecError::at(
                &sources,
                ErrorCode::UnknownKey,
                &Span::new(f, 8..12),
                "unknown key `nmae` in [stack]",
                "not a key of [stack]",
            )
            .with_help("did you mean `name`?"),
        );
        let out = d.render(false, 80);
        assert!(out.contains("stack/pedestal.toml:2:1"), "{out}");
        assert!(
            out.contains("nmae = \"x\""),
            "the source line is shown: {out}"
        );
        assert!(out.contains("^^|^"), "carets sit under the span: {out}");
        assert!(out.contains("did you mean `name`?"), "{out}");
    }
}
