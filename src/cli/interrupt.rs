//! Ctrl-C outside an apply's own handling. The first interrupt asks any artifact hash in
//! progress to stop (the command then ends with its `cancelled` error, exit 130); a command
//! still running [`GRACE`] later (busy with something other than hashing), or a second
//! Ctrl-C, exits 130 at once. Apply, destroy and rollback call [`take_over`] before they
//! install their own handling (stop starting work, then abandon), which this then leaves alone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::Exit;

/// How long a command has to end by itself after the first Ctrl-C.
const GRACE: Duration = Duration::from_secs(5);

/// Set by the first Ctrl-C: hashing stops before its next chunk.
static REQUESTED: AtomicBool = AtomicBool::new(false);
/// Set once a command handles interrupts itself.
static TAKEN_OVER: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C was pressed.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// The running command handles interrupts from now on.
pub fn take_over() {
    TAKEN_OVER.store(true, Ordering::SeqCst);
}

/// Watches for Ctrl-C on the current runtime (see the module doc).
pub fn watch() {
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        REQUESTED.store(true, Ordering::SeqCst);
        if TAKEN_OVER.load(Ordering::SeqCst) {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(GRACE) => {}
            second = tokio::signal::ctrl_c() => {
                if second.is_err() {
                    return;
                }
            }
        }
        if !TAKEN_OVER.load(Ordering::SeqCst) {
            eprintln!("\nInterrupted.");
            std::process::exit(Exit::Interrupted as i32);
        }
    });
}
