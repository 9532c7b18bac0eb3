//! The spec workflow: examples validate, the graph has the edges apply relies on, lowering keeps
//! types and addresses, variables follow their precedence, and every case of the invalid-spec
//! corpus (`tests/invalid/<case>`) fails with a located, snapshot-pinned diagnostic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use pedestal::addr::Address;
use pedestal::graph;
use pedestal::resource::{ResourceKind, Value};
use pedestal::spec::{self, Config, LoadOptions};

use crate::common::repo_root;

fn load(dir: &Path, env: &str) -> Config {
    match spec::load(dir, &LoadOptions::env(env)) {
        Ok(c) => c,
        Err(d) => panic!("{dir:?} should load:\n{}", d.render(false, 100)),
    }
}

fn attr<'a>(c: &'a Config, addr: &str, name: &str) -> &'a Value {
    let r = c
        .resources
        .get(&Address::new(addr))
        .unwrap_or_else(|| panic!("no resource {addr}"));
    r.attrs
        .get(name)
        .unwrap_or_else(|| panic!("{addr} has no attribute {name}"))
}

fn pedestal() -> Command {
    Command::cargo_bin("pedestal").unwrap()
}

fn stack(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

const NET: &str =
    "[provider.aws]\nnetwork = { subnets = [\"subnet-1\"], security_groups = [\"sg-1\"] }\n";

#[test]
fn examples_validate_through_the_binary() {
    for (dir, env) in [
        ("examples/quickstart", "dev"),
        ("examples/fraud-detection", "dev"),
        ("examples/fraud-detection", "prod"),
    ] {
        let out = pedestal()
            .current_dir(repo_root())
            .args(["validate", "-C", dir, "--env", env])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{dir} --env {env}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("Success! The configuration is valid."),
            "{stdout}"
        );
    }
}

#[test]
fn modules_and_examples_parse_and_lower() {
    let fraud = load(&repo_root().join("examples/fraud-detection"), "prod");
    let prod_version = attr(&fraud, "endpoint.fraud.task_definition", "model");
    assert_eq!(
        prod_version.as_map().unwrap()["version"],
        Value::str("1.4.0")
    );
    let dev = load(&repo_root().join("examples/fraud-detection"), "dev");
    assert_eq!(
        attr(&dev, "endpoint.fraud.task_definition", "model")
            .as_map()
            .unwrap()["version"],
        Value::str("1.3.0")
    );
    assert_ne!(fraud.digest, dev.digest, "variables are part of the digest");
    let again = load(&repo_root().join("examples/fraud-detection"), "prod");
    assert_eq!(fraud.digest, again.digest, "the digest is deterministic");
    assert!(fraud.digest.starts_with("sha256:"));
}

#[test]
fn fraud_detection_lowering_snapshot() {
    let c = load(Path::new("examples/fraud-detection"), "prod");
    let resources: BTreeMap<&Address, &pedestal::resource::Resource> = c.resources.iter().collect();
    let json = serde_json::to_string_pretty(&resources).unwrap();
    assert!(
        !json.contains("not-a-real-token"),
        "secrets never appear in clear"
    );
    // Digests are keyed with this process's key: the snapshot shows where they are.
    let mut shown = String::new();
    let mut rest = json.as_str();
    while let Some(at) = rest.find("\"hmac-sha256:") {
        shown.push_str(&rest[..at]);
        shown.push_str("\"hmac-sha256:(digest)\"");
        rest = &rest[at + 1..];
        rest = &rest[rest.find('"').map_or(rest.len(), |i| i + 1)..];
    }
    shown.push_str(rest);
    assert!(
        json.contains("\"hmac-sha256:"),
        "the example's secret is held as a keyed digest"
    );
    insta::assert_snapshot!("fraud_detection_prod_resources", shown);
    let outputs = serde_json::to_string_pretty(&c.outputs).unwrap();
    insta::assert_snapshot!("fraud_detection_prod_outputs", outputs);
}

