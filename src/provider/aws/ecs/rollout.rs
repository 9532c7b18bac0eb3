//! Release waiting: a release is done only when the PRIMARY deployment runs the new revision
//! with rollout state COMPLETED and running == desired; a circuit-breaker rollback fails loudly
//! with [`ErrorKind::RolloutFailed`].

use std::time::{Duration, Instant};

use super::super::error::map;
use crate::provider::{ErrorKind, ProviderError};

/// What to wait for after a service create or update.
#[derive(Clone, Debug)]
pub struct ReleaseWait {
    /// The service's cluster.
    pub cluster: String,
    /// The service name.
    pub service: String,
    /// The task definition revision ARN the release must run.
    pub task_definition: String,
    /// How long to wait before the release counts as failed.
    pub timeout: Duration,
    /// How often to poll the service.
    pub poll: Duration,
}

/// One poll's verdict.
#[derive(Debug, PartialEq)]
enum Verdict {
    Done,
    Pending(String),
    RolledBack { to: String, reason: String },
    Failed(String),
}

fn judge(service: &aws_sdk_ecs::types::Service, want: &str) -> Verdict {
    let deployments = service.deployments();
    let Some(primary) = deployments.iter().find(|d| d.status() == Some("PRIMARY")) else {
        return Verdict::Pending("no PRIMARY deployment yet".into());
    };
    let primary_td = primary.task_definition().unwrap_or_default();
    let primary_reason = primary.rollout_state_reason().unwrap_or_default();
    let ours_failed = deployments.iter().find(|d| {
        d.task_definition() == Some(want)
            && d.rollout_state() == Some(&aws_sdk_ecs::types::DeploymentRolloutState::Failed)
    });
    // A circuit-breaker rollback marks our deployment FAILED and points the service (and a new
    // PRIMARY deployment) back at the previous revision.
    let service_td = service.task_definition().filter(|t| !t.is_empty());
    let rolled_back_to = match (ours_failed, service_td) {
        (Some(_), _) if primary_td != want => Some(primary_td),
        (_, Some(td)) if td != want => Some(td),
        _ => None,
    };
    if let Some(to) = rolled_back_to {
        let reason = ours_failed
            .and_then(|d| d.rollout_state_reason())
            .filter(|r| !r.is_empty())
            .unwrap_or(if primary_reason.is_empty() {
                "the service no longer runs this release"
            } else {
                primary_reason
            });
        return Verdict::RolledBack {
            to: to.to_string(),
            reason: reason.to_string(),
        };
    }
    if primary_td != want {
        return Verdict::Pending(format!("the PRIMARY deployment still runs {primary_td}"));
    }
    let state = primary.rollout_state();
    if state == Some(&aws_sdk_ecs::types::DeploymentRolloutState::Failed) {
        return Verdict::Failed(if primary_reason.is_empty() {
            "rollout FAILED".into()
        } else {
            primary_reason.to_string()
        });
    }
    if primary_reason.to_ascii_lowercase().contains("rolling back")
        || primary_reason.to_ascii_lowercase().contains("rolled back")
    {
        return Verdict::Failed(primary_reason.to_string());
    }
    let running = primary.running_count();
    let desired = primary.desired_count();
    if state == Some(&aws_sdk_ecs::types::DeploymentRolloutState::Completed)
        && running == desired
        && service.running_count() == service.desired_count()
    {
        return Verdict::Done;
    }
    Verdict::Pending(format!(
        "rollout {}, running {running}/{desired}",
        state.map(|s| s.as_str()).unwrap_or("unknown")
    ))
}

