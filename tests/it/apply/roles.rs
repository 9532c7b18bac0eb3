//! The IAM roles pedestal makes for an endpoint, through the binary against moto: the execution
//! role and the task role are created with their trust policy, inline policy and tags, named by
//! the task definition, read back without drift, updated in place when `task_policy` changes,
//! and deleted (inline policies first) by destroy; ARNs given in the spec make no role.

use aws_sdk_iam::error::ProvideErrorMetadata;

use super::cli::Stack;
use super::ctx::Ctx;
use pedestal::resource::Value;

/// The policy document IAM holds (URL-encoded JSON on real AWS, plain JSON on moto).
pub(super) fn document(doc: &str) -> serde_json::Value {
    let decoded = if doc.starts_with('%') {
        let mut out = Vec::new();
        let b = doc.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                out.push(u8::from_str_radix(&doc[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    } else {
        doc.to_string()
    };
    serde_json::from_str(&decoded).unwrap()
}

fn statement<'a>(doc: &'a serde_json::Value, sid: &str) -> &'a serde_json::Value {
    doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid} in {doc}"))
}

async fn inline_policy(c: &Ctx, role: &str) -> serde_json::Value {
    let out = c
        .iam()
        .get_role_policy()
        .role_name(role)
        .policy_name("pedestal")
        .send()
        .await
        .unwrap();
    document(out.policy_document())
}

