//! The AWS implementation of [`Provider`]: shared client configuration (region, endpoint,
//! path-style S3, retries with exponential backoff), API call counting, dispatch by
//! [`ResourceKind`] to one file per service, and batched refresh reads (DescribeClusters by 100,
//! DescribeServices by 10 per cluster, DescribeAlarms by 100, ELB Describe* by 20).

pub mod autoscaling;
pub mod batches;
pub mod call_log;
pub mod cloudwatch;
pub mod ecs;
pub mod elbv2;
pub mod error;
pub mod iam;
pub mod logs;
pub mod s3;
pub mod ssm;
pub mod status;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{Intercept, Region, RuntimeComponents};

use super::{Applied, ApplyResource, Found, Provider, ProviderError, ReadRequest};
use crate::resource::schema::ecs_service;
use crate::resource::{Attrs, ResourceKind};
use crate::spec::ProviderConfig;
use batches::{Batches, read_batches};

/// Tunables of the AWS provider (tests shorten the polls).
#[derive(Clone, Debug)]
pub struct AwsOptions {
    /// Interval between DescribeServices polls while waiting for a release.
    pub poll_interval: Duration,
    /// How long a deleted service may take to become INACTIVE.
    pub inactive_timeout: Duration,
    /// ACTIVE task definition revisions kept per family.
    pub keep_revisions: usize,
    /// Artifacts larger than this are uploaded in parts.
    pub multipart_threshold: u64,
    /// Part size for multipart uploads.
    pub part_size: u64,
    /// Default release timeout when the service does not say.
    pub default_release_timeout: Duration,
    /// The stack directory: relative artifact sources are read from here.
    pub root: PathBuf,
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions {
            poll_interval: Duration::from_secs(10),
            inactive_timeout: Duration::from_secs(600),
            keep_revisions: 5,
            multipart_threshold: 64 * 1024 * 1024,
            part_size: 16 * 1024 * 1024,
            default_release_timeout: Duration::from_secs(
                ecs_service::DEFAULT_TIMEOUT_SECONDS as u64,
            ),
            root: PathBuf::from("."),
        }
    }
}

/// Counts every HTTP attempt the SDK clients make.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<AtomicU64>);

impl CallCounter {
    /// How many HTTP attempts were made so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "pedestal-call-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// The service clients.
#[derive(Clone, Debug)]
pub struct Clients {
    /// Amazon S3.
    pub s3: aws_sdk_s3::Client,
    /// Amazon ECS.
    pub ecs: aws_sdk_ecs::Client,
    /// Application Auto Scaling.
    pub aas: aws_sdk_applicationautoscaling::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// CloudWatch (alarms).
    pub cw: aws_sdk_cloudwatch::Client,
    /// IAM: the roles pedestal makes for endpoints.
    pub iam: aws_sdk_iam::Client,
    /// SSM Parameter Store: the secrets pedestal stores for endpoints.
    pub ssm: aws_sdk_ssm::Client,
    /// Elastic Load Balancing v2 (gateways and routes).
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
}

/// The AWS provider.
#[derive(Clone, Debug)]
pub struct AwsProvider {
    /// One client per service, sharing the SDK configuration.
    pub clients: Clients,
    /// Polling, waiting and upload settings.
    pub opts: AwsOptions,
    /// The region the clients talk to.
    pub region: String,
    /// The custom endpoint, when one is configured (named in error messages).
    pub endpoint: Option<String>,
    calls: CallCounter,
}

/// The retry policy: standard mode, exponential backoff with jitter on throttling and 5xx.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(6)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(20))
}

/// How long a TCP (and TLS) connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The timeouts every client starts from: a connection opens within [`CONNECT_TIMEOUT`], one
/// attempt of an API call takes at most 30 s and a call with all its retries at most 60 s. An
/// unreachable endpoint thus fails in seconds, not minutes. Uploads of artifact bodies, whose
/// duration grows with their size, extend both limits by the body's size ([`upload_timeouts`]).
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(DEFAULT_ATTEMPT_TIMEOUT)
        .operation_timeout(DEFAULT_OPERATION_TIMEOUT)
        .build()
}

