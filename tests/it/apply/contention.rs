//! Lock contention on the local backend: two `pedestal apply` runs started together, round after
//! round (each round changes the stack's tags, so every resource is updated): exactly one run
//! proceeds, the other stops at once naming the holder of the lock; afterwards the state parses,
//! carries the round's change, and a plan finds nothing to do. `PEDESTAL_LOCK_ROUNDS` sets the
//! rounds (20 in `scripts/lock-suite`).

use std::process::Stdio;

use pedestal::state::{LocalStore, StateStore};

use super::cli::{Run, Stack};
use super::ctx::Ctx;
use super::figures::{knob, report};

/// Both runs of one round, in the order they were started.
fn race(st: &Stack) -> [Run; 2] {
    let spawn = || {
        st.command(&["apply", "--auto-approve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    [
        Run(a.wait_with_output().unwrap()),
        Run(b.wait_with_output().unwrap()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_started_together_one_proceeds_the_other_names_the_holder() {
    let rounds: usize = knob("PEDESTAL_LOCK_ROUNDS", 4);
    let st = Stack::example("quickstart", "quickstart");
    // moto never completes the rollout of an updated service: the runs do not wait for it.
    st.edit(|t| {
        t.replace(
            "health_check = {",
            "deployment = { wait = false }\nhealth_check = {",
        )
    });
    let _c = Ctx::new("lock").await;
    let store = LocalStore::new(st.dir.join("state/dev.json"), &st.name, "dev");
    let who = pedestal::state::LockInfo::new("apply").who;
    let mut won = [0usize; 2];
    for round in 0..rounds {
        let tag = format!("ml-platform-r{round}");
        st.edit(|t| {
            let start = t.find("tags = { owner = \"").unwrap();
            let end = start + t[start..].find('}').unwrap() + 1;
            format!("{}tags = {{ owner = \"{tag}\" }}{}", &t[..start], &t[end..])
        });
        let runs = race(&st);
        let codes = [runs[0].code(), runs[1].code()];
        let winner = match codes {
            [0, 1] => 0,
            [1, 0] => 1,
            _ => panic!(
                "round {round}: exit codes {codes:?}, one run must proceed and the other stop\n\
                 first:\n{}\n{}\nsecond:\n{}\n{}",
                runs[0].stdout(),
                runs[0].stderr(),
                runs[1].stdout(),
                runs[1].stderr()
            ),
        };
        won[winner] += 1;
        let (proceeded, refused) = (&runs[winner], &runs[1 - winner]);
        assert!(
            proceeded.stdout().contains("Apply complete! Resources: "),
            "round {round}: {}\n{}",
            proceeded.stdout(),
            proceeded.stderr()
        );
        let err = refused.stderr();
        for part in [
            "the state is locked by another run".to_string(),
            format!("Who:       {who}"),
            "Operation: apply".to_string(),
            "pedestal force-unlock ".to_string(),
        ] {
            assert!(err.contains(&part), "round {round}: no {part:?} in:\n{err}");
        }
        assert!(!err.contains("unreadable"), "round {round}:\n{err}");
        assert!(
            !refused.stdout().contains("Apply complete"),
            "round {round}: {}",
            refused.stdout()
        );

        // The state parses, carries this round's tags, and nothing is left to do.
        let state = store.read().unwrap().expect("state after the round");
        let bucket = state
            .resources
            .get(&pedestal::addr::Address::new("storage.models.bucket"))
            .expect("the bucket is recorded");
        let recorded = serde_json::to_string(&bucket.attrs).unwrap();
        assert!(recorded.contains(&tag), "round {round}: {recorded}");
        assert!(
            !st.dir.join("state/dev.json.lock").exists(),
            "round {round}: the lock was left behind"
        );
        st.run(&["plan", "--detailed-exitcode"]).expect(0);
    }
    report(&format!(
        "lock contention: {rounds}/{rounds} rounds with exactly one run proceeding \
         (first started won {}, second {})",
        won[0], won[1]
    ));
    st.run(&["destroy", "--auto-approve"]).expect(0);
}
