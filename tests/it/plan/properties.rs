//! Properties of the planner over random stacks ([`super::world`]), applied against the
//! in-memory fake provider: applying a plan and planning again gives no changes; planning is
//! deterministic (the same spec and state give the same plan, also after the state went through
//! its JSON form); a destroy plan lists the create plan's resources in reverse, each before
//! everything it depends on, and applying it leaves nothing behind.

use std::collections::BTreeMap;
use std::sync::Arc;

use pedestal::addr::Address;
use pedestal::plan::{Action, Plan, PlanMode, PlanOptions};
use pedestal::provider::fake::FakeProvider;
use pedestal::state::State;
use proptest::prelude::*;

use super::world::{apply_plan, plan_checked, scratch, world};

/// (address, action) of every change that is not a no-op, in plan order.
fn changed(p: &Plan) -> Vec<(String, Action)> {
    p.changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.to_string(), c.action))
        .collect()
}

fn destroy() -> PlanOptions {
    PlanOptions {
        mode: PlanMode::Destroy,
        ..PlanOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn applying_a_plan_then_planning_again_changes_nothing(before in world(), after in world()) {
        let (rt, dir) = scratch();
        let fake = Arc::new(FakeProvider::new());
        let mut state = State::new("pp", "dev");
        for w in [&before, &after] {
            let config = w.load(dir.path())?;
            let p = plan_checked(&config, &state, &PlanOptions::default())?;
            state = apply_plan(&rt, &p, state, &fake)?;
            let again = plan_checked(&config, &state, &PlanOptions::default())?;
            prop_assert!(
                !again.has_changes(),
                "planning again after the apply still changes {:?} (outputs {:?}, prunes {:?})\n{}",
                changed(&again),
                again.outputs.iter().filter(|(_, o)| o.changed()).collect::<Vec<_>>(),
                again.prunes,
                w.spec()
            );
        }
    }

    #[test]
    fn plans_are_deterministic(before in world(), after in world()) {
        let (rt, dir) = scratch();
        let fake = Arc::new(FakeProvider::new());
        let config = before.load(dir.path())?;
        let p = plan_checked(&config, &State::new("pp", "dev"), &PlanOptions::default())?;
        let state = apply_plan(&rt, &p, State::new("pp", "dev"), &fake)?;
        // The same spec loaded again and the state read back from its JSON form.
        let first = plan_checked(&after.load(dir.path())?, &state, &PlanOptions::default())?;
        let json = pedestal::state::state_to_string(&state).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let reread: State = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let second = plan_checked(&after.load(dir.path())?, &reread, &PlanOptions::default())?;
        prop_assert_eq!(&first, &second, "{}", after.spec());
        let render = |p: &Plan| serde_json::to_string(p).unwrap();
        prop_assert_eq!(render(&first), render(&second));
    }

    #[test]
    fn a_destroy_plan_is_the_create_plan_in_reverse(w in world()) {
        let (rt, dir) = scratch();
        let fake = Arc::new(FakeProvider::new());
        let config = w.load(dir.path())?;
        let created = plan_checked(&config, &State::new("pp", "dev"), &PlanOptions::default())?;
        let creates = changed(&created);
        prop_assert!(!creates.is_empty());
        prop_assert!(creates.iter().all(|(_, a)| *a == Action::Create), "{:?}", creates);
        let state = apply_plan(&rt, &created, State::new("pp", "dev"), &fake)?;

        let destroyed = plan_checked(&config, &state, &destroy())?;
        let deletes = changed(&destroyed);
        prop_assert!(deletes.iter().all(|(_, a)| *a == Action::Delete), "{:?}", deletes);
        let mut reversed: Vec<&String> = creates.iter().map(|(a, _)| a).collect();
        reversed.reverse();
        prop_assert_eq!(deletes.iter().map(|(a, _)| a).collect::<Vec<_>>(), reversed, "{}", w.spec());
        // Each resource is deleted before everything it depends on.
        let position: BTreeMap<&str, usize> =
            deletes.iter().enumerate().map(|(i, (a, _))| (a.as_str(), i)).collect();
        for (addr, r) in &state.resources {
            for d in &r.dependencies {
                let (Some(me), Some(dep)) = (position.get(addr.as_str()), position.get(d.as_str())) else {
                    continue;
                };
                prop_assert!(me < dep, "{} is deleted after its dependency {}", addr, d);
            }
        }
        let left = apply_plan(&rt, &destroyed, state, &fake)?;
        prop_assert!(left.resources.is_empty(), "{:?}", left.resources.keys().collect::<Vec<&Address>>());
        prop_assert!(fake.objects().is_empty(), "{:?}", fake.objects());
    }
}