/// [`timeout_config`] with `[provider.aws] attempt_timeout` / `operation_timeout` where set (an
/// attempt never longer than the whole call).
pub fn timeout_config_for(provider: &ProviderConfig) -> TimeoutConfig {
    let operation = provider
        .operation_timeout
        .unwrap_or(DEFAULT_OPERATION_TIMEOUT);
    let attempt = provider
        .attempt_timeout
        .unwrap_or(DEFAULT_ATTEMPT_TIMEOUT)
        .min(operation);
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(attempt))
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build()
}

/// The default of `[provider.aws] attempt_timeout`.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default of `[provider.aws] operation_timeout`.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

/// The slowest upload an attempt allows for: each byte of a body adds `1 / UPLOAD_MIN_RATE`
/// seconds to the attempt and call limits (256 KiB/s: 4 s per MiB).
pub const UPLOAD_MIN_RATE: u64 = 256 * 1024;

/// The timeouts of a call that uploads a body of `bytes` (a PutObject, an UploadPart): `base`'s
/// limits (`[provider.aws] attempt_timeout` / `operation_timeout`) each extended by the time
/// the body takes at [`UPLOAD_MIN_RATE`], so a large body is not cut off while a call that
/// never answers still ends.
pub fn upload_timeouts(base: &TimeoutConfig, bytes: u64) -> TimeoutConfig {
    let transfer = Duration::from_secs_f64(bytes as f64 / UPLOAD_MIN_RATE as f64);
    let attempt = base
        .operation_attempt_timeout()
        .unwrap_or(DEFAULT_ATTEMPT_TIMEOUT)
        + transfer;
    let operation = base
        .operation_timeout()
        .unwrap_or(DEFAULT_OPERATION_TIMEOUT)
        .max(attempt)
        + transfer;
    TimeoutConfig::builder()
        .connect_timeout(base.connect_timeout().unwrap_or(CONNECT_TIMEOUT))
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build()
}

/// Loads the shared SDK configuration: the standard credential chain, the region from the
/// stack, `[provider.aws] endpoint` (else `AWS_ENDPOINT_URL`, which aws-config reads), the
/// retry policy and the timeouts.
pub async fn sdk_config(provider: &ProviderConfig) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(timeout_config_for(provider));
    if !provider.region.is_empty() {
        loader = loader.region(Region::new(provider.region.clone()));
    }
    if let Some(ep) = provider.endpoint.as_deref().filter(|e| !e.is_empty()) {
        loader = loader.endpoint_url(ep);
    }
    loader.load().await
}

impl AwsProvider {
    /// Builds the clients for a stack's `[provider.aws]` settings.
    pub async fn connect(provider: &ProviderConfig, opts: AwsOptions) -> AwsProvider {
        let conf = sdk_config(provider).await;
        Self::from_sdk_config(&conf, opts)
    }

