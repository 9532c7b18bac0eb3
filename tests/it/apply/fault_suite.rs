//! The fault suite: `pedestal apply` and `destroy` of the fraud-detection example through the
//! proxy's seeded chaos (`faults.rs`). With transient faults (500, 503, throttling, dropped
//! connections, plus added latency) at 10% and 30% of requests, both complete through the
//! product's retries and the stack converges with nothing orphaned. With one API failing every
//! time, the apply ends in an error naming the resources and the cause, the state parses and
//! matches moto, the lock is released, and an apply with the faults gone converges.
//! `PEDESTAL_FAULT_RATES` (percent, comma-separated) sets the transient rates, `PEDESTAL_SUITE_SEED`
//! the seed; both report the faults injected and the retries the SDK made.

use pedestal::state::StateStore;

use super::crash::{apply_under, fraud_stack, store};
use super::ctx::Ctx;
use super::faults::{Campaign, Counts};
use super::figures::{Rng, report, seed};
use super::inventory::{assert_matches_state, live};

fn describe(c: &Counts) -> String {
    let kinds: Vec<String> = c.faults.iter().map(|(k, n)| format!("{k} {n}")).collect();
    format!(
        "{} requests, {} faults ({}), {} delayed, {} retries",
        c.requests,
        c.total_faults(),
        kinds.join(", "),
        c.delayed,
        c.retries
    )
}

fn rates() -> Vec<u32> {
    match std::env::var("PEDESTAL_FAULT_RATES") {
        Ok(v) if !v.trim().is_empty() => v
            .split(',')
            .map(|r| {
                r.trim()
                    .parse()
                    .unwrap_or_else(|e| panic!("PEDESTAL_FAULT_RATES={v:?}: {e}"))
            })
            .collect(),
        _ => vec![10, 30],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_and_destroy_complete_through_transient_faults() {
    let mut rng = Rng::new(seed("fault suite (transient)"));
    let c = Ctx::new("faults").await;
    for rate in rates() {
        let st = fraud_stack();
        let campaign = Campaign {
            marker: st.name.clone(),
            seed: rng.next(),
            transient: f64::from(rate) / 100.0,
            latency: 0.1,
            ..Campaign::default()
        };
        let (status, err, applied) = apply_under(&st, campaign.clone());
        assert!(
            status.success(),
            "apply with {rate}% faults failed ({}):\n{err}",
            describe(&applied)
        );
        assert!(
            applied.total_faults() > 0 && applied.retries > 0,
            "{applied:?}"
        );
        st.run(&["plan", "--detailed-exitcode"]).expect(0);
        let state = store(&st).read().unwrap().expect("state");
        assert_matches_state(&c, &st.name, &state, &format!("{rate}% faults")).await;

        super::faults::arm(Campaign {
            seed: rng.next(),
            ..campaign
        });
        let r = st.run(&["destroy", "--auto-approve"]);
        let destroyed = super::faults::disarm(&st.name);
        assert_eq!(
            r.code(),
            0,
            "destroy with {rate}% faults failed ({}):\n{}",
            describe(&destroyed),
            r.stderr()
        );
        let left = live(&c, &st.name).await;
        assert!(left.is_empty(), "destroy with {rate}% faults left {left:?}");
        report(&format!(
            "fault suite: {rate}% transient faults: apply completed ({}); destroy completed ({})",
            describe(&applied),
            describe(&destroyed)
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistently_failing_api_ends_in_a_clear_error_then_converges() {
    let mut rng = Rng::new(seed("fault suite (persistent)"));
    let c = Ctx::new("persist").await;
    let st = fraud_stack();
    let (status, err, counts) = apply_under(
        &st,
        Campaign {
            marker: st.name.clone(),
            seed: rng.next(),
            persistent: Some("CreateService".into()),
            ..Campaign::default()
        },
    );
    assert_eq!(status.code(), Some(1), "{err}");
    for part in [
        "endpoint.fraud.service",
        "module.churn.endpoint.model.service",
        "ServiceUnavailable",
    ] {
        assert!(err.contains(part), "no {part:?} in:\n{err}");
    }
    assert!(
        !err.contains("throttling"),
        "a 503 is no throttling:\n{err}"
    );
    // Each CreateService was tried as often as the retry configuration allows.
    let attempts = pedestal::provider::aws::retry_config().max_attempts() as usize;
    assert_eq!(
        counts.faults.get("persistent"),
        Some(&(2 * attempts)),
        "{counts:?}"
    );
    let state = store(&st).read().unwrap().expect("state");
    assert!(
        !store(&st).lock_path().exists(),
        "the failed apply left its lock"
    );
    assert_matches_state(&c, &st.name, &state, "the failed apply").await;

    let r = st.run(&["apply", "--auto-approve"]).expect(0);
    assert!(r.stdout().contains("Apply complete!"), "{}", r.stdout());
    st.run(&["plan", "--detailed-exitcode"]).expect(0);
    let state = store(&st).read().unwrap().expect("state");
    assert_matches_state(&c, &st.name, &state, "the apply after the faults").await;
    st.run(&["destroy", "--auto-approve"]).expect(0);
    assert!(live(&c, &st.name).await.is_empty());
    let said = err
        .lines()
        .find(|l| l.contains("endpoint.fraud.service"))
        .unwrap_or_default();
    report(&format!(
        "fault suite: CreateService failing every time: apply failed naming both services \
         ({}); the next apply converged\n  the error: {}",
        describe(&counts),
        said.trim()
    ));
}