/// Polls DescribeServices until the release is done, rolled back, failed or out of time.
/// Never trusts "services stable" alone: a rollback is stable too.
pub async fn wait_for_release(
    ecs: &aws_sdk_ecs::Client,
    w: &ReleaseWait,
) -> Result<(), ProviderError> {
    let started = Instant::now();
    let mut last: String;
    loop {
        match ecs
            .describe_services()
            .cluster(&w.cluster)
            .services(&w.service)
            .send()
            .await
        {
            Ok(out) => {
                let Some(s) = out
                    .services()
                    .iter()
                    .find(|s| s.service_name() == Some(w.service.as_str()))
                else {
                    return Err(ProviderError::not_found(format!(
                        "service {}/{} disappeared while waiting for its release",
                        w.cluster, w.service
                    )));
                };
                if s.status() == Some("INACTIVE") {
                    return Err(ProviderError::other(format!(
                        "service {}/{} became INACTIVE while waiting for its release",
                        w.cluster, w.service
                    )));
                }
                match judge(s, &w.task_definition) {
                    Verdict::Done => return Ok(()),
                    Verdict::Pending(status) => last = status,
                    Verdict::RolledBack { to, reason } => {
                        return Err(ProviderError::new(
                            ErrorKind::RolledBack {
                                to: to.clone(),
                                reason: reason.clone(),
                                alarms: Vec::new(),
                            },
                            format!("ECS rolled back to {to}: {reason}"),
                        ));
                    }
                    Verdict::Failed(reason) => {
                        return Err(ProviderError::new(
                            ErrorKind::RolloutFailed {
                                reason: reason.clone(),
                                alarms: Vec::new(),
                            },
                            format!("ECS rollout of {} failed: {reason}", w.task_definition),
                        ));
                    }
                }
            }
            Err(e) => {
                let err = map(&format!("DescribeServices {}/{}", w.cluster, w.service), e);
                // Throttling outlasting the SDK's own retries: keep polling within the timeout.
                if err.kind != ErrorKind::Throttled {
                    return Err(err);
                }
                last = "throttled".into();
            }
        }
        if started.elapsed() + w.poll > w.timeout {
            return Err(ProviderError::new(
                ErrorKind::Timeout,
                format!(
                    "release {} did not complete within {}: {last}",
                    w.task_definition,
                    humantime::format_duration(w.timeout)
                ),
            ));
        }
        tokio::time::sleep(w.poll).await;
    }
}

#[cfg(test)]
mod tests {
    //! Release waiting against scripted DescribeServices responses: completion, circuit-breaker
    //! rollback, timeout, throttling then success.

    use std::time::Duration;

    use aws_sdk_ecs::config::retry::RetryConfig;
    use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
    use aws_sdk_ecs::types::{Deployment, DeploymentRolloutState, Service};
    use aws_smithy_mocks::{
        MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock,
    };

    use super::*;

    const NEW: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/fraud:7";
    const OLD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/fraud:6";

