//! How a refresh's reads group into AWS describe calls: DescribeClusters by up to 100 names,
//! DescribeServices by up to 10 per cluster, DescribeAlarms by up to 100, the ELB Describe*
//! calls by up to 20 ARNs; every other kind is read on its own. The AWS provider reads by this
//! plan, and the fake provider charges one call's latency per batch of it.

use std::collections::BTreeMap;

use super::elbv2;
use crate::provider::{ProviderError, ReadRequest};
use crate::resource::schema::{cloudwatch_alarm, ecs_service};
use crate::resource::{Attrs, ResourceKind};

/// The most clusters one DescribeClusters call takes.
pub const CLUSTER_BATCH: usize = 100;
/// The most services of one cluster one DescribeServices call takes.
pub const SERVICE_BATCH: usize = 10;

/// One describe call of a refresh: the requests (by index) it answers, all of one kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadBatch {
    /// The kind every request of the batch has.
    pub kind: ResourceKind,
    /// Indices into the requests, in request order.
    pub items: Vec<usize>,
}

/// The describe calls that answer `requests`: batches of the batched kinds first (clusters,
/// services by cluster, alarms, load balancing), then one per remaining request, in request
/// order. Every request is in exactly one batch.
pub fn read_batches(requests: &[ReadRequest]) -> Vec<ReadBatch> {
    let of_kind = |kind: ResourceKind| -> Vec<usize> {
        (0..requests.len())
            .filter(|&i| requests[i].kind == kind)
            .collect()
    };
    let mut out = Vec::new();
    let mut push = |kind: ResourceKind, idxs: &[usize], size: usize| {
        out.extend(idxs.chunks(size).map(|c| ReadBatch {
            kind,
            items: c.to_vec(),
        }));
    };
    push(
        ResourceKind::EcsCluster,
        &of_kind(ResourceKind::EcsCluster),
        CLUSTER_BATCH,
    );
    let mut by_cluster: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for i in of_kind(ResourceKind::EcsService) {
        let cluster = crate::provider::attr::str(&requests[i].attrs, ecs_service::Attr::Cluster)
            .unwrap_or("default");
        by_cluster.entry(cluster).or_default().push(i);
    }
    for idxs in by_cluster.values() {
        push(ResourceKind::EcsService, idxs, SERVICE_BATCH);
    }
    push(
        ResourceKind::CloudwatchAlarm,
        &of_kind(ResourceKind::CloudwatchAlarm),
        cloudwatch_alarm::BATCH,
    );
    for kind in ResourceKind::ALL.into_iter().filter(|k| elbv2::serves(*k)) {
        push(kind, &of_kind(kind), elbv2::BATCH);
    }
    for (i, r) in requests.iter().enumerate() {
        if !batched(r.kind) {
            out.push(ReadBatch {
                kind: r.kind,
                items: vec![i],
            });
        }
    }
    out
}

/// Whether reads of `kind` share describe calls.
pub fn batched(kind: ResourceKind) -> bool {
    matches!(
        kind,
        ResourceKind::EcsCluster | ResourceKind::EcsService | ResourceKind::CloudwatchAlarm
    ) || elbv2::serves(kind)
}

/// The answers of a batched read, filed by request: each batch's answers (or its error) go
/// under the requests it covered; the first error that would fail every call alike stops the
/// rest.
pub(crate) struct Batches {
    out: Vec<Option<Result<Option<Attrs>, ProviderError>>>,
    fatal: Option<ProviderError>,
}

impl Batches {
    /// Room for the answers of `n` requests.
    pub(crate) fn new(n: usize) -> Batches {
        Batches {
            out: (0..n).map(|_| None).collect(),
            fatal: None,
        }
    }

    /// The error that stops the remaining batches, once one was met.
    pub(crate) fn fatal(&self) -> Option<&ProviderError> {
        self.fatal.as_ref()
    }

    /// Files one batch's answers (or its error) under the requests it covered.
    pub(crate) fn file(&mut self, chunk: &[usize], res: Result<Vec<Option<Attrs>>, ProviderError>) {
        match res {
            Ok(res) => chunk
                .iter()
                .zip(res)
                .for_each(|(&i, r)| self.out[i] = Some(Ok(r))),
            Err(e) => {
                if self.fatal.is_none() && e.is_fatal() {
                    self.fatal = Some(e.clone());
                }
                chunk
                    .iter()
                    .for_each(|&i| self.out[i] = Some(Err(e.clone())));
            }
        }
    }

    /// Files one answer per request of a batch (as [`crate::provider::Provider::read_many`]
    /// gives them).
    pub(crate) fn file_each(
        &mut self,
        chunk: &[usize],
        res: Vec<Result<Option<Attrs>, ProviderError>>,
    ) {
        for (&i, r) in chunk.iter().zip(res) {
            if let Err(e) = &r
                && self.fatal.is_none()
                && e.is_fatal()
            {
                self.fatal = Some(e.clone());
            }
            self.out[i] = Some(r);
        }
    }

    /// One answer per request, in request order; a request never read carries the fatal
    /// error (or "not read").
    pub(crate) fn finish(self) -> Vec<Result<Option<Attrs>, ProviderError>> {
        let fatal = self.fatal;
        self.out
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| {
                    Err(fatal
                        .clone()
                        .unwrap_or_else(|| ProviderError::other("not read")))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Address;
    use crate::resource::Value;

    fn req(i: usize, kind: ResourceKind, cluster: Option<&str>) -> ReadRequest {
        let mut attrs = Attrs::new();
        if let Some(c) = cluster {
            attrs.insert(ecs_service::Attr::Cluster.into(), Value::str(c));
        }
        ReadRequest {
            address: Address::new(format!("endpoint.e{i}.x")),
            kind,
            id: format!("id{i}"),
            attrs,
        }
    }

    #[test]
    fn batches_follow_the_describe_limits_and_cover_every_request_once() {
        let mut requests = Vec::new();
        // 25 services on cluster a, 3 on b, 150 clusters, 45 load balancers, 2 log groups.
        for i in 0..25 {
            requests.push(req(i, ResourceKind::EcsService, Some("a")));
        }
        for i in 25..28 {
            requests.push(req(i, ResourceKind::EcsService, Some("b")));
        }
        for i in 28..178 {
            requests.push(req(i, ResourceKind::EcsCluster, None));
        }
        for i in 178..223 {
            requests.push(req(i, ResourceKind::LoadBalancer, None));
        }
        requests.push(req(223, ResourceKind::LogGroup, None));
        requests.push(req(224, ResourceKind::LogGroup, None));
        let batches = read_batches(&requests);
        let sizes: Vec<(ResourceKind, usize)> =
            batches.iter().map(|b| (b.kind, b.items.len())).collect();
        use ResourceKind::*;
        assert_eq!(
            sizes,
            vec![
                (EcsCluster, 100),
                (EcsCluster, 50),
                (EcsService, 10),
                (EcsService, 10),
                (EcsService, 5),
                (EcsService, 3),
                (LoadBalancer, 20),
                (LoadBalancer, 20),
                (LoadBalancer, 5),
                (LogGroup, 1),
                (LogGroup, 1),
            ]
        );
        let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.items.clone()).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..requests.len()).collect::<Vec<_>>());
        assert!(
            batches
                .iter()
                .all(|b| b.items.iter().all(|&i| requests[i].kind == b.kind))
        );
    }
}
