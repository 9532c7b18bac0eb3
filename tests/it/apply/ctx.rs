//! What the apply tests share: a moto-backed context (the AWS provider, an SDK config, unique
//! names and a scratch directory), the applier run with a recording observer, the AWS provider
//! over scripted SDK clients, waiting for a service to appear, and small helpers over plans,
//! reports and what destroy leaves behind.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client};
use pedestal::provider::aws::{AwsOptions, AwsProvider, Clients};

use pedestal::apply::{self, ApplyOptions, ApplyReport, NoPersist, RecordingObserver};
use pedestal::state::State;

use super::conformance::ConformanceGuard;
use super::moto;
use super::stack::{EndpointOpts, Names};

pub struct Ctx {
    pub names: Names,
    pub dir: tempfile::TempDir,
    pub provider: Arc<pedestal::provider::aws::AwsProvider>,
    pub conf: aws_config::SdkConfig,
    /// Fails the test, when it ends, with any request that broke AWS's service models.
    _conformance: ConformanceGuard,
}

impl Ctx {
    pub async fn new(prefix: &str) -> Ctx {
        let m = moto::moto();
        let _ = m;
        let dir = tempfile::tempdir().unwrap();
        let stack = moto::unique(prefix);
        Ctx {
            _conformance: ConformanceGuard::new(&stack),
            names: Names::new(&stack),
            provider: Arc::new(moto::provider(dir.path()).await),
            conf: moto::sdk_config().await,
            dir,
        }
    }

    pub fn opts(
        &self,
        version: &'static str,
        wait: bool,
        force_destroy: bool,
    ) -> EndpointOpts<'static> {
        let m = moto::moto();
        EndpointOpts {
            version,
            wait,
            subnets: m.subnets.clone(),
            security_group: m.security_group.clone(),
            force_destroy,
        }
    }

    pub async fn apply(
        &self,
        plan: &pedestal::plan::Plan,
        state: State,
    ) -> (ApplyReport, Arc<RecordingObserver>) {
        let obs = Arc::new(RecordingObserver::default());
        let report = apply::apply(
            plan,
            state,
            self.provider.clone(),
            Arc::new(NoPersist),
            obs.clone(),
            ApplyOptions::default(),
        )
        .await;
        (report, obs)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.conf)
                .force_path_style(true)
                .build(),
        )
    }
    pub fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.conf)
    }
    pub fn aas(&self) -> aws_sdk_applicationautoscaling::Client {
        aws_sdk_applicationautoscaling::Client::new(&self.conf)
    }
    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.conf)
    }
    pub fn cw(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.conf)
    }
    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.conf)
    }
    pub fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.conf)
    }
}

impl Ctx {
    /// DescribeServices (with tags) for service `name` of `cluster`: the one service ECS
    /// reports.
    pub async fn service(&self, cluster: &str, name: &str) -> aws_sdk_ecs::types::Service {
        let out = self
            .ecs()
            .describe_services()
            .cluster(cluster)
            .services(name)
            .include(aws_sdk_ecs::types::ServiceField::Tags)
            .send()
            .await
            .unwrap();
        assert_eq!(out.services().len(), 1, "{out:?}");
        out.services()[0].clone()
    }

    /// DescribeScalableTargets scoped to the ECS service `name` of `cluster`.
    pub async fn scalable_targets(
        &self,
        cluster: &str,
        name: &str,
    ) -> Vec<aws_sdk_applicationautoscaling::types::ScalableTarget> {
        self.aas()
            .describe_scalable_targets()
            .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
            .resource_ids(format!("service/{cluster}/{name}"))
            .send()
            .await
            .unwrap()
            .scalable_targets()
            .to_vec()
    }

