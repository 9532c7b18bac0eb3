//! Persisting state while the applier runs: the [`Persist`] targets, and the writer that
//! hands them each step's journal entries in the order the changes happened. A persist that
//! may block runs on one writer thread of the blocking pool (journal appends and fsyncs never
//! run on an async worker, and no lock is held while they do); one that cannot block runs in
//! place, under the state lock.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::{Shared, lock};
use crate::addr::Address;
use crate::state::{JournalEntry, State, StateError, StateStore};

/// Where the applier persists state as it goes, in the order of the changes. A persist that
/// may block (a file, a bucket) is called from one writer thread of the blocking pool, never
/// from the async workers; one that cannot block (memory) is called in place.
pub trait Persist: Send + Sync {
    /// Makes one step's changes durable: `entries` are what changed (each bumps the serial by
    /// one), `state` the state after them. A journal appends the entries; a simple file backend
    /// may write the whole state.
    fn record(&self, state: &State, entries: &[JournalEntry]) -> Result<(), StateError>;
    /// The final full write.
    fn finish(&self, state: &State) -> Result<(), StateError>;
    /// Whether a call may block on I/O. Only a persist that never does (it keeps state in
    /// memory) says `false`: it is then called in place, under the applier's state lock,
    /// which spares every step two hand-overs between threads.
    fn may_block(&self) -> bool {
        true
    }
}

/// Keeps state in memory only (tests, dry runs).
#[derive(Debug, Default)]
pub struct NoPersist;

impl Persist for NoPersist {
    fn record(&self, _: &State, _: &[JournalEntry]) -> Result<(), StateError> {
        Ok(())
    }
    fn finish(&self, _: &State) -> Result<(), StateError> {
        Ok(())
    }
    fn may_block(&self) -> bool {
        false
    }
}

/// Persists through a [`StateStore`]: a durable journal append per step, a full atomic write
/// (which compacts the journal) at the end.
pub struct StorePersist {
    /// The store that receives each journal entry and the final write.
    pub store: Arc<dyn StateStore>,
}

impl Persist for StorePersist {
    fn record(&self, _state: &State, entries: &[JournalEntry]) -> Result<(), StateError> {
        entries.iter().try_for_each(|e| self.store.append(e))
    }
    fn finish(&self, state: &State) -> Result<(), StateError> {
        self.store.write(state)
    }
    fn may_block(&self) -> bool {
        self.store.may_block()
    }
}

/// Where a step's changes go.
pub(super) enum Writer {
    /// A writer thread on the blocking pool (see [`Writer::start`]).
    Thread(mpsc::UnboundedSender<WriteJob>),
    /// A persist that never blocks, called in place.
    InPlace(Arc<dyn Persist>),
}

/// One job for the state writer, with the channel its outcome goes back on.
pub(super) struct WriteJob {
    what: Write,
    done: oneshot::Sender<Result<(), StateError>>,
}

enum Write {
    /// A step's journal entries.
    Record(Vec<JournalEntry>),
    /// The final full state.
    Finish(Box<State>),
}

/// A write handed over: done already (in place), or on its way (the writer thread).
enum Pending {
    Done(Result<(), StateError>),
    Sent(oneshot::Receiver<Result<(), StateError>>),
}

/// Why a write did not become durable.
#[derive(Debug, thiserror::Error)]
pub(super) enum WriteFailed {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("the state writer stopped")]
    Stopped,
}

impl Pending {
    /// Waits for the writer's report on the job.
    async fn written(self) -> Result<(), WriteFailed> {
        match self {
            Pending::Done(r) => Ok(r?),
            Pending::Sent(outcome) => Ok(outcome.await.map_err(|_| WriteFailed::Stopped)??),
        }
    }
}

impl Writer {
    /// The writer for `persist`, which starts from `state`. For a persist that may block, this
    /// starts the writer thread: it keeps its own copy of the state (the applier's copy with
    /// every entry replayed), hands each job to `persist` in the order jobs were sent, and
    /// reports back.
    pub(super) fn start(
        persist: Arc<dyn Persist>,
        state: &State,
        time: Arc<Mutex<Duration>>,
    ) -> Writer {
        if !persist.may_block() {
            return Writer::InPlace(persist);
        }
        let mut mirror = state.clone();
        let (tx, mut rx) = mpsc::unbounded_channel::<WriteJob>();
        tokio::task::spawn_blocking(move || {
            while let Some(job) = rx.blocking_recv() {
                let t = Instant::now();
                let outcome = match job.what {
                    Write::Record(entries) => {
                        entries.iter().for_each(|e| mirror.apply_entry(e));
                        persist.record(&mirror, &entries)
                    }
                    Write::Finish(state) => persist.finish(&state),
                };
                *lock(&time) += t.elapsed();
                let _ = job.done.send(outcome);
            }
        });
        Writer::Thread(tx)
    }
}

