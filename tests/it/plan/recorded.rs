//! The recorded state of the fraud-detection example's shared `prod` environment
//! (`state/fraud-detection/prod.json`), and the plan it gives with no AWS account at all.
//!
//! The state is generated, not written by hand: the example loaded as it was at the previous
//! release (`model_version = 1.3.0`, `max_replicas = 6`), "applied" with synthetic ARNs, then
//! given the previous artifact digest and image tag. Regenerate after a lowering change with
//! `PEDESTAL_REGENERATE=1 cargo test --test it plan::recorded`.

use std::path::PathBuf;

use pedestal::spec::{self, LoadOptions};
use pedestal::state::{Release, State};

use super::fixture;

const PREVIOUS_IMAGE_TAG: &str = "2.3.0";
/// The passphrase the recorded state's secrets are digested under (`PEDESTAL_SECRET_KEY`): the
/// state holds keyed digests only, never a bare hash of a guessable secret.
pub const FIXTURE_PASSPHRASE: &str = "fraud-detection-example-state";

/// Every secret held in `v`.
fn secrets_in(v: &pedestal::resource::Value, out: &mut Vec<pedestal::resource::Value>) {
    use pedestal::resource::Value;
    match v {
        Value::Sensitive(inner) => out.push((**inner).clone()),
        Value::List(l) => l.iter().for_each(|x| secrets_in(x, out)),
        Value::Map(m) => m.values().for_each(|x| secrets_in(x, out)),
        _ => {}
    }
}

fn example() -> PathBuf {
    crate::common::repo_root().join("examples/fraud-detection")
}

fn recorded_path() -> PathBuf {
    crate::common::repo_root().join("state/fraud-detection/prod.json")
}

