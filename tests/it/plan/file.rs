//! Saved plans: round trip, format checks, and the distinct staleness refusals.

use pedestal::plan::file::{self, PlanFileError, StalePlan};
use pedestal::plan::{PlanOptions, plan};

use super::fixture::{self, Endpoint};

#[test]
fn saved_plan_round_trips_and_is_refused_when_stale() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::config(&[Endpoint::new("fraud")]);
    let mut state = fixture::applied(&config, 1);
    let p = plan(&config, &state, &PlanOptions::default()).unwrap();
    let path = dir.path().join("release.tfplan");
    file::write(&path, &p).unwrap();
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
    file::write(&path, &p).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\"file_format_version\": 1", "\"file_format_version\": 7"),
    )
    .unwrap();
    let err = file::read(&path).unwrap_err();
    assert!(matches!(err, PlanFileError::UnknownFormat { .. }), "{err}");
}
