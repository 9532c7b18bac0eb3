//! The two ways the S3 state backend could persist each resource during an apply, measured
//! against a local moto server: (a) one journal object per entry (`PutObject <key>.journal/…`
//! with `If-None-Match: *`, what `S3Store::append` does) and (b) a conditional rewrite of the
//! whole state object (`PutObject <key>` with `If-Match`), the building block of batched
//! writes. For states of N resources it prints the median and p95 time of one persistence
//! point and the bytes it sends, then the cost of reading a state back with K journal objects
//! left behind by a crash.
//!
//! Needs `PEDESTAL_MOTO_SERVER` (the `moto_server` executable); the server is started on a
//! free 127.0.0.1 port and stopped at the end. `cargo bench --profile dev --bench state_s3`;
//! `PEDESTAL_BENCH_SIZES` (default `10,100,1000`) and `PEDESTAL_BENCH_ROUNDS` (default `40`).

// A benchmark reports on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use pedestal::addr::Address;
use pedestal::resource::{Attrs, ResourceKind, Value};
use pedestal::state::{
    Encryption, JournalEntry, ResourceState, S3Location, S3Store, State, StateStore, Status,
};

fn list(var: &str, default: &str) -> Vec<usize> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn resource(i: usize) -> ResourceState {
    ResourceState {
        kind: ResourceKind::LogGroup,
        id: format!("arn:aws:logs:us-east-1:123456789012:log-group:/pedestal/bench/e{i:05}"),
        attrs: Attrs::from(BTreeMap::from([
            (
                "name".to_string(),
                Value::str(format!("/pedestal/bench/e{i:05}")),
            ),
            ("retention_days".to_string(), Value::Int(30)),
            (
                "tags".to_string(),
                Value::Map(
                    BTreeMap::from([
                        ("pedestal:stack".to_string(), Value::str("bench")),
                        ("pedestal:env".to_string(), Value::str("prod")),
                        (
                            "pedestal:address".to_string(),
                            Value::str(format!("endpoint.e{i:05}.log_group")),
                        ),
                    ])
                    .into(),
                ),
            ),
        ])),
        dependencies: Default::default(),
        status: Status::Ok,
    }
}

fn address(i: usize) -> Address {
    Address::new(format!("endpoint.e{i:05}.log_group"))
}

fn state(n: usize) -> State {
    let mut s = State::new("bench", "prod");
    for i in 0..n {
        s.resources.insert(address(i), resource(i));
    }
    s
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Moto(std::process::Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto() -> (Moto, String) {
    let server = std::env::var("PEDESTAL_MOTO_SERVER")
        .expect("set PEDESTAL_MOTO_SERVER to the moto_server executable");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting moto_server");
    let moto = Moto(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (moto, format!("http://127.0.0.1:{port}"))
}

fn main() {
    let sizes = list("PEDESTAL_BENCH_SIZES", "10,100,1000");
    let rounds = list("PEDESTAL_BENCH_ROUNDS", "40")
        .first()
        .copied()
        .unwrap_or(40);
    let (_moto, endpoint) = start_moto();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let client = rt.block_on(async {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "bench", "bench", None, None, "static",
            ))
            .endpoint_url(&endpoint)
            .retry_config(pedestal::provider::aws::retry_config())
            .load()
            .await;
        S3Store::client(&conf)
    });
    let bucket = "pedestal-state-bench";
    rt.block_on(client.create_bucket().bucket(bucket).send())
        .expect("create bucket");
    println!("S3 state persistence against moto ({endpoint}), {rounds} rounds per cell");
    println!(
        "{:>9} {:>12} | {:>26} | {:>26}",
        "resources", "state bytes", "journal object: p50/p95 ms", "If-Match rewrite: p50/p95 ms"
    );
    for &n in &sizes {
        let key = format!("n{n}/state.json");
        let store = S3Store::new(
            client.clone(),
            rt.handle().clone(),
            S3Location {
                bucket: bucket.to_string(),
                key: key.clone(),
                encryption: Encryption::S3Managed,
            },
            "bench",
            "prod",
        );
        let base = state(n);
        store.write(&base).expect("snapshot");
        let bytes = pedestal::state::state_to_string(&base)
            .expect("serialise")
            .len();
        // (a) one journal object per persistence point.
        let mut journal = Vec::with_capacity(rounds);
        for i in 0..rounds {
            let entry = JournalEntry::ResourceSet {
                address: address(n + i),
                resource: resource(n + i),
            };
            let t = Instant::now();
            store.append(&entry).expect("append");
            journal.push(t.elapsed());
        }
        // Reading it back after a crash: snapshot + list + one GET per journal object.
        let t = Instant::now();
        let recovered = S3Store::new(
            client.clone(),
            rt.handle().clone(),
            store.location().clone(),
            "bench",
            "prod",
        )
        .read()
        .expect("read")
        .expect("state");
        let replay = t.elapsed();
        assert_eq!(recovered.resources.len(), n + rounds);
        // (b) a conditional rewrite of the whole object per persistence point.
        let alt_key = format!("n{n}/rewrite.json");
        let mut etag = rt
            .block_on(
                client
                    .put_object()
                    .bucket(bucket)
                    .key(&alt_key)
                    .if_none_match("*")
                    .body(ByteStream::from(
                        pedestal::state::state_to_string(&base)
                            .expect("serialise")
                            .into_bytes(),
                    ))
                    .send(),
            )
            .expect("create")
            .e_tag()
            .unwrap_or_default()
            .to_string();
        let mut current = base.clone();
        let mut rewrite = Vec::with_capacity(rounds);
        for i in 0..rounds {
            let t = Instant::now();
            current.resources.insert(address(n + i), resource(n + i));
            current.serial += 1;
            let body = pedestal::state::state_to_string(&current).expect("serialise");
            let out = rt
                .block_on(
                    client
                        .put_object()
                        .bucket(bucket)
                        .key(&alt_key)
                        .if_match(&etag)
                        .body(ByteStream::from(body.into_bytes()))
                        .send(),
                )
                .expect("conditional rewrite");
            etag = out.e_tag().unwrap_or_default().to_string();
            rewrite.push(t.elapsed());
        }
        journal.sort();
        rewrite.sort();
        println!(
            "{n:>9} {bytes:>12} | {:>12.1} / {:>11.1} | {:>12.1} / {:>11.1}",
            ms(percentile(&journal, 0.5)),
            ms(percentile(&journal, 0.95)),
            ms(percentile(&rewrite, 0.5)),
            ms(percentile(&rewrite, 0.95)),
        );
        println!(
            "{:>9} read after a crash with {rounds} journal objects: {:.1} ms; compaction write: {:.1} ms",
            "",
            ms(replay),
            {
                let t = Instant::now();
                store.write(&recovered).expect("compacting write");
                ms(t.elapsed())
            }
        );
    }
}
