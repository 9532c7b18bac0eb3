//! The planner on stacks large enough that it matches resources against their records ahead of
//! its walk, on two threads: a match found that way is taken only where the walk would find
//! the same, so changed dependencies, `--target`, tainted resources, `ignore_changes` and
//! `--replace` plan exactly as on a small stack.

use pedestal::plan::{Action, Plan, PlanOptions, Reason, ResourceChange, plan};
use pedestal::state::{State, Status};

use super::fixture::{self, Endpoint, Spec, addr};

/// Endpoints enough for over 2,000 resources (the planner's threshold for a second thread).
const ENDPOINTS: usize = 350;
/// An endpoint whose resources are in the first half of the sorted addresses, and one in the
/// second (the halves matched on different threads).
const EARLY: &str = "m0010";
const LATE: &str = "m0300";

fn endpoints() -> Vec<Endpoint> {
    (0..ENDPOINTS)
        .map(|i| Endpoint::new(&format!("m{i:04}")))
        .collect()
}

/// The stack with `edit` applied to the named endpoints, and the state of the stack unedited.
fn large(edit: impl Fn(&mut Endpoint), names: &[&str]) -> (Spec, State) {
    let before = endpoints();
    let config = fixture::config(&before);
    assert!(
        config.resources.len() >= 2_000,
        "{}",
        config.resources.len()
    );
    let state = fixture::applied(&config, 3);
    let mut after = before;
    for e in after
        .iter_mut()
        .filter(|e| names.contains(&e.name.as_str()))
    {
        edit(e);
    }
    (Spec::new(&after), state)
}

/// A new release of the model: new artifact, version and image.
fn release(e: &mut Endpoint) {
    e.version = "1.4.0".into();
    e.artifact = "1.4.0".into();
    e.image_tag = "2.5.0".into();
}

fn change<'a>(p: &'a Plan, a: &str) -> &'a ResourceChange {
    p.changes
        .iter()
        .find(|c| c.address.as_str() == a)
        .unwrap_or_else(|| panic!("{a} not in plan"))
}

/// Every change not in one of `blocks` (endpoint names) is a no-op.
fn only_these_change(p: &Plan, blocks: &[&str]) {
    for c in &p.changes {
        let named = blocks.iter().any(|b| {
            c.address.block() == format!("endpoint.{b}")
                || c.address.block() == format!("artifact.{b}_model")
        });
        if !named {
            assert_eq!(c.action, Action::NoOp, "{}", c.address);
        }
    }
}

/// The changes of endpoint `name` planned on the large stack are those planned on a stack of
/// that endpoint alone, with the same edit.
fn same_as_alone(p: &Plan, name: &str, edit: impl Fn(&mut Endpoint)) {
    let alone = [Endpoint::new(name)];
    let state = fixture::applied(&fixture::config(&alone), 3);
    let mut e = alone[0].clone();
    edit(&mut e);
    let small = plan(&fixture::config(&[e]), &state, &PlanOptions::default()).unwrap();
    let mut compared = 0;
    for c in small
        .changes
        .iter()
        .filter(|c| c.address.as_str().contains(name))
    {
        assert_eq!(change(p, c.address.as_str()), c, "{}", c.address);
        compared += 1;
    }
    assert!(compared >= 5, "{compared}");
}

#[test]
fn a_changed_dependency_reaches_its_dependents_on_both_threads() {
    let (spec, state) = large(release, &[EARLY, LATE]);
    let p = plan(&spec.load(), &state, &PlanOptions::default()).unwrap();
    for name in [EARLY, LATE] {
        let td = change(&p, &format!("endpoint.{name}.task_definition"));
        assert_eq!(
            (td.action, td.reason.clone()),
            (Action::Update, Some(Reason::NewRevision))
        );
        assert!(td.after.as_ref().unwrap()["arn"].is_unknown());
        // The service refers to the task definition's ARN, unchanged in its record: it must
        // see the new, unknown one.
        let svc = change(&p, &format!("endpoint.{name}.service"));
        assert_eq!(svc.action, Action::Update, "{name}");
        assert!(svc.after.as_ref().unwrap()["task_definition"].is_unknown());
        assert_eq!(
            change(&p, &format!("artifact.{name}_model.object")).action,
            Action::Update
        );
        same_as_alone(&p, name, release);
    }
    only_these_change(&p, &[EARLY, LATE]);
    // An unchanged service's reference resolves from its dependency's record.
    let svc = change(&p, "endpoint.m0200.service");
    assert_eq!(
        svc.after.as_ref().unwrap()["task_definition"],
        state.resources[&addr("endpoint.m0200.task_definition")].attrs["arn"]
    );
    let s = p.summary();
    assert_eq!((s.add, s.change, s.destroy), (0, 6, 0));
}

