//! The plan workflow over a store: refresh seam, drift, saving, lock handling.

use std::time::Duration;

use pedestal::ops::OpsError;
use pedestal::ops::plan::{PlanRequest, plan_locked};
use pedestal::ops::refresh::{RefreshError, Refreshed, Refresher};
use pedestal::plan::{Action, Drift};
use pedestal::resource::Value;
use pedestal::state::{MemoryStore, State, StateStore};

use super::fixture::{self, Endpoint, addr};

/// Reports the service's desired count changed to 5 outside pedestal.
struct ScaledOutside;

impl Refresher for ScaledOutside {
    fn refresh(&self, state: &State) -> Result<Refreshed, RefreshError> {
        let mut live = state.clone();
        let svc = addr("endpoint.fraud.service");
        let before = state.resources[&svc].attrs.clone();
        let r = live.resources.get_mut(&svc).unwrap();
        r.attrs.insert("desired_count".into(), Value::Int(5));
        let after = r.attrs.clone();
        Ok(Refreshed {
            drift: vec![Drift {
                address: svc,
                kind: r.kind,
                before,
                after: Some(after),
            }],
            state: live,
        })
    }
}

struct Broken;

impl Refresher for Broken {
    fn refresh(&self, _: &State) -> Result<Refreshed, RefreshError> {
        Err(RefreshError::Provider("no credentials".into()))
    }
}

fn req() -> PlanRequest {
    PlanRequest {
        env: "prod".into(),
        refresh: true,
        ..Default::default()
    }
}

#[test]
fn refresh_drift_is_planned_and_reported() {
    let config = fixture::config(&[Endpoint::new("fraud")]);
    let store = MemoryStore::with_state(fixture::applied(&config, 1));
    let out = plan_locked(config, &store, &req(), Some(&ScaledOutside)).unwrap();
    assert_eq!(out.plan.drift.len(), 1);
    let svc = out
        .plan
        .changes
        .iter()
        .find(|c| c.address.as_str() == "endpoint.fraud.service")
        .unwrap();
    assert_eq!(svc.action, Action::Update);
    assert_eq!(svc.before.as_ref().unwrap()["desired_count"], Value::Int(5));
    // Planning never writes state.
    assert_eq!(store.counts(), (0, 0));
}

#[test]
fn no_refresh_skips_the_refresher_and_errors_explain_the_way_out() {
    let config = fixture::config(&[Endpoint::new("fraud")]);
    let store = MemoryStore::with_state(fixture::applied(&config, 1));
    let mut r = req();
    r.refresh = false;
    let out = plan_locked(config.clone(), &store, &r, Some(&Broken)).unwrap();
    assert!(!out.plan.has_changes());
    let err = plan_locked(config, &store, &req(), Some(&Broken)).unwrap_err();
    assert!(matches!(err, OpsError::Refresh(_)));
    assert!(err.to_string().contains("--no-refresh"), "{err}");
}

#[test]
fn empty_state_needs_no_refresh_and_out_saves_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::config(&[Endpoint::new("fraud")]);
    let store = MemoryStore::new(fixture::STACK, fixture::ENV);
    let mut r = req();
    r.out = Some(dir.path().join("p.plan"));
    let out = plan_locked(config.clone(), &store, &r, Some(&Broken)).unwrap();
    let saved = pedestal::plan::file::read(out.saved.as_ref().unwrap()).unwrap();
    assert_eq!(saved, out.plan);
    pedestal::plan::file::verify(&saved, &config, None).unwrap();
}

#[test]
fn vars_parse_strictly() {
    let ok = PlanRequest::parse_vars(&["a=1".into(), "b=x=y".into()]).unwrap();
    assert_eq!(ok["b"], "x=y");
    assert!(PlanRequest::parse_vars(&["nope".into()]).is_err());
}

#[test]
fn a_held_lock_is_reported_with_its_id() {
    let store = MemoryStore::new(fixture::STACK, fixture::ENV);
    let g = store.lock("apply", Duration::ZERO).unwrap();
    let err = store.lock("plan", Duration::from_millis(150)).unwrap_err();
    assert!(err.to_string().contains(g.id()));
}