    /// Builds the clients from a loaded SDK configuration. S3 uses path-style addressing whenever
    /// an endpoint is set.
    pub fn from_sdk_config(conf: &aws_config::SdkConfig, opts: AwsOptions) -> AwsProvider {
        let calls = CallCounter::default();
        let path_style = conf.endpoint_url().is_some();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(conf)
                .force_path_style(path_style)
                .interceptor(calls.clone())
                .interceptor(call_log::CallLog)
                .build(),
        );
        let ecs = aws_sdk_ecs::Client::from_conf(
            aws_sdk_ecs::config::Builder::from(conf)
                .interceptor(calls.clone())
                .interceptor(call_log::CallLog)
                .build(),
        );
        let aas = aws_sdk_applicationautoscaling::Client::from_conf(
            aws_sdk_applicationautoscaling::config::Builder::from(conf)
                .interceptor(calls.clone())
                .interceptor(call_log::CallLog)
                .build(),
        );
        let logs = aws_sdk_cloudwatchlogs::Client::from_conf(
            aws_sdk_cloudwatchlogs::config::Builder::from(conf)
                .interceptor(calls.clone())
                .interceptor(call_log::CallLog)
                .build(),
        );
        let cw = aws_sdk_cloudwatch::Client::from_conf(
            aws_sdk_cloudwatch::config::Builder::from(conf)
                .interceptor(calls.clone())
                .interceptor(call_log::CallLog)
                .build(),
        );
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(conf)
                .interceptor(calls.clone())
                .interceptor(call_log::CallLog)
                .build(),
        );
        let ssm = aws_sdk_ssm::Client::from_conf(
            aws_sdk_ssm::config::Builder::from(conf)
                .interceptor(calls.clone())
                .interceptor(call_log::CallLog)
                .build(),
        );
        let elb = aws_sdk_elasticloadbalancingv2::Client::from_conf(
            aws_sdk_elasticloadbalancingv2::config::Builder::from(conf)
                .interceptor(calls.clone())
                .interceptor(call_log::CallLog)
                .build(),
        );
        let region = conf
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".to_string());
        AwsProvider {
            clients: Clients {
                s3,
                ecs,
                aas,
                logs,
                cw,
                iam,
                ssm,
                elb,
            },
            opts,
            region,
            endpoint: conf.endpoint_url().map(str::to_string),
            calls,
        }
    }

    /// Wraps ready-made clients (tests with scripted responses).
    pub fn from_clients(clients: Clients, region: &str, opts: AwsOptions) -> AwsProvider {
        AwsProvider {
            clients,
            opts,
            region: region.to_string(),
            endpoint: None,
            calls: CallCounter::default(),
        }
    }
}

/// The operations of [`Provider`], before their errors learn the endpoint.
impl AwsProvider {
    async fn do_create(&self, r: &ApplyResource) -> Result<Applied, ProviderError> {
        match r.kind {
            ResourceKind::S3Bucket => s3::create_bucket(self, r).await,
            ResourceKind::S3Object => s3::create_object(self, r).await,
            ResourceKind::EcsCluster => ecs::create_cluster(self, r).await,
            ResourceKind::LogGroup => logs::create_log_group(self, r).await,
            ResourceKind::EcsTaskDefinition => ecs::register_task_definition(self, r).await,
            ResourceKind::EcsService => ecs::create_service(self, r).await,
            ResourceKind::ScalingTarget => autoscaling::put(self, None, r).await,
            ResourceKind::CloudwatchAlarm => cloudwatch::create_alarm(self, r).await,
            ResourceKind::IamRole => iam::create_role(self, r).await,
            ResourceKind::SsmParameter => ssm::create_parameter(self, r).await,
            ResourceKind::LoadBalancer => elbv2::create_load_balancer(self, r).await,
            ResourceKind::LbListener => elbv2::create_listener(self, r).await,
            ResourceKind::TargetGroup => elbv2::create_target_group(self, r).await,
            ResourceKind::ListenerRule => elbv2::create_rule(self, r).await,
        }
    }

    async fn do_update(
        &self,
        id: &str,
        before: &Attrs,
        after: &ApplyResource,
    ) -> Result<Applied, ProviderError> {
        match after.kind {
            ResourceKind::S3Bucket => s3::update_bucket(self, before, after).await,
            ResourceKind::S3Object => s3::update_object(self, id, before, after).await,
            ResourceKind::EcsCluster => ecs::update_cluster(self, id, before, after).await,
            ResourceKind::LogGroup => logs::update_log_group(self, id, before, after).await,
            ResourceKind::EcsTaskDefinition => ecs::register_task_definition(self, after).await,
            ResourceKind::EcsService => ecs::update_service(self, id, before, after).await,
            ResourceKind::ScalingTarget => autoscaling::put(self, Some(before), after).await,
            ResourceKind::CloudwatchAlarm => {
                cloudwatch::update_alarm(self, id, before, after).await
            }
            ResourceKind::IamRole => iam::update_role(self, id, before, after).await,
            ResourceKind::SsmParameter => ssm::update_parameter(self, id, before, after).await,
            ResourceKind::LoadBalancer => {
                elbv2::update_load_balancer(self, id, before, after).await
            }
            ResourceKind::LbListener => elbv2::update_listener(self, id, before, after).await,
            ResourceKind::TargetGroup => elbv2::update_target_group(self, id, before, after).await,
            ResourceKind::ListenerRule => elbv2::update_rule(self, id, before, after).await,
        }
    }

