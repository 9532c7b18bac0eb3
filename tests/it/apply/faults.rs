//! Seeded chaos in the conformance proxy (`conformance.rs` asks [`decide`] about every request
//! that passed its checks): a [`Campaign`] armed for a stack's name makes the proxy answer that
//! stack's requests with transient faults at a rate — HTTP 500 and 503 and throttling errors in
//! the request's protocol (awsJson `ThrottlingException`, awsQuery `Throttling`, S3 `SlowDown`),
//! connections dropped before the request is forwarded, added latency — or fail one operation
//! every time, or SIGKILL the run at its Nth request (before or after forwarding it). It counts
//! what it did, and the retries the SDK made (`amz-sdk-request: attempt=N`).

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::figures::Rng;

/// What a campaign does to the requests of its stack.
#[derive(Clone, Debug, Default)]
pub struct Campaign {
    /// The stack's name: requests whose target or body contain it are the campaign's.
    pub marker: String,
    /// The seed of the campaign's choices.
    pub seed: u64,
    /// The share of requests (0 to 1) answered with a transient fault.
    pub transient: f64,
    /// The share of requests delayed by up to 300 ms (besides faults).
    pub latency: f64,
    /// An operation (e.g. `CreateService`) answered with 503 every time.
    pub persistent: Option<String>,
    /// Kill the run at this request (1-based), forwarding the request first when `true`.
    pub kill_at: Option<(usize, bool)>,
}

/// What the proxy does with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chaos {
    /// Answer with this error (`InternalError`, `ServiceUnavailable` or `Throttling`, as the
    /// request's protocol spells it: [`code_for`]), never forwarding.
    Error(&'static str),
    /// Close the connection without forwarding or answering.
    Drop,
    /// Forward after this pause.
    Delay(Duration),
    /// SIGKILL the run (after forwarding the request when `forward`), then close unanswered.
    Kill {
        /// Whether AWS sees the request before the kill.
        forward: bool,
        /// The process to kill.
        pid: u32,
    },
}

/// What a campaign did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests of the campaign's stack seen while it was armed.
    pub requests: usize,
    /// Of those, retries (the SDK's attempt number above 1).
    pub retries: usize,
    /// Faults injected, by kind (`500`, `503`, `throttle`, `drop`, `persistent`).
    pub faults: BTreeMap<&'static str, usize>,
    /// Requests delayed.
    pub delayed: usize,
    /// Whether the kill fired.
    pub killed: bool,
}

impl Counts {
    /// All faults injected.
    pub fn total_faults(&self) -> usize {
        self.faults.values().sum()
    }
}

/// The most transient faults one request meets before an attempt is let through (the
/// product retries up to six attempts).
const TRANSIENT_IN_A_ROW: usize = 3;

struct Armed {
    campaign: Campaign,
    rng: Rng,
    counts: Counts,
    victim: Option<u32>,
}

fn armed() -> std::sync::MutexGuard<'static, Vec<Armed>> {
    static ARMED: OnceLock<Mutex<Vec<Armed>>> = OnceLock::new();
    ARMED
        .get_or_init(|| Mutex::new(Vec::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Arms `campaign` (replacing any other for the same stack).
pub fn arm(campaign: Campaign) {
    let mut a = armed();
    a.retain(|x| x.campaign.marker != campaign.marker);
    a.push(Armed {
        rng: Rng::new(campaign.seed),
        campaign,
        counts: Counts::default(),
        victim: None,
    });
}

/// Names the process a kill campaign for `marker` kills.
pub fn victim(marker: &str, pid: u32) {
    if let Some(x) = armed().iter_mut().find(|x| x.campaign.marker == marker) {
        x.victim = Some(pid);
    }
}

/// Disarms the campaign for `marker` and returns what it did.
pub fn disarm(marker: &str) -> Counts {
    let mut a = armed();
    let i = a.iter().position(|x| x.campaign.marker == marker);
    i.map(|i| a.remove(i).counts).unwrap_or_default()
}

/// The SDK's attempt number from `amz-sdk-request: attempt=N; max=M`.
fn attempt(header: Option<&str>) -> usize {
    header
        .and_then(|h| h.split(';').find_map(|p| p.trim().strip_prefix("attempt=")))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(1)
}

/// The chaos for one request: its operation, target, body and `amz-sdk-request` header.
pub fn decide(
    operation: Option<&str>,
    target: &str,
    body: &str,
    sdk_request: Option<&str>,
) -> Option<Chaos> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut a = armed();
        let x = a
            .iter_mut()
            .filter(|x| target.contains(&x.campaign.marker) || body.contains(&x.campaign.marker))
            .max_by_key(|x| x.campaign.marker.len())?;
        // A kill due before the run's pid is known waits for it (the run starts fast).
        let kill_due = x
            .campaign
            .kill_at
            .is_some_and(|(n, _)| n == x.counts.requests + 1);
        if kill_due && x.victim.is_none() && Instant::now() < deadline {
            drop(a);
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        return x.next(operation, sdk_request);
    }
}

impl Armed {
    fn next(&mut self, operation: Option<&str>, sdk_request: Option<&str>) -> Option<Chaos> {
        self.counts.requests += 1;
        if attempt(sdk_request) > 1 {
            self.counts.retries += 1;
        }
        if let Some((n, forward)) = self.campaign.kill_at
            && n == self.counts.requests
            && let Some(pid) = self.victim
        {
            self.campaign.kill_at = None;
            self.counts.killed = true;
            return Some(Chaos::Kill { forward, pid });
        }
        if operation.is_some() && operation == self.campaign.persistent.as_deref() {
            *self.counts.faults.entry("persistent").or_default() += 1;
            return Some(Chaos::Error("ServiceUnavailable"));
        }
        // Transient means it passes within the retry budget: one request meets at most
        // `TRANSIENT_IN_A_ROW` faults, its later attempts go through (at 30% and 200 requests,
        // six faults in a row would otherwise fail about one run in seven).
        if attempt(sdk_request) <= TRANSIENT_IN_A_ROW && self.rng.chance(self.campaign.transient) {
            let (kind, chaos) = match self.rng.below(4) {
                0 => ("500", Chaos::Error("InternalError")),
                1 => ("503", Chaos::Error("ServiceUnavailable")),
                2 => ("throttle", Chaos::Error("Throttling")),
                _ => ("drop", Chaos::Drop),
            };
            *self.counts.faults.entry(kind).or_default() += 1;
            return Some(chaos);
        }
        if self.rng.chance(self.campaign.latency) {
            self.counts.delayed += 1;
            return Some(Chaos::Delay(Duration::from_millis(
                20 + self.rng.below(280),
            )));
        }
        None
    }
}

/// The status and error code AWS answers for `error` in `protocol` (`json`, `query`, otherwise
/// S3's rest-xml).
pub fn code_for(protocol: Option<&str>, error: &str) -> (u16, &'static str) {
    match (protocol, error) {
        (Some("json"), "Throttling") => (400, "ThrottlingException"),
        (Some("json"), "InternalError") => (500, "InternalFailure"),
        (Some("json"), _) => (503, "ServiceUnavailableException"),
        (Some("query"), "Throttling") => (400, "Throttling"),
        (Some("query"), "InternalError") => (500, "InternalFailure"),
        (Some("query"), _) => (503, "ServiceUnavailable"),
        (_, "Throttling") => (503, "SlowDown"),
        (_, "InternalError") => (500, "InternalError"),
        _ => (503, "ServiceUnavailable"),
    }
}

/// SIGKILLs `pid` (the run's own exit status shows whether it died by the signal).
pub fn kill(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}
