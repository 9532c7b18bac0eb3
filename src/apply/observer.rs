//! Progress reporting for apply and destroy: the [`ApplyObserver`] trait the engine calls, a
//! plain-text implementation with Terraform's wording, and a recording one for tests. Progress
//! bars live in the CLI, never here.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use crate::addr::Address;

/// What the engine does to one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    /// A resource is being created (or adopted).
    Create,
    /// A resource is being updated in place.
    Update,
    /// A resource is being deleted.
    Delete,
}

impl OpKind {
    /// `Creating`, `Modifying`, `Destroying`.
    pub fn progressive(self) -> &'static str {
        match self {
            OpKind::Create => "Creating",
            OpKind::Update => "Modifying",
            OpKind::Delete => "Destroying",
        }
    }

    /// `creating`, `modifying`, `destroying` (for "Still creating...").
    pub fn still(self) -> &'static str {
        match self {
            OpKind::Create => "creating",
            OpKind::Update => "modifying",
            OpKind::Delete => "destroying",
        }
    }

    /// `Creation`, `Modifications`, `Destruction`.
    pub fn noun(self) -> &'static str {
        match self {
            OpKind::Create => "Creation",
            OpKind::Update => "Modifications",
            OpKind::Delete => "Destruction",
        }
    }
}

/// Receives progress events. Every method has a no-op default.
pub trait ApplyObserver: Send + Sync {
    /// `ADDR: Creating...`
    fn started(&self, _addr: &Address, _op: OpKind) {}
    /// `ADDR: Still creating... [10s elapsed]`
    fn still(&self, _addr: &Address, _op: OpKind, _elapsed: Duration) {}
    /// `ADDR: Creation complete after 3s [id=…]`
    fn finished(&self, _addr: &Address, _op: OpKind, _elapsed: Duration, _id: Option<&str>) {}
    /// A resource failed.
    fn failed(&self, _addr: &Address, _op: OpKind, _message: &str) {}
    /// A resource was skipped because something it depends on failed.
    fn skipped(&self, _addr: &Address, _because: &Address) {}
    /// A crashed or foreign resource was adopted into state.
    fn adopted(&self, _addr: &Address, _id: &str) {}
    /// The user pressed Ctrl-C (see [`line_interrupted`] for what each press means).
    fn interrupted(&self, _interrupt: Interrupt) {}
}

/// Which Ctrl-C press an apply received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// The first press: nothing new starts; operations in flight run to their end.
    Stop,
    /// The second press: operations in flight are abandoned.
    Abandon,
}

/// What the user is told when an interrupt arrives (the first line starts with a blank line so
/// it stands apart from the progress lines).
pub fn line_interrupted(interrupt: Interrupt) -> &'static str {
    match interrupt {
        Interrupt::Stop => {
            "\nInterrupt received: no new operations will start; waiting for the ones in flight \
             (press Ctrl-C again to abandon them)."
        }
        Interrupt::Abandon => "Second interrupt: abandoning the operations in flight.",
    }
}

/// Ignores everything.
#[derive(Debug, Default)]
pub struct NullObserver;

impl ApplyObserver for NullObserver {}

/// Formats one event as the text line Terraform users know.
pub fn line_started(addr: &Address, op: OpKind) -> String {
    format!("{addr}: {}...", op.progressive())
}

/// `addr: Still creating... [10s elapsed]`.
pub fn line_still(addr: &Address, op: OpKind, elapsed: Duration) -> String {
    format!(
        "{addr}: Still {}... [{}s elapsed]",
        op.still(),
        elapsed.as_secs()
    )
}

/// `addr: Creation complete after 3s [id=...]`.
pub fn line_finished(addr: &Address, op: OpKind, elapsed: Duration, id: Option<&str>) -> String {
    let mut s = format!(
        "{addr}: {} complete after {}s",
        op.noun(),
        elapsed.as_secs()
    );
    if let Some(id) = id {
        s.push_str(&format!(" [id={id}]"));
    }
    s
}

/// `ADDR: Creation failed` (the error itself is reported with the summary).
pub fn line_failed(addr: &Address, op: OpKind) -> String {
    format!("{addr}: {} failed", op.noun())
}

/// `addr: Skipped (depends on failed BECAUSE)`.
pub fn line_skipped(addr: &Address, because: &Address) -> String {
    format!("{addr}: Skipped (depends on failed {because})")
}

/// `addr: Adopted existing resource [id=ID]`.
pub fn line_adopted(addr: &Address, id: &str) -> String {
    format!("{addr}: Adopted existing resource [id={id}]")
}

/// Writes one line per event to a writer (stdout in the CLI when no progress bar is shown).
pub struct TextObserver {
    out: Mutex<Box<dyn Write + Send>>,
}

impl TextObserver {
    /// Writes progress lines to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        TextObserver {
            out: Mutex::new(out),
        }
    }

    fn emit(&self, line: String) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

impl ApplyObserver for TextObserver {
    fn started(&self, addr: &Address, op: OpKind) {
        self.emit(line_started(addr, op));
    }
    fn still(&self, addr: &Address, op: OpKind, elapsed: Duration) {
        self.emit(line_still(addr, op, elapsed));
    }
    fn finished(&self, addr: &Address, op: OpKind, elapsed: Duration, id: Option<&str>) {
        self.emit(line_finished(addr, op, elapsed, id));
    }
    fn failed(&self, addr: &Address, op: OpKind, message: &str) {
        self.emit(line_failed(addr, op));
        self.emit(format!("Error: {message}"));
    }
    fn skipped(&self, addr: &Address, because: &Address) {
        self.emit(line_skipped(addr, because));
    }
    fn adopted(&self, addr: &Address, id: &str) {
        self.emit(line_adopted(addr, id));
    }
}

/// Keeps every line (elapsed times as given) for assertions.
#[derive(Debug, Default)]
pub struct RecordingObserver {
    /// Every line reported so far.
    pub lines: Mutex<Vec<String>>,
}

impl RecordingObserver {
    /// A copy of the lines reported so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn push(&self, l: String) {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).push(l);
    }
}

impl ApplyObserver for RecordingObserver {
    fn started(&self, addr: &Address, op: OpKind) {
        self.push(line_started(addr, op));
    }
    fn still(&self, addr: &Address, op: OpKind, elapsed: Duration) {
        self.push(line_still(addr, op, elapsed));
    }
    fn finished(&self, addr: &Address, op: OpKind, elapsed: Duration, id: Option<&str>) {
        self.push(line_finished(addr, op, elapsed, id));
    }
    fn failed(&self, addr: &Address, op: OpKind, message: &str) {
        self.push(line_failed(addr, op));
        self.push(format!("Error: {message}"));
    }
    fn skipped(&self, addr: &Address, because: &Address) {
        self.push(line_skipped(addr, because));
    }
    fn adopted(&self, addr: &Address, id: &str) {
        self.push(line_adopted(addr, id));
    }
}
