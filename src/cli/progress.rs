//! Apply progress on the terminal: Terraform-style lines on stdout, and an indicatif bar on
//! stderr only when stderr is a terminal (never in pipes, CI logs or tests).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use pedestal::addr::Address;
use pedestal::apply::observer::{
    Interrupt, line_adopted, line_failed, line_finished, line_interrupted, line_skipped,
    line_started, line_still,
};
use pedestal::apply::{ApplyObserver, OpKind};

/// Prints progress lines, with a bar counting finished resources on a terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// `total` is the number of resource operations the plan will run.
    pub fn new(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed}] {bar:30} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress { bar }
    }

    fn line(&self, l: String) {
        match &self.bar {
            Some(b) => b.println(l),
            None => println!("{l}"),
        }
    }

    fn tick(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl ApplyObserver for Progress {
    fn started(&self, addr: &Address, op: OpKind) {
        self.line(line_started(addr, op));
        if let Some(b) = &self.bar {
            b.set_message(addr.to_string());
        }
    }
    fn still(&self, addr: &Address, op: OpKind, elapsed: Duration) {
        self.line(line_still(addr, op, elapsed));
    }
    fn finished(&self, addr: &Address, op: OpKind, elapsed: Duration, id: Option<&str>) {
        self.line(line_finished(addr, op, elapsed, id));
        self.tick();
    }
    fn failed(&self, addr: &Address, op: OpKind, _message: &str) {
        // The error itself is printed with the summary.
        self.line(line_failed(addr, op));
        self.tick();
    }
    fn skipped(&self, addr: &Address, because: &Address) {
        self.line(line_skipped(addr, because));
        self.tick();
    }
    fn adopted(&self, addr: &Address, id: &str) {
        self.line(line_adopted(addr, id));
    }
    fn interrupted(&self, interrupt: Interrupt) {
        // On stderr, apart from the progress lines on stdout.
        eprintln!("{}", line_interrupted(interrupt));
    }
}

/// Tells the user on stderr about each Ctrl-C, for workflows with no other progress lines.
pub struct InterruptNotice;

impl ApplyObserver for InterruptNotice {
    fn interrupted(&self, interrupt: Interrupt) {
        eprintln!("{}", line_interrupted(interrupt));
    }
}

/// A byte-counting bar on stderr while a large artifact is hashed (when `draw`: terminals
/// only); any hash stops at the first Ctrl-C.
#[derive(Debug, Default)]
pub struct HashProgress {
    draw: bool,
    bar: std::sync::Mutex<Option<ProgressBar>>,
}

impl HashProgress {
    /// Draws the bar only when `draw` (stderr is a terminal).
    pub fn new(draw: bool) -> HashProgress {
        HashProgress {
            draw,
            bar: Default::default(),
        }
    }
}

impl pedestal::spec::digest_cache::HashObserver for HashProgress {
    fn start(&self, path: &std::path::Path, size: u64) {
        if !self.draw {
            return;
        }
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template(
                "hashing {msg} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(path.display().to_string());
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    fn advance(&self, bytes: u64) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            b.inc(bytes);
        }
    }

    fn finish(&self) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }

    fn cancelled(&self) -> bool {
        super::interrupt::requested()
    }
}
