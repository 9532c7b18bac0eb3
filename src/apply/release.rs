//! Releases inside an apply: a service change that rolls out a new revision is recorded in
//! the endpoint's release history as in progress before the call, and finished with its
//! outcome (completed, rolled back by ECS, failed, interrupted) after it.

use super::{Shared, now_rfc3339};
use crate::plan::{Reason, ResourceChange};
use crate::provider::{ApplyResource, ErrorKind, LeftBehind, ProviderError};
use crate::resource::schema::{ecs_service as svc, ecs_task_definition as td};
use crate::resource::{ResourceKind, Value};
use crate::state::{Outcome, Release, State};

/// A release in progress: where its record sits in the endpoint's history.
pub(super) struct ReleaseStarted {
    endpoint: String,
    index: usize,
    waited: bool,
    /// How the earlier run of this very release ended, when this run finishes it.
    resumed: Option<Outcome>,
}

/// A release that did not finish (its run crashed, or Ctrl-C stopped the wait) is finished by
/// the next run of the same revision: its record becomes in progress again, with this run's
/// metadata, and keeps its start time. Returns how the earlier run ended, `None` when `record`
/// is a new release. A crashed run's record left `in_progress` by a run of another revision is
/// marked interrupted, so history never shows two releases in progress.
fn resume(list: &mut [Release], record: &Release) -> Option<Outcome> {
    let last = list.last_mut()?;
    if !matches!(last.outcome, Outcome::InProgress | Outcome::Interrupted) {
        return None;
    }
    if last.task_definition_arn != record.task_definition_arn || last.version != record.version {
        if last.outcome == Outcome::InProgress {
            last.outcome = Outcome::Interrupted;
            last.reason = Some("the run stopped before the release finished".to_string());
        }
        return None;
    }
    let earlier = last.outcome;
    *last = Release {
        started_at: last.started_at.clone(),
        ..record.clone()
    };
    Some(earlier)
}

/// Whether this service change is a release: a create, a new task definition revision, or
/// an endpoint whose last release did not finish. If so, records it as in progress.
pub(super) async fn release_start(
    shared: &Shared,
    change: &ResourceChange,
    res: &ApplyResource,
) -> Option<ReleaseStarted> {
    if change.kind != ResourceKind::EcsService {
        return None;
    }
    let td_arn = res
        .attrs
        .get(svc::Attr::TaskDefinition.as_str())?
        .as_str()?
        .to_string();
    let forced = matches!(
        change.reason,
        Some(Reason::ReleaseUnfinished { .. } | Reason::RolledBack { .. })
    );
    let endpoint = change.address.block().to_string();
    let mut started = None;
    shared
        .commit(&change.address, |st| {
            let running = st
                .resources
                .get(&change.address)
                .and_then(|r| r.attrs.get(svc::Attr::TaskDefinition.as_str()))
                .and_then(Value::as_str);
            if !forced && running == Some(td_arn.as_str()) {
                return;
            }
            let mut record = release_record(st, &td_arn);
            record.started_at = now_rfc3339();
            record.spec_digest = shared.release_meta.spec_digest.clone();
            record.git_commit = shared.release_meta.git_commit.clone();
            record.who = shared.release_meta.who.clone();
            let list = st.releases.entry(endpoint.clone()).or_default();
            let resumed = resume(list, &record);
            let index = match resumed {
                Some(_) => list.len() - 1,
                None => {
                    list.push(record);
                    list.len() - 1
                }
            };
            started = Some(ReleaseStarted {
                endpoint: endpoint.clone(),
                index,
                resumed,
                waited: res
                    .attrs
                    .get(svc::Attr::Deployment.as_str())
                    .and_then(Value::as_map)
                    .and_then(|d| d.get(svc::Deployment::Wait.as_str()))
                    .and_then(Value::as_bool)
                    .unwrap_or(svc::DEFAULT_WAIT),
            });
        })
        .await;
    started
}

