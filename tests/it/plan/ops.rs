//! The plan workflow over a store: refresh seam, drift, saving, lock handling.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pedestal::ops::OpsError;
use pedestal::ops::plan::{PlanRequest, plan_locked};
use pedestal::ops::refresh::{RefreshError, Refreshed, Refresher};
use pedestal::plan::{Action, Drift};
use pedestal::provider::{ErrorKind, ProviderError};
use pedestal::resource::Value;
use pedestal::state::{MemoryStore, State, StateStore};

use super::fixture::{self, Endpoint, addr};

/// Reports the service's desired count changed to 5 outside pedestal.
struct ScaledOutside;

#[async_trait]
impl Refresher for ScaledOutside {
    async fn refresh(&self, state: &State) -> Result<Refreshed, RefreshError> {
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

#[async_trait]
impl Refresher for Broken {
    async fn refresh(&self, _: &State) -> Result<Refreshed, RefreshError> {
        Err(RefreshError::Read {
            address: addr("endpoint.fraud.service"),
            source: Box::new(ProviderError::new(ErrorKind::Credentials, "no credentials")),
        })
    }
}

fn req() -> PlanRequest {
    PlanRequest {
        env: "prod".into(),
        refresh: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn refresh_drift_is_planned_and_reported() {
    let config = fixture::config(&[Endpoint::new("fraud")]);
    let store = Arc::new(MemoryStore::with_state(fixture::applied(&config, 1)));
    let out = plan_locked(config, store.clone(), &req(), Some(&ScaledOutside))
        .await
        .unwrap();
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

#[tokio::test]
async fn no_refresh_skips_the_refresher_and_errors_explain_the_way_out() {
    let config = fixture::config(&[Endpoint::new("fraud")]);
    let store = Arc::new(MemoryStore::with_state(fixture::applied(&config, 1)));
    let mut r = req();
    r.refresh = false;
    let out = plan_locked(config.clone(), store.clone(), &r, Some(&Broken))
        .await
        .unwrap();
    assert!(!out.plan.has_changes());
    let err = plan_locked(config, store.clone(), &req(), Some(&Broken))
        .await
        .unwrap_err();
    assert!(matches!(err, OpsError::Refresh(_)));
    assert!(err.to_string().contains("--no-refresh"), "{err}");
}

#[tokio::test]
async fn empty_state_needs_no_refresh_and_out_saves_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::config(&[Endpoint::new("fraud")]);
    let store = Arc::new(MemoryStore::new(fixture::STACK, fixture::ENV));
    let mut r = req();
    r.out = Some(dir.path().join("p.plan"));
    let out = plan_locked(config.clone(), store.clone(), &r, Some(&Broken))
        .await
        .unwrap();
    let saved = pedestal::plan::file::read(out.saved.as_ref().unwrap()).unwrap();
    assert_eq!(saved, out.plan);
    pedestal::plan::file::verify(&saved, &config, None).unwrap();
}

#[test]
fn vars_parse_strictly() {
    let ok = pedestal::spec::parse_var_args(&["a=1".into(), "b=x=y".into()]).unwrap();
    assert_eq!(ok["b"], "x=y");
    assert!(pedestal::spec::parse_var_args(&["nope".into()]).is_err());
}

#[test]
fn a_held_lock_is_reported_with_its_id() {
    let store = Arc::new(MemoryStore::new(fixture::STACK, fixture::ENV));
    let g = store.lock("apply", Duration::ZERO).unwrap();
    let err = store.lock("plan", Duration::from_millis(150)).unwrap_err();
    assert!(err.to_string().contains(g.id()));
}