    /// Waits (up to 60 s) until ECS reports service `service` of `cluster` as ACTIVE.
    pub async fn wait_for_service(&self, cluster: &str, service: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = self
                .ecs()
                .describe_services()
                .cluster(cluster)
                .services(service)
                .send()
                .await;
            if out.is_ok_and(|o| o.services().iter().any(|s| s.status() == Some("ACTIVE"))) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "service {service} never appeared"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// An SDK client whose requests are answered by `rules` (any order) and nothing else.
macro_rules! scripted {
    ($krate:ident, $rules:expr, $retry:expr) => {{
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for r in $rules {
            interceptor = interceptor.with_rule(r);
        }
        let mut conf = $krate::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region($krate::config::Region::new("us-east-1"))
            .credentials_provider($krate::config::Credentials::new(
                "k", "s", None, None, "test",
            ))
            .http_client(create_mock_http_client())
            .interceptor(interceptor);
        if $retry {
            conf = conf.retry_config(pedestal::provider::aws::retry_config());
        }
        $krate::Client::from_conf(conf.build())
    }};
}

/// The AWS provider over scripted SDK clients (aws-smithy-mocks): ECS answers with `ecs`
/// (through the product's own retry configuration), CloudWatch with `cw`, the other services
/// with nothing; rollouts are polled every `poll`.
pub fn scripted_provider(ecs: &[&Rule], cw: &[&Rule], poll: Duration) -> AwsProvider {
    let none: [&Rule; 0] = [];
    AwsProvider::from_clients(
        Clients {
            s3: scripted!(aws_sdk_s3, none, false),
            ecs: scripted!(aws_sdk_ecs, ecs.iter().copied(), true),
            aas: scripted!(aws_sdk_applicationautoscaling, none, false),
            logs: scripted!(aws_sdk_cloudwatchlogs, none, false),
            cw: scripted!(aws_sdk_cloudwatch, cw.iter().copied(), false),
            elb: scripted!(aws_sdk_elasticloadbalancingv2, none, false),
            iam: scripted!(aws_sdk_iam, none, false),
            ssm: scripted!(aws_sdk_ssm, none, false),
        },
        "us-east-1",
        AwsOptions {
            poll_interval: poll,
            ..AwsOptions::default()
        },
    )
}

/// GetBucketVersioning through the provider's tolerant reader (moto's XML root differs).
pub async fn versioning(c: &Ctx, bucket: &str) -> bool {
    pedestal::provider::aws::s3::versioning_enabled(&c.provider, bucket)
        .await
        .unwrap()
}

pub fn assert_ok(r: &ApplyReport) {
    assert!(
        r.ok(),
        "apply failed: {:?} skipped {:?} persist {:?}",
        r.failures,
        r.skipped,
        r.persist_errors
    );
}

/// (address, actions) of every change that is not a no-op, sorted by address.
pub fn plan_actions(json: &str) -> Vec<(String, Vec<String>)> {
    let v: serde_json::Value = serde_json::from_str(json).expect("plan JSON");
    let mut out: Vec<(String, Vec<String>)> = v["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["actions"] != serde_json::json!(["no-op"]))
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_string(),
                c["actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Asserts that S3 answers HeadBucket for `bucket` with NotFound (a refused connection or any
/// other error does not pass).
pub async fn assert_bucket_gone(c: &Ctx, bucket: &str) {
    match c.s3().head_bucket().bucket(bucket).send().await {
        Ok(_) => panic!("bucket {bucket} still exists"),
        Err(e) => {
            let e = e.into_service_error();
            assert!(e.is_not_found(), "HeadBucket {bucket}: {e:?}");
        }
    }
}

/// Asserts that ECS reports cluster `name` as INACTIVE or MISSING (and nothing else).
pub async fn assert_cluster_gone(c: &Ctx, name: &str) {
    let out = c
        .ecs()
        .describe_clusters()
        .clusters(name)
        .send()
        .await
        .unwrap();
    let inactive = out
        .clusters()
        .iter()
        .filter(|x| x.status() == Some("INACTIVE"))
        .count();
    let missing = out
        .failures()
        .iter()
        .filter(|f| f.reason() == Some("MISSING"))
        .count();
    assert_eq!(
        (
            out.clusters().len() + out.failures().len(),
            inactive + missing
        ),
        (1, 1),
        "{out:?}"
    );
}

/// Asserts that ECS reports service `service` of `cluster` as INACTIVE or MISSING, or the
/// cluster itself as not found.
pub async fn assert_service_gone(c: &Ctx, cluster: &str, service: &str) {
    match c
        .ecs()
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
    {
        Ok(out) => {
            let gone = out
                .services()
                .iter()
                .filter(|s| s.status() == Some("INACTIVE"))
                .count()
                + out
                    .failures()
                    .iter()
                    .filter(|f| f.reason() == Some("MISSING"))
                    .count();
            assert_eq!(
                (out.services().len() + out.failures().len(), gone),
                (1, 1),
                "{out:?}"
            );
        }
        Err(e) => {
            let e = e.into_service_error();
            assert!(e.is_cluster_not_found_exception(), "{e:?}");
        }
    }
}