    async fn do_delete(
        &self,
        kind: ResourceKind,
        id: &str,
        attrs: &Attrs,
    ) -> Result<(), ProviderError> {
        match kind {
            ResourceKind::S3Bucket => s3::delete_bucket(self, id, attrs).await,
            ResourceKind::S3Object => s3::delete_object(self, attrs).await,
            ResourceKind::EcsCluster => ecs::delete_cluster(self, id).await,
            ResourceKind::LogGroup => logs::delete_log_group(self, id, attrs).await,
            ResourceKind::EcsTaskDefinition => {
                ecs::deregister_task_definition(self, id, attrs).await
            }
            ResourceKind::EcsService => ecs::delete_service(self, id, attrs).await,
            ResourceKind::ScalingTarget => autoscaling::delete(self, attrs).await,
            ResourceKind::CloudwatchAlarm => cloudwatch::delete_alarm(self, id, attrs).await,
            ResourceKind::IamRole => iam::delete_role(self, id, attrs).await,
            ResourceKind::SsmParameter => ssm::delete_parameter(self, id, attrs).await,
            ResourceKind::LoadBalancer => elbv2::delete_load_balancer(self, id).await,
            ResourceKind::LbListener => elbv2::delete_listener(self, id).await,
            ResourceKind::TargetGroup => elbv2::delete_target_group(self, id).await,
            ResourceKind::ListenerRule => elbv2::delete_rule(self, id).await,
        }
    }

    async fn do_read(
        &self,
        kind: ResourceKind,
        id: &str,
        attrs: &Attrs,
    ) -> Result<Option<Attrs>, ProviderError> {
        match kind {
            ResourceKind::S3Bucket => s3::read_bucket(self, id, attrs).await,
            ResourceKind::S3Object => s3::read_object(self, attrs).await,
            ResourceKind::EcsCluster => Ok(ecs::read_clusters(self, &[(id, attrs)])
                .await?
                .pop()
                .flatten()),
            ResourceKind::LogGroup => logs::read_log_group(self, id, attrs).await,
            ResourceKind::EcsTaskDefinition => ecs::read_task_definition(self, id, attrs).await,
            ResourceKind::EcsService => Ok(ecs::read_services(self, &[(id, attrs)])
                .await?
                .pop()
                .flatten()),
            ResourceKind::ScalingTarget => autoscaling::read(self, attrs).await,
            ResourceKind::CloudwatchAlarm => cloudwatch::read_alarm(self, id, attrs).await,
            ResourceKind::IamRole => iam::read_role(self, id, attrs).await,
            ResourceKind::SsmParameter => ssm::read_parameter(self, id, attrs).await,
            ResourceKind::LoadBalancer
            | ResourceKind::LbListener
            | ResourceKind::TargetGroup
            | ResourceKind::ListenerRule => {
                Ok(self.read_elb(kind, &[(id, attrs)]).await?.pop().flatten())
            }
        }
    }

    async fn do_read_many(
        &self,
        requests: &[ReadRequest],
    ) -> Vec<Result<Option<Attrs>, ProviderError>> {
        let mut b = Batches::new(requests.len());
        for batch in read_batches(requests) {
            if b.fatal().is_some() {
                break;
            }
            let items = batch_items(requests, &batch.items);
            let res = match batch.kind {
                ResourceKind::EcsCluster => ecs::read_clusters(self, &items).await,
                ResourceKind::EcsService => ecs::read_services(self, &items).await,
                ResourceKind::CloudwatchAlarm => cloudwatch::read_alarms(self, &items).await,
                kind if elbv2::serves(kind) => self.read_elb(kind, &items).await,
                // Every other kind is read alone: its batch holds one request.
                kind => {
                    let mut answers = Vec::with_capacity(items.len());
                    for (id, attrs) in &items {
                        answers.push(self.read(kind, id, attrs).await);
                    }
                    answers.into_iter().collect()
                }
            };
            b.file(&batch.items, res);
        }
        b.finish()
    }

