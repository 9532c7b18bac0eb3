//! Plans the engine benchmarks hand to the applier: a destroy of everything a state holds, and
//! a bare plan around a list of changes.

use pedestal::plan::{Action, Plan, PlanMode, ResourceChange, StateRef};
use pedestal::resource::Lifecycle;
use pedestal::state::State;

/// Deletes of everything `state` holds, with its recorded dependencies.
pub fn destroy_plan(stack: &str, state: &State) -> Plan {
    let changes = state
        .resources
        .iter()
        .map(|(a, rs)| ResourceChange {
            address: a.clone(),
            kind: rs.kind,
            action: Action::Delete,
            reason: None,
            before: Some(rs.attrs.clone()),
            after: None,
            replace_paths: vec![],
            id: Some(rs.id.clone()),
            depends_on: rs.dependencies.clone(),
            lifecycle: Lifecycle::default(),
        })
        .collect();
    wrap(stack, changes, PlanMode::Destroy)
}

/// A plan of `changes` for `stack`, with nothing else in it.
pub fn wrap(stack: &str, changes: Vec<ResourceChange>, mode: PlanMode) -> Plan {
    Plan {
        format_version: pedestal::plan::FORMAT_VERSION.into(),
        stack: stack.into(),
        env: "bench".into(),
        mode,
        prior_state: StateRef::default(),
        spec_digest: String::new(),
        git_commit: None,
        provider: Default::default(),
        changes,
        drift: vec![],
        releases: vec![],
        prunes: vec![],
        outputs: Default::default(),
        targets: vec![],
        cost: Default::default(),
    }
}