async fn assert_role_gone(c: &Ctx, role: &str) {
    let err = c
        .iam()
        .get_role()
        .role_name(role)
        .send()
        .await
        .expect_err("the role is deleted");
    assert_eq!(err.code(), Some("NoSuchEntity"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_roles_are_made_least_privilege_updated_and_destroyed() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("roles").await;
    let exec = format!("{}-dev-hello-exec", st.name);
    let task = format!("{}-dev-hello-task", st.name);
    let bucket = format!("{}-dev-models", st.name);

    let r = st.run(&["apply", "--auto-approve"]).expect(0);
    assert!(
        r.stdout()
            .contains("Apply complete! Resources: 8 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout()
    );

    // Both roles: trusted by ECS tasks only, tagged like every resource.
    let mut arns = Vec::new();
    for (role, address) in [
        (&exec, "endpoint.hello.execution_role"),
        (&task, "endpoint.hello.task_role"),
    ] {
        let got = c.iam().get_role().role_name(role).send().await.unwrap();
        let got = got.role().unwrap();
        arns.push(got.arn().to_string());
        let trust = document(got.assume_role_policy_document().unwrap());
        let principals: Vec<&serde_json::Value> = trust["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s["Principal"]["Service"])
            .collect();
        assert_eq!(principals, [&serde_json::json!("ecs-tasks.amazonaws.com")]);
        let tags = c
            .iam()
            .list_role_tags()
            .role_name(role)
            .send()
            .await
            .unwrap();
        let tag = |k: &str| {
            tags.tags()
                .iter()
                .find(|t| t.key() == k)
                .map(|t| t.value().to_string())
        };
        assert_eq!(tag("pedestal:stack").as_deref(), Some(st.name.as_str()));
        assert_eq!(tag("pedestal:env").as_deref(), Some("dev"));
        assert_eq!(tag("pedestal:address").as_deref(), Some(address));
        assert_eq!(tag("owner").as_deref(), Some("ml-platform"));
    }

    // The execution role writes to its own log group only; the public image needs no ECR grant.
    let pol = inline_policy(&c, &exec).await;
    let logs = statement(&pol, "WriteLogs");
    let group = c
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(format!("/pedestal/{}/dev/hello", st.name))
        .send()
        .await
        .unwrap();
    let group_arn = group.log_groups()[0]
        .arn()
        .unwrap()
        .trim_end_matches(":*")
        .to_string();
    assert_eq!(
        logs["Resource"],
        serde_json::json!([group_arn.clone(), format!("{group_arn}:log-stream:*")])
    );
    assert_eq!(
        logs["Action"],
        serde_json::json!(["logs:CreateLogStream", "logs:PutLogEvents"])
    );
    assert_eq!(pol["Statement"].as_array().unwrap().len(), 1, "{pol}");

    // The task role reads the artifact's prefix of its bucket, nothing else.
    let pol = inline_policy(&c, &task).await;
    assert_eq!(
        statement(&pol, "ReadArtifact")["Resource"],
        serde_json::json!([format!("arn:aws:s3:::{bucket}/model/*")])
    );
    let list = statement(&pol, "ListArtifact");
    assert_eq!(
        list["Resource"],
        serde_json::json!([format!("arn:aws:s3:::{bucket}")])
    );
    assert_eq!(
        list["Condition"]["StringLike"]["s3:prefix"],
        serde_json::json!(["model/*"])
    );

    // The task definition runs with both.
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
    let def = def.task_definition().unwrap();
    assert_eq!(def.execution_role_arn(), Some(arns[0].as_str()));
    assert_eq!(def.task_role_arn(), Some(arns[1].as_str()));
    let recorded = &state.resources[&pedestal::addr::Address::new("endpoint.hello.task_role")];
    assert_eq!(recorded.id, task);
    assert_eq!(recorded.attrs["arn"], Value::str(&arns[1]));

    // Read back, the roles show no drift.
    let r = st.run(&["plan", "--detailed-exitcode"]).expect(0);
    assert!(r.stdout().contains("No changes."), "{}", r.stdout());

    // A task_policy statement: the task role's inline policy is rewritten in place.
    st.edit(|t| {
        t.replace(
            "port = 8080\n",
            "port = 8080\ntask_policy = [{ actions = [\"dynamodb:GetItem\"], resources = [\"arn:aws:dynamodb:us-east-1:123456789012:table/features\"] }]\ndeployment = { wait = false }\n",
        )
    });
    let r = st.run(&["apply", "--auto-approve"]).expect(0);
    assert!(
        r.stdout()
            .contains("endpoint.hello.task_role: Modifications complete"),
        "{}",
        r.stdout()
    );
    let pol = inline_policy(&c, &task).await;
    let extra = statement(&pol, "TaskPolicy0");
    assert_eq!(extra["Action"], serde_json::json!(["dynamodb:GetItem"]));
    assert_eq!(extra["Effect"], "Allow");
    st.run(&["plan", "--detailed-exitcode"]).expect(0);

    // Destroy leaves neither role nor policy behind.
    st.run(&["destroy", "--auto-approve"]).expect(0);
    assert_role_gone(&c, &exec).await;
    assert_role_gone(&c, &task).await;
    let left = c.iam().list_roles().send().await.unwrap();
    assert!(
        !left
            .roles()
            .iter()
            .any(|r| r.role_name().starts_with(&st.name)),
        "no role of the stack is left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_given_as_arns_are_used_and_none_is_made() {
    let st = Stack::example("quickstart", "quickstart");
    let c = Ctx::new("roles-given").await;
    st.edit(|t| {
        t.replace(
            "port = 8080\n",
            "port = 8080\nexecution_role = \"arn:aws:iam::123456789012:role/shared-exec\"\ntask_role = \"arn:aws:iam::123456789012:role/shared-task\"\n",
        )
    });
    let r = st.run(&["plan", "--format", "json"]).expect(0);
    assert!(!r.stdout().contains("iam_role"), "{}", r.stdout());
    st.run(&["apply", "--auto-approve"]).expect(0);
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
    let def = def.task_definition().unwrap();
    assert_eq!(
        def.execution_role_arn(),
        Some("arn:aws:iam::123456789012:role/shared-exec")
    );
    assert_eq!(
        def.task_role_arn(),
        Some("arn:aws:iam::123456789012:role/shared-task")
    );
    assert_role_gone(&c, &format!("{}-dev-hello-exec", st.name)).await;
    st.run(&["destroy", "--auto-approve"]).expect(0);
}
