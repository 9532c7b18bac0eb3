//! The S3 backend: the state of one stack and environment as one object, with compare-and-swap
//! writes, a lock object and journal objects for per-resource persistence.
//!
//! Layout under `s3://<bucket>/`:
//! - `<key>`: the snapshot (the same canonical JSON as the local backend). User metadata
//!   records the serial, lineage and `user@host` of the writer, so a lost race can name them.
//! - `<key>.lock`: the lock, a [`LockInfo`] JSON body created with `If-None-Match: *`.
//! - `<key>.journal/<base serial>-<seq>` (both zero-padded): one [`JournalEntry`] per object,
//!   created with `If-None-Match: *`, extending the snapshot with that serial. A read replays
//!   them in name order; a write deletes them (the new snapshot includes them). Objects whose
//!   lineage or base serial do not match the snapshot are leftovers and are skipped.
//!
//! Compare-and-swap: every read and write remembers the snapshot's ETag; the next write sends
//! `If-Match` with it (`If-None-Match: *` when there was no snapshot). A refusal (412, or 409 for
//! a concurrent conditional write, or 404 when the object was deleted meanwhile) becomes
//! [`StateError::Conflict`] naming the serial now stored and who wrote it. Nothing is ever
//! overwritten blindly. A handle that has not read yet reads first, so the serial and lineage
//! checks of [`StateStore::write`] hold here as for every backend.
//!
//! The lock is released (by its guard or by `force-unlock`) with a GET, an id comparison and a
//! `DeleteObject` carrying `If-Match` on the lock's ETag, so a lock taken over in between is
//! never removed.
//!
//! Sync trait over an async SDK: [`StateStore`] is synchronous (the local backend does plain
//! file I/O) while the SDK is async. The store keeps a [`Handle`] to the runtime it was opened
//! on (the CLI's one runtime) and runs each call to completion with [`block`]: on a worker of a
//! multi-thread runtime through [`tokio::task::block_in_place`] (the worker hands its other
//! tasks to the rest of the pool first, so nothing starves and no worker is blocked inside the
//! scheduler), on a blocking-pool or plain thread with [`Handle::block_on`] directly. No second
//! runtime is built and nothing nests. A current-thread runtime cannot be blocked without
//! stopping the very driver the SDK call needs, so there the store refuses with
//! [`StateError::Runtime`] rather than hang.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier, ServerSideEncryption};
use tokio::runtime::{Handle, RuntimeFlavor};

use super::journal::JournalLine;
use super::store::{parse_state, retry_lock, who};
use super::{JournalEntry, LockGuard, LockInfo, State, StateError, StateStore};
use crate::provider::aws::error::{code, status};

/// How state objects are encrypted at rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encryption {
    /// No encryption header: the bucket's default applies.
    BucketDefault,
    /// SSE-S3 (`AES256`).
    S3Managed,
    /// SSE-KMS, with this key (or the account's default `aws/s3` key).
    Kms(Option<String>),
}

/// Where an S3 state lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket holding the state object.
    pub bucket: String,
    /// The state object's key (journal entries and the lock sit beside it).
    pub key: String,
    /// How the objects are encrypted at rest.
    pub encryption: Encryption,
}

/// State in an S3 object.
pub struct S3Store {
    client: Client,
    handle: Handle,
    location: S3Location,
    stack: String,
    env: String,
    /// What this handle last saw of the snapshot; `None` until the first read or write.
    seen: Mutex<Option<Seen>>,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("location", &self.location)
            .field("stack", &self.stack)
            .field("env", &self.env)
            .finish()
    }
}

/// The snapshot as last read or written through this handle.
#[derive(Clone, Debug)]
struct Seen {
    /// `None`: there was no snapshot (the next write must create it).
    etag: Option<String>,
    lineage: String,
    /// Serial of the snapshot object.
    base_serial: u64,
    /// Serial with the journal replayed (what `read` returned).
    serial: u64,
    /// Sequence number of the next journal object for `base_serial`.
    next_seq: u64,
}

