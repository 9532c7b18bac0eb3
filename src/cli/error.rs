//! [`Error`]: the one error type every command returns, with [`Error::code`] for the exit code.
//! It keeps each failure's type up to here; [`Error::render`] is the only place one is turned
//! into text (spec diagnostics with their spans, colour only on a terminal, at the terminal's
//! width).

use std::io::IsTerminal;

use pedestal::ops::OpsError;
use pedestal::spec::{Diagnostics, VarArgError};

use super::Exit;

/// Width diagnostics are wrapped at when stderr is not a terminal.
const DEFAULT_WIDTH: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Ops(#[from] OpsError),
    #[error(transparent)]
    Fmt(#[from] pedestal::spec::fmt::FmtError),
    /// A command-line argument that does not parse.
    #[error("{message}")]
    Usage {
        message: String,
        help: Option<&'static str>,
    },
    /// Approval was needed but there is no terminal to ask on.
    #[error("refusing to {verb} without confirmation: stdin is not a terminal")]
    NoTerminal { verb: &'static str },
    /// The answer at the prompt was not `yes`.
    #[error("{what} cancelled.")]
    Cancelled { what: &'static str },
    #[error("reading the answer: {0}")]
    Prompt(#[source] std::io::Error),
    /// `output NAME` for a name state does not record.
    #[error("output {name:?} not found{}", if .known.is_empty() { " (the state has no outputs; apply first)".to_string() } else { format!("; recorded outputs: {}", .known.join(", ")) })]
    NoSuchOutput { name: String, known: Vec<String> },
    #[error("cannot print JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl From<Diagnostics> for Error {
    fn from(d: Diagnostics) -> Self {
        Error::Ops(OpsError::Spec(d))
    }
}

impl From<VarArgError> for Error {
    fn from(e: VarArgError) -> Self {
        Error::Usage {
            message: e.to_string(),
            help: Some("write --var name=value"),
        }
    }
}

impl Error {
    /// The process exit code for this error.
    pub fn code(&self) -> Exit {
        match self {
            // Ctrl-C while an artifact was hashed.
            Error::Ops(OpsError::Spec(d)) if d.cancelled() => Exit::Interrupted,
            _ => Exit::Error,
        }
    }

    /// The error as shown on stderr. Spec diagnostics render once, with their source lines and
    /// carets; everything else as one miette report with its help.
    pub fn render(&self, no_color: bool) -> String {
        let color = !no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stderr().is_terminal();
        if let Error::Ops(OpsError::Spec(d)) = self {
            return d.render(color, terminal_width().unwrap_or(DEFAULT_WIDTH));
        }
        let mut report = miette::MietteDiagnostic::new(self.to_string());
        if let Some(help) = self.help() {
            report = report.with_help(help);
        }
        format!("{:?}\n", miette::Report::new(report))
    }

    fn help(&self) -> Option<&'static str> {
        match self {
            Error::Usage { help, .. } => *help,
            Error::NoTerminal { .. } => Some(
                "review the plan and rerun with --auto-approve, or save it with `pedestal plan --out FILE` and run `pedestal apply FILE`",
            ),
            _ => None,
        }
    }
}

/// The width of the terminal stderr goes to (`None`: not a terminal).
pub fn terminal_width() -> Option<usize> {
    terminal_size::terminal_size_of(std::io::stderr())
        .map(|(w, _)| usize::from(w.0))
        .filter(|w| *w >= 40)
}
