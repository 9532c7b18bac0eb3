//! The S3 state backend against moto: moto's raw conditional writes, the shared `StateStore`
//! conformance suite, compare-and-swap refusals, lock waiting and the sync-over-async bridge
//! on each kind of thread. The `pedestal` binary's use of it is in `state_s3/cli.rs`.

mod cli;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use pedestal::state::conformance::{self, ENV, STACK};
use pedestal::state::{Encryption, S3Location, S3Store, State, StateError, StateStore};

use crate::apply::moto;

/// One multi-thread runtime for every test here: the SDK client's connections live on it.
fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("test runtime")
    })
}

fn client() -> aws_sdk_s3::Client {
    static CLIENT: OnceLock<aws_sdk_s3::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| rt().block_on(async { S3Store::client(&moto::sdk_config().await) }))
        .clone()
}

/// A new bucket on moto.
fn bucket() -> String {
    let name = moto::unique("state");
    let c = client();
    rt().block_on(async { c.create_bucket().bucket(&name).send().await })
        .unwrap_or_else(|e| panic!("create bucket {name}: {e:?}"));
    name
}

fn store(bucket: &str, key: &str) -> S3Store {
    S3Store::new(
        client(),
        rt().handle().clone(),
        S3Location {
            bucket: bucket.to_string(),
            key: key.to_string(),
            encryption: Encryption::S3Managed,
        },
        STACK,
        ENV,
    )
}

#[test]
fn s3_store_conforms() {
    let bucket = bucket();
    conformance::run_all(&|| {
        let bucket = bucket.clone();
        let key = format!("{}/state.json", moto::unique("c"));
        Box::new(move || Box::new(store(&bucket, &key)))
    });
}

/// What the backend relies on from moto (and S3): `If-None-Match: *` refuses an existing key,
/// `If-Match` refuses a stale ETag on PutObject and DeleteObject, both with 412.
#[test]
fn moto_refuses_conditional_writes_with_412() {
    let bucket = bucket();
    let c = client();
    let status = |e: &dyn std::fmt::Debug| format!("{e:?}");
    rt().block_on(async {
        let put = |body: &'static str| {
            c.put_object()
                .bucket(&bucket)
                .key("k")
                .body(ByteStream::from_static(body.as_bytes()))
        };
        let first = put("1").if_none_match("*").send().await.expect("create");
        let again = put("2").if_none_match("*").send().await;
        let err = again.expect_err("If-None-Match: * on an existing key");
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(412));
        let e1 = first.e_tag().expect("etag").to_string();
        let second = put("3").if_match(&e1).send().await.expect("current etag");
        let e2 = second.e_tag().expect("etag").to_string();
        assert_ne!(e1, e2);
        let stale = put("4").if_match(&e1).send().await;
        let err = stale.expect_err("If-Match on a stale etag");
        assert_eq!(
            err.raw_response().map(|r| r.status().as_u16()),
            Some(412),
            "{}",
            status(&err)
        );
        let del = c
            .delete_object()
            .bucket(&bucket)
            .key("k")
            .if_match(&e1)
            .send()
            .await;
        let err = del.expect_err("DeleteObject If-Match on a stale etag");
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(412));
        let body = c
            .get_object()
            .bucket(&bucket)
            .key("k")
            .send()
            .await
            .expect("get")
            .body
            .collect()
            .await
            .expect("body")
            .into_bytes();
        assert_eq!(&body[..], b"3", "refused writes changed nothing");
    });
}

/// A handle that read serial 1 cannot write after another handle wrote serial 2: the error
/// names both serials and the writer, and the stored state is the other handle's.
#[test]
fn a_write_from_an_old_etag_is_refused() {
    let bucket = bucket();
    let key = "team/prod.json";
    let first = store(&bucket, key);
    first.write(&State::new(STACK, ENV)).expect("first write");
    let a = store(&bucket, key);
    let b = store(&bucket, key);
    let read_a = a.read().expect("read").expect("state");
    let read_b = b.read().expect("read").expect("state");
    assert_eq!(read_a.serial, 1);
    let mut changed = read_b.clone();
    changed
        .outputs
        .insert("winner".into(), pedestal::resource::Value::str("b"));
    b.write(&changed).expect("b writes first");
    let mut lost = read_a.clone();
    lost.outputs
        .insert("winner".into(), pedestal::resource::Value::str("a"));
    match a.write(&lost) {
        Err(
            e @ StateError::Conflict {
                read_serial,
                found_serial,
                ..
            },
        ) => {
            assert_eq!((read_serial, found_serial), (Some(1), Some(2)));
            let msg = e.to_string();
            assert!(msg.contains("serial 2"), "{msg}");
            assert!(msg.contains("serial 1"), "{msg}");
            assert!(msg.contains('@'), "names user@host: {msg}");
            assert!(msg.contains(&format!("s3://{bucket}/{key}")), "{msg}");
        }
        other => panic!("a stale write must be refused, got {other:?}"),
    }
    let stored = store(&bucket, key).read().expect("read").expect("state");
    assert_eq!(stored.serial, 2);
    assert_eq!(
        stored.outputs.get("winner"),
        Some(&pedestal::resource::Value::str("b")),
        "the refused write left the other run's state alone"
    );
    // After reading again, the same handle writes on top.
    a.read().expect("read");
    a.write(&lost).expect("write after a fresh read");

    // Two first writes: the second finds the object created and is refused too.
    let key = "team/new.json";
    let (x, y) = (store(&bucket, key), store(&bucket, key));
    assert_eq!(x.read().expect("read"), None);
    assert_eq!(y.read().expect("read"), None);
    x.write(&State::new(STACK, ENV)).expect("x creates");
    match y.write(&State::new(STACK, ENV)) {
        Err(StateError::Conflict {
            read_serial: None,
            found_serial: Some(1),
            ..
        }) => {}
        other => panic!("a second first write must be refused, got {other:?}"),
    }
}

