//! An in-memory [`StateStore`] for tests: the same semantics as the local backend (serial bumps,
//! journal replay, lineage checks, locking) without touching the filesystem.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::store::retry_lock;
use super::{JournalEntry, LockGuard, LockInfo, State, StateError, StateStore};

#[derive(Debug, Default)]
struct Inner {
    stack: String,
    env: String,
    snapshot: Option<State>,
    journal: Vec<JournalEntry>,
    lock: Option<LockInfo>,
    writes: usize,
    appends: usize,
}

/// State held in memory; clones share the same state.
#[derive(Clone, Debug)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryStore {
    /// An empty store for `stack` / `env`.
    pub fn new(stack: &str, env: &str) -> MemoryStore {
        MemoryStore {
            inner: Arc::new(Mutex::new(Inner {
                stack: stack.to_string(),
                env: env.to_string(),
                ..Inner::default()
            })),
        }
    }

    /// A store that already holds `state` (as if written, serial unchanged).
    pub fn with_state(state: State) -> MemoryStore {
        let store = MemoryStore::new(&state.stack, &state.env);
        store.with(|i| i.snapshot = Some(state));
        store
    }

    /// How many full writes and journal appends happened (for tests of persistence cost).
    pub fn counts(&self) -> (usize, usize) {
        self.inner
            .lock()
            .map(|i| (i.writes, i.appends))
            .unwrap_or_default()
    }

    /// The lock currently held, if any.
    pub fn held_lock(&self) -> Option<LockInfo> {
        self.inner.lock().ok().and_then(|i| i.lock.clone())
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

fn replay(inner: &Inner) -> Option<State> {
    let mut state = inner.snapshot.clone()?;
    for e in &inner.journal {
        state.apply_entry(e);
    }
    Some(state)
}

impl StateStore for MemoryStore {
    fn read(&self) -> Result<Option<State>, StateError> {
        Ok(self.with(|i| replay(i)))
    }

    fn write(&self, state: &State) -> Result<(), StateError> {
        self.with(|i| {
            if state.stack != i.stack || state.env != i.env {
                return Err(StateError::Foreign {
                    path: "memory".into(),
                    found_stack: state.stack.clone(),
                    found_env: state.env.clone(),
                    stack: i.stack.clone(),
                    env: i.env.clone(),
                });
            }
            let mut next = state.clone();
            match replay(i) {
                Some(cur) if cur.lineage != state.lineage => {
                    return Err(StateError::LineageMismatch {
                        path: "memory".into(),
                        stored: cur.lineage,
                        writing: state.lineage.clone(),
                    });
                }
                Some(cur) => next.serial = state.serial.max(cur.serial) + 1,
                None => next.serial = state.serial + 1,
            }
            i.snapshot = Some(next);
            i.journal.clear();
            i.writes += 1;
            Ok(())
        })
    }

    fn append(&self, entry: &JournalEntry) -> Result<(), StateError> {
        self.with(|i| {
            if i.snapshot.is_none() {
                let mut fresh = State::new(&i.stack, &i.env);
                fresh.serial = 1;
                i.snapshot = Some(fresh);
            }
            i.journal.push(entry.clone());
            i.appends += 1;
            Ok(())
        })
    }

    fn lock(&self, operation: &str, timeout: Duration) -> Result<LockGuard, StateError> {
        retry_lock(timeout, || {
            self.with(|i| {
                if let Some(held) = &i.lock {
                    return Err(StateError::Locked {
                        path: "memory".into(),
                        info: Box::new(held.clone()),
                    });
                }
                let info = LockInfo::new(operation);
                i.lock = Some(info.clone());
                let inner = Arc::clone(&self.inner);
                let id = info.id.clone();
                Ok(LockGuard::new(info, move || {
                    if let Ok(mut i) = inner.lock()
                        && i.lock.as_ref().is_some_and(|l| l.id == id)
                    {
                        i.lock = None;
                    }
                }))
            })
        })
    }

    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.with(|i| match &i.lock {
            None => Err(StateError::NotLocked {
                path: "memory".into(),
            }),
            Some(held) if held.id != id => Err(StateError::LockIdMismatch {
                path: "memory".into(),
                held: held.id.clone(),
                given: id.to_string(),
            }),
            Some(_) => {
                i.lock = None;
                Ok(())
            }
        })
    }

    fn describe(&self) -> String {
        "memory".into()
    }

    fn may_block(&self) -> bool {
        false
    }
}