/// The state a `pedestal apply` of the previous prod release would have recorded.
fn generate() -> String {
    let opts = LoadOptions {
        env: "prod".into(),
        vars: vec![
            ("model_version".into(), "1.3.0".into()),
            ("max_replicas".into(), "6".into()),
        ],
        ..Default::default()
    };
    let config =
        spec::load(&example(), &opts).unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let mut state: State = fixture::applied(&config, 7);
    state.lineage = "0b6f3c1e-5d2a-4c8e-9f41-7a3e2d1c0b9a".into();
    state.serial = 42;
    let td = |addr: &str| {
        state.resources[&pedestal::addr::Address::new(addr)]
            .id
            .clone()
    };
    let fraud_td = td("endpoint.fraud.task_definition");
    let churn_td = td("module.churn.endpoint.model.task_definition");
    let release = |version: &str, arn: &str, sha: &str, image: &str, at: &str| Release {
        version: version.into(),
        task_definition_arn: arn.into(),
        artifact_sha256: Some(sha.into()),
        image: image.into(),
        started_at: at.into(),
        outcome: pedestal::state::Outcome::Completed,
        ..Default::default()
    };
    let current_sha = config.resources
        [&pedestal::addr::Address::new("artifact.fraud_model.object")]
        .attrs["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let previous_sha = fixture::sha("fraud.onnx@1.3.0");
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud-serve";
    state.releases.insert(
        "endpoint.fraud".into(),
        vec![
            release(
                "1.2.0",
                &fraud_td.replace(":7", ":6"),
                &fixture::sha("fraud.onnx@1.2.0"),
                &format!("{image}:2.2.0"),
                "2026-10-02T09:14:03Z",
            ),
            release(
                "1.3.0",
                &fraud_td,
                &previous_sha,
                &format!("{image}:{PREVIOUS_IMAGE_TAG}"),
                "2026-11-03T15:40:11Z",
            ),
        ],
    );
    let churn_sha = config.resources[&pedestal::addr::Address::new("artifact.churn_model.object")]
        .attrs["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    state.releases.insert(
        "module.churn.endpoint.model".into(),
        vec![release(
            "1.2.0",
            &churn_td,
            &churn_sha,
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-serve:1.2.0",
            "2026-11-03T15:41:52Z",
        )],
    );
    let mut text = pedestal::state::to_canonical_string(&state).unwrap();
    // Digests under this process's key become salted slow-hash digests, which compare on any
    // machine whatever its key (a newcomer's first plan shows no secret change); the salt is
    // fixed so the file regenerates byte for byte. The example's token is not a real secret, and
    // its digest takes `EXAMPLE_ITERATIONS` so the README's first plan stays quick in a debug
    // build; digests pedestal writes itself take `SLOW_ITERATIONS` (600,000).
    use pedestal::resource::secret_key::{SLOW_PREFIX, pbkdf2_sha256};
    const EXAMPLE_ITERATIONS: u32 = 10_000;
    let salt =
        &pedestal::resource::secret_key::hmac_sha256(FIXTURE_PASSPHRASE.as_bytes(), b"salt")[..16];
    let mut secrets = Vec::new();
    for r in config.resources.values() {
        r.attrs.values().for_each(|v| secrets_in(v, &mut secrets));
    }
    assert!(!secrets.is_empty(), "the example keeps a secret");
    for s in secrets {
        let json = serde_json::to_string(&s).unwrap();
        text = text.replace(
            &pedestal::resource::Value::secret_digest(&s),
            &format!(
                "{SLOW_PREFIX}{EXAMPLE_ITERATIONS}:{}:{}",
                hex::encode(salt),
                hex::encode(pbkdf2_sha256(json.as_bytes(), salt, EXAMPLE_ITERATIONS))
            ),
        );
    }
    // The previous release ran another artifact and image build.
    text.replace(&current_sha, &previous_sha).replace(
        &format!("{image}:2.4.1"),
        &format!("{image}:{PREVIOUS_IMAGE_TAG}"),
    )
}

#[test]
fn recorded_prod_state_is_generated_and_up_to_date() {
    let generated = generate();
    assert!(
        !generated.contains("not-a-real-token"),
        "secrets are stored as digests only"
    );
    use sha2::Digest;
    let bare = hex::encode(sha2::Sha256::digest(b"\"not-a-real-token\""));
    assert!(
        !generated.contains(&bare),
        "no bare SHA-256 of a guessable secret"
    );
    assert!(
        generated.contains("\"pbkdf2-sha256:"),
        "salted slow digests"
    );
    let path = recorded_path();
    if std::env::var_os("PEDESTAL_REGENERATE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date; regenerate it with PEDESTAL_REGENERATE=1 cargo test --test it plan::recorded",
        path.display()
    );
}

fn pedestal(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pedestal"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(
            pedestal::resource::secret_key::ENV_PASSPHRASE,
            FIXTURE_PASSPHRASE,
        )
        .output()
        .unwrap()
}

#[test]
fn example_prod_plan_shows_the_release_with_no_credentials() {
    let dir = example();
    let dir = dir.to_str().unwrap();
    let out = pedestal(&["plan", "-C", dir, "--env", "prod", "--no-refresh"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}\n{stdout}");
    assert!(
        stdout.contains("endpoint.fraud: release 1.3.0 → 1.4.0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("image tag        2.3.0 → 2.4.1"),
        "{stdout}"
    );
    assert!(stdout.contains("~ max"), "scaling change: {stdout}");
    assert!(
        !stdout.contains("module.churn.endpoint.model: release"),
        "churn is unchanged"
    );
    insta::assert_snapshot!("example_fraud_detection_prod_plan", stdout);

    let out = pedestal(&[
        "plan",
        "-C",
        dir,
        "--env",
        "prod",
        "--no-refresh",
        "--format",
        "markdown",
    ]);
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.starts_with("**Plan: 0 to add, 4 to change, 0 to destroy.**"),
        "{md}"
    );
    insta::assert_snapshot!("example_fraud_detection_prod_plan_markdown", md);

    let out = pedestal(&[
        "plan",
        "-C",
        dir,
        "--env",
        "prod",
        "--no-refresh",
        "--detailed-exitcode",
    ]);
    assert_eq!(out.status.code(), Some(2));
    // The lock is released after planning.
    assert!(
        !crate::common::repo_root()
            .join("state/fraud-detection/prod.json.lock")
            .exists()
    );
}
