//! Interruptions through the binary: `kill -9` midway then recovery from the journal and intents,
//! one Ctrl-C during a rollout wait (stops the wait at once), Ctrl-C at the confirmation prompt.

use pedestal::addr::Address;

use super::cli::{Stack, lock_id, stream_lines, wait_for_line};
use super::ctx::Ctx;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_midway_then_apply_recovers_from_journal_and_intents() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("kill").await;
    // Two replicas while moto runs one task: the rollout never completes, so the apply sits
    // waiting on the service — after CreateService, before the service is recorded.
    st.edit(|t| t.replace("replicas = 1", "replicas = 2"));
    let mut child = st
        .command(&["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let cluster = format!("{}-dev-serving", st.name);
    let service = format!("{}-dev-hello", st.name);
    c.wait_for_service(&cluster, &service).await;
    // The service exists, so everything it depends on completed (and was journaled) before
    // its create began, and its intent was recorded before CreateService.
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // What survived: seven resources journaled, and the intent for the service.
    let store = pedestal::state::LocalStore::new(st.dir.join("state/dev.json"), &st.name, "dev");
    let recorded = pedestal::state::StateStore::read(&store).unwrap().unwrap();
    assert_eq!(
        recorded.resources.len(),
        7,
        "{:?}",
        recorded.resources.keys()
    );
    assert!(
        recorded
            .intents
            .contains_key(&Address::new("endpoint.hello.service"))
    );

    // The lock of the killed run is still there.
    let r = st.run(&["apply", "--auto-approve"]).expect(1);
    st.run(&["force-unlock", &lock_id(&r.stderr())]).expect(0);

    // The next apply adopts the service the killed run created, instead of making another.
    st.edit(|t| t.replace("replicas = 2", "replicas = 1"));
    let r = st.run(&["apply", "--auto-approve"]).expect(0);
    assert!(
        r.stdout()
            .contains("endpoint.hello.service: Adopted existing resource"),
        "{}",
        r.stdout()
    );
    let recorded = pedestal::state::StateStore::read(&store).unwrap().unwrap();
    assert_eq!(recorded.resources.len(), 8);
    assert!(recorded.intents.is_empty());
    let services = c
        .ecs()
        .list_services()
        .cluster(&cluster)
        .send()
        .await
        .unwrap();
    assert_eq!(services.service_arns().len(), 1);
    st.run(&["plan", "--detailed-exitcode"]).expect(0);
    st.run(&["destroy", "--auto-approve"]).expect(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_the_release_wait_at_once_releases_the_lock_and_exits_130() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("int").await;
    st.edit(|t| t.replace("replicas = 1", "replicas = 2"));
    let mut child = st
        .command(&["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let (lines, stderr) = stream_lines(child.stderr.take().unwrap());
    let cluster = format!("{}-dev-serving", st.name);
    let service = format!("{}-dev-hello", st.name);
    c.wait_for_service(&cluster, &service).await;
    // The service is being created (its rollout never completes): one interrupt stops the
    // wait at once; the deployment goes on in ECS.
    let interrupt = || {
        let ok = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(ok.success());
    };
    interrupt();
    wait_for_line(&lines, "Interrupt received");
    let heard = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert!(
        heard.elapsed() < std::time::Duration::from_secs(10),
        "one Ctrl-C stops the wait at once: {:?}",
        heard.elapsed()
    );
    let stderr = stderr.join().unwrap();
    assert_eq!(status.code(), Some(130), "stderr:\n{stderr}");
    assert!(
        stderr.contains("endpoint.hello: release 0.1.0: interrupted")
            && stderr.contains("goes on in ECS"),
        "{stderr}"
    );
    let r = st.run(&["releases", "hello", "--format", "json"]).expect(0);
    assert!(
        r.stdout().contains("\"outcome\": \"interrupted\""),
        "{}",
        r.stdout()
    );
    // The lock was released: no force-unlock needed. The intent leads to adoption.
    st.edit(|t| t.replace("replicas = 2", "replicas = 1"));
    let r = st.run(&["apply", "--auto-approve"]).expect(0);
    assert!(
        r.stdout()
            .contains("endpoint.hello.service: Adopted existing resource"),
        "{}",
        r.stdout()
    );
    st.run(&["destroy", "--auto-approve"]).expect(0);
}

#[test]
fn ctrl_c_at_the_prompt_cancels_and_releases_the_lock() {
    // A pseudo-terminal, so apply asks for confirmation (no cloud calls: nothing is recorded
    // yet, so planning needs no refresh).
    let st = Stack::example("quickstart", "quickstart");
    let script = r#"
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "-C", sys.argv[2], "apply"])
buf = b""
deadline = time.time() + 60
while b"Enter a value" not in buf and time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            buf += os.read(fd, 65536)
        except OSError:
            break
time.sleep(0.3)
os.write(fd, b"\x03")
end = time.time() + 20
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(str(os.waitstatus_to_exitcode(status)) + "\n" + buf.decode(errors="replace"))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_pedestal"))
        .arg(&st.dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (code, transcript) = text.split_once('\n').unwrap_or((&text, ""));
    assert!(transcript.contains("Enter a value"), "{transcript}");
    assert!(transcript.contains("Apply cancelled."), "{transcript}");
    assert_eq!(code.trim(), "130", "{transcript}");
    let leftovers: Vec<_> = std::fs::read_dir(st.dir.join("state"))
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(
        !leftovers
            .iter()
            .any(|n| n.to_string_lossy().ends_with(".lock")),
        "lock left behind: {leftovers:?}"
    );
}