/// Two handles that append after reading the same state: the second journal object is
/// refused (it would take the first one's name), naming the serial the first brought.
#[test]
fn an_append_racing_another_is_refused() {
    use pedestal::addr::Address;
    use pedestal::state::JournalEntry;
    let bucket = bucket();
    let key = "race/prod.json";
    store(&bucket, key)
        .write(&State::new(STACK, ENV))
        .expect("write");
    let (a, b) = (store(&bucket, key), store(&bucket, key));
    a.read().expect("read");
    b.read().expect("read");
    let entry = |n: &str| JournalEntry::ResourceRemoved {
        address: Address::new(n),
    };
    a.append(&entry("storage.a.bucket")).expect("a appends");
    match b.append(&entry("storage.b.bucket")) {
        Err(
            e @ StateError::Conflict {
                read_serial: Some(1),
                found_serial: Some(2),
                ..
            },
        ) => assert!(e.to_string().contains('@'), "names the writer: {e}"),
        other => panic!("a racing append must be refused, got {other:?}"),
    }
    assert_eq!(
        store(&bucket, key).read().expect("read").map(|s| s.serial),
        Some(2),
        "only the first entry is recorded"
    );
}

/// `--lock-timeout`: a waiting run gets the lock once the holder lets go, and the refusal
/// before that names the holder.
#[test]
fn lock_waits_for_the_holder() {
    let bucket = bucket();
    let key = "w/state.json";
    let holder = store(&bucket, key)
        .lock("apply", Duration::ZERO)
        .expect("lock");
    match store(&bucket, key).lock("plan", Duration::ZERO) {
        Err(e @ StateError::Locked { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(holder.id()), "{msg}");
            assert!(msg.contains("apply"), "{msg}");
            assert!(msg.contains(&format!("s3://{bucket}/{key}.lock")), "{msg}");
            assert!(msg.contains(" ago)"), "names the age: {msg}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    let id = holder.id().to_string();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        drop(holder);
    });
    let t = Instant::now();
    let next = store(&bucket, key)
        .lock("plan", Duration::from_secs(20))
        .expect("the lock after waiting");
    assert!(t.elapsed() >= Duration::from_millis(500), "it waited");
    assert_ne!(next.id(), id);
    releaser.join().expect("releaser");
}

/// The bridge works from an async worker, from the blocking pool and from a plain thread,
/// and refuses (instead of hanging) on a current-thread runtime.
#[test]
fn store_calls_work_from_any_thread_of_a_multi_thread_runtime() {
    let bucket = bucket();
    let key = "threads/state.json";
    let s = std::sync::Arc::new(store(&bucket, key));
    let s2 = s.clone();
    rt().block_on(async move {
        // On a worker.
        s2.write(&State::new(STACK, ENV))
            .expect("write on a worker");
        let guard = s2.lock("apply", Duration::ZERO).expect("lock on a worker");
        // On the blocking pool, with the guard dropped there.
        let s3 = s2.clone();
        tokio::task::spawn_blocking(move || {
            let st = s3.read().expect("read").expect("state");
            s3.write(&st).expect("write on the blocking pool");
            drop(guard);
        })
        .await
        .expect("blocking task");
        // Dropped on a worker.
        let g = s2.lock("apply", Duration::ZERO).expect("lock again");
        drop(g);
    });
    assert_eq!(s.read().expect("read").map(|st| st.serial), Some(2));
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let r = current.block_on(async { s.read() });
    assert!(matches!(r, Err(StateError::Runtime)), "{r:?}");
}
