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
    let mut text = String::from(concat!(
        "[stack]\nname = \"big\"\n\n[provider.aws]\n",
        "network = { subnets = [\"subnet-1\"], security_groups = [\"sg-1\"], public_ip = false }\n",
        "\n[compute.cluster]\n\n",
    ));
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

/// The stack in `dir` loaded for `env` with its blocks lowered in one order on one thread, and
/// by levels with every level's blocks split between two threads (results as text).
fn load_in_order_and_by_levels(dir: &Path, env: &str) -> (String, String) {
    use crate::spec::resolve::LEVEL_SPLIT_MIN;
    let opts = LoadOptions::env(env);
    let mut results = [usize::MAX, 0].map(|min| {
        LEVEL_SPLIT_MIN.with(|m| m.set(min));
        format!("{:?}", Loader::new(dir, &opts).run())
    });
    LEVEL_SPLIT_MIN.with(|m| m.set(crate::spec::resolve::LEVEL_SPLIT_FROM));
    let [in_order, by_levels] = std::mem::take(&mut results);
    (in_order, by_levels)
}

#[test]
fn a_stack_lowered_by_levels_on_two_threads_loads_as_lowered_in_order() {
    let dir = tempfile::tempdir().unwrap();
    // Buckets, endpoints reading them, `depends_on`, a gateway with routes, a module with
    // inputs and outputs, stack outputs: several levels of several blocks each.
    let extra = [
        "[gateway.public]",
        "subnets = [\"subnet-1\", \"subnet-2\"]",
        "[endpoint.routed]",
        "compute = \"cluster\"",
        "image = \"r:1\"",
        "model = { version = \"1\" }",
        "port = 8080",
        "route = { gateway = \"public\", path = \"/r/*\" }",
        "depends_on = [\"storage.b0001\"]",
        "[endpoint.routed2]",
        "compute = \"cluster\"",
        "image = \"r:1\"",
        "model = { version = \"1\" }",
        "port = 8080",
        "route = { gateway = \"public\", path = \"/s/*\" }",
        "[module.team]",
        "source = \"./team\"",
        "inputs = { bucket = \"${storage.b0002.bucket}\" }",
        "[outputs]",
        "team = \"${module.team.models}\"",
        "first = \"${endpoint.e0001.service_name}\"",
    ]
    .join("\n");
    std::fs::write(dir.path().join("pedestal.toml"), large_stack(40, &extra)).unwrap();
    std::fs::create_dir_all(dir.path().join("team")).unwrap();
    let team = [
        "[inputs.bucket]",
        "type = \"string\"",
        "[storage.models]",
        "[storage.logs]",
        "depends_on = [\"storage.models\"]",
        "[outputs]",
        "models = \"${storage.models.bucket}\"",
        "reads = \"${var.bucket}\"",
    ];
    std::fs::write(dir.path().join("team/pedestal.toml"), team.join("\n")).unwrap();
    let (in_order, by_levels) = load_in_order_and_by_levels(dir.path(), "dev");
    assert!(in_order.starts_with("Ok("), "{in_order}");
    assert!(in_order.contains("module.team.storage.logs"));
    assert_eq!(by_levels, in_order);
}

#[test]
fn a_stack_lowered_by_levels_reports_as_lowered_in_order() {
    let dir = tempfile::tempdir().unwrap();
    // Errors in blocks of one level on both threads, and the stack's tag limit, which is
    // reported once, at the first block lowered in order.
    let tags: String = (0..49).map(|i| format!("t{i} = \"v\", ")).collect();
    let text = large_stack(
        40,
        "[endpoint.zz]\ncompute = \"cluster\"\ncpu = \"big\"\nimage = \"x:1\"\ncolour = 1\n",
    )
    .replace("[storage.b0003]\n", "[storage.b0003]\nsize = 1\n")
    .replace("[storage.b0030]\n", "[storage.b0030]\ncolour = 2\n")
    .replace(
        "name = \"big\"\n",
        &format!("name = \"big\"\ntags = {{ {tags} }}\n"),
    );
    std::fs::write(dir.path().join("pedestal.toml"), &text).unwrap();
    let (in_order, by_levels) = load_in_order_and_by_levels(dir.path(), "dev");
    assert!(in_order.starts_with("Err("), "{in_order}");
    assert!(in_order.matches("SpecError").count() >= 4, "{in_order}");
    assert_eq!(by_levels, in_order);
}

#[test]
fn every_example_and_invalid_case_loads_by_levels_as_in_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![
        (root.join("examples/quickstart"), "dev"),
        (root.join("examples/fraud-detection"), "prod"),
    ];
    let mut cases: Vec<_> = std::fs::read_dir(root.join("tests/invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 30);
    dirs.extend(cases.into_iter().map(|c| (c, "dev")));
    for (dir, env) in dirs {
        let (in_order, by_levels) = load_in_order_and_by_levels(&dir, env);
        assert_eq!(by_levels, in_order, "{}", dir.display());
    }
}
