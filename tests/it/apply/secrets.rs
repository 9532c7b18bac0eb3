//! The secret sentinel: one sensitive value flows into every place a stack can put it (a
//! container secret, a string built around it, a module input, a sensitive output), through
//! every way a value is given (`--var`, `PEDESTAL_VAR_*`, the environment file). It reaches the
//! cloud only as an SSM SecureString parameter the task definition names by ARN. Every
//! command's stdout and stderr, at every verbosity, every file under the stack and state
//! directories (state, `.backup`, journal, lock, saved plans, including a plan made with a
//! changed secret) and the error paths (a value of the wrong type, a value invalid where it is
//! used, a secret in the environment, a tag, a physical name or a plain output) are searched
//! for it. State and plans hold keyed digests only, never a bare hash of the secret.

use std::path::Path;

use super::cli::{Run, Stack};
use super::ctx::Ctx;

/// The sentinel and its replacement (the "changed secret"); both share a prefix no other text
/// in a run contains, so one search finds either.
const MARK: &str = "s3ntinel";
const SECRET: &str = "s3ntinel-7f3a9c";
const SECRET2: &str = "s3ntinel-b2e6d1";
/// A sensitive default: written in `pedestal.toml` itself, so that file alone may hold it.
const SIDE: &str = "sidecar-secret-5e1f";
const VERBOSITY: [&[&str]; 4] = [&[], &["-v"], &["-vv"], &["-vvv"]];

/// The quickstart example with sensitive strings (one with a default) and a sensitive number,
/// used as container secrets (one inside a longer string), as a module input and as a
/// sensitive output. (The endpoint does not wait for rollouts: moto never completes an
/// update's.)
fn secret_stack() -> Stack {
    let st = Stack::example("quickstart", "quickstart");
    st.edit(|t| {
        let t = t.replace(
            "port = 8080\n",
            "port = 8080\nsecrets = { TOKEN = \"${var.api_token}\", DSN = \"postgres://app:${var.api_token}@db:5432/features\" }\ndeployment = { wait = false }\n",
        );
        format!(
            r#"{t}
token = {{ value = "${{var.api_token}}", sensitive = true }}

[variables.api_token]
type = "string"
sensitive = true

[variables.side_token]
type = "string"
sensitive = true
default = "{SIDE}"

[variables.pin]
type = "number"
sensitive = true
default = 4242

[module.side]
source = "../../modules/model-endpoint"
inputs = {{ name = "side", version = "1.0.0", image = "public.ecr.aws/docker/library/python:3.12-slim", compute = "${{compute.serving.name}}", secrets = {{ SIDE_TOKEN = "${{var.side_token}}" }} }}
"#
        )
    });
    st
}

/// Fails naming `what` when `text` holds the sentinel.
fn assert_clean(what: &str, text: &str) {
    for mark in [MARK, SIDE] {
        assert_absent(what, text, mark);
    }
}

fn assert_absent(what: &str, text: &str, mark: &str) {
    if let Some(at) = text.find(mark) {
        let from = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let to = text[at..].find('\n').map_or(text.len(), |i| at + i);
        panic!("the secret leaked into {what}:\n{}", &text[from..to]);
    }
}