    async fn do_find(&self, r: &ApplyResource) -> Result<Option<Found>, ProviderError> {
        match r.kind {
            ResourceKind::S3Bucket => s3::find_bucket(self, r).await,
            ResourceKind::S3Object => s3::find_object(self, r).await,
            ResourceKind::EcsCluster => ecs::find_cluster(self, r).await,
            ResourceKind::LogGroup => logs::find_log_group(self, r).await,
            ResourceKind::EcsTaskDefinition => Ok(None),
            ResourceKind::EcsService => ecs::find_service(self, r).await,
            ResourceKind::ScalingTarget => autoscaling::find(self, r).await,
            ResourceKind::CloudwatchAlarm => cloudwatch::find_alarm(self, r).await,
            ResourceKind::IamRole => iam::find_role(self, r).await,
            ResourceKind::SsmParameter => ssm::find_parameter(self, r).await,
            ResourceKind::LoadBalancer => elbv2::find_load_balancer(self, r).await,
            ResourceKind::LbListener => elbv2::find_listener(self, r).await,
            ResourceKind::TargetGroup => elbv2::find_target_group(self, r).await,
            ResourceKind::ListenerRule => elbv2::find_rule(self, r).await,
        }
    }

    /// Reads load balancer resources of one kind, batched.
    async fn read_elb(
        &self,
        kind: ResourceKind,
        items: &[(&str, &Attrs)],
    ) -> Result<Vec<Option<Attrs>>, ProviderError> {
        match kind {
            ResourceKind::LoadBalancer => elbv2::read_load_balancers(self, items).await,
            ResourceKind::LbListener => elbv2::read_listeners(self, items).await,
            ResourceKind::TargetGroup => elbv2::read_target_groups(self, items).await,
            ResourceKind::ListenerRule => elbv2::read_rules(self, items).await,
            _ => Ok(items.iter().map(|_| None).collect()),
        }
    }
}

#[async_trait]
impl Provider for AwsProvider {
    async fn create(&self, r: &ApplyResource) -> Result<Applied, ProviderError> {
        error::with_endpoint(self.endpoint.clone(), self.do_create(r)).await
    }

    async fn update(
        &self,
        id: &str,
        before: &Attrs,
        after: &ApplyResource,
    ) -> Result<Applied, ProviderError> {
        error::with_endpoint(self.endpoint.clone(), self.do_update(id, before, after)).await
    }

    async fn delete(
        &self,
        kind: ResourceKind,
        id: &str,
        attrs: &Attrs,
    ) -> Result<(), ProviderError> {
        error::with_endpoint(self.endpoint.clone(), self.do_delete(kind, id, attrs)).await
    }

    async fn read(
        &self,
        kind: ResourceKind,
        id: &str,
        attrs: &Attrs,
    ) -> Result<Option<Attrs>, ProviderError> {
        error::with_endpoint(self.endpoint.clone(), self.do_read(kind, id, attrs)).await
    }

    async fn read_many(
        &self,
        requests: &[ReadRequest],
    ) -> Vec<Result<Option<Attrs>, ProviderError>> {
        error::with_endpoint(self.endpoint.clone(), self.do_read_many(requests)).await
    }

    async fn find(&self, r: &ApplyResource) -> Result<Option<Found>, ProviderError> {
        error::with_endpoint(self.endpoint.clone(), self.do_find(r)).await
    }

    fn api_calls(&self) -> u64 {
        self.calls.get()
    }
}

/// When `before` and `after` carry different tags: the keys that went away, and whether there
/// is a new set to write.
pub(crate) fn tag_change(before: &Attrs, after: &Attrs) -> Option<(Vec<String>, bool)> {
    let old = super::tags_of(before);
    let new = super::tags_of(after);
    if old == new {
        return None;
    }
    let removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    Some((removed, !new.is_empty()))
}

