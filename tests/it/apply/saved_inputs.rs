//! Saved plans carry their inputs: a plan made with `--var` applies with no flags (the recorded
//! values are used), a sensitive value is asked for again and checked against its recorded
//! digest (refused, naming the variable and never showing either value, when it differs or is
//! missing), and `validate` / `graph` run with a sensitive variable unset.

use super::cli::Stack;
use super::ctx::Ctx;

const TOKEN: &str = "tok3n-saved-plan-41c2";
const OTHER: &str = "tok3n-other-value-9d0e";

/// The quickstart example with a sensitive token (no default) in the container secrets
/// and the replica count as a variable.
fn stack() -> Stack {
    let st = Stack::example("quickstart", "quickstart");
    st.edit(|t| {
        let t = t
            .replace(
                "port = 8080\n",
                "port = 8080\nsecrets = { TOKEN = \"${var.api_token}\" }\ndeployment = { wait = false }\n",
            )
            .replace("replicas = 1\n", "replicas = \"${var.replicas}\"\n");
        format!(
            "{t}\n[variables.api_token]\ntype = \"string\"\nsensitive = true\n\n[variables.replicas]\ntype = \"number\"\ndefault = 1\n"
        )
    });
    st
}

fn assert_no_token(what: &str, text: &str) {
    for v in [TOKEN, OTHER] {
        assert!(!text.contains(v), "{what} shows a secret:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_saved_with_vars_applies_without_flags() {
    let st = stack();
    let c = Ctx::new("savedvars").await;
    let plan = st.dir.join("release.plan");
    let plan = plan.to_str().unwrap();

    // PR checks hold no secrets: validate and graph treat the token as a placeholder.
    let r = st.run(&["validate"]).expect(0);
    assert!(r.stdout().contains("Success!"), "{}", r.stdout());
    let r = st.run(&["graph", "--format", "mermaid"]).expect(0);
    assert!(
        r.stdout().contains("endpoint.hello.service"),
        "{}",
        r.stdout()
    );
    // ... still type-checking what is given.
    let r = st.run(&["validate", "--var", "replicas=many"]).expect(1);
    assert!(
        r.stderr().contains("variable `replicas` is a number"),
        "{}",
        r.stderr()
    );
    // plan does need the secret.
    let r = st.run(&["plan"]).expect(1);
    assert!(
        r.stderr()
            .contains("no value for required variable `api_token`"),
        "{}",
        r.stderr()
    );

    let token = format!("api_token={TOKEN}");
    let r = st
        .run(&[
            "plan",
            "--var",
            "replicas=2",
            "--var",
            &token,
            "--out",
            plan,
        ])
        .expect(0);
    assert_no_token("plan", &r.stdout());
    let saved = std::fs::read_to_string(plan).unwrap();
    assert_no_token("the plan file", &saved);
    assert!(saved.contains("\"replicas\": 2"), "{saved}");

    // The secret is asked for again: missing, then different, is refused by name.
    let r = st.run(&["apply", plan]).expect(1);
    assert!(
        r.stderr().contains("needs sensitive variable `api_token`"),
        "{}",
        r.stderr()
    );
    let mut cmd = st.command(&["apply", plan]);
    cmd.env("PEDESTAL_VAR_api_token", OTHER);
    let r = super::cli::Run(cmd.output().unwrap()).expect(1);
    assert!(
        r.stderr().contains(
            "sensitive variable `api_token` has a different value than the saved plan was made with"
        ),
        "{}",
        r.stderr()
    );
    assert_no_token("the refusal", &r.stderr());
    // A non-sensitive --var disagreeing with the plan is refused too.
    let r = st.run(&["apply", plan, "--var", "replicas=3"]).expect(1);
    assert!(
        r.stderr()
            .contains("another value than the saved plan was made with"),
        "{}",
        r.stderr()
    );

    // The right secret from the environment, and no flags: the recorded replicas are used.
    let mut cmd = st.command(&["apply", plan]);
    cmd.env("PEDESTAL_VAR_api_token", TOKEN);
    let r = super::cli::Run(cmd.output().unwrap()).expect(0);
    assert!(
        r.stdout().contains("Apply complete! Resources: 9 added"),
        "{}\n{}",
        r.stdout(),
        r.stderr()
    );
    assert_no_token("apply", &r.stdout());
    let store = pedestal::state::LocalStore::new(st.dir.join("state/dev.json"), &st.name, "dev");
    let state = pedestal::state::StateStore::read(&store).unwrap().unwrap();
    let svc = &state.resources[&pedestal::addr::Address::new("endpoint.hello.service")];
    let cluster = &state.resources[&pedestal::addr::Address::new("compute.serving.cluster")];
    let described = c
        .ecs()
        .describe_services()
        .cluster(&cluster.id)
        .services(&svc.id)
        .send()
        .await
        .unwrap();
    assert_eq!(described.services()[0].desired_count(), 2);
    let td = &state.resources[&pedestal::addr::Address::new("endpoint.hello.task_definition")];
    let def = c
        .ecs()
        .describe_task_definition()
        .task_definition(&td.id)
        .send()
        .await
        .unwrap();
    // The secret reached the container through its parameter, never in the environment.
    let container = &def.task_definition().unwrap().container_definitions()[0];
    assert!(
        container
            .environment()
            .iter()
            .all(|kv| kv.value() != Some(TOKEN) && kv.name() != Some("TOKEN")),
        "the secret is in the task definition's environment"
    );
    let param = &state.resources[&pedestal::addr::Address::new("endpoint.hello.secret.TOKEN")];
    let got = c
        .ssm()
        .get_parameter()
        .name(&param.id)
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    let got = got.parameter().unwrap();
    assert_eq!(got.value(), Some(TOKEN), "the parameter holds the secret");
    let from: Vec<(&str, &str)> = container
        .secrets()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    assert_eq!(from, [("TOKEN", got.arn().unwrap())]);

    let mut cmd = st.command(&["destroy", "--auto-approve", "--var", "replicas=2"]);
    cmd.env("PEDESTAL_VAR_api_token", TOKEN);
    super::cli::Run(cmd.output().unwrap()).expect(0);
}