/// Every file under `root`, recursively (the stack directory holds the state directory).
fn files(root: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Searches every file under the stack directory (`pedestal.toml` holds the sensitive default
/// only); returns the files searched, relative to it.
fn assert_files_clean(st: &Stack, after: &str) -> Vec<String> {
    let mut all = Vec::new();
    files(&st.dir, &mut all);
    for f in &all {
        if *f == st.dir.join("pedestal.toml") {
            assert_absent("pedestal.toml", &std::fs::read_to_string(f).unwrap(), MARK);
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).to_string();
        assert_clean(&format!("{} (after {after})", f.display()), &text);
    }
    all.iter()
        .map(|f| {
            f.strip_prefix(&st.dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

/// Runs `pedestal ARGS` with `env`, expects `code`, and searches both streams and every file.
fn run(st: &Stack, args: &[&str], env: &[(&str, &str)], code: i32) -> Run {
    let mut cmd = st.command(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let r = Run(cmd.output().unwrap());
    let what = format!("pedestal {}", args.join(" "));
    assert_eq!(
        r.code(),
        code,
        "{what}\nstdout:\n{}\nstderr:\n{}",
        r.stdout(),
        r.stderr()
    );
    assert_clean(&format!("stdout of {what}"), &r.stdout());
    assert_clean(&format!("stderr of {what}"), &r.stderr());
    assert_files_clean(st, &what);
    r
}

fn with<'a>(verbosity: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
    verbosity.iter().chain(args).copied().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_never_appears_in_any_output_file_or_error() {
    let st = secret_stack();
    let c = Ctx::new("secret").await;
    let var = format!("api_token={SECRET}");
    let var2 = format!("api_token={SECRET2}");
    let plan1 = st.dir.join("one.plan");
    let plan2 = st.dir.join("two.plan");
    let (plan1, plan2) = (plan1.to_str().unwrap(), plan2.to_str().unwrap());

    // Before anything exists: every read-only command, at every verbosity.
    for v in VERBOSITY {
        run(&st, &with(v, &["validate", "--var", &var]), &[], 0);
        run(&st, &with(v, &["graph", "--var", &var]), &[], 0);
        for format in ["human", "json", "markdown"] {
            let r = run(
                &st,
                &with(v, &["plan", "--var", &var, "--format", format]),
                &[],
                0,
            );
            assert!(
                r.stdout().contains("endpoint.hello.secret.TOKEN"),
                "the secret's parameter is planned: {}",
                r.stdout()
            );
        }
    }
    run(
        &st,
        &["-vvv", "plan", "--out", plan1],
        &[("PEDESTAL_VAR_api_token", SECRET)],
        0,
    );

    // Apply the saved plan; the value really reached the cloud (so the searches above and
    // below search for something that flowed).
    // (A saved plan does not carry its variables: apply reads them again.)
    let r = run(
        &st,
        &["-vvv", "apply", plan1],
        &[("PEDESTAL_VAR_api_token", SECRET)],
        0,
    );
    assert!(r.stdout().contains("Apply complete!"), "{}", r.stdout());
    // The outputs after the summary: secrets (and what is built from them) as `(sensitive)`,
    // exactly as `pedestal output` prints them.
    let applied = r.stdout();
    let (_, shown) = applied
        .split_once("\nOutputs:\n\n")
        .unwrap_or_else(|| panic!("no outputs after apply: {applied}"));
    assert!(shown.contains("token     = (sensitive)\n"), "{shown}");
    let r = run(&st, &["output"], &[("PEDESTAL_VAR_api_token", SECRET)], 0);
    assert_eq!(r.stdout(), shown);
    let store = pedestal::state::LocalStore::new(st.dir.join("state/dev.json"), &st.name, "dev");
    let state = pedestal::state::StateStore::read(&store).unwrap().unwrap();
    let td = &state.resources[&pedestal::addr::Address::new("endpoint.hello.task_definition")];
    let def = c
        .ecs()
        .describe_task_definition()
        .task_definition(&td.id)
        .send()
        .await
        .unwrap();
    let container = &def.task_definition().unwrap().container_definitions()[0];
    for kv in container.environment() {
        assert_clean(
            "the task definition's environment",
            kv.value().unwrap_or_default(),
        );
    }
    let secrets: std::collections::BTreeMap<String, String> = container
        .secrets()
        .iter()
        .map(|s| (s.name().to_string(), s.value_from().to_string()))
        .collect();
    let ssm = c.ssm();
    let mut param_arns = Vec::new();
    for (name, expected) in [
        ("TOKEN", SECRET.to_string()),
        ("DSN", format!("postgres://app:{SECRET}@db:5432/features")),
    ] {
        let param = format!("/pedestal/{}/dev/hello/{name}", st.name);
        let got = ssm
            .get_parameter()
            .name(&param)
            .with_decryption(true)
            .send()
            .await
            .unwrap();
        let got = got.parameter().unwrap();
        assert_eq!(
            got.value(),
            Some(expected.as_str()),
            "{param} holds the secret"
        );
        assert_eq!(
            got.r#type(),
            Some(&aws_sdk_ssm::types::ParameterType::SecureString)
        );
        assert_eq!(
            secrets.get(name).map(String::as_str),
            got.arn(),
            "the container reads {name} from the parameter's ARN"
        );
        // Tagged like every resource, so ownership checks and adoption find it.
        let tags = ssm
            .list_tags_for_resource()
            .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
            .resource_id(&param)
            .send()
            .await
            .unwrap();
        let address = format!("endpoint.hello.secret.{name}");
        assert!(
            tags.tag_list()
                .iter()
                .any(|t| t.key() == "pedestal:address" && t.value() == address),
            "{param}: {:?}",
            tags.tag_list()
        );
        param_arns.push(got.arn().unwrap().to_string());
    }
    // The execution role may read exactly these parameters (and nothing else of SSM).
    let exec = format!("{}-dev-hello-exec", st.name);
    let pol = c
        .iam()
        .get_role_policy()
        .role_name(&exec)
        .policy_name("pedestal")
        .send()
        .await
        .unwrap();
    let doc = super::roles::document(pol.policy_document());
    let reads: Vec<&serde_json::Value> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Action"].to_string().contains("ssm:"))
        .collect();
    assert_eq!(reads.len(), 1, "{doc}");
    assert_eq!(reads[0]["Action"], serde_json::json!(["ssm:GetParameters"]));
    let mut granted: Vec<String> = reads[0]["Resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    granted.sort();
    param_arns.sort();
    assert_eq!(granted, param_arns, "{doc}");
    // The state holds keyed digests, never a bare hash of the secret.
    let text = std::fs::read_to_string(st.dir.join("state/dev.json")).unwrap();
    {
        use sha2::Digest;
        let bare = hex::encode(sha2::Sha256::digest(format!("{SECRET:?}").as_bytes()));
        assert!(!text.contains(&bare), "a bare SHA-256 of the secret");
        assert!(text.contains("hmac-sha256:"), "keyed digests in state");
    }

    // Everything that reads state, at every verbosity (they load the spec, so they take the
    // variables too).
    const ENV: &[(&str, &str)] = &[("PEDESTAL_VAR_api_token", SECRET)];
    for v in VERBOSITY {
        run(
            &st,
            &with(v, &["plan", "--detailed-exitcode", "--var", &var]),
            ENV,
            0,
        );
        let r = run(&st, &with(v, &["output"]), ENV, 0);
        assert!(r.stdout().contains("token"), "{}", r.stdout());
        let r = run(&st, &with(v, &["output", "token"]), ENV, 0);
        assert_eq!(r.stdout().trim(), "(sensitive)");
        run(&st, &with(v, &["output", "token", "--json"]), ENV, 0);
        run(&st, &with(v, &["output", "--json"]), ENV, 0);
        run(&st, &with(v, &["state", "list"]), ENV, 0);
        for a in [
            "endpoint.hello.task_definition",
            "module.side.endpoint.model.task_definition",
        ] {
            let r = run(&st, &with(v, &["state", "show", a]), ENV, 0);
            assert!(r.stdout().contains("TOKEN"), "{}", r.stdout());
        }
    }

    // A changed secret: planned (saved), shown as a change, applied; the journal and the
    // .backup now hold both versions' records.
    let r = run(&st, &["-v", "plan", "--var", &var2, "--out", plan2], &[], 0);
    assert!(
        r.stdout().contains("endpoint.hello.secret.TOKEN"),
        "a changed secret is a change: {}",
        r.stdout()
    );
    run(&st, &["-vv", "apply", plan2, "--var", &var2], &[], 0);
    let files = assert_files_clean(&st, "the second apply");
    for f in [
        "state/dev.json",
        "state/dev.json.backup",
        "one.plan",
        "two.plan",
    ] {
        assert!(files.iter().any(|x| x == f), "{f} not in {files:?}");
    }
    for v in VERBOSITY {
        run(
            &st,
            &with(v, &["apply", "--auto-approve", "--var", &var2]),
            &[],
            0,
        );
    }

    // Error paths: a sensitive value of the wrong type, from each source, at every verbosity.
    let pin = format!("pin={SECRET}");
    for v in VERBOSITY {
        let r = run(
            &st,
            &with(v, &["plan", "--var", &var2, "--var", &pin]),
            &[],
            1,
        );
        assert!(
            r.stderr().contains("variable `pin` is a number"),
            "{}",
            r.stderr()
        );
        run(
            &st,
            &with(v, &["apply", "--auto-approve", "--var", &var2]),
            &[("PEDESTAL_VAR_pin", SECRET)],
            1,
        );
        run(
            &st,
            &with(v, &["validate", "--var", &var2, "--var", &pin]),
            &[],
            1,
        );
    }
    // ... and a sensitive value where it does not fit (cpu takes a number).
    st.edit(|t| t.replace("cpu = 256", "cpu = \"${var.api_token}\""));
    for v in VERBOSITY {
        run(&st, &with(v, &["plan", "--var", &var2]), &[], 1);
    }
    st.edit(|t| t.replace("cpu = \"${var.api_token}\"", "cpu = 256"));
    // ... and where it would be stored or shown in clear: the environment, a tag, a physical
    // name, a plain output. Each is a located error that points to `secrets` (or `sensitive`).
    for (from, to, says) in [
        (
            "port = 8080\n",
            "port = 8080\nenvironment = { LEAK = \"x-${var.api_token}\" }\n",
            "`environment.LEAK` in endpoint.hello holds a sensitive value",
        ),
        (
            "force_destroy = true",
            "force_destroy = true\ntags = { leak = \"${var.api_token}\" }",
            "tag `leak` of storage.models holds a sensitive value",
        ),
        (
            "[compute.serving]\n",
            "[compute.serving]\nname = \"${var.api_token}\"\n",
            "the name of compute.serving.cluster would hold a sensitive value",
        ),
        (
            "[outputs]\n",
            "[outputs]\nleak = \"${var.api_token}\"\n",
            "output `leak` holds a sensitive value but is not marked sensitive",
        ),
    ] {
        st.edit(|t| t.replacen(from, to, 1));
        for v in VERBOSITY {
            for cmd in ["validate", "plan"] {
                let r = run(&st, &with(v, &[cmd, "--var", &var2]), &[], 1);
                assert!(r.stderr().contains(says), "{}", r.stderr());
                assert!(
                    r.stderr().contains("pedestal.toml:"),
                    "located: {}",
                    r.stderr()
                );
            }
        }
        st.edit(|t| t.replacen(to, from, 1));
    }

    let r = run(
        &st,
        &["-vvv", "destroy", "--auto-approve", "--var", &var2],
        &[],
        0,
    );
    assert!(r.stdout().contains("Destroy complete!"), "{}", r.stdout());

    // Last, the environment file (it holds the secret itself, so no file search after this).
    std::fs::create_dir_all(st.dir.join("env")).unwrap();
    std::fs::write(st.dir.join("env/dev.toml"), format!("pin = \"{SECRET}\"\n")).unwrap();
    for v in VERBOSITY {
        let r = Run(st
            .command(&with(v, &["plan", "--var", &var2]))
            .output()
            .unwrap())
        .expect(1);
        assert!(
            r.stderr().contains("env/dev.toml:1:7"),
            "the error still points at the value: {}",
            r.stderr()
        );
        assert_clean("stderr of plan with env/dev.toml", &r.stderr());
        assert_clean("stdout of plan with env/dev.toml", &r.stdout());
    }
}

#[test]
fn a_secret_inside_a_derived_value_is_refused_where_it_would_show() {
    // A sensitive bucket name flows into the artifact's `uri` export (a string built around
    // it), which the model environment (`MODEL_URI`) and a plain output read: each is a located
    // error, and none prints the value.
    let st = secret_stack();
    st.edit(|t| {
        t.replace(
            "force_destroy = true",
            "force_destroy = true\nbucket = \"${var.api_token}\"",
        )
    });
    for v in VERBOSITY {
        let r = run(
            &st,
            &with(
                v,
                &[
                    "plan",
                    "--no-refresh",
                    "--var",
                    &format!("api_token={SECRET}"),
                ],
            ),
            &[],
            1,
        );
        // (Lowering stops at the first block errors, so the name and the output are reported
        // once the environment is fixed; both are checked in the main sentinel test.)
        for says in [
            "pedestal::spec::sensitive",
            "`model.artifact` (MODEL_URI) in endpoint.hello holds a sensitive value",
        ] {
            assert!(r.stderr().contains(says), "{says}: {}", r.stderr());
        }
    }
}
