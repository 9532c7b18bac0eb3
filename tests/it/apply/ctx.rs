//! What the apply tests share: a moto-backed context (the AWS provider, an SDK config, unique
//! names and a scratch directory), the applier run with a recording observer, and small helpers
//! over plans and reports.

use std::sync::Arc;

use pedestal::apply::{self, ApplyOptions, ApplyReport, NoPersist, RecordingObserver};
use pedestal::state::State;

use super::moto;
use super::stack::{EndpointOpts, Names};

pub struct Ctx {
    pub names: Names,
    pub dir: tempfile::TempDir,
    pub provider: Arc<pedestal::provider::aws::AwsProvider>,
    pub conf: aws_config::SdkConfig,
}

impl Ctx {
    pub async fn new(prefix: &str) -> Ctx {
        let m = moto::moto();
        let _ = m;
        let dir = tempfile::tempdir().unwrap();
        Ctx {
            names: Names::new(&moto::unique(prefix)),
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