/// A release record for the revision `td_arn`, filled from the task definition in state.
pub fn release_record(st: &State, td_arn: &str) -> Release {
    let td = st
        .resources
        .values()
        .find(|r| r.kind == ResourceKind::EcsTaskDefinition && r.id == td_arn);
    let model = td
        .and_then(|td| td.attrs.get(td::Attr::Model.as_str()))
        .and_then(Value::as_map);
    let model_str = |k: td::Model| {
        model
            .and_then(|m| m.get(k.as_str()))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let revision = td_arn.rsplit(':').next().and_then(|r| r.parse().ok());
    Release {
        version: model
            .and_then(|m| m.get(td::Model::Version.as_str()))
            .map(Value::to_plain_string)
            .unwrap_or_else(|| format!("revision {}", revision.unwrap_or(0))),
        task_definition_arn: td_arn.to_string(),
        revision,
        artifact_sha256: model_str(td::Model::Sha256),
        artifact_uri: model_str(td::Model::Artifact),
        image: td
            .and_then(|td| td.attrs.get(td::Attr::Container.as_str()))
            .and_then(Value::as_map)
            .and_then(|c| c.get(td::Container::Image.as_str()))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        ..Release::default()
    }
}

/// Runs a service call; for a release, the first Ctrl-C stops waiting at once (ECS carries
/// on with the deployment) and the call ends as [`ErrorKind::Interrupted`], leaving the
/// service recorded as pointed at the release.
pub(super) async fn until_interrupted<T>(
    shared: &Shared,
    release: bool,
    call: impl std::future::Future<Output = Result<T, ProviderError>>,
) -> Result<T, ProviderError> {
    let Some(mut cancel) = shared.cancel.clone().filter(|_| release) else {
        return call.await;
    };
    tokio::select! {
        out = call => out,
        // The call may have taken effect (a create's intent stays, so the next run adopts).
        _ = cancel.wait_for(|c| *c) => Err(ProviderError::new(
            ErrorKind::Interrupted,
            "interrupted: stopped waiting for the release; the deployment goes on in ECS \
             (`pedestal status` shows it, the next apply waits for it again)",
        ).leaving(LeftBehind::Unknown)),
    }
}

/// Finishes the release record started by [`release_start`]. Returns a reworded error message
/// for rollbacks, failures, timeouts and interrupts.
pub(super) fn finish_release(
    st: &mut State,
    started: Option<&ReleaseStarted>,
    outcome: Result<(), &ProviderError>,
) -> Option<String> {
    let started = started?;
    let record = st
        .releases
        .get_mut(&started.endpoint)?
        .get_mut(started.index)?;
    let version = record.version.clone();
    let block = &started.endpoint;
    record.finished_at = Some(now_rfc3339());
    let outcome_kind = outcome.err().map(|e| &e.kind);
    let (outcome, reason, message) = match outcome {
        Ok(()) => {
            let mut notes = Vec::new();
            if let Some(earlier) = started.resumed {
                notes.push(format!(
                    "finished by a later apply (the earlier run was {})",
                    match earlier {
                        Outcome::InProgress => "stopped before it finished",
                        _ => "interrupted",
                    }
                ));
            }
            if !started.waited {
                notes.push("not waited for (deployment.wait = false)".to_string());
            }
            (
                Outcome::Completed,
                (!notes.is_empty()).then(|| notes.join("; ")),
                None,
            )
        }
        Err(e) => match &e.kind {
            ErrorKind::RolledBack { to, reason, .. } => (
                Outcome::RolledBackByEcs,
                Some(reason.clone()),
                Some(format!(
                    "{block}: ECS rolled back release {version} to {to}: {reason}"
                )),
            ),
            ErrorKind::Interrupted => (
                Outcome::Interrupted,
                Some("Ctrl-C while waiting for the rollout".to_string()),
                Some(format!("{block}: release {version}: {}", e.message)),
            ),
            ErrorKind::RolloutFailed { .. } | ErrorKind::Timeout => (
                Outcome::Failed,
                Some(e.message.clone()),
                Some(format!("{block}: release {version}: {}", e.message)),
            ),
            // The service call itself failed: the usual message names the resource.
            _ => (Outcome::Failed, Some(e.message.clone()), None),
        },
    };
    record.outcome = outcome;
    record.reason = reason;
    // The deployment alarms that failed or rolled back the release, when an alarm did.
    record.alarm = match outcome_err_alarms(outcome_kind) {
        [] => None,
        names => Some(names.join(", ")),
    };
    message
}

/// The alarms a rollout outcome names.
fn outcome_err_alarms(kind: Option<&ErrorKind>) -> &[String] {
    match kind {
        Some(ErrorKind::RolledBack { alarms, .. } | ErrorKind::RolloutFailed { alarms, .. }) => {
            alarms
        }
        _ => &[],
    }
}
