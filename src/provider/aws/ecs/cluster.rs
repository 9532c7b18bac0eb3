//! ECS clusters: described before created (CreateCluster on an existing name must never run),
//! settings and capacity providers updated in place, live settings read back for drift.

use aws_sdk_ecs::types::{ClusterField, ClusterSetting, ClusterSettingName};

use super::super::AwsProvider;
use super::super::error::{deleted, map};
use super::{batch_names, batch_read_back, ecs_tags, retag, tags_map, tags_value};
use crate::provider::attr;
use crate::provider::{Applied, ApplyResource, ErrorKind, Found, Owner, ProviderError};
use crate::resource::schema::ecs_cluster::{Attr as A, DEFAULT_CONTAINER_INSIGHTS};
use crate::resource::{Attrs, Value};

/// How ECS spells Container Insights off.
const INSIGHTS_DISABLED: &str = "disabled";

fn insights_setting(on: bool) -> ClusterSetting {
    ClusterSetting::builder()
        .name(ClusterSettingName::ContainerInsights)
        .value(if on { "enabled" } else { INSIGHTS_DISABLED })
        .build()
}

/// The ACTIVE cluster of this name, with its tags.
pub async fn find_cluster(
    p: &AwsProvider,
    r: &ApplyResource,
) -> Result<Option<Found>, ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    let out = p
        .clients
        .ecs
        .describe_clusters()
        .clusters(name)
        .include(ClusterField::Tags)
        .send()
        .await
        .map_err(|e| map(&format!("DescribeClusters {name}"), e))?;
    Ok(out
        .clusters()
        .iter()
        .find(|c| c.status() == Some("ACTIVE") && c.cluster_name() == Some(name))
        .map(|c| Found {
            id: c.cluster_arn().unwrap_or(name).to_string(),
            tags: tags_map(c.tags()),
        }))
}

/// Creates the cluster (after checking none of that name exists) with its settings and tags.
pub async fn create_cluster(p: &AwsProvider, r: &ApplyResource) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&r.attrs, A::Name)?;
    // CreateCluster on an existing name must never run (some endpoints replace the cluster).
    if let Some(found) = find_cluster(p, r).await? {
        let owner = Owner::classify(&found.tags, "", "", &r.address);
        return Err(ProviderError::new(
            ErrorKind::AlreadyExists { owner },
            format!("cluster {name} already exists"),
        ));
    }
    let mut req = p
        .clients
        .ecs
        .create_cluster()
        .cluster_name(name)
        .settings(insights_setting(
            attr::bool(&r.attrs, A::ContainerInsights).unwrap_or(DEFAULT_CONTAINER_INSIGHTS),
        ))
        .set_tags(Some(ecs_tags(&r.attrs)));
    let cps = attr::strings(&r.attrs, A::CapacityProviders);
    if !cps.is_empty() {
        req = req.set_capacity_providers(Some(cps));
    }
    let out = req
        .send()
        .await
        .map_err(|e| map(&format!("CreateCluster {name}"), e))?;
    let arn = out
        .cluster()
        .and_then(|c| c.cluster_arn())
        .unwrap_or(name)
        .to_string();
    let mut attrs = r.attrs.clone();
    attrs.insert(A::Arn.into(), Value::str(&arn));
    Ok(Applied { id: arn, attrs })
}

/// Applies changed settings and capacity providers in place, then re-tags the cluster.
pub async fn update_cluster(
    p: &AwsProvider,
    id: &str,
    before: &Attrs,
    after: &ApplyResource,
) -> Result<Applied, ProviderError> {
    let name = attr::req_str(&after.attrs, A::Name)?;
    let ecs = &p.clients.ecs;
    if attr::bool(before, A::ContainerInsights) != attr::bool(&after.attrs, A::ContainerInsights) {
        ecs.update_cluster_settings()
            .cluster(name)
            .settings(insights_setting(
                attr::bool(&after.attrs, A::ContainerInsights)
                    .unwrap_or(DEFAULT_CONTAINER_INSIGHTS),
            ))
            .send()
            .await
            .map_err(|e| map(&format!("UpdateClusterSettings {name}"), e))?;
    }
    let cps = attr::strings(&after.attrs, A::CapacityProviders);
    if attr::strings(before, A::CapacityProviders) != cps {
        ecs.put_cluster_capacity_providers()
            .cluster(name)
            .set_capacity_providers(Some(cps))
            .set_default_capacity_provider_strategy(Some(Vec::new()))
            .send()
            .await
            .map_err(|e| map(&format!("PutClusterCapacityProviders {name}"), e))?;
    }
    retag(p, id, before, &after.attrs).await?;
    let mut attrs = after.attrs.clone();
    attrs.insert(A::Arn.into(), Value::str(id));
    Ok(Applied {
        id: id.to_string(),
        attrs,
    })
}

/// Deletes the cluster (already gone is fine).
pub async fn delete_cluster(p: &AwsProvider, id: &str) -> Result<(), ProviderError> {
    deleted(
        &format!("DeleteCluster {id}"),
        p.clients.ecs.delete_cluster().cluster(id).send().await,
    )
}

/// Live attributes of up to 100 clusters, in request order (`None`: gone).
pub async fn read_clusters(
    p: &AwsProvider,
    items: &[(&str, &Attrs)],
) -> Result<Vec<Option<Attrs>>, ProviderError> {
    let names = batch_names(items, |a| attr::str(a, A::Name));
    let out = p
        .clients
        .ecs
        .describe_clusters()
        .set_clusters(Some(names.clone()))
        .include(ClusterField::Tags)
        .include(ClusterField::Settings)
        .send()
        .await
        .map_err(|e| map("DescribeClusters", e))?;
    let live = out
        .clusters()
        .iter()
        .filter(|c| c.status() == Some("ACTIVE"))
        .filter_map(|c| Some((c.cluster_name()?, c)));
    Ok(batch_read_back(items, &names, live, read_back))
}

/// The recorded attributes updated with what the cluster reports.
fn read_back(c: &aws_sdk_ecs::types::Cluster, recorded: &Attrs) -> Attrs {
    let mut a = recorded.clone();
    // Exhaustive: a new attribute has to say whether refresh reads it back.
    for &k in A::ALL {
        match k {
            // Found by its name.
            A::Name => {}
            A::ContainerInsights => {
                let insights = c
                    .settings()
                    .iter()
                    .find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights))
                    .and_then(|s| s.value())
                    .map(|v| v != INSIGHTS_DISABLED);
                if let Some(on) = insights {
                    attr::set(&mut a, k, Value::Bool(on));
                }
            }
            A::CapacityProviders => {
                let mut cps: Vec<String> = c.capacity_providers().to_vec();
                let mut sorted_recorded = attr::strings(recorded, k);
                sorted_recorded.sort();
                cps.sort();
                if cps != sorted_recorded {
                    let cps = cps.into_iter().map(Value::String).collect();
                    attr::set(&mut a, k, Value::List(cps));
                }
            }
            A::Tags => attr::set(&mut a, k, tags_value(c.tags())),
            A::Arn => {
                if let Some(arn) = c.cluster_arn() {
                    attr::set(&mut a, k, Value::str(arn));
                }
            }
        }
    }
    a
}
