//! Work on two threads: [`both`] runs two pieces of work at once, one of them on a scoped
//! thread of its own, for the few places where a large stack's work splits cleanly in two
//! (the spec's TOML, the planner's matching, the human plan's blocks).

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

#[cfg(test)]
mod tests {
    use super::both;

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
