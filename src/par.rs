//! Work on two threads: [`both`] runs two pieces of work at once, one of them on a scoped
//! thread of its own, for the few places where a large stack's work splits cleanly in two
//! (the spec's TOML, the planner's matching, the human plan's blocks); [`drop_aside`] frees a
//! large structure on another thread while this one goes on.

/// `a()` and `b()`, `a` on a thread named `name` when `parallel`; `b` runs on the calling
/// thread meanwhile. When no thread can be had, `a` runs here too, after `b`. A panic in `a`
/// is raised again here: a bug there must not pass unseen.
pub(crate) fn both<A: Send, B>(
    name: &str,
    parallel: bool,
    a: impl Fn() -> A + Sync,
    b: impl FnOnce() -> B,
) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn_scoped(s, &a);
        let b = b();
        let a = match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => a(),
        };
        (a, b)
    })
}

/// Drops `value` on a thread named `name` when `aside`, so that the calling thread goes on at
/// once; here otherwise, or when no thread can be had (the refused thread's closure, and the
/// value with it, is dropped here). For what a large stack's load leaves behind: freeing it
/// block by block is work no later step waits for.
pub(crate) fn drop_aside<T: Send + 'static>(name: &str, aside: bool, value: T) {
    if !aside {
        drop(value);
        return;
    }
    let _ = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || drop(value));
}

#[cfg(test)]
mod tests {
    use super::{both, drop_aside};

    /// Says on which thread it is dropped.
    struct Tell(std::sync::mpsc::Sender<std::thread::ThreadId>);

    impl Drop for Tell {
        fn drop(&mut self) {
            let _ = self.0.send(std::thread::current().id());
        }
    }

    #[test]
    fn a_value_dropped_aside_is_dropped_on_another_thread_only_when_asked() {
        let here = std::thread::current().id();
        for aside in [false, true] {
            let (tx, rx) = std::sync::mpsc::channel();
            drop_aside("t", aside, Tell(tx));
            let dropped_on = rx
                .recv_timeout(std::time::Duration::from_secs(10))
                .expect("the value is dropped");
            assert_eq!(dropped_on != here, aside);
        }
    }

    #[test]
    fn both_pieces_come_back_in_place_from_the_thread_asked_for() {
        let here = std::thread::current().id();
        for parallel in [false, true] {
            let (a, b) = both("t", parallel, || std::thread::current().id(), || 7);
            assert_eq!((a == here, b), (!parallel, 7));
        }
    }

    #[test]
    #[should_panic(expected = "from the thread")]
    fn a_panic_on_the_thread_is_raised_here() {
        both("t", true, || panic!("from the thread"), || ());
    }
}
