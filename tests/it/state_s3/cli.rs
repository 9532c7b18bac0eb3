//! The `pedestal` binary with `[backend] type = "s3"` against moto: an apply that holds the
//! lock makes a second apply report the holder and a third wait for it; `force-unlock` with a
//! wrong then the right id; `state migrate` to S3 and back, and its lineage refusal.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use pedestal::resource::Value;
use pedestal::state::{Encryption, LocalStore, LockInfo, S3Location, S3Store, State, StateStore};

use super::{bucket, client, rt};
use crate::apply::conformance::ConformanceGuard;
use crate::apply::moto;

/// A stack directory with one storage block, its state in `bucket` under `stacks/${env}.json`.
struct Stack {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    name: String,
    bucket: String,
    /// Fails the test, when it ends, with any request that broke AWS's service models.
    _conformance: ConformanceGuard,
}

impl Stack {
    fn new(backend_s3: bool) -> Stack {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("stack");
        std::fs::create_dir_all(&dir).expect("stack dir");
        let name = moto::unique("lk");
        let bucket = bucket();
        let stack = Stack {
            _tmp: tmp,
            dir,
            name,
            _conformance: ConformanceGuard::new(&bucket),
            bucket,
        };
        stack.write_spec(backend_s3);
        stack
    }

    fn write_spec(&self, backend_s3: bool) {
        let backend = if backend_s3 {
            format!(
                "[backend]\ntype = \"s3\"\nbucket = \"{}\"\nkey = \"stacks/${{env}}.json\"\n\n",
                self.bucket
            )
        } else {
            String::new()
        };
        let spec = format!(
            "[stack]\nname = \"{name}\"\nregion = \"us-east-1\"\n\n[provider.aws]\nregion = \"us-east-1\"\n\n{backend}[storage.models]\nforce_destroy = true\n",
            name = self.name
        );
        std::fs::write(self.dir.join("pedestal.toml"), spec).expect("write spec");
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pedestal"));
        c.arg("-C").arg(&self.dir).args(args);
        for (k, v) in moto::env() {
            c.env(k, v);
        }
        c.env("NO_COLOR", "1").env("USER", "ci-runner");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run pedestal")
    }

    fn s3(&self) -> S3Store {
        S3Store::new(
            client(),
            rt().handle().clone(),
            S3Location {
                bucket: self.bucket.clone(),
                key: "stacks/dev.json".into(),
                encryption: Encryption::S3Managed,
            },
            &self.name,
            "dev",
        )
    }

    fn local(&self, path: &str) -> LocalStore {
        LocalStore::new(self.dir.join(path), &self.name, "dev")
    }

    /// The lock object's info, if the lock is held.
    fn lock_info(&self) -> Option<LockInfo> {
        let c = client();
        let got = rt().block_on(async {
            let out = c
                .get_object()
                .bucket(&self.bucket)
                .key("stacks/dev.json.lock")
                .send()
                .await
                .ok()?;
            out.body.collect().await.ok().map(|b| b.into_bytes())
        })?;
        serde_json::from_slice(&got).ok()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// `pedestal apply` on a terminal (through `script`, so it stops at the approval prompt with
/// the lock held); its output is collected on a thread.
struct Interactive {
    child: Child,
    output: std::thread::JoinHandle<String>,
}

impl Interactive {
    fn start(stack: &Stack, args: &[&str]) -> Interactive {
        let mut line = format!(
            "'{}' -C '{}'",
            env!("CARGO_BIN_EXE_pedestal"),
            stack.dir.display()
        );
        for a in args {
            line.push_str(&format!(" '{a}'"));
        }
        let mut c = Command::new("script");
        c.args(["-q", "-e", "-c", &line, "/dev/null"]);
        for (k, v) in moto::env() {
            c.env(k, v);
        }
        let mut child = c
            .env("NO_COLOR", "1")
            .env("USER", "first-run")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("script(1) from util-linux runs the first apply on a terminal");
        let mut out = child.stdout.take().expect("stdout");
        let output = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = out.read_to_end(&mut s);
            text(&s)
        });
        Interactive { child, output }
    }