#[test]
fn targets_plan_the_target_and_its_dependencies_only() {
    let (spec, state) = large(release, &[LATE]);
    let config = spec.load();
    let opts = PlanOptions {
        targets: vec![format!("endpoint.{LATE}.service")],
        ..Default::default()
    };
    let p = plan(&config, &state, &opts).unwrap();
    let mut got: Vec<&str> = p.changes.iter().map(|c| c.address.as_str()).collect();
    got.sort();
    let want = [
        format!("artifact.{LATE}_model.object"),
        "compute.serving.cluster".to_string(),
        format!("endpoint.{LATE}.log_group"),
        format!("endpoint.{LATE}.service"),
        format!("endpoint.{LATE}.task_definition"),
        format!("endpoint.{LATE}.task_role"),
        "storage.models.bucket".to_string(),
    ];
    assert_eq!(got, want);
    assert_eq!(
        change(&p, &format!("endpoint.{LATE}.service")).action,
        Action::Update
    );
    assert!(
        change(&p, &format!("endpoint.{LATE}.service"))
            .after
            .as_ref()
            .unwrap()["task_definition"]
            .is_unknown()
    );
    // An unchanged target plans no-ops.
    let opts = PlanOptions {
        targets: vec![format!("endpoint.{EARLY}")],
        ..Default::default()
    };
    let p = plan(&config, &state, &opts).unwrap();
    assert!(p.changes.len() >= 6);
    assert!(p.changes.iter().all(|c| c.action == Action::NoOp));
}

/// The service whose task definition `td` is replaced is replaced with it (its `name` is
/// the task definition's family) and sees its new, unknown ARN.
fn follows(p: &Plan, td: &str, service: &str) {
    let svc = change(p, service);
    assert_eq!(
        (svc.action, svc.reason.clone()),
        (
            Action::DeleteThenCreate,
            Some(Reason::DependencyReplaced {
                address: addr(td),
                attrs: vec!["name".into()]
            })
        )
    );
    assert!(svc.after.as_ref().unwrap()["task_definition"].is_unknown());
}

#[test]
fn a_tainted_dependency_reaches_its_dependents() {
    let (spec, mut state) = large(|_| {}, &[]);
    let td = addr(&format!("endpoint.{LATE}.task_definition"));
    state.resources.get_mut(&td).unwrap().status = Status::Tainted;
    let p = plan(&spec.load(), &state, &PlanOptions::default()).unwrap();
    let c = change(&p, td.as_str());
    assert!(c.action.is_replace(), "{:?}", c.action);
    assert_eq!(c.reason, Some(Reason::Tainted));
    follows(&p, td.as_str(), &format!("endpoint.{LATE}.service"));
    only_these_change(&p, &[LATE]);
}

#[test]
fn a_requested_replacement_reaches_its_dependents() {
    let (spec, state) = large(|_| {}, &[]);
    let td = format!("endpoint.{EARLY}.task_definition");
    let opts = PlanOptions {
        replace: vec![td.clone()],
        ..Default::default()
    };
    let p = plan(&spec.load(), &state, &opts).unwrap();
    let c = change(&p, &td);
    assert!(c.action.is_replace(), "{:?}", c.action);
    assert_eq!(c.reason, Some(Reason::ReplaceRequested));
    follows(&p, &td, &format!("endpoint.{EARLY}.service"));
    only_these_change(&p, &[EARLY]);
}

#[test]
fn ignore_changes_holds_on_a_large_stack() {
    let (spec, state) = large(|e| e.max = 20, &[LATE]);
    let p = plan(&spec.clone().load(), &state, &PlanOptions::default()).unwrap();
    let scaling = format!("endpoint.{LATE}.scaling");
    assert_eq!(change(&p, &scaling).action, Action::Update);
    only_these_change(&p, &[LATE]);
    // Ignoring the changed attribute of that one endpoint leaves nothing to do.
    let block = format!("[endpoint.{LATE}]\n");
    let ignoring = spec.edit(|t| {
        let at = t.find(&block).expect("the endpoint's block");
        let (head, tail) = t.split_at(at);
        let tail = tail.replacen(
            "autoscaling = {",
            "lifecycle = { ignore_changes = [\"autoscaling\"] }\nautoscaling = {",
            1,
        );
        format!("{head}{tail}")
    });
    let p = plan(&ignoring.load(), &state, &PlanOptions::default()).unwrap();
    assert_eq!(change(&p, &scaling).action, Action::NoOp);
    assert!(!p.has_changes());
}