/// Replaces a resource's tag set through a service client with the usual `UntagResource`
/// and `TagResource` calls: `retag!(client, arn, before, after, tags)` is a future that
/// removes the keys that went away and writes `tags` (the service's tag list for `after`).
macro_rules! retag {
    ($client:expr, $arn:expr, $before:expr, $after:expr, $tags:expr) => {
        async {
            let arn: &str = $arn;
            if let Some((removed, write)) = $crate::provider::aws::tag_change($before, $after) {
                if !removed.is_empty() {
                    $client
                        .untag_resource()
                        .resource_arn(arn)
                        .set_tag_keys(Some(removed))
                        .send()
                        .await
                        .map_err(|e| {
                            $crate::provider::aws::error::map(&format!("UntagResource {arn}"), e)
                        })?;
                }
                if write {
                    $client
                        .tag_resource()
                        .resource_arn(arn)
                        .set_tags(Some($tags))
                        .send()
                        .await
                        .map_err(|e| {
                            $crate::provider::aws::error::map(&format!("TagResource {arn}"), e)
                        })?;
                }
            }
            Ok::<(), $crate::provider::ProviderError>(())
        }
    };
}
pub(crate) use retag;

/// `[(key, value)]` of the `tags` attribute, sorted.
pub(crate) fn tag_pairs(attrs: &Attrs) -> Vec<(String, String)> {
    super::tags_of(attrs).into_iter().collect()
}

/// The `(id, recorded attributes)` of the requests at `chunk`.
fn batch_items<'a>(requests: &'a [ReadRequest], chunk: &[usize]) -> Vec<(&'a str, &'a Attrs)> {
    chunk
        .iter()
        .map(|&i| (requests[i].id.as_str(), &requests[i].attrs))
        .collect()
}

#[cfg(test)]
mod tests {
    //! Batched refresh reads against scripted ECS responses, and the limits of an upload.

    use aws_sdk_ecs::operation::describe_clusters::DescribeClustersOutput;
    use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
    use aws_sdk_ecs::types::{Cluster, Service};
    use aws_smithy_mocks::{
        MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock,
    };

    use super::*;
    use crate::addr::Address;
    use crate::resource::Value;
    use crate::resource::schema::ecs_cluster;
    use crate::resource::schema::ecs_service::Attr as S;

    #[test]
    fn timeouts_come_from_the_provider_block_and_an_attempt_never_outlasts_the_call() {
        let t = timeout_config_for(&ProviderConfig::default());
        assert_eq!(
            (t.operation_attempt_timeout(), t.operation_timeout()),
            (
                Some(DEFAULT_ATTEMPT_TIMEOUT),
                Some(DEFAULT_OPERATION_TIMEOUT)
            )
        );
        let t = timeout_config_for(&ProviderConfig {
            attempt_timeout: Some(Duration::from_secs(90)),
            operation_timeout: Some(Duration::from_secs(20)),
            ..ProviderConfig::default()
        });
        assert_eq!(
            (
                t.connect_timeout(),
                t.operation_attempt_timeout(),
                t.operation_timeout()
            ),
            (
                Some(CONNECT_TIMEOUT),
                Some(Duration::from_secs(20)),
                Some(Duration::from_secs(20))
            )
        );
    }

    macro_rules! client {
        ($krate:ident, $rules:expr) => {{
            let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
            for r in $rules {
                interceptor = interceptor.with_rule(r);
            }
            $krate::Client::from_conf(
                $krate::Config::builder()
                    .behavior_version(BehaviorVersion::latest())
                    .region(Region::new("us-east-1"))
                    .credentials_provider(aws_sdk_s3::config::Credentials::new(
                        "k", "s", None, None, "test",
                    ))
                    .http_client(create_mock_http_client())
                    .interceptor(interceptor)
                    .build(),
            )
        }};
    }