    fn client(rules: &[&Rule], attempts: u32) -> aws_sdk_ecs::Client {
        client_with_retry(
            rules,
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(1)),
        )
    }

    fn client_with_retry(rules: &[&Rule], retry: RetryConfig) -> aws_sdk_ecs::Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
        for r in rules {
            interceptor = interceptor.with_rule(r);
        }
        let conf = aws_sdk_ecs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("k", "s", None, None, "test"))
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(retry)
            .build();
        aws_sdk_ecs::Client::from_conf(conf)
    }

    fn deployment(
        td: &str,
        status: &str,
        state: DeploymentRolloutState,
        running: i32,
        reason: &str,
    ) -> Deployment {
        Deployment::builder()
            .status(status)
            .task_definition(td)
            .rollout_state(state)
            .rollout_state_reason(reason)
            .running_count(running)
            .desired_count(2)
            .build()
    }

    fn services(deployments: Vec<Deployment>, running: i32) -> DescribeServicesOutput {
        DescribeServicesOutput::builder()
            .services(
                Service::builder()
                    .service_name("fraud")
                    .status("ACTIVE")
                    .running_count(running)
                    .desired_count(2)
                    .set_deployments(Some(deployments))
                    .build(),
            )
            .build()
    }

    fn wait(timeout_ms: u64) -> ReleaseWait {
        ReleaseWait {
            cluster: "serving".into(),
            service: "fraud".into(),
            task_definition: NEW.into(),
            timeout: Duration::from_millis(timeout_ms),
            poll: Duration::from_millis(2),
        }
    }

    #[tokio::test]
    async fn completes_when_primary_runs_the_new_revision() {
        let rule = mock!(aws_sdk_ecs::Client::describe_services)
            .sequence()
            .output(|| {
                services(
                    vec![
                        deployment(NEW, "PRIMARY", DeploymentRolloutState::InProgress, 0, ""),
                        deployment(OLD, "ACTIVE", DeploymentRolloutState::Completed, 2, ""),
                    ],
                    2,
                )
            })
            .times(3)
            .output(|| {
                services(
                    vec![deployment(
                        NEW,
                        "PRIMARY",
                        DeploymentRolloutState::Completed,
                        2,
                        "",
                    )],
                    2,
                )
            })
            .build();
        let ecs = client(&[&rule], 1);
        wait_for_release(&ecs, &wait(5_000)).await.unwrap();
        assert_eq!(rule.num_calls(), 4, "polled until COMPLETED");
    }

    #[tokio::test]
    async fn circuit_breaker_rollback_fails_loudly() {
        let rule = mock!(aws_sdk_ecs::Client::describe_services)
            .sequence()
            .output(|| {
                services(
                    vec![
                        deployment(NEW, "PRIMARY", DeploymentRolloutState::InProgress, 0, ""),
                        deployment(OLD, "ACTIVE", DeploymentRolloutState::Completed, 2, ""),
                    ],
                    2,
                )
            })
            .output(|| {
                // Stable again — on the old revision. The services-stable waiter calls this success.
                services(
                    vec![
                        deployment(OLD, "PRIMARY", DeploymentRolloutState::Completed, 2, ""),
                        deployment(
                            NEW,
                            "ACTIVE",
                            DeploymentRolloutState::Failed,
                            0,
                            "ECS deployment circuit breaker: tasks failed to start.",
                        ),
                    ],
                    2,
                )
            })
            .build();
        let ecs = client(&[&rule], 1);
        let err = wait_for_release(&ecs, &wait(5_000)).await.unwrap_err();
        assert!(
            matches!(&err.kind, ErrorKind::RolledBack { to, .. } if to == OLD),
            "{err:?}"
        );
        assert_eq!(
            err.message,
            format!(
                "ECS rolled back to {OLD}: ECS deployment circuit breaker: tasks failed to start."
            )
        );
    }

    #[tokio::test]
    async fn times_out_while_rollout_stays_in_progress() {
        let rule = mock!(aws_sdk_ecs::Client::describe_services)
            .sequence()
            .output(|| {
                services(
                    vec![deployment(
                        NEW,
                        "PRIMARY",
                        DeploymentRolloutState::InProgress,
                        1,
                        "",
                    )],
                    1,
                )
            })
            .repeatedly()
            .build();
        let ecs = client(&[&rule], 1);
        let err = wait_for_release(&ecs, &wait(40)).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Timeout);
        assert!(
            err.message.contains("rollout IN_PROGRESS, running 1/2"),
            "{}",
            err.message
        );
        assert!(rule.num_calls() >= 2);
    }

    /// DescribeServices throttled three times, then answering with a completed rollout.
    fn throttled_three_times_then_completed() -> aws_smithy_mocks::Rule {
        let throttle = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
        mock!(aws_sdk_ecs::Client::describe_services)
            .sequence()
            .http_status(400, Some(throttle.to_string()))
            .times(3)
            .output(|| {
                services(
                    vec![deployment(
                        NEW,
                        "PRIMARY",
                        DeploymentRolloutState::Completed,
                        2,
                        "",
                    )],
                    2,
                )
            })
            .build()
    }

    #[tokio::test]
    async fn throttling_then_success() {
        let rule = throttled_three_times_then_completed();
        // The product's retry configuration: the SDK retries the throttled call until it
        // succeeds (three throttled attempts, the fourth answers).
        let ecs = client_with_retry(&[&rule], crate::provider::aws::retry_config());
        wait_for_release(&ecs, &wait(30_000)).await.unwrap();
        assert_eq!(rule.num_calls(), 4);
    }

    #[tokio::test]
    async fn throttling_beyond_the_sdk_retries_keeps_polling() {
        let rule = throttled_three_times_then_completed();
        // Two attempts per call: the first call exhausts its retries on throttling, the loop
        // keeps polling, the second call retries once and succeeds.
        let ecs = client(&[&rule], 2);
        wait_for_release(&ecs, &wait(5_000)).await.unwrap();
        assert_eq!(rule.num_calls(), 4);
    }

    #[test]
    fn judge_in_progress_is_pending() {
        let s = services(
            vec![deployment(
                NEW,
                "PRIMARY",
                DeploymentRolloutState::InProgress,
                0,
                "",
            )],
            0,
        );
        assert!(matches!(judge(&s.services()[0], NEW), Verdict::Pending(_)));
    }
}
