//! The crash suite: `pedestal apply` of the fraud-detection example (two endpoints, one with
//! alarms, on one cluster behind one load balancer; a bucket with two artifacts) killed with
//! SIGKILL at seeded random
//! points — at its Nth AWS request, through the proxy, either before the request reaches moto or
//! after moto acted on it and before the answer — and then, after each kill: the state parses,
//! the lock left behind names the killed run, a re-apply succeeds and a plan (with refresh) finds
//! no changes, and what lives in moto is exactly what the state records (no orphan, no
//! duplicate). Each point ends with a destroy that leaves nothing. `PEDESTAL_CRASH_POINTS` sets
//! the points (20 in `scripts/crash-suite`), `PEDESTAL_SUITE_SEED` the seed.

use std::process::Stdio;

use pedestal::state::{LocalStore, State, StateStore};

use super::cli::{Stack, lock_id};
use super::ctx::Ctx;
use super::faults::{self, Campaign};
use super::figures::{Rng, knob, report, seed};
use super::inventory::{assert_matches_state, live};

/// The fraud-detection example under a unique name, its fraud endpoint with a CPU alarm.
/// Neither endpoint waits for its rollout: moto never completes the rollout of an updated
/// service, and a re-apply after a kill may update one.
pub fn fraud_stack() -> Stack {
    let st = Stack::example("fraud-detection", "fraud-detection");
    st.edit(|t| {
        let edited = t
            .replacen(
                "logs = { retention_days = 30 }",
                "logs = { retention_days = 30 }\nalarms = { cpu_high = 90 }",
                1,
            )
            .replacen("wait = true, timeout = \"15m\"", "wait = false", 1)
            .replacen("max = 3,", "max = 3, deployment = { wait = false },", 1);
        assert_eq!(edited.matches("wait = false").count(), 2, "{edited}");
        assert!(edited.contains("alarms = { cpu_high = 90 }"), "{edited}");
        edited
    });
    st
}

/// The stack's state store (the example keeps state two levels up).
pub fn store(st: &Stack) -> LocalStore {
    LocalStore::new(
        st.dir.join("../../state/fraud-detection/dev.json"),
        &st.name,
        "dev",
    )
}

/// Runs `pedestal apply --auto-approve` with a campaign armed for the stack; returns the exit
/// status, stderr and what the campaign did.
pub fn apply_under(
    st: &Stack,
    campaign: Campaign,
) -> (std::process::ExitStatus, String, faults::Counts) {
    faults::arm(campaign);
    let child = st
        .command(&["apply", "--auto-approve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    faults::victim(&st.name, child.id());
    let out = child.wait_with_output().unwrap();
    let counts = faults::disarm(&st.name);
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).to_string(),
        counts,
    )
}

/// Releases the lock a killed run left, checking it names a run of this user; `false` when
/// there was none (the run died before taking it).
fn release_left_lock(st: &Stack, point: usize) -> bool {
    let lock = store(st).lock_path();
    if !lock.exists() {
        return false;
    }
    let r = st.run(&["apply", "--auto-approve"]).expect(1);
    let err = r.stderr();
    assert!(
        err.contains("the state is locked by another run") && err.contains("Operation: apply"),
        "point {point}: {err}"
    );
    st.run(&["force-unlock", &lock_id(&err)]).expect(0);
    true
}

/// Reads the state (which must parse), empty when the killed run wrote none.
fn read_state(st: &Stack, point: usize) -> State {
    store(st)
        .read()
        .unwrap_or_else(|e| panic!("point {point}: the state does not parse: {e}"))
        .unwrap_or_else(|| State::new(&st.name, "dev"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_at_random_requests_recovers_without_orphans() {
    let points: usize = knob("PEDESTAL_CRASH_POINTS", 2);
    let mut rng = Rng::new(seed("crash suite"));
    let c = Ctx::new("crash").await;

    // How many requests a whole apply of this stack makes: the range the kills are drawn from.
    let calibration = fraud_stack();
    let (status, err, counts) = apply_under(
        &calibration,
        Campaign {
            marker: calibration.name.clone(),
            ..Campaign::default()
        },
    );
    assert!(status.success(), "the calibration apply failed: {err}");
    let total = counts.requests;
    assert!(total > 20, "an apply of the stack made {total} requests");
    calibration.run(&["destroy", "--auto-approve"]).expect(0);

    let mut recovered = 0;
    let mut lines = Vec::new();
    for point in 0..points {
        let st = fraud_stack();
        let at = 1 + rng.below(total as u64 * 9 / 10) as usize;
        let forward = if point < 2 {
            point == 1
        } else {
            rng.chance(0.5)
        };
        let (status, err, counts) = apply_under(
            &st,
            Campaign {
                marker: st.name.clone(),
                kill_at: Some((at, forward)),
                ..Campaign::default()
            },
        );
        use std::os::unix::process::ExitStatusExt;
        assert!(
            counts.killed && status.signal() == Some(9),
            "point {point}: the run was not killed at request {at} of {total} ({status:?}, {} requests): {err}",
            counts.requests
        );
        let before = read_state(&st, point);
        let locked = release_left_lock(&st, point);
        let r = st.run(&["apply", "--auto-approve"]);
        assert_eq!(
            r.code(),
            0,
            "point {point} (request {at}, forwarded {forward}): the re-apply failed\n{}\n{}",
            r.stdout(),
            r.stderr()
        );
        let r = st.run(&["plan", "--detailed-exitcode"]);
        assert!(
            r.code() == 0 && r.stdout().contains("No changes."),
            "point {point} (request {at}, forwarded {forward}): no convergence\n{}\n{}",
            r.stdout(),
            r.stderr()
        );
        let after = read_state(&st, point);
        assert_matches_state(
            &c,
            &st.name,
            &after,
            &format!("point {point} (request {at} of {total}, forwarded {forward})"),
        )
        .await;
        st.run(&["destroy", "--auto-approve"]).expect(0);
        let left = live(&c, &st.name).await;
        assert!(left.is_empty(), "point {point}: destroy left {left:?}");
        recovered += 1;
        lines.push(format!(
            "  point {point}: killed at request {at}/{total} ({}), {} resources recorded then, \
             lock {}; recovered, converged, no orphans",
            if forward {
                "after moto acted"
            } else {
                "before moto saw it"
            },
            before.resources.len(),
            if locked { "released" } else { "not yet taken" },
        ));
    }
    for l in &lines {
        report(l);
    }
    report(&format!(
        "crash suite: {recovered}/{points} kill points recovered"
    ));
}
