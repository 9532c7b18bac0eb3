//! Figures the suites report (rounds won, crash points recovered, faults injected, retries):
//! each line goes to the test's captured stderr and, when `PEDESTAL_SUITE_REPORT` names a file,
//! is appended to it, so `scripts/crash-suite`, `scripts/fault-suite` and `scripts/lock-suite`
//! print them after the run. The knobs the scripts turn (rounds, points, seed, fault rates) are
//! read from the environment with the CI variant's values as defaults.

use std::io::Write;

/// Reports one line of figures.
#[allow(clippy::print_stderr)]
pub fn report(line: &str) {
    eprintln!("{line}");
    if let Ok(path) = std::env::var("PEDESTAL_SUITE_REPORT")
        && !path.is_empty()
    {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("opening {path}: {e}"));
        writeln!(f, "{line}").unwrap_or_else(|e| panic!("writing {path}: {e}"));
    }
}

/// The number in environment variable `name`, or `default` when unset or empty.
pub fn knob<T: std::str::FromStr>(name: &str, default: T) -> T
where
    T::Err: std::fmt::Debug,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{name}={v:?} is not a number: {e:?}")),
        _ => default,
    }
}

/// The seed in `PEDESTAL_SUITE_SEED`, or one drawn from the clock (reported, so a failing run
/// can be repeated).
pub fn seed(suite: &str) -> u64 {
    let seed = knob("PEDESTAL_SUITE_SEED", 0u64);
    let seed = if seed != 0 {
        seed
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1
    };
    report(&format!("{suite}: seed {seed}"));
    seed
}

/// A small seeded generator (xorshift64*): the suites' random choices, repeatable by seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (never zero inside).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// `true` with probability `p` (0 to 1).
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}
