//! ECS task definition revisions: the last five stay active, older ones are deregistered.

use pedestal::provider::Provider;

use super::ctx::Ctx;
use super::stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_definitions_keep_the_last_five_revisions_active() {
    let c = Ctx::new("rev").await;
    let n = &c.names;
    let td = stack::endpoint_stack(n, c.dir.path(), &c.opts("1.0.0", true, true))
        .into_iter()
        .find(|d| d.address.as_str() == "endpoint.fraud.task_definition")
        .unwrap();
    let mut attrs = td.attrs.clone();
    // The references are resolved by the applier; here they are given directly.
    if let Some(pedestal::resource::Value::Map(cont)) = attrs.get_mut("container") {
        cont.insert(
            "log_group".into(),
            pedestal::resource::Value::str(&n.log_group),
        );
    }
    attrs.remove("model");
    let mut res = pedestal::provider::ApplyResource {
        address: td.address.clone(),
        kind: td.kind,
        attrs,
    };
    let mut applied = c.provider.create(&res).await.unwrap();
    for i in 2..=7 {
        if let Some(pedestal::resource::Value::Map(cont)) = res.attrs.get_mut("container") {
            cont.insert(
                "image".into(),
                pedestal::resource::Value::str(format!("img:{i}")),
            );
        }
        applied = c
            .provider
            .update(&applied.id, &applied.attrs, &res)
            .await
            .unwrap();
    }
    assert!(
        applied.id.ends_with(&format!("{}:7", n.family)),
        "{}",
        applied.id
    );
    let active = c
        .ecs()
        .list_task_definitions()
        .family_prefix(&n.family)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    let revs: Vec<String> = active
        .task_definition_arns()
        .iter()
        .map(|a| a.rsplit(':').next().unwrap().to_string())
        .collect();
    assert_eq!(revs, ["3", "4", "5", "6", "7"]);
    c.provider
        .delete(res.kind, &applied.id, &applied.attrs)
        .await
        .unwrap();
    let active = c
        .ecs()
        .list_task_definitions()
        .family_prefix(&n.family)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    assert!(active.task_definition_arns().is_empty());
}