#[test]
fn graph_shows_services_following_their_cluster_and_artifact() {
    let out = pedestal()
        .current_dir(repo_root())
        .args(["graph", "-C", "examples/fraud-detection"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let dot = String::from_utf8_lossy(&out.stdout);
    for edge in [
        "\"endpoint.fraud.service\" -> \"compute.serving.cluster\"",
        "\"endpoint.fraud.service\" -> \"endpoint.fraud.task_definition\"",
        "\"endpoint.fraud.task_definition\" -> \"artifact.fraud_model.object\"",
        "\"module.churn.endpoint.model.service\" -> \"compute.serving.cluster\"",
        "\"module.churn.endpoint.model.service\" -> \"module.churn.endpoint.model.task_definition\"",
        "\"module.churn.endpoint.model.task_definition\" -> \"artifact.churn_model.object\"",
        "\"artifact.fraud_model.object\" -> \"storage.models.bucket\"",
    ] {
        assert!(dot.contains(edge), "missing {edge} in\n{dot}");
    }
    let out = pedestal()
        .current_dir(repo_root())
        .args(["graph", "-C", "examples/quickstart", "--format", "mermaid"])
        .output()
        .unwrap();
    let mermaid = String::from_utf8_lossy(&out.stdout);
    assert!(mermaid.starts_with("flowchart RL\n"), "{mermaid}");
    insta::assert_snapshot!("quickstart_mermaid", mermaid);

    // The order used by apply: every resource after its dependencies.
    let c = load(&repo_root().join("examples/fraud-detection"), "dev");
    let order = graph::order(&c);
    let pos = |a: &str| order.iter().position(|x| x.as_str() == a).unwrap();
    assert!(pos("storage.models.bucket") < pos("artifact.fraud_model.object"));
    assert!(pos("artifact.fraud_model.object") < pos("endpoint.fraud.task_definition"));
    assert!(pos("endpoint.fraud.task_definition") < pos("endpoint.fraud.service"));
    assert!(pos("compute.serving.cluster") < pos("module.churn.endpoint.model.service"));
    assert_eq!(order.len(), c.resources.len());
}

#[test]
fn interpolation_keeps_types_and_references() {
    let dir = stack(&[
        (
            "pedestal.toml",
            &format!(
                r#"[stack]
name = "types"
tags = {{ team = "ml" }}
{NET}
[variables.replicas]
type = "number"
default = 3
[variables.flag]
type = "bool"
default = true
[variables.token]
type = "string"
sensitive = true
default = "s3cr3t"

[storage.models]
versioning = "${{var.flag}}"

[artifact.m]
storage = "models"
source = "model.bin"

[compute.c]

[endpoint.api]
compute = "c"
image = "repo/api:${{env}}"
replicas = "${{var.replicas}}"
model = {{ version = "v${{var.replicas}}", artifact = "${{artifact.m.uri}}" }}
environment = {{ BUCKET_ARN = "${{storage.models.arn}}", LABEL = "arn=${{storage.models.arn}}!" }}
secrets = {{ TOKEN = "${{var.token}}" }}

[outputs]
bucket = "${{storage.models.bucket}}"
token = {{ value = "${{var.token}}", sensitive = true }}
"#
            ),
        ),
        ("model.bin", "weights"),
    ]);
    let c = load(dir.path(), "dev");
    assert_eq!(
        attr(&c, "endpoint.api.service", "desired_count"),
        &Value::Int(3)
    );
    assert_eq!(
        attr(&c, "storage.models.bucket", "versioning"),
        &Value::Bool(true)
    );
    assert_eq!(
        attr(&c, "storage.models.bucket", "bucket"),
        &Value::str("types-dev-models")
    );
    let container = attr(&c, "endpoint.api.task_definition", "container")
        .as_map()
        .unwrap();
    assert_eq!(container["image"], Value::str("repo/api:dev"));
    let env = container["environment"].as_map().unwrap();
    assert!(
        matches!(env["BUCKET_ARN"], Value::Ref(ref r) if r.attr == "arn" && r.address.as_str() == "storage.models.bucket")
    );
    assert!(matches!(env["LABEL"], Value::Template(_)));
    // The secret is stored as an SSM parameter; the container names it by ARN.
    let secrets = container["secrets"].as_map().unwrap();
    assert!(
        matches!(secrets["TOKEN"], Value::Ref(ref r) if r.attr == "arn" && r.address.as_str() == "endpoint.api.secret.TOKEN")
    );
    assert!(!env.contains_key("TOKEN"));
    assert!(matches!(
        attr(&c, "endpoint.api.secret.TOKEN", "value"),
        Value::Sensitive(_)
    ));
    assert_eq!(
        attr(&c, "endpoint.api.secret.TOKEN", "name"),
        &Value::str("/pedestal/types/dev/api/TOKEN")
    );
    assert_eq!(env["MODEL_VERSION"], Value::str("v3"));
    let sha = attr(&c, "artifact.m.object", "sha256")
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(sha.len(), 64);
    assert_eq!(env["MODEL_SHA256"], Value::String(sha.clone()));
    assert_eq!(
        env["MODEL_URI"],
        Value::String(format!("s3://types-dev-models/m/sha256-{sha}/model.bin"))
    );
    assert_eq!(attr(&c, "artifact.m.object", "size"), &Value::Int(7));
    assert!(matches!(c.variables["token"], Value::Sensitive(_)));
    assert!(c.outputs["token"].sensitive);
    assert!(!c.outputs["bucket"].sensitive);
    let tags = attr(&c, "compute.c.cluster", "tags").as_map().unwrap();
    assert_eq!(tags["team"], Value::str("ml"));
    assert_eq!(tags["pedestal:address"], Value::str("compute.c.cluster"));
    assert_eq!(tags["pedestal:env"], Value::str("dev"));
    let svc = &c.resources[&Address::new("endpoint.api.service")];
    assert!(svc.depends_on.contains(&Address::new("compute.c.cluster")));
    let td = &c.resources[&Address::new("endpoint.api.task_definition")];
    assert!(
        td.depends_on
            .contains(&Address::new("storage.models.bucket"))
    );
    assert!(td.depends_on.contains(&Address::new("artifact.m.object")));
}

#[test]
fn module_addresses_and_names_never_collide() {
    let dir = stack(&[
        (
            "pedestal.toml",
            &format!(
                r#"[stack]
name = "mods"
{NET}
[compute.serving]

[module.a]
source = "modules/pair"
inputs = {{ source = "a.bin" }}

[module.b]
source = "modules/pair"
inputs = {{ source = "b.bin" }}
depends_on = ["module.a", "compute.serving"]

[outputs]
a = "${{module.a.uri}}"
"#
            ),
        ),
        ("a.bin", "aaa"),
        ("b.bin", "bbbb"),
        (
            "modules/pair/module.toml",
            r#"[inputs.source]
type = "string"

[module.inner]
source = "../../../../modules/artifact-bucket"
inputs = { source = "${var.source}" }

[outputs]
uri = "${module.inner.uri}"
"#,
        ),
    ]);
    // The shipped module is addressed from the temporary stack through the repository path.
    let shipped = repo_root().join("modules/artifact-bucket");
    let module_file = dir.path().join("modules/pair/module.toml");
    let text = std::fs::read_to_string(&module_file).unwrap().replace(
        "../../../../modules/artifact-bucket",
        shipped.to_str().unwrap(),
    );
    std::fs::write(&module_file, text).unwrap();

    let c = load(dir.path(), "dev");
    let a_bucket = attr(&c, "module.a.module.inner.storage.bucket.bucket", "bucket");
    let b_bucket = attr(&c, "module.b.module.inner.storage.bucket.bucket", "bucket");
    assert_eq!(a_bucket, &Value::str("mods-dev-a-inner-bucket"));
    assert_ne!(a_bucket, b_bucket);
    assert_eq!(
        attr(&c, "module.b.module.inner.artifact.object.object", "size"),
        &Value::Int(4)
    );
    let obj = &c.resources[&Address::new("module.a.module.inner.artifact.object.object")];
    assert!(
        obj.depends_on
            .contains(&Address::new("module.a.module.inner.storage.bucket.bucket"))
    );
    // A module-level depends_on: every resource of module.b follows all of module.a.
    let b_bucket = &c.resources[&Address::new("module.b.module.inner.storage.bucket.bucket")];
    assert!(b_bucket.depends_on.contains(&Address::new(
        "module.a.module.inner.artifact.object.object"
    )));
    assert!(
        b_bucket
            .depends_on
            .contains(&Address::new("compute.serving.cluster"))
    );
    let uri = c.outputs["a"].value.as_str().unwrap();
    assert!(
        uri.starts_with("s3://mods-dev-a-inner-bucket/a-inner-object/sha256-"),
        "{uri}"
    );
}

#[test]
fn variable_precedence_default_env_file_environment_cli() {
    let spec = format!(
        "[stack]\nname = \"prec\"\n{NET}\n[variables.v]\ntype = \"number\"\ndefault = 1\n\n[compute.c]\n\n[endpoint.e]\ncompute = \"c\"\nimage = \"i\"\nmodel = {{ version = \"1\" }}\nreplicas = \"${{var.v}}\"\n"
    );
    let dir = stack(&[
        ("pedestal.toml", &spec),
        ("env/dev.toml", "v = 2\n"),
        ("env/other.toml", "\n"),
    ]);
    let replicas = |opts: LoadOptions| -> Value {
        let c =
            spec::load(dir.path(), &opts).unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
        attr(&c, "endpoint.e.service", "desired_count").clone()
    };
    assert_eq!(
        replicas(LoadOptions::env("other")),
        Value::Int(1),
        "default"
    );
    assert_eq!(replicas(LoadOptions::env("dev")), Value::Int(2), "env file");
    let mut opts = LoadOptions::env("dev");
    opts.env_vars.insert("v".into(), "3".into());
    assert_eq!(replicas(opts.clone()), Value::Int(3), "PEDESTAL_VAR_v");
    opts.vars.push(("v".into(), "4".into()));
    assert_eq!(replicas(opts), Value::Int(4), "--var wins");

    // A --var of the wrong type points into the --var text.
    let mut bad = LoadOptions::env("dev");
    bad.vars.push(("v".into(), "four".into()));
    let err = spec::load(dir.path(), &bad).unwrap_err().render(false, 100);
    assert!(err.contains("--var:1:3"), "{err}");
    assert!(err.contains("variable `v` is a number"), "{err}");

    // Through the binary, with PEDESTAL_VAR_ from the process environment.
    let out = pedestal()
        .args(["validate", "--env", "dev", "-C"])
        .arg(dir.path())
        .env("PEDESTAL_VAR_v", "lots")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PEDESTAL_VAR_v:1:1"), "{stderr}");

    // An unknown environment is named, with the known ones.
    let err = spec::load(dir.path(), &LoadOptions::env("dve"))
        .unwrap_err()
        .render(false, 100);
    assert!(err.contains("did you mean `dev`?"), "{err}");
}

#[test]
fn lifecycle_and_explicit_depends_on() {
    let spec = format!(
        "[stack]\nname = \"lc\"\n{NET}\n[storage.s]\n\n[compute.c]\n\n[endpoint.e]\ncompute = \"c\"\nimage = \"i\"\nmodel = {{ version = \"1\" }}\nautoscaling = {{ min = 1, max = 3 }}\ndepends_on = [\"storage.s\"]\nlifecycle = {{ prevent_destroy = true, ignore_changes = [\"replicas\", \"image\"] }}\n"
    );
    let dir = stack(&[("pedestal.toml", &spec)]);
    let c = load(dir.path(), "dev");
    let svc = &c.resources[&Address::new("endpoint.e.service")];
    assert_eq!(
        svc.lifecycle.ignore_changes,
        vec!["desired_count".to_string()]
    );
    assert!(svc.lifecycle.prevent_destroy);
    assert_eq!(
        svc.attrs["desired_count"],
        Value::Null,
        "autoscaling owns the count"
    );
    assert!(svc.depends_on.contains(&Address::new("storage.s.bucket")));
    let td = &c.resources[&Address::new("endpoint.e.task_definition")];
    assert_eq!(td.lifecycle.ignore_changes, vec!["container".to_string()]);
    let sc = &c.resources[&Address::new("endpoint.e.scaling")];
    assert_eq!(sc.kind, ResourceKind::ScalingTarget);
    assert_eq!(
        sc.attrs["resource_id"],
        Value::str("service/lc-dev-c/lc-dev-e")
    );
    assert_eq!(sc.attrs["policy_name"], Value::str("lc-dev-e-cpu"));
    assert!(
        !sc.attrs.contains_key("tags"),
        "scaling targets are not taggable"
    );
    assert!(sc.depends_on.contains(&Address::new("endpoint.e.service")));
}

#[test]
fn directory_artifacts_hash_a_manifest() {
    let spec = "[stack]\nname = \"dir\"\n\n[storage.s]\n\n[artifact.bundle]\nstorage = \"s\"\nsource = \"model\"\n";
    let dir = stack(&[
        ("pedestal.toml", spec),
        ("model/weights.bin", "w"),
        ("model/config/params.json", "{}"),
    ]);
    let c = load(dir.path(), "dev");
    let files = attr(&c, "artifact.bundle.object", "files")
        .as_map()
        .unwrap();
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        vec!["config/params.json", "weights.bin"]
    );
    let key = attr(&c, "artifact.bundle.object", "key").as_str().unwrap();
    assert!(
        key.starts_with("bundle/sha256-") && key.ends_with('/'),
        "{key}"
    );
    assert_eq!(attr(&c, "artifact.bundle.object", "size"), &Value::Int(3));
}

/// Every corpus case, loaded through the library, rendered without colour at width 100.
#[test]
fn invalid_corpus_snapshots() {
    let cases = corpus();
    assert!(cases.len() >= 30, "the corpus has {} cases", cases.len());
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let rel = PathBuf::from("tests/invalid").join(&name);
        let diags = match spec::load(&rel, &LoadOptions::env("dev")) {
            Ok(_) => panic!("{name} should be invalid"),
            Err(d) => d,
        };
        assert!(!diags.is_empty());
        let text = diags.render(false, 100);
        insta::assert_snapshot!(format!("invalid_{name}"), text);
    }
}