/// What a load found.
struct Loaded {
    state: Option<State>,
    seen: Seen,
}

/// Runs `fut` to completion from synchronous code on `handle`'s runtime (see the module doc).
pub fn block<F: Future>(handle: &Handle, fut: F) -> Result<F::Output, StateError> {
    match Handle::try_current() {
        Ok(current) if current.runtime_flavor() == RuntimeFlavor::CurrentThread => {
            Err(StateError::Runtime)
        }
        Ok(_) => Ok(tokio::task::block_in_place(|| handle.block_on(fut))),
        Err(_) => Ok(handle.block_on(fut)),
    }
}

/// Serialises a journal object name part: zero-padded so names sort by number.
fn journal_prefix(key: &str, base_serial: u64) -> String {
    format!("{key}.journal/{base_serial:020}-")
}

const META_SERIAL: &str = "pedestal-serial";
const META_LINEAGE: &str = "pedestal-lineage";
const META_WRITER: &str = "pedestal-writer";

/// `user@host` as an S3 metadata value (HTTP headers carry ASCII only).
fn writer() -> String {
    who()
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

/// Whether a refused request means "someone else changed the object" (412 precondition
/// failed, 409 concurrent conditional write).
fn lost_race<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    matches!(status(e), Some(412 | 409))
        || matches!(
            code(e),
            Some("PreconditionFailed" | "ConditionalRequestConflict")
        )
}

fn not_found<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    status(e) == Some(404) || matches!(code(e), Some("NoSuchKey" | "NotFound"))
}

impl S3Store {
    /// A store for the state of `stack` / `env` at `location`, running its calls on `handle`.
    pub fn new(
        client: Client,
        handle: Handle,
        location: S3Location,
        stack: &str,
        env: &str,
    ) -> S3Store {
        S3Store {
            client,
            handle,
            location,
            stack: stack.to_string(),
            env: env.to_string(),
            seen: Mutex::new(None),
        }
    }

    /// An S3 client configured like the provider's (retries, timeouts, region, endpoint,
    /// path-style addressing when an endpoint is set, calls logged at `-vv`).
    pub fn client(conf: &aws_config::SdkConfig) -> Client {
        Client::from_conf(
            aws_sdk_s3::config::Builder::from(conf)
                .force_path_style(conf.endpoint_url().is_some())
                .interceptor(crate::provider::aws::call_log::CallLog)
                .build(),
        )
    }

