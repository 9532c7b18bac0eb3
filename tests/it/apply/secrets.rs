//! The secret sentinel: one sensitive value flows into every place a stack can put it (a
//! container environment variable, a string built around it, a module input, a sensitive and a
//! plain output, a physical name), through every way a value is given (`--var`,
//! `PEDESTAL_VAR_*`, the environment file). Every command's stdout and stderr, at every
//! verbosity, every file under the stack and state directories (state, `.backup`, journal,
//! lock, saved plans, including a plan made with a changed secret) and the error paths (a value
//! of the wrong type, a value invalid where it is used) are searched for it.

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
/// used as an environment variable, inside a longer string, as a module input and as two
/// outputs. (The endpoint does not wait for rollouts: moto never completes an update's.)
fn secret_stack() -> Stack {
    let st = Stack::example("quickstart", "quickstart");
    st.edit(|t| {
        let t = t.replace(
            "port = 8080\n",
            "port = 8080\nenvironment = { TOKEN = \"${var.api_token}\", DSN = \"postgres://app:${var.api_token}@db:5432/features\" }\ndeployment = { wait = false }\n",
        );
        format!(
            r#"{t}
token = {{ value = "${{var.api_token}}", sensitive = true }}
token_plain = "${{var.api_token}}"

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
inputs = {{ name = "side", version = "1.0.0", image = "public.ecr.aws/docker/library/python:3.12-slim", compute = "${{compute.serving.name}}", environment = {{ SIDE_TOKEN = "${{var.side_token}}" }} }}
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
                r.stdout().contains("TOKEN"),
                "the secret's variable is planned: {}",
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
    assert!(shown.contains("token       = (sensitive)\n"), "{shown}");
    assert!(shown.contains("token_plain = (sensitive)\n"), "{shown}");
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
    let env: Vec<(String, String)> = def.task_definition().unwrap().container_definitions()[0]
        .environment()
        .iter()
        .map(|kv| (kv.name().unwrap().into(), kv.value().unwrap().into()))
        .collect();
    assert!(env.contains(&("TOKEN".into(), SECRET.into())), "{env:?}");
    assert!(
        env.contains(&(
            "DSN".into(),
            format!("postgres://app:{SECRET}@db:5432/features")
        )),
        "{env:?}"
    );

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
        for name in ["token", "token_plain"] {
            let r = run(&st, &with(v, &["output", name]), ENV, 0);
            assert_eq!(r.stdout().trim(), "(sensitive)");
            run(&st, &with(v, &["output", name, "--json"]), ENV, 0);
        }
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
        r.stdout().contains("endpoint.hello.task_definition"),
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
fn a_secret_inside_a_derived_value_stays_redacted() {
    // A sensitive bucket name flows into the artifact's `uri` export (a string built around
    // it), which the model environment and an output read.
    let st = secret_stack();
    st.edit(|t| {
        t.replace(
            "force_destroy = true",
            "force_destroy = true\nbucket = \"${var.api_token}\"",
        )
    });
    for v in VERBOSITY {
        for format in ["human", "json", "markdown"] {
            let r = run(
                &st,
                &with(
                    v,
                    &[
                        "plan",
                        "--no-refresh",
                        "--var",
                        &format!("api_token={SECRET}"),
                        "--format",
                        format,
                    ],
                ),
                &[],
                0,
            );
            assert!(r.stdout().contains("MODEL_URI"), "{}", r.stdout());
        }
    }
}