/// Every corpus case through the built binary: exit code 1, no panic, a `:line:col` location.
#[test]
fn invalid_corpus_through_the_binary() {
    for case in corpus() {
        let out = pedestal()
            .current_dir(repo_root())
            .arg("validate")
            .arg("-C")
            .arg(case.strip_prefix(repo_root()).unwrap())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{case:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{case:?}: {stderr}");
        let located = stderr.lines().any(|l| {
            l.split(':').collect::<Vec<_>>().windows(2).any(|w| {
                !w[0].is_empty()
                    && w[0].chars().all(|c| c.is_ascii_digit())
                    && w[1]
                        .trim_end_matches(']')
                        .chars()
                        .take_while(|c| c.is_ascii_digit())
                        .count()
                        > 0
            })
        });
        assert!(located, "{case:?} has no :line:col in\n{stderr}");
    }
}

/// A sensitive value where it would be stored or shown in clear (environment, tag, name,
/// output) or of the wrong type is a located error, through the library and the binary at every
/// verbosity, and no message prints the value (each case's default, `corpus-secret-N`).
#[test]
fn sensitive_corpus_cases_never_print_the_value() {
    let cases: Vec<PathBuf> = corpus()
        .into_iter()
        .filter(|c| {
            c.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("sensitive_"))
        })
        .collect();
    assert_eq!(cases.len(), 5, "{cases:?}");
    for case in cases {
        let rel = case.strip_prefix(repo_root()).unwrap().to_path_buf();
        let text = match spec::load(&rel, &LoadOptions::env("dev")) {
            Ok(_) => panic!("{case:?} should be invalid"),
            Err(d) => d.render(false, 100),
        };
        assert!(!text.contains("corpus-secret"), "{case:?}:\n{text}");
        for v in [&[][..], &["-v"], &["-vvv"]] {
            for cmd in [&["validate"][..], &["plan", "--no-refresh"]] {
                let out = pedestal()
                    .current_dir(repo_root())
                    .args(v)
                    .args(cmd)
                    .arg("-C")
                    .arg(&rel)
                    .env("NO_COLOR", "1")
                    .env("PEDESTAL_SECRET_KEY", "corpus")
                    .output()
                    .unwrap();
                let (stdout, stderr) = (
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr),
                );
                assert_eq!(out.status.code(), Some(1), "{case:?} {cmd:?}: {stderr}");
                assert!(stderr.contains("pedestal.toml:"), "{case:?}: {stderr}");
                assert!(
                    !stderr.contains("corpus-secret") && !stdout.contains("corpus-secret"),
                    "{case:?} {cmd:?} {v:?} printed the secret:\n{stdout}\n{stderr}"
                );
            }
        }
    }
}