    /// The bucket and key of the state.
    pub fn location(&self) -> &S3Location {
        &self.location
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.location.bucket)
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.location.key)
    }

    fn remote<E>(&self, action: &'static str, key: &str, e: SdkError<E, HttpResponse>) -> StateError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let message = match (code(&e), e.as_service_error().and_then(|s| s.message())) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.to_string(),
            _ => DisplayErrorContext(&e).to_string(),
        };
        StateError::Remote {
            action,
            location: self.url(key),
            message,
        }
    }

    fn corrupt(&self, key: &str, message: impl Into<String>) -> StateError {
        StateError::Corrupt {
            path: PathBuf::from(self.url(key)),
            message: message.into(),
        }
    }

    fn run<F: Future>(&self, fut: F) -> Result<F::Output, StateError> {
        block(&self.handle, fut)
    }

    fn remember(&self, seen: Seen) {
        if let Ok(mut s) = self.seen.lock() {
            *s = Some(seen);
        }
    }

    fn seen(&self) -> Option<Seen> {
        self.seen.lock().ok().and_then(|s| s.clone())
    }

    /// GETs an object: its body and ETag, or `None` when it does not exist.
    async fn get(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, StateError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.location.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(self.remote("read", key, e)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| StateError::Remote {
                action: "read",
                location: self.url(key),
                message: e.to_string(),
            })?
            .into_bytes()
            .to_vec();
        Ok(Some((body, etag)))
    }

    /// Every key under `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.remote("list", prefix, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
        }
        keys.sort();
        Ok(keys)
    }

    /// The snapshot with its journal replayed, and what to remember of it.
    async fn load(&self) -> Result<Loaded, StateError> {
        let key = &self.location.key;
        let Some((body, etag)) = self.get(key).await? else {
            return Ok(Loaded {
                state: None,
                seen: Seen {
                    etag: None,
                    lineage: String::new(),
                    base_serial: 0,
                    serial: 0,
                    next_seq: 0,
                },
            });
        };
        let text = String::from_utf8(body).map_err(|e| self.corrupt(key, e.to_string()))?;
        let mut state = parse_state(&text, &PathBuf::from(self.url(key)), &self.stack, &self.env)?;
        let base_serial = state.serial;
        let mut next_seq = 0;
        for name in self.list(&journal_prefix(key, base_serial)).await? {
            next_seq += 1;
            // Deleted between the listing and now: a compaction by a writer that ignored the
            // lock. The ETag check of the next write reports it.
            let Some((bytes, _)) = self.get(&name).await? else {
                continue;
            };
            let line: JournalLine =
                serde_json::from_slice(&bytes).map_err(|e| self.corrupt(&name, e.to_string()))?;
            if line.lineage == state.lineage && line.base_serial == base_serial {
                state.apply_entry(&line.entry);
            }
        }
        let seen = Seen {
            etag: Some(etag),
            lineage: state.lineage.clone(),
            base_serial,
            serial: state.serial,
            next_seq,
        };
        Ok(Loaded {
            state: Some(state),
            seen,
        })
    }

    fn sse(
        &self,
        put: aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder,
    ) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
        match &self.location.encryption {
            Encryption::BucketDefault => put,
            Encryption::S3Managed => put.server_side_encryption(ServerSideEncryption::Aes256),
            Encryption::Kms(key) => put
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .set_ssekms_key_id(key.clone()),
        }
    }

    /// The error for a refused conditional write of the snapshot: reads who holds it now.
    async fn conflict(&self, read_serial: Option<u64>) -> StateError {
        self.conflict_at(&self.location.key, read_serial, None)
            .await
    }

    /// The error for a refused conditional write of `key`: names who wrote it and the serial it
    /// stands for (the snapshot's metadata, or `implied_serial` for a journal object).
    async fn conflict_at(
        &self,
        key: &str,
        read_serial: Option<u64>,
        implied_serial: Option<u64>,
    ) -> StateError {
        let head = self
            .client
            .head_object()
            .bucket(&self.location.bucket)
            .key(key)
            .send()
            .await;
        let (found_serial, writer) = match head {
            Ok(h) => {
                let meta = h.metadata().cloned().unwrap_or_default();
                (
                    implied_serial.or_else(|| meta.get(META_SERIAL).and_then(|s| s.parse().ok())),
                    meta.get(META_WRITER)
                        .cloned()
                        .unwrap_or_else(|| "an unknown writer".into()),
                )
            }
            Err(e) if not_found(&e) => (None, "a run that deleted it".into()),
            Err(_) => (None, "an unknown writer".into()),
        };
        StateError::Conflict {
            location: self.url(&self.location.key),
            read_serial,
            found_serial,
            writer,
        }
    }

    async fn write_async(&self, state: &State) -> Result<(), StateError> {
        if state.stack != self.stack || state.env != self.env {
            return Err(StateError::Foreign {
                path: PathBuf::from(self.url(&self.location.key)),
                found_stack: state.stack.clone(),
                found_env: state.env.clone(),
                stack: self.stack.clone(),
                env: self.env.clone(),
            });
        }
        let seen = match self.seen() {
            Some(s) => s,
            None => {
                let loaded = self.load().await?;
                self.remember(loaded.seen.clone());
                loaded.seen
            }
        };
        let mut next = state.clone();
        next.format_version = super::FORMAT_VERSION;
        if seen.etag.is_some() {
            if seen.lineage != state.lineage {
                return Err(StateError::LineageMismatch {
                    path: PathBuf::from(self.url(&self.location.key)),
                    stored: seen.lineage,
                    writing: state.lineage.clone(),
                });
            }
            next.serial = state.serial.max(seen.serial) + 1;
        } else {
            next.serial = state.serial + 1;
        }
        let key = &self.location.key;
        let text = super::state_to_string(&next).map_err(|e| self.corrupt(key, e.to_string()))?;
        let mut put = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(key)
            .content_type("application/json")
            .metadata(META_SERIAL, next.serial.to_string())
            .metadata(META_LINEAGE, next.lineage.clone())
            .metadata(META_WRITER, writer())
            .body(ByteStream::from(text.into_bytes()));
        put = match &seen.etag {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        let out = match self.sse(put).send().await {
            Ok(o) => o,
            Err(e) if lost_race(&e) || (seen.etag.is_some() && not_found(&e)) => {
                let read = seen.etag.as_ref().map(|_| seen.serial);
                return Err(self.conflict(read).await);
            }
            Err(e) => return Err(self.remote("write", key, e)),
        };
        self.remember(Seen {
            etag: Some(out.e_tag().unwrap_or_default().to_string()),
            lineage: next.lineage.clone(),
            base_serial: next.serial,
            serial: next.serial,
            next_seq: 0,
        });
        // Compaction: the snapshot includes every journal object. Any that survive a failure
        // here name an older base serial and are skipped on read.
        self.delete_all(&format!("{key}.journal/")).await
    }

    /// Deletes every object under `prefix`, 1000 per request.
    async fn delete_all(&self, prefix: &str) -> Result<(), StateError> {
        let keys = self.list(prefix).await?;
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StateError::Remote {
                    action: "compact the journal of",
                    location: self.url(prefix),
                    message: e.to_string(),
                })?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| StateError::Remote {
                    action: "compact the journal of",
                    location: self.url(prefix),
                    message: e.to_string(),
                })?;
            self.client
                .delete_objects()
                .bucket(&self.location.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| self.remote("compact the journal of", prefix, e))?;
        }
        Ok(())
    }

    async fn append_async(&self, entry: &JournalEntry) -> Result<(), StateError> {
        let seen = match self.seen() {
            Some(s) if s.etag.is_some() => s,
            _ => {
                let loaded = self.load().await?;
                if loaded.state.is_none() {
                    self.write_async(&State::new(&self.stack, &self.env))
                        .await?;
                } else {
                    self.remember(loaded.seen);
                }
                self.seen()
                    .ok_or_else(|| self.corrupt(&self.location.key, "state vanished"))?
            }
        };
        let line = JournalLine {
            lineage: seen.lineage.clone(),
            base_serial: seen.base_serial,
            entry: entry.clone(),
        };
        let name = format!(
            "{}{:06}",
            journal_prefix(&self.location.key, seen.base_serial),
            seen.next_seq
        );
        let body = serde_json::to_vec(&line).map_err(|e| self.corrupt(&name, e.to_string()))?;
        let put = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(&name)
            .content_type("application/json")
            .metadata(META_WRITER, writer())
            .if_none_match("*")
            .body(ByteStream::from(body));
        match self.sse(put).send().await {
            Ok(_) => {}
            // Another run appended this entry: the state it extends now has the serial
            // that entry brings it to.
            Err(e) if lost_race(&e) => {
                let theirs = seen.base_serial + seen.next_seq + 1;
                return Err(self
                    .conflict_at(&name, Some(seen.serial), Some(theirs))
                    .await);
            }
            Err(e) => return Err(self.remote("append to", &name, e)),
        }
        self.remember(Seen {
            serial: seen.serial + 1,
            next_seq: seen.next_seq + 1,
            ..seen
        });
        Ok(())
    }

    /// The lock object's info and ETag, or `None` when unlocked.
    async fn read_lock(&self) -> Result<Option<(LockInfo, String)>, StateError> {
        let key = self.lock_key();
        Ok(self.get(&key).await?.map(|(body, etag)| {
            let info = serde_json::from_slice(&body).unwrap_or_else(|_| unreadable_lock());
            (info, etag)
        }))
    }

    async fn try_lock(&self, operation: &str) -> Result<LockGuard, StateError> {
        let key = self.lock_key();
        let info = LockInfo::new(operation);
        let body =
            serde_json::to_vec_pretty(&info).map_err(|e| self.corrupt(&key, e.to_string()))?;
        let put = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(&key)
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(body));
        match self.sse(put).send().await {
            Ok(_) => {
                let release = Release {
                    client: self.client.clone(),
                    handle: self.handle.clone(),
                    bucket: self.location.bucket.clone(),
                    key,
                    id: info.id.clone(),
                };
                Ok(LockGuard::new(info, move || release.run()))
            }
            Err(e) if lost_race(&e) => {
                let held = self
                    .read_lock()
                    .await?
                    .map(|(info, _)| info)
                    .unwrap_or_else(unreadable_lock);
                Err(StateError::Locked {
                    path: self.url(&key),
                    info: Box::new(held),
                })
            }
            Err(e) => Err(self.remote("create the lock", &key, e)),
        }
    }

    async fn force_unlock_async(&self, id: &str) -> Result<(), StateError> {
        let key = self.lock_key();
        let Some((held, etag)) = self.read_lock().await? else {
            return Err(StateError::NotLocked {
                path: self.url(&key),
            });
        };
        if held.id != id {
            return Err(StateError::LockIdMismatch {
                path: self.url(&key),
                held: held.id,
                given: id.to_string(),
            });
        }
        match self
            .client
            .delete_object()
            .bucket(&self.location.bucket)
            .key(&key)
            .if_match(etag)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Released or taken over between the read and the delete.
            Err(e) if lost_race(&e) || not_found(&e) => Err(StateError::NotLocked {
                path: self.url(&key),
            }),
            Err(e) => Err(self.remote("remove the lock", &key, e)),
        }
    }
}