    fn answer(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(line.as_bytes()).expect("answer the prompt");
        stdin.flush().expect("flush");
    }

    fn wait(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().expect("wait");
        (status.code(), self.output.join().unwrap_or_default())
    }
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_apply_holding_the_lock_is_named_by_the_next_and_waited_for_with_lock_timeout() {
    let stack = Stack::new(true);
    let mut first = Interactive::start(&stack, &["apply", "--env", "dev"]);
    wait_for("the first apply's lock", Duration::from_secs(120), || {
        stack.lock_info().is_some()
    });
    let holder = stack.lock_info().expect("lock info");
    assert_eq!(holder.operation, "apply");
    assert!(
        holder.who.starts_with("first-run@"),
        "who is user@host: {holder:?}"
    );

    let second = stack.run(&["apply", "--env", "dev", "--auto-approve"]);
    assert_ne!(second.status.code(), Some(0), "{}", show(&second));
    let err = text(&second.stderr);
    for needle in [
        holder.id.as_str(),
        holder.who.as_str(),
        "Operation: apply",
        " ago)",
        &format!("s3://{}/stacks/dev.json.lock", stack.bucket),
        "pedestal force-unlock",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    assert_eq!(
        stack.lock_info().map(|l| l.id),
        Some(holder.id.clone()),
        "the refused apply left the lock alone"
    );

    let third = stack
        .command(&[
            "apply",
            "--env",
            "dev",
            "--auto-approve",
            "--lock-timeout",
            "3m",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("third apply");
    std::thread::sleep(Duration::from_millis(1500));
    first.answer("yes\n");
    let (code, out) = first.wait();
    assert_eq!(code, Some(0), "first apply:\n{out}");
    assert!(out.contains("1 added"), "first apply:\n{out}");
    let third = third.wait_with_output().expect("third apply");
    assert_eq!(third.status.code(), Some(0), "{}", show(&third));
    assert!(
        text(&third.stdout).contains("0 added, 0 changed, 0 destroyed"),
        "the waiting apply planned on the first one's state:\n{}",
        show(&third)
    );
    assert_eq!(stack.lock_info(), None, "every run released the lock");
    let state = stack.s3().read().expect("read").expect("state");
    assert!(
        state
            .resources
            .keys()
            .any(|a| a.as_str() == "storage.models.bucket"),
        "{:?}",
        state.resources.keys().collect::<Vec<_>>()
    );
}

#[test]
fn force_unlock_refuses_a_wrong_id_and_removes_the_lock_given_the_right_one() {
    let stack = Stack::new(true);
    // A run that died holding the lock.
    let guard = stack
        .s3()
        .lock("apply", Duration::ZERO)
        .expect("take the lock");
    let id = guard.id().to_string();
    std::mem::forget(guard);

    let wrong = stack.run(&["force-unlock", "--env", "dev", "0000-not-the-id"]);
    assert_ne!(wrong.status.code(), Some(0), "{}", show(&wrong));
    let err = text(&wrong.stderr);
    assert!(err.contains(&id), "names the holder's id:\n{err}");
    assert!(err.contains("nothing was unlocked"), "{err}");
    assert_eq!(stack.lock_info().map(|l| l.id), Some(id.clone()));

    let plan = stack.run(&["plan", "--env", "dev"]);
    assert_ne!(plan.status.code(), Some(0), "{}", show(&plan));
    assert!(text(&plan.stderr).contains(&id), "{}", show(&plan));

    let right = stack.run(&["force-unlock", "--env", "dev", &id]);
    assert_eq!(right.status.code(), Some(0), "{}", show(&right));
    assert_eq!(stack.lock_info(), None, "the lock object is gone");
    let again = stack.run(&["force-unlock", "--env", "dev", &id]);
    assert_ne!(again.status.code(), Some(0), "{}", show(&again));
    assert!(
        text(&again.stderr).contains("no lock is held"),
        "{}",
        show(&again)
    );
    let plan = stack.run(&["plan", "--env", "dev"]);
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
}

fn sample(stack: &Stack) -> State {
    let mut s = State::new(&stack.name, "dev");
    s.outputs
        .insert("endpoint".into(), Value::str("http://models.example"));
    s
}

fn migrate(stack: &Stack, args: &[&str]) -> Output {
    let mut all = vec!["state", "migrate", "--env", "dev"];
    all.extend_from_slice(args);
    stack.run(&all)
}

#[test]
fn migrate_to_s3_and_back_keeps_lineage_and_serial_and_refuses_another_lineage() {
    let stack = Stack::new(false);
    let local = stack.local("state/dev.json");
    let mut st = sample(&stack);
    for _ in 0..3 {
        local.write(&st).expect("local write");
        st = local.read().expect("read").expect("state");
    }
    assert_eq!(st.serial, 3);

    // Local → S3, with [backend] still local: the S3 side comes from flags.
    let key_flag = "stacks/${env}.json";
    let out = migrate(
        &stack,
        &["--to", "s3", "--bucket", &stack.bucket, "--key", key_flag],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let on_s3 = stack.s3().read().expect("read").expect("state on S3");
    assert_eq!(on_s3, st, "same lineage, serial and content");
    assert!(text(&out.stdout).contains(&st.lineage), "{}", show(&out));
    assert!(text(&out.stdout).contains("serial 3"), "{}", show(&out));
    let again = migrate(
        &stack,
        &["--to", "s3", "--bucket", &stack.bucket, "--key", key_flag],
    );
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(
        text(&again.stdout).contains("nothing was copied"),
        "{}",
        show(&again)
    );

    // The team moves on through S3; then back to a local file.
    stack.write_spec(true);
    let mut moved = on_s3.clone();
    moved.outputs.insert("more".into(), Value::Bool(true));
    stack.s3().write(&moved).expect("s3 write");
    let list = stack.run(&["state", "list", "--env", "dev"]);
    assert_eq!(list.status.code(), Some(0), "{}", show(&list));
    let out = migrate(&stack, &["--to", "local", "--path", "state/back.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let back = stack
        .local("state/back.json")
        .read()
        .expect("read")
        .expect("state");
    assert_eq!(back, stack.s3().read().expect("read").expect("state"));
    assert_eq!(
        (back.lineage.as_str(), back.serial),
        (st.lineage.as_str(), 4)
    );

    // A local file of another lineage is never overwritten.
    let other = stack.local("state/other.json");
    other.write(&sample(&stack)).expect("other lineage");
    let before = std::fs::read(stack.dir.join("state/other.json")).expect("other file");
    let out = migrate(&stack, &["--to", "local", "--path", "state/other.json"]);
    assert_ne!(out.status.code(), Some(0), "{}", show(&out));
    let err = text(&out.stderr);
    assert!(err.contains("lineage"), "{err}");
    assert!(err.contains(&st.lineage), "{err}");
    assert_eq!(
        std::fs::read(stack.dir.join("state/other.json")).expect("other file"),
        before,
        "left untouched"
    );
    // And an older copy does not overwrite the newer S3 state either (--to s3 from a file).
    let out = migrate(&stack, &["--to", "s3", "--path", "state/dev.json"]);
    assert_ne!(out.status.code(), Some(0), "{}", show(&out));
    assert!(text(&out.stderr).contains("serial 4"), "{}", show(&out));
    assert_eq!(stack.s3().read().expect("read").map(|s| s.serial), Some(4));
    assert!(Path::new(&stack.dir.join("state/dev.json")).exists());
}