fn corpus() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(repo_root().join("tests/invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("pedestal.toml").is_file())
        .collect();
    cases.sort();
    cases
}

/// Truncated or mangled input never panics: every prefix of an example, and a few byte-level
/// corruptions, load to either a config or diagnostics.
#[test]
fn truncated_and_garbled_input_never_panics() {
    let text = std::fs::read_to_string(repo_root().join("examples/fraud-detection/pedestal.toml"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("artifacts")).unwrap();
    for f in ["fraud.onnx", "churn.onnx"] {
        std::fs::copy(
            repo_root()
                .join("examples/fraud-detection/artifacts")
                .join(f),
            dir.path().join("artifacts").join(f),
        )
        .unwrap();
    }
    let write_and_load = |s: &str| {
        std::fs::write(dir.path().join("pedestal.toml"), s).unwrap();
        let mut opts = LoadOptions::env("dev");
        opts.vars.push(("model_version".into(), "1.0.0".into()));
        if let Err(d) = spec::load(dir.path(), &opts) {
            let _ = d.render(false, 80);
        }
    };
    let bounds: Vec<usize> = (0..=text.len())
        .filter(|i| text.is_char_boundary(*i))
        .collect();
    for (n, i) in bounds.iter().enumerate() {
        // Every prefix near the start, then every 3rd: ~1,300 loads in total.
        if n < 200 || n % 3 == 0 || *i == text.len() {
            write_and_load(&text[..*i]);
        }
    }
    // Every single line removed, from the stack file and from a copy of the module it uses.
    let lines: Vec<&str> = text.lines().collect();
    for skip in 0..lines.len() {
        let s: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        write_and_load(&s.join("\n"));
    }
    let module_text =
        std::fs::read_to_string(repo_root().join("modules/model-endpoint/module.toml")).unwrap();
    std::fs::create_dir_all(dir.path().join("m")).unwrap();
    let local = text.replace("../../modules/model-endpoint", "m");
    let module_lines: Vec<&str> = module_text.lines().collect();
    for skip in 0..module_lines.len() {
        let s: Vec<&str> = module_lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        std::fs::write(dir.path().join("m/module.toml"), s.join("\n")).unwrap();
        write_and_load(&local);
    }
    for garbage in [
        "${",
        "\"${",
        "[[",
        "= =",
        "\u{0}",
        "[endpoint.x]\ncpu = 99999999999999999999",
        "a.b.c.d = 1",
    ] {
        for at in [0, text.len() / 3, text.len() / 2, text.len()] {
            let mut s = text.clone();
            let at = (0..=at).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
            s.insert_str(at, garbage);
            write_and_load(&s);
        }
    }
}

/// A synthetic 10,000-resource spec loads quickly (no quadratic lookups).
#[test]
fn ten_thousand_resources_load_and_order() {
    let mut s = String::from("[stack]\nname = \"big\"\n");
    s.push_str(NET);
    for i in 0..1000 {
        s.push_str(&format!("\n[compute.c{i}]\n\n[storage.s{i}]\n"));
    }
    for i in 0..2000 {
        s.push_str(&format!(
            "\n[endpoint.e{i}]\ncompute = \"c{}\"\nimage = \"repo/e:{i}\"\nmodel = {{ version = \"1\" }}\nenvironment = {{ BUCKET = \"${{storage.s{}.bucket}}\" }}\nautoscaling = {{ min = 1, max = 2 }}\n",
            i % 1000,
            i % 1000
        ));
    }
    let dir = stack(&[("pedestal.toml", &s)]);
    let c = load(dir.path(), "dev");
    // 2,000 endpoints of 5 resources (log group, execution role, task definition, service,
    // scaling target), 1,000 clusters and 1,000 buckets.
    assert_eq!(c.resources.len(), 12_000);
    let order = graph::order(&c);
    assert_eq!(order.len(), 12_000);
    // How fast is measured by `scripts/bench-plan` (release build), not here.
}

#[test]
fn gpu_endpoints_run_on_ec2_capacity() {
    let spec = format!(
        "[stack]\nname = \"gpu\"\n{NET}\n[compute.gpus]\ncapacity_providers = [\"gpu-asg-provider\"]\n\n[endpoint.llm]\ncompute = \"gpus\"\nimage = \"i\"\nmodel = {{ version = \"1\" }}\ncpu = 4096\nmemory = 16384\ngpu = 1\n"
    );
    let dir = stack(&[("pedestal.toml", &spec)]);
    let c = load(dir.path(), "dev");
    assert_eq!(
        attr(&c, "endpoint.llm.service", "launch_type"),
        &Value::str("EC2")
    );
    assert_eq!(
        attr(
            &c,
            "endpoint.llm.task_definition",
            "requires_compatibilities"
        ),
        &Value::List(vec![Value::str("EC2")])
    );
    assert_eq!(
        attr(&c, "endpoint.llm.task_definition", "gpu"),
        &Value::Int(1)
    );
}

#[test]
fn list_and_map_variables_from_text() {
    let spec = format!(
        "[stack]\nname = \"lists\"\n{NET}\n[variables.subnets]\ntype = \"list\"\ndefault = [\"subnet-1\"]\n[variables.labels]\ntype = \"map\"\ndefault = {{}}\n[variables.on]\ntype = \"bool\"\ndefault = false\n\n[compute.c]\ncontainer_insights = \"${{var.on}}\"\n\n[endpoint.e]\ncompute = \"c\"\nimage = \"i\"\nmodel = {{ version = \"1\" }}\nenvironment = \"${{var.labels}}\"\nnetwork = {{ subnets = \"${{var.subnets}}\" }}\n"
    );
    let dir = stack(&[("pedestal.toml", &spec)]);
    let mut opts = LoadOptions::env("dev");
    opts.vars
        .push(("subnets".into(), "[\"subnet-a\", \"subnet-b\"]".into()));
    opts.vars
        .push(("labels".into(), "{ TEAM = \"risk\" }".into()));
    opts.env_vars
        .insert("PEDESTAL_VAR_on".into(), "true".into());
    let c = spec::load(dir.path(), &opts).unwrap_or_else(|d| panic!("{}", d.render(false, 100)));
    let net = attr(&c, "endpoint.e.service", "network").as_map().unwrap();
    assert_eq!(
        net["subnets"],
        Value::List(vec![Value::str("subnet-a"), Value::str("subnet-b")])
    );
    let container = attr(&c, "endpoint.e.task_definition", "container")
        .as_map()
        .unwrap();
    assert_eq!(
        container["environment"].as_map().unwrap()["TEAM"],
        Value::str("risk")
    );
    assert_eq!(
        attr(&c, "compute.c.cluster", "container_insights"),
        &Value::Bool(true)
    );

    let mut bad = LoadOptions::env("dev");
    bad.vars
        .push(("subnets".into(), "{ not = \"a list\" }".into()));
    bad.vars.push(("nope".into(), "1".into()));
    let err = spec::load(dir.path(), &bad).unwrap_err();
    assert_eq!(err.len(), 2, "{}", err.render(false, 100));
    let text = err.render(false, 100);
    assert!(text.contains("variable `subnets` is a list"), "{text}");
    assert!(
        text.contains("`nope`, which is not a declared variable"),
        "{text}"
    );
}

/// An environment file that is a directory is reported as one, not as a missing environment.
#[test]
fn an_environment_file_that_is_a_directory_says_so() {
    let dir = stack(&[
        ("pedestal.toml", &format!("[stack]\nname = \"s\"\n{NET}")),
        ("env/dev.toml/README", "not an environment file\n"),
    ]);
    let text = match spec::load(dir.path(), &LoadOptions::env("dev")) {
        Ok(_) => panic!("a directory is not an environment file"),
        Err(d) => d.render(false, 100),
    };
    assert!(
        text.contains("env/dev.toml is a directory, not a file"),
        "{text}"
    );
    assert!(!text.contains("does not exist"), "{text}");
}

/// A `module.toml` that is not a spec at all (a symlink to a system file, say) is reported by
/// its first offending line alone: none of its other lines reach the errors.
#[cfg(unix)]
#[test]
fn a_module_file_that_is_not_a_spec_is_not_echoed() {
    let lines: Vec<String> = (0..20)
        .map(|i| format!("user{i:02}:x:{i}:{i}:Someone {i}:/home/user{i:02}:/bin/sh"))
        .collect();
    let system = stack(&[("passwd", &(lines.join("\n") + "\n"))]);
    let dir = stack(&[(
        "pedestal.toml",
        &format!("[stack]\nname = \"s\"\n{NET}\n[module.x]\nsource = \"./m\"\n"),
    )]);
    std::fs::create_dir_all(dir.path().join("m")).unwrap();
    std::os::unix::fs::symlink(
        system.path().join("passwd"),
        dir.path().join("m/module.toml"),
    )
    .unwrap();
    let diags = match spec::load(dir.path(), &LoadOptions::env("dev")) {
        Ok(_) => panic!("not a spec"),
        Err(d) => d,
    };
    let text = diags.render(false, 100);
    assert_eq!(diags.len(), 1, "{text}");
    assert!(text.contains("module.toml:1:"), "{text}");
    assert!(text.contains("a pedestal spec?"), "{text}");
    let echoed: Vec<&String> = lines.iter().filter(|l| text.contains(l.as_str())).collect();
    assert_eq!(echoed, [&lines[0]], "only the offending line:\n{text}");
}

#[test]
fn endpoint_alarms_lower_to_cloudwatch_alarms_the_service_watches() {
    let dir = stack(&[(
        "pedestal.toml",
        &format!(
            r#"[stack]
name = "al"
{NET}
[compute.serving]

[endpoint.api]
compute = "serving"
image = "repo/api:1"
model = {{ version = "1.0.0" }}
alarms = {{ cpu_high = 90, memory_high = 80, rollback = false, notify = ["arn:aws:sns:us-east-1:123456789012:releases"] }}

[endpoint.quiet]
compute = "serving"
image = "repo/api:1"
model = {{ version = "1.0.0" }}
alarms = {{ memory_high = 70 }}
"#
        ),
    )]);
    let c = load(dir.path(), "dev");
    let cpu = &c.resources[&Address::new("endpoint.api.alarm.cpu_high")];
    assert_eq!(cpu.kind, ResourceKind::CloudwatchAlarm);
    assert_eq!(
        attr(&c, "endpoint.api.alarm.cpu_high", "name"),
        &Value::str("al-dev-api-cpu-high")
    );
    assert_eq!(
        attr(&c, "endpoint.api.alarm.cpu_high", "metric"),
        &Value::str("CPUUtilization")
    );
    assert_eq!(
        attr(&c, "endpoint.api.alarm.cpu_high", "namespace"),
        &Value::str("AWS/ECS")
    );
    assert_eq!(
        attr(&c, "endpoint.api.alarm.cpu_high", "threshold"),
        &Value::Int(90)
    );
    assert_eq!(
        attr(&c, "endpoint.api.alarm.cpu_high", "period"),
        &Value::Int(60)
    );
    assert_eq!(
        attr(&c, "endpoint.api.alarm.cpu_high", "evaluation_periods"),
        &Value::Int(3)
    );
    assert_eq!(
        attr(&c, "endpoint.api.alarm.cpu_high", "comparison_operator"),
        &Value::str("GreaterThanOrEqualToThreshold")
    );
    let dims = attr(&c, "endpoint.api.alarm.cpu_high", "dimensions")
        .as_map()
        .unwrap();
    assert_eq!(dims["ServiceName"], Value::str("al-dev-api"));
    assert!(dims.contains_key("ClusterName"));
    assert_eq!(
        attr(&c, "endpoint.api.alarm.memory_high", "metric"),
        &Value::str("MemoryUtilization")
    );
    let tags = attr(&c, "endpoint.api.alarm.memory_high", "tags")
        .as_map()
        .unwrap();
    assert_eq!(
        tags["pedestal:address"],
        Value::str("endpoint.api.alarm.memory_high")
    );
    // The alarms follow the cluster; the service follows its alarms and watches them.
    assert!(
        cpu.depends_on
            .contains(&Address::new("compute.serving.cluster"))
    );
    let svc = &c.resources[&Address::new("endpoint.api.service")];
    assert!(
        svc.depends_on
            .contains(&Address::new("endpoint.api.alarm.cpu_high"))
    );
    assert!(
        svc.depends_on
            .contains(&Address::new("endpoint.api.alarm.memory_high"))
    );
    let watched = attr(&c, "endpoint.api.service", "alarms").as_map().unwrap();
    assert_eq!(
        watched["names"],
        Value::List(vec![
            Value::str("al-dev-api-cpu-high"),
            Value::str("al-dev-api-memory-high")
        ])
    );
    assert_eq!(watched["rollback"], Value::Bool(false));
    // Each key is optional; rollback defaults to true.
    assert!(
        !c.resources
            .contains_key(&Address::new("endpoint.quiet.alarm.cpu_high"))
    );
    let quiet = attr(&c, "endpoint.quiet.service", "alarms")
        .as_map()
        .unwrap();
    assert_eq!(quiet["rollback"], Value::Bool(true));
}

#[test]
fn the_endpoint_module_takes_deployment_and_alarms() {
    let module = repo_root().join("modules/model-endpoint");
    let dir = stack(&[(
        "pedestal.toml",
        &format!(
            r#"[stack]
name = "mod"
{NET}
[compute.serving]

[module.churn]
source = "{}"
inputs = {{ name = "churn", version = "1.0.0", image = "repo/churn:1", compute = "${{compute.serving.name}}", deployment = {{ wait = false, timeout = "5m" }}, alarms = {{ cpu_high = 85 }} }}

[module.plain]
source = "{}"
inputs = {{ name = "plain", version = "1.0.0", image = "repo/plain:1", compute = "${{compute.serving.name}}" }}
"#,
            module.display(),
            module.display()
        ),
    )]);
    let c = load(dir.path(), "dev");
    assert_eq!(
        attr(&c, "module.churn.endpoint.model.alarm.cpu_high", "name"),
        &Value::str("mod-dev-churn-model-cpu-high")
    );
    let d = attr(&c, "module.churn.endpoint.model.service", "deployment")
        .as_map()
        .unwrap();
    assert_eq!(d["wait"], Value::Bool(false));
    assert_eq!(d["timeout_seconds"], Value::Int(300));
    assert!(
        !c.resources
            .keys()
            .any(|a| a.is_within("module.plain") && a.as_str().contains(".alarm."))
    );
    assert_eq!(
        attr(&c, "module.plain.endpoint.model.service", "alarms"),
        &Value::Null
    );
}

#[test]
fn shipped_modules_pass_retain_deployment_and_alarms_through() {
    let bucket_module = repo_root().join("modules/artifact-bucket");
    let endpoint_module = repo_root().join("modules/model-endpoint");
    let dir = stack(&[
        (
            "pedestal.toml",
            &format!(
                r#"[stack]
name = "mods"
{NET}
[compute.serving]

[module.kept]
source = "{bucket}"
inputs = {{ source = "a.bin", retain = 2 }}

[module.defaults]
source = "{bucket}"
inputs = {{ source = "b.bin" }}

[module.m]
source = "{endpoint}"
inputs = {{ name = "m", version = "1.0.0", image = "img:1", compute = "${{compute.serving.name}}", artifact = "${{module.kept.uri}}", deployment = {{ wait = false, timeout = "5m", min_healthy_percent = 50 }}, alarms = {{ cpu_high = 80, rollback = false }} }}
"#,
                bucket = bucket_module.display(),
                endpoint = endpoint_module.display(),
            ),
        ),
        ("a.bin", "aaa"),
        ("b.bin", "bbbb"),
    ]);
    let c = load(dir.path(), "dev");
    assert_eq!(
        attr(&c, "module.kept.artifact.object.object", "retain"),
        &Value::Int(2)
    );
    assert_eq!(
        attr(&c, "module.defaults.artifact.object.object", "retain"),
        &Value::Int(5),
        "the module's default is the artifact's"
    );
    let deployment = attr(&c, "module.m.endpoint.model.service", "deployment")
        .as_map()
        .unwrap();
    assert_eq!(deployment["wait"], Value::Bool(false));
    assert_eq!(deployment["timeout_seconds"], Value::Int(300));
    assert_eq!(deployment["min_healthy_percent"], Value::Int(50));
    let alarm = &c.resources[&Address::new("module.m.endpoint.model.alarm.cpu_high")];
    assert_eq!(alarm.kind, ResourceKind::CloudwatchAlarm);
    assert_eq!(alarm.attrs["threshold"], Value::Int(80));
    assert!(
        !c.resources
            .contains_key(&Address::new("module.m.endpoint.model.alarm.memory_high")),
        "only the alarms given"
    );
    let wired = attr(&c, "module.m.endpoint.model.service", "alarms")
        .as_map()
        .unwrap();
    assert_eq!(wired["rollback"], Value::Bool(false));
    let names = wired["names"].as_list().unwrap();
    assert_eq!(names.len(), 1);
    assert_eq!(names[0], alarm.attrs["name"]);
}

/// Artifact sources through the binary: only regular files and directories under the stack
/// (or an allowed root), never the stack's own files, never devices or FIFOs, links resolved;
/// each refusal is located at the `source` and nothing hangs.
#[test]
fn artifact_sources_are_confined_through_the_binary() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("m.bin"), "weights").unwrap();
    let outside_model = outside.path().join("m.bin");
    let spec = |source: &str, extra: &str| {
        format!(
            "[stack]\nname = \"conf\"\n{NET}{extra}\n[storage.models]\n\n[artifact.model]\nstorage = \"models\"\nsource = \"{source}\"\n"
        )
    };
    let validate = |dir: &Path| {
        pedestal()
            .args(["validate", "-C"])
            .arg(dir)
            .env("NO_COLOR", "1")
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let refused = |source: &str, needle: &str| {
        let dir = stack(&[
            ("pedestal.toml", &spec(source, "")),
            ("env/dev.toml", "\n"),
            ("state/dev.json", "{}"),
            ("models/a.bin", "a"),
        ]);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/passwd", dir.path().join("passwd")).unwrap();
            assert!(
                std::process::Command::new("mkfifo")
                    .arg(dir.path().join("pipe"))
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let out = validate(dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{source:?}: {stderr}");
        assert!(stderr.contains(needle), "{source:?}: {stderr}");
        assert!(
            stderr.contains("pedestal.toml:10:10"),
            "{source:?} is located at its value: {stderr}"
        );
        assert!(!stderr.contains("root:x:0"), "{stderr}");
    };
    refused("/etc/passwd", "is outside the stack directory");
    refused("../../../etc/hostname", "is outside the stack directory");
    refused("", "would upload the stack's own files");
    refused(".", "would upload the stack's own files");
    refused("env", "would upload the stack's own files");
    refused("state/dev.json", "would upload the stack's own files");
    refused("pedestal.toml", "would upload the stack's own files");
    #[cfg(unix)]
    {
        refused("passwd", "is outside the stack directory");
        refused("pipe", "is a FIFO, not a regular file or directory");
        refused("/dev/zero", "is outside the stack directory");
    }

    // A root allowed in [provider.aws]: files under it are accepted; devices never are.
    let allowed = |source: &str| {
        let extra = format!(
            "artifact_roots = [\"{}\", \"/dev\"]\n",
            outside.path().display()
        );
        let text =
            spec(source, "").replace("[provider.aws]\n", &format!("[provider.aws]\n{extra}"));
        let dir = stack(&[("pedestal.toml", &text)]);
        validate(dir.path())
    };
    let out = allowed(outside_model.to_str().unwrap());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[cfg(unix)]
    {
        let out = allowed("/dev/zero");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("/dev/zero is a character device"),
            "{stderr}"
        );
    }
}

/// Ctrl-C while `validate` or `plan` hashes a large artifact stops the hash before its next
/// chunk: the command says so and exits 130, and no digest is cached.
#[cfg(unix)]
#[test]
fn ctrl_c_while_hashing_a_large_artifact_exits_130() {
    use std::io::BufRead;
    let spec = "[stack]\nname = \"big\"\n\n[storage.s]\n\n[artifact.model]\nstorage = \"s\"\nsource = \"model.bin\"\n";
    let dir = stack(&[("pedestal.toml", spec)]);
    // 64 GiB, sparse: far longer to hash than the test waits.
    std::fs::File::create(dir.path().join("model.bin"))
        .unwrap()
        .set_len(64 << 30)
        .unwrap();
    for command in ["validate", "plan"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pedestal"))
            .arg("-v")
            .arg("-C")
            .arg(dir.path())
            .arg(command)
            .env("NO_COLOR", "1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        // The hash has started once it is logged.
        while !seen.contains("hashing ") {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                panic!("{command}: ended before hashing:\n{seen}");
            }
            seen.push_str(&line);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        let sent = std::time::Instant::now();
        let ok = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        let status = child.wait().unwrap();
        let took = sent.elapsed();
        seen.push_str(&rest);
        assert_eq!(status.code(), Some(130), "{command}:\n{seen}");
        // Before the 5 s fallback: the hash itself stopped (64 GiB take minutes).
        assert!(
            took < std::time::Duration::from_secs(5),
            "{command} stopped {took:?} after Ctrl-C"
        );
        assert!(
            seen.contains("hashing artifact source \"model.bin\" was cancelled")
                && seen.contains("pedestal::spec::cancelled")
                && seen.contains("Error: interrupted; the configuration was not fully checked."),
            "{command}:\n{seen}"
        );
        assert!(
            !seen.contains("Interrupted."),
            "{command}: stopped by the hash, not the fallback:\n{seen}"
        );
    }
    assert!(
        !dir.path().join(".pedestal/cache/digests.json").exists(),
        "a cancelled hash is not cached"
    );
}

/// Every attribute name in the example's lowered resources is borrowed from the schemas'
/// declared names (no allocation per name) unless it sits in a map whose keys the user or AWS
/// chose: a name the schemas add without declaring it would still work, only slower, so this
/// keeps `known_names` complete.
#[test]
fn lowered_attribute_names_are_the_schemas_own() {
    use pedestal::resource::{Attrs, Key};
    /// Maps whose keys are data, not attribute names.
    const DATA_MAPS: &[&str] = &[
        "environment",
        "secrets",
        "tags",
        "dimensions",
        "files",
        "kept",
    ];
    fn walk(attrs: &Attrs, path: &str, owned: &mut Vec<String>) {
        for (k, v) in attrs {
            let here = format!("{path}.{k}");
            let parent = path.rsplit('.').next().unwrap_or("");
            if !k.is_borrowed() && !DATA_MAPS.contains(&parent) {
                owned.push(here.clone());
            }
            visit(v, &here, owned);
        }
    }
    fn visit(v: &Value, path: &str, owned: &mut Vec<String>) {
        match v {
            Value::Map(m) => walk(m, path, owned),
            Value::List(items) => items.iter().for_each(|i| visit(i, path, owned)),
            Value::Sensitive(inner) => visit(inner, path, owned),
            _ => {}
        }
    }
    let mut owned = Vec::new();
    for env in ["prod", "dev"] {
        let c = load(&repo_root().join("examples/fraud-detection"), env);
        for (address, r) in &c.resources {
            walk(&r.attrs, address.as_str(), &mut owned);
        }
    }
    assert!(owned.is_empty(), "names allocated per resource: {owned:#?}");
    assert!(Key::intern("task_definition").is_borrowed());
    assert!(!Key::intern("MY_SETTING").is_borrowed());
}