    #[tokio::test]
    async fn refresh_batches_describe_services_by_ten_and_clusters_by_hundred() {
        let services = mock!(aws_sdk_ecs::Client::describe_services).then_compute_output(|req| {
            assert!(
                req.services().len() <= 10,
                "DescribeServices takes at most 10"
            );
            DescribeServicesOutput::builder()
                .set_services(Some(
                    req.services()
                        .iter()
                        // svc-03 was deleted behind pedestal's back.
                        .filter(|n| n.as_str() != "svc-03")
                        .map(|n| {
                            Service::builder()
                                .service_name(n)
                                .status("ACTIVE")
                                .task_definition("arn:td:1")
                                .desired_count(2)
                                .build()
                        })
                        .collect(),
                ))
                .build()
        });
        let clusters = mock!(aws_sdk_ecs::Client::describe_clusters).then_compute_output(|req| {
            assert!(
                req.clusters().len() <= 100,
                "DescribeClusters takes at most 100"
            );
            DescribeClustersOutput::builder()
                .set_clusters(Some(
                    req.clusters()
                        .iter()
                        .map(|n| Cluster::builder().cluster_name(n).status("ACTIVE").build())
                        .collect(),
                ))
                .build()
        });
        let no_rules: [&Rule; 0] = [];
        let clients = Clients {
            s3: client!(aws_sdk_s3, no_rules),
            ecs: client!(aws_sdk_ecs, [&services, &clusters]),
            aas: client!(aws_sdk_applicationautoscaling, no_rules),
            logs: client!(aws_sdk_cloudwatchlogs, no_rules),
            cw: client!(aws_sdk_cloudwatch, no_rules),
            iam: client!(aws_sdk_iam, no_rules),
            ssm: client!(aws_sdk_ssm, no_rules),
            elb: client!(aws_sdk_elasticloadbalancingv2, no_rules),
        };
        let p = AwsProvider::from_clients(clients, "us-east-1", AwsOptions::default());
        let mut requests = Vec::new();
        for i in 0..23 {
            let mut a = Attrs::new();
            a.insert(S::Name.into(), Value::str(format!("svc-{i:02}")));
            a.insert(S::Cluster.into(), Value::str("serving"));
            a.insert(S::TaskDefinition.into(), Value::str("arn:td:1"));
            a.insert(S::DesiredCount.into(), Value::Int(2));
            requests.push(ReadRequest {
                address: Address::new(format!("endpoint.e{i:02}.service")),
                kind: ResourceKind::EcsService,
                id: format!("arn:svc-{i:02}"),
                attrs: a,
            });
        }
        for i in 0..203 {
            let mut a = Attrs::new();
            a.insert(ecs_cluster::Attr::Name.into(), Value::str(format!("c{i}")));
            requests.push(ReadRequest {
                address: Address::new(format!("compute.c{i}.cluster")),
                kind: ResourceKind::EcsCluster,
                id: format!("arn:c{i}"),
                attrs: a,
            });
        }
        let out = p.read_many(&requests).await;
        assert_eq!(out.len(), 23 + 203);
        assert_eq!(services.num_calls(), 3, "23 services in batches of 10");
        assert_eq!(clusters.num_calls(), 3, "203 clusters in batches of 100");
        assert!(
            out[3].as_ref().unwrap().is_none(),
            "the deleted service reads as gone"
        );
        let svc0 = out[0].as_ref().unwrap().as_ref().unwrap();
        assert_eq!(svc0[S::DesiredCount.as_str()], Value::Int(2));
        assert!(out[25].as_ref().unwrap().is_some());
    }

    #[test]
    fn uploads_keep_the_configured_limits_plus_the_bodys_transfer_time() {
        let base = super::timeout_config_for(&crate::spec::ProviderConfig {
            attempt_timeout: Some(Duration::from_secs(1)),
            operation_timeout: Some(Duration::from_secs(3)),
            ..Default::default()
        });
        let t = super::upload_timeouts(&base, 0);
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(1)));
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(3)));
        // 16 MiB at 256 KiB/s: 64 s more for the attempt and for the call.
        let t = super::upload_timeouts(&base, 16 << 20);
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(65)));
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(65 + 64)));
    }
}