/// What a lock guard needs to release its lock when dropped.
struct Release {
    client: Client,
    handle: Handle,
    bucket: String,
    key: String,
    id: String,
}

impl Release {
    /// Deletes the lock if it is still ours; a lock force-unlocked and taken by another run
    /// is left alone. Errors are dropped: the lock then stays for `force-unlock`.
    fn run(self) {
        let client = &self.client;
        let _ = block(&self.handle, async {
            let Ok(got) = client
                .get_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .send()
                .await
            else {
                return;
            };
            let etag = got.e_tag().unwrap_or_default().to_string();
            let Ok(body) = got.body.collect().await else {
                return;
            };
            let held: Option<LockInfo> = serde_json::from_slice(&body.into_bytes()).ok();
            if held.is_some_and(|h| h.id == self.id) {
                let _ = client
                    .delete_object()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .if_match(etag)
                    .send()
                    .await;
            }
        });
    }
}

/// Lock info for a lock object that cannot be parsed; `pedestal force-unlock unknown` removes it.
fn unreadable_lock() -> LockInfo {
    LockInfo {
        id: "unknown".into(),
        who: "(unreadable lock object)".into(),
        operation: "unknown".into(),
        created: "unknown".into(),
        version: "unknown".into(),
    }
}

impl StateStore for S3Store {
    fn read(&self) -> Result<Option<State>, StateError> {
        let loaded = self.run(self.load())??;
        self.remember(loaded.seen);
        Ok(loaded.state)
    }

    fn write(&self, state: &State) -> Result<(), StateError> {
        self.run(self.write_async(state))?
    }

    fn append(&self, entry: &JournalEntry) -> Result<(), StateError> {
        self.run(self.append_async(entry))?
    }

    fn lock(&self, operation: &str, timeout: Duration) -> Result<LockGuard, StateError> {
        retry_lock(timeout, || self.run(self.try_lock(operation))?)
    }

    fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.run(self.force_unlock_async(id))?
    }

    fn describe(&self) -> String {
        self.url(&self.location.key)
    }
}
