//! Saved plans: round trip, format checks, and the distinct staleness refusals.

use pedestal::plan::file::{self, PlanFileError, StalePlan};
use pedestal::plan::{PlanOptions, plan};
use pedestal::resource::Value;

use super::fixture::{self, Endpoint};

#[test]
fn saved_plan_round_trips_and_is_refused_when_stale() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::config(&[Endpoint::new("fraud")]);
    let mut state = fixture::applied(&config, 1);
    let p = plan(&config, &state, &PlanOptions::default()).unwrap();
    let path = dir.path().join("release.tfplan");
    file::write(&path, &p, &config.variables).unwrap();
    let back = file::read(&path).unwrap();
    assert_eq!(back, p);
    file::verify(&back, &config, Some(&state)).unwrap();

    state.serial = 9;
    let err = file::verify(&back, &config, Some(&state)).unwrap_err();
    assert_eq!(err, StalePlan::SerialMoved { from: 7, to: 9 });
    assert!(
        err.to_string().contains("from serial 7 to serial 9"),
        "{err}"
    );

    state.serial = 7;
    state.lineage = "another".into();
    let err = file::verify(&back, &config, Some(&state)).unwrap_err();
    assert!(matches!(err, StalePlan::LineageChanged { .. }));
    assert!(err.to_string().contains("lineage"), "{err}");
    assert!(matches!(
        file::verify(&back, &config, None),
        Err(StalePlan::StateGone { .. })
    ));

    let state = fixture::applied(&config, 1);
    let mut changed = config.clone();
    changed.digest = "sha256:different".into();
    let err = file::verify(&back, &changed, Some(&state)).unwrap_err();
    assert!(matches!(err, StalePlan::SpecChanged { .. }));
    assert!(err.to_string().contains("spec or variables"), "{err}");
}

#[test]
fn plan_on_empty_state_is_stale_once_state_exists() {
    let config = fixture::config(&[Endpoint::new("fraud")]);
    let empty = pedestal::state::State::new(fixture::STACK, fixture::ENV);
    let p = plan(&config, &empty, &PlanOptions::default()).unwrap();
    file::verify(&p, &config, None).unwrap();
    let state = fixture::applied(&config, 1);
    assert_eq!(
        file::verify(&p, &config, Some(&state)),
        Err(StalePlan::SerialMoved { from: 0, to: 7 })
    );
}

#[test]
fn unknown_formats_and_foreign_files_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.json");
    std::fs::write(&path, "{\"hello\": 1}").unwrap();
    assert!(matches!(
        file::read(&path),
        Err(PlanFileError::NotAPlan { .. })
    ));
    let config = fixture::config(&[Endpoint::new("fraud")]);
    let p = plan(
        &config,
        &fixture::applied(&config, 1),
        &PlanOptions::default(),
    )
    .unwrap();
    file::write(&path, &p, &Default::default()).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\"file_format_version\": 1", "\"file_format_version\": 7"),
    )
    .unwrap();
    let err = file::read(&path).unwrap_err();
    assert!(matches!(err, PlanFileError::UnknownFormat { .. }), "{err}");
}

#[test]
fn saved_plans_record_their_variables_and_secrets_only_as_digests() {
    const SECRET: &str = "hunter2-plan-file-secret";
    let dir = tempfile::tempdir().unwrap();
    let mut config = fixture::config(&[Endpoint::new("fraud")]);
    config.variables.insert("replicas".into(), Value::Int(3));
    config.variables.insert(
        "token".into(),
        Value::Sensitive(Box::new(Value::str(SECRET))),
    );
    let state = fixture::applied(&config, 1);
    let p = plan(&config, &state, &PlanOptions::default()).unwrap();
    let path = dir.path().join("release.plan");
    file::write(&path, &p, &config.variables).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains("\"replicas\": 3"), "{text}");

    let saved = file::read_saved(&path).unwrap();
    assert_eq!(saved.plan, p);
    assert_eq!(saved.variables["replicas"], Value::Int(3));
    assert!(matches!(saved.variables["token"], Value::Redacted(_)));
    assert_eq!(
        saved.pinned().into_iter().collect::<Vec<_>>(),
        vec![("replicas".to_string(), Value::Int(3))],
        "only non-sensitive values are put back"
    );
    file::check_secrets(&saved, &config).unwrap();

    let mut other = config.clone();
    other.variables.insert(
        "token".into(),
        Value::Sensitive(Box::new(Value::str("another-value"))),
    );
    let err = file::check_secrets(&saved, &other).unwrap_err();
    assert_eq!(
        err,
        StalePlan::SecretChanged {
            name: "token".into(),
            env: fixture::ENV.into()
        }
    );
    let msg = err.to_string();
    assert!(msg.contains("`token`"), "{msg}");
    assert!(
        !msg.contains(SECRET) && !msg.contains("another-value"),
        "{msg}"
    );

    other
        .variables
        .insert("token".into(), Value::Sensitive(Box::new(Value::Unknown)));
    assert!(matches!(
        file::check_secrets(&saved, &other),
        Err(StalePlan::SecretMissing { .. })
    ));
}
