//! Tests for the loader: files, sections, modules and diagnostics.

use super::*;

#[test]
fn normalize_is_lexical() {
    assert_eq!(
        normalize(Path::new("examples/x/../../modules/m")),
        PathBuf::from("modules/m")
    );
    assert_eq!(normalize(Path::new("./a/./b")), PathBuf::from("a/b"));
    assert_eq!(normalize(Path::new("../a")), PathBuf::from("../a"));
    assert_eq!(normalize(Path::new(".")), PathBuf::from("."));
    assert_eq!(slash(Path::new("a/b/c")), "a/b/c");
}

#[test]
fn block_names_and_exports() {
    assert!(valid_name("fraud_model-2"));
    assert!(!valid_name("a.b"));
    assert!(!valid_name(""));
    assert_eq!(BlockKind::parse("endpoint"), Some(BlockKind::Endpoint));
    assert!(BlockKind::Artifact.exports().contains(&"uri"));
    assert!(BlockKind::Module.exports().is_empty());
}

fn load_text(text: &str) -> Result<Config, Diagnostics> {
    let dir = std::env::temp_dir().join(format!(
        "pedestal-load-{}-{}",
        std::process::id(),
        text.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pedestal.toml"), text).unwrap();
    let opts = LoadOptions::env("dev");
    let r = Loader::new(&dir, &opts).run();
    std::fs::remove_dir_all(&dir).ok();
    r
}

#[test]
fn region_falls_back_to_the_provider() {
    let c = load_text("[stack]\nname = \"r\"\n\n[provider.aws]\nregion = \"eu-west-1\"\n").unwrap();
    assert_eq!(c.region, "eu-west-1");
    assert_eq!(c.provider.region, "eu-west-1");
    let c = load_text("[stack]\nname = \"r\"\nregion = \"us-west-2\"\n").unwrap();
    assert_eq!(c.provider.region, "us-west-2");
    assert_eq!(
        c.backend,
        Backend::Local {
            path: PathBuf::from("state/dev.json")
        }
    );
}

#[test]
fn s3_backend_and_missing_keys() {
    let c = load_text(
            "[stack]\nname = \"b\"\n\n[backend]\ntype = \"s3\"\nbucket = \"tf-${env}\"\nkey = \"b.json\"\n",
        )
        .unwrap();
    assert_eq!(
        c.backend,
        Backend::S3 {
            bucket: "tf-dev".into(),
            key: "b.json".into(),
            region: None,
            encrypt: true,
            kms_key_id: None,
        }
    );
    let e = load_text("[stack]\nname = \"bb\"\n\n[backend]\ntype = \"s3\"\n").unwrap_err();
    assert_eq!(e.len(), 2, "bucket and key are both reported");
}

#[test]
fn s3_backend_encryption_and_env_in_key() {
    let c = load_text(
            "[stack]\nname = \"b\"\n\n[backend]\ntype = \"s3\"\nbucket = \"tf\"\nkey = \"b/${env}.json\"\nregion = \"eu-west-1\"\nkms_key_id = \"alias/state\"\n",
        )
        .unwrap();
    assert_eq!(
        c.backend,
        Backend::S3 {
            bucket: "tf".into(),
            key: "b/dev.json".into(),
            region: Some("eu-west-1".into()),
            encrypt: true,
            kms_key_id: Some("alias/state".into()),
        }
    );
    let c = load_text(
            "[stack]\nname = \"b\"\n\n[backend]\ntype = \"s3\"\nbucket = \"tf\"\nkey = \"k\"\nencrypt = false\n",
        )
        .unwrap();
    assert!(matches!(c.backend, Backend::S3 { encrypt: false, .. }));
    let e = load_text(
            "[stack]\nname = \"b\"\n\n[backend]\ntype = \"s3\"\nbucket = \"tf\"\nkey = \"k\"\nencrypt = false\nkms_key_id = \"k1\"\n",
        )
        .unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(format!("{e:?}").contains("kms_key_id"), "{e:?}");
    let e = load_text("[stack]\nname = \"b\"\n\n[backend]\nencrypt = true\n").unwrap_err();
    assert!(
        format!("{e:?}").contains("only used by the s3 backend"),
        "{e:?}"
    );
}

#[test]
fn provider_timeouts_are_durations_above_zero() {
    let c = load_text(
        "[stack]\nname = \"t\"\n\n[provider.aws]\nattempt_timeout = \"5s\"\noperation_timeout = \"1m 30s\"\n",
    )
    .unwrap();
    assert_eq!(
        (c.provider.attempt_timeout, c.provider.operation_timeout),
        (
            Some(std::time::Duration::from_secs(5)),
            Some(std::time::Duration::from_secs(90))
        )
    );
    let c = load_text("[stack]\nname = \"t\"\n").unwrap();
    assert_eq!(
        (c.provider.attempt_timeout, c.provider.operation_timeout),
        (None, None)
    );
    let e = load_text(
        "[stack]\nname = \"t\"\n\n[provider.aws]\nattempt_timeout = \"0s\"\noperation_timeout = \"soon\"\n",
    )
    .unwrap_err();
    let text = format!("{e:?}");
    assert_eq!(e.len(), 2, "{text}");
    assert!(
        text.contains("`attempt_timeout` must be a duration above zero")
            && text.contains("`operation_timeout` must be a duration above zero"),
        "{text}"
    );
}

/// A stack of `n` buckets and `n` endpoints reading them, in the shape of a large release.
fn large_stack(n: usize, extra: &str) -> String {
    let mut text = String::from(
        "[stack]\nname = \"big\"\n\n[provider.aws]\nnetwork = { subnets = [\"subnet-1\"], \
         security_groups = [\"sg-1\"], public_ip = false }\n\n[compute.cluster]\n\n",
    );
    for i in 0..n {
        text.push_str(&format!(
            "[storage.b{i:04}]\nversioning = {}\n\n",
            i % 3 == 0
        ));
    }
    for i in 0..n {
        text.push_str(&format!(
            "[endpoint.e{i:04}]\ncompute = \"cluster\"\n\
             image = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1.0.{}\"\n\
             model = {{ version = \"1\" }}\ncpu = 256\nmemory = 512\nport = 8080\n\
             environment = {{ BUCKET = \"${{storage.b{i:04}.bucket}}\" }}\n\
             autoscaling = {{ min = 1, max = 4, target_cpu = 60 }}\n\n",
            i % 2
        ));
    }
    text.push_str(extra);
    text
}

/// Loads `text` with the stack file read in one piece and read in two parts on two threads.
fn load_whole_and_split(text: &str) -> (Result<Config, Diagnostics>, Result<Config, Diagnostics>) {
    use crate::spec::raw::{SPLIT_MIN, SPLIT_MIN_BYTES};
    SPLIT_MIN.with(|m| m.set(usize::MAX));
    let whole = load_text(text);
    SPLIT_MIN.with(|m| m.set(0));
    let split = load_text(text);
    SPLIT_MIN.with(|m| m.set(SPLIT_MIN_BYTES));
    (whole, split)
}

#[test]
fn a_stack_read_on_two_threads_loads_as_read_in_one_piece() {
    let text = large_stack(60, "");
    let (whole, split) = load_whole_and_split(&text);
    let whole = whole.unwrap();
    assert!(whole.resources.len() > 300);
    assert_eq!(split.unwrap(), whole);
}

#[test]
fn a_stack_read_on_two_threads_reports_as_read_in_one_piece() {
    // A bucket the second part defines again (a syntax error), then errors of lowering in
    // both parts: unknown keys, a type error, a missing image.
    let text = large_stack(
        60,
        "[storage.b0001]\nversioning = true\n\n[endpoint.zz]\ncompute = \"cluster\"\n\
         cpu = \"big\"\nimage = \"${storage.nope.bucket}\"\ncolour = 1\n",
    )
    .replace("[storage.b0003]\n", "[storage.b0003]\nsize = 1\n");
    let (whole, split) = load_whole_and_split(&text);
    let whole = whole.unwrap_err();
    assert!(!whole.is_empty());
    assert_eq!(format!("{:?}", split.unwrap_err()), format!("{whole:?}"));
    let text = large_stack(
        60,
        "[endpoint.zz]\ncompute = \"cluster\"\ncpu = \"big\"\ncolour = 1\n",
    )
    .replace("[storage.b0003]\n", "[storage.b0003]\nsize = 1\n");
    let (whole, split) = load_whole_and_split(&text);
    let whole = whole.unwrap_err();
    assert!(whole.len() >= 3, "{}", whole.len());
    assert_eq!(format!("{:?}", split.unwrap_err()), format!("{whole:?}"));
}