impl Shared {
    /// Hands `what` to the writer; `state` is the state after it (the applier's, locked).
    fn hand_over(&self, state: &State, what: Write) -> Pending {
        match &self.writer {
            Writer::InPlace(persist) => {
                let t = Instant::now();
                let outcome = match &what {
                    Write::Record(entries) => persist.record(state, entries),
                    Write::Finish(full) => persist.finish(full),
                };
                *lock(&self.persist_time) += t.elapsed();
                Pending::Done(outcome)
            }
            Writer::Thread(tx) => {
                let (done, outcome) = oneshot::channel();
                // The receiver lives as long as the writer thread; a failed send drops `done`,
                // which the waiting side reports.
                let _ = tx.send(WriteJob { what, done });
                Pending::Sent(outcome)
            }
        }
    }

    /// Writes the final full state and waits until it is durable.
    pub(super) async fn write_final(&self, state: State) -> Result<(), WriteFailed> {
        let pending = {
            let st = lock(&self.state);
            self.hand_over(&st, Write::Finish(Box::new(state)))
        };
        pending.written().await
    }

    /// Changes the state and persists what changed. The change and the hand-over to the writer
    /// happen under the state lock, so writes stay in the order of the changes; a write to the
    /// writer thread is awaited with no lock held.
    pub(super) async fn commit(&self, addr: &Address, f: impl FnOnce(&mut State)) {
        let pending = {
            let mut st = lock(&self.state);
            let Some(entries) = Self::change(&mut st, addr, f) else {
                return;
            };
            self.hand_over(&st, Write::Record(entries))
        };
        if let Err(e) = pending.written().await {
            lock(&self.persist_errors).push(format!("persisting state after {addr}: {e}"));
        }
    }

    /// Applies `f` and returns the journal entries describing what it changed (`None`:
    /// nothing), with the serial bumped by their number.
    fn change(
        st: &mut State,
        addr: &Address,
        f: impl FnOnce(&mut State),
    ) -> Option<Vec<JournalEntry>> {
        let res_before = st.resources.get(addr).cloned();
        let intent_before = st.intents.get(addr).cloned();
        // A step changes only its own endpoint's release history.
        let endpoint = addr.block();
        let releases_before = st
            .releases
            .get(endpoint)
            .map(|l| (l.len(), l.last().cloned()));
        f(st);
        let mut entries = Vec::new();
        match (res_before, st.resources.get(addr)) {
            (b, Some(a)) if b.as_ref() != Some(a) => entries.push(JournalEntry::ResourceSet {
                address: addr.clone(),
                resource: a.clone(),
            }),
            (Some(_), None) => entries.push(JournalEntry::ResourceRemoved {
                address: addr.clone(),
            }),
            _ => {}
        }
        match (intent_before, st.intents.get(addr)) {
            (b, Some(a)) if b.as_ref() != Some(a) => entries.push(JournalEntry::IntentRecorded {
                address: addr.clone(),
                intent: a.clone(),
            }),
            (Some(_), None) => entries.push(JournalEntry::IntentCleared {
                address: addr.clone(),
            }),
            _ => {}
        }
        if let Some(list) = st.releases.get(endpoint) {
            let (from, last) = releases_before.unwrap_or((0, None));
            if from > 0 && from <= list.len() && last.as_ref() != Some(&list[from - 1]) {
                entries.push(JournalEntry::ReleaseUpdated {
                    endpoint: endpoint.to_string(),
                    index: from - 1,
                    release: list[from - 1].clone(),
                });
            }
            for release in list.iter().skip(from) {
                entries.push(JournalEntry::ReleaseAppended {
                    endpoint: endpoint.to_string(),
                    release: release.clone(),
                });
            }
        }
        if entries.is_empty() {
            return None;
        }
        st.serial += entries.len() as u64;
        Some(entries)
    }
}
