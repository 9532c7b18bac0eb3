//! Where the async runtime's workers first run, for the commands that read state: on another
//! processor than the thread that started them, when one is idle. Linux often puts a new thread
//! on its creator's processor, and there it waits until the creator (the thread that goes on to
//! load the spec, busy for milliseconds) is preempted, or until load balancing moves one of
//! them, while the other processor may sit idle. The state snapshot is read ahead on the
//! runtime's worker while the spec loads (`state::Prefetch`), so a worker stuck behind the
//! loader left a 1,000-resource plan waiting a millisecond or two for the state in about one
//! run out of four.
//!
//! [`Placement::move_away`], right after the runtime is built, asks the kernel to run each
//! worker that has not started yet on the processors other than the current one, when nothing
//! else is running (a busy processor would delay the worker as much). Each worker, once it
//! runs, gives itself back every processor ([`Placement::started`]), so from then on the
//! kernel places it freely. Linux only (elsewhere the runtime is built as it was).

use std::sync::Mutex;

/// Which workers have started; shared between the thread that built the runtime and the
/// workers' start hook.
pub(crate) struct Placement {
    /// The processors the process may use, as when the runtime was built.
    all: Option<libc::cpu_set_t>,
    /// Thread ids of the workers that have started running.
    started: Mutex<Vec<i64>>,
}

impl Placement {
    /// Placement for a runtime about to be built on this thread.
    pub(crate) fn new() -> Placement {
        Placement {
            all: linux::allowed(),
            started: Mutex::new(Vec::new()),
        }
    }

    /// Called on each worker as it starts: from now on it may run on every processor the
    /// process may use.
    pub(crate) fn started(&self) {
        let Ok(mut started) = self.started.lock() else {
            return;
        };
        let me = linux::this_thread();
        started.push(me);
        if let Some(all) = &self.all {
            linux::set_allowed(me, all);
        }
    }

    /// Moves every thread of the process but this one that has not started yet (the runtime's
    /// workers, just spawned) to the processors other than the one this thread runs on, when no
    /// other thread on the machine is ready to run. Does nothing on a single processor, or when
    /// the threads cannot be listed.
    pub(crate) fn move_away(&self) {
        let Ok(started) = self.started.lock() else {
            return;
        };
        let Some(others) = self.all.and_then(linux::without_this_processor) else {
            return;
        };
        let waiting = waiting(
            linux::threads(),
            linux::this_thread(),
            &started,
            linux::runnable(),
        );
        for tid in waiting {
            linux::set_allowed(tid, &others);
        }
    }
}

/// Of the process's `threads`, those to move: every one but `me` not yet `started`, when no
/// more than they and this thread are ready to run on the machine (`runnable`, when known).
fn waiting(threads: Vec<i64>, me: i64, started: &[i64], runnable: Option<usize>) -> Vec<i64> {
    let waiting: Vec<i64> = threads
        .into_iter()
        .filter(|tid| *tid != me && !started.contains(tid))
        .collect();
    match runnable {
        Some(n) if n <= 1 + waiting.len() => waiting,
        _ => Vec::new(),
    }
}

mod linux {
    //! The few system calls placement needs.

    /// This thread's id.
    pub(super) fn this_thread() -> i64 {
        // SAFETY: `gettid` has no preconditions.
        i64::from(unsafe { libc::gettid() })
    }

    /// The processors this thread may run on.
    pub(super) fn allowed() -> Option<libc::cpu_set_t> {
        // SAFETY: a zeroed `cpu_set_t` is an empty set; `sched_getaffinity` writes at most the
        // size given.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            (libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0)
                .then_some(set)
        }
    }

    /// `set` without the processor this thread runs on; `None` when that leaves none.
    pub(super) fn without_this_processor(mut set: libc::cpu_set_t) -> Option<libc::cpu_set_t> {
        // SAFETY: `sched_getcpu` has no preconditions.
        let here = usize::try_from(unsafe { libc::sched_getcpu() }).ok()?;
        // SAFETY: `CPU_CLR` and `CPU_COUNT` only read and write the set given (`CPU_CLR`
        // ignores a processor number beyond the set's size).
        let left = unsafe {
            libc::CPU_CLR(here, &mut set);
            libc::CPU_COUNT(&set)
        };
        (left > 0).then_some(set)
    }

    /// Lets thread `tid` run on `set` only (best effort: a failure leaves it where it was).
    pub(super) fn set_allowed(tid: i64, set: &libc::cpu_set_t) {
        let Ok(tid) = libc::pid_t::try_from(tid) else {
            return;
        };
        // SAFETY: `set` is a valid set of the size given.
        unsafe {
            libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), set);
        }
    }

    /// The ids of this process's threads.
    pub(super) fn threads() -> Vec<i64> {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return Vec::new();
        };
        tasks
            .flatten()
            .filter_map(|t| t.file_name().to_str()?.parse().ok())
            .collect()
    }

    /// How many threads on the machine are running or ready to run now (`/proc/loadavg`'s
    /// fourth field, before the slash).
    pub(super) fn runnable() -> Option<usize> {
        let text = std::fs::read_to_string("/proc/loadavg").ok()?;
        text.split_whitespace()
            .nth(3)?
            .split('/')
            .next()?
            .parse()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_threads_not_started_are_moved_and_only_when_nothing_else_runs() {
        let threads = || vec![10, 11, 12];
        // This thread (10), one worker started (11), one waiting (12): two ready to run.
        assert_eq!(waiting(threads(), 10, &[11], Some(2)), [12]);
        assert_eq!(waiting(threads(), 10, &[11], Some(1)), [12]);
        // Another program is running too: moving the worker to its processor would not help.
        assert!(waiting(threads(), 10, &[11], Some(3)).is_empty());
        // Unknown load, or nothing left to move.
        assert!(waiting(threads(), 10, &[11], None).is_empty());
        assert!(waiting(threads(), 10, &[11, 12], Some(1)).is_empty());
        assert_eq!(waiting(threads(), 10, &[], Some(3)), [11, 12]);
    }

    #[test]
    fn a_worker_moved_off_this_processor_takes_every_processor_back_once_started() {
        let placement = std::sync::Arc::new(Placement::new());
        let all = placement.all.expect("sched_getaffinity");
        let Some(others) = linux::without_this_processor(all) else {
            return; // A single processor: nothing to move.
        };
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let p = placement.clone();
        let worker = std::thread::spawn(move || {
            tid_tx.send(linux::this_thread()).unwrap();
            wait.recv().unwrap();
            let moved = linux::allowed();
            p.started();
            (moved, linux::allowed())
        });
        let tid = tid_rx.recv().unwrap();
        assert!(linux::threads().contains(&tid));
        linux::set_allowed(tid, &others);
        go.send(()).unwrap();
        let (moved, after) = worker.join().unwrap();
        // SAFETY: `CPU_EQUAL` only reads both sets.
        unsafe {
            assert!(libc::CPU_EQUAL(&moved.unwrap(), &others));
            assert!(libc::CPU_EQUAL(&after.unwrap(), &all));
        }
        assert_eq!(*placement.started.lock().unwrap(), [tid]);
    }

    #[test]
    fn the_machine_reports_how_many_threads_are_ready_to_run() {
        let n = linux::runnable().expect("/proc/loadavg");
        assert!(n >= 1, "this test is running");
    }
}
