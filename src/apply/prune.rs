//! Artifact pruning after an apply: once every release of the apply completed, the old
//! artifact objects the plan names are deleted and dropped from the artifact's `kept` map.

use super::{Failure, Shared};
use crate::resource::{Attrs, ResourceKind, Value};

/// Removes the artifact objects the plan prunes and drops them from the artifact's `kept`.
pub(super) async fn prune(shared: &Shared, prunes: &[crate::plan::Prune]) -> Vec<Failure> {
    use crate::resource::schema::s3_object::Attr as O;
    let mut failures = Vec::new();
    for p in prunes {
        for o in &p.objects {
            let attrs = Attrs::from([
                (O::Bucket.into(), Value::str(&p.bucket)),
                (O::Key.into(), Value::str(&o.key)),
            ]);
            let id = format!("s3://{}/{}", p.bucket, o.key);
            match shared
                .provider
                .delete(ResourceKind::S3Object, &id, &attrs)
                .await
            {
                Ok(()) => {
                    tracing::info!(artifact = %p.address, key = %o.key, release = %o.label, "pruned");
                    shared
                        .commit(&p.address, |st| {
                            if let Some(Value::Map(kept)) = st
                                .resources
                                .get_mut(&p.address)
                                .and_then(|r| r.attrs.get_mut(O::Kept.as_str()))
                            {
                                kept.remove(&o.key);
                            }
                        })
                        .await;
                }
                Err(e) => failures.push(Failure {
                    address: p.address.clone(),
                    message: format!(
                        "{}: pruning {id} (release {}): {}",
                        p.address, o.label, e.message
                    ),
                }),
            }
        }
    }
    failures
}
