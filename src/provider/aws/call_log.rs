//! Logging of AWS API calls, as an SDK interceptor every client carries: `-vv` logs each call
//! with its service, operation, HTTP status and duration; `-vvv` adds each attempt's request id
//! and every retry. Only names, statuses, ids and timings are logged, never a request or a
//! response body or header that could carry a secret.

use std::time::Instant;

use aws_sdk_s3::config::interceptors::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Logs AWS calls at `debug` (calls) and `trace` (attempts) under the `pedestal::aws` target.
#[derive(Debug, Clone, Default)]
pub struct CallLog;

/// When the call started and how many attempts it has made, kept in the call's config bag.
#[derive(Debug, Clone)]
struct CallProgress {
    started: Instant,
    attempts: u32,
}

impl Storable for CallProgress {
    type Storer = StoreReplace<Self>;
}

/// `S3.PutObject`, from the operation's metadata.
fn operation(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>()
        .map(|m| format!("{}.{}", m.service(), m.name()))
        .unwrap_or_else(|| "(unknown operation)".into())
}

/// The request id AWS (or its emulator) gave a response.
fn request_id(ctx: &FinalizerInterceptorContextRef<'_>) -> Option<String> {
    let headers = ctx.response()?.headers();
    ["x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"]
        .iter()
        .find_map(|h| headers.get(*h))
        .map(str::to_string)
}

/// The HTTP status, or why there is none (the call never got a response).
fn status(ctx: &FinalizerInterceptorContextRef<'_>) -> String {
    match ctx.response() {
        Some(r) => r.status().as_u16().to_string(),
        None => "no response".into(),
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "pedestal-call-log"
    }

    fn read_before_execution(
        &self,
        _ctx: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(CallProgress {
            started: Instant::now(),
            attempts: 0,
        });
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut progress = cfg.load::<CallProgress>().cloned().unwrap_or(CallProgress {
            started: Instant::now(),
            attempts: 0,
        });
        progress.attempts += 1;
        if progress.attempts > 1 {
            tracing::trace!(
                target: "pedestal::aws",
                "{}: retrying, attempt {} after {:.0?}",
                operation(cfg),
                progress.attempts,
                progress.started.elapsed()
            );
        }
        cfg.interceptor_state().store_put(progress);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = cfg.load::<CallProgress>().map_or(1, |p| p.attempts);
        tracing::trace!(
            target: "pedestal::aws",
            "{}: attempt {attempt}: {}, request id {}",
            operation(cfg),
            status(ctx),
            request_id(ctx).as_deref().unwrap_or("(none)")
        );
        Ok(())
    }

    fn read_after_execution(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (elapsed, attempts) = cfg
            .load::<CallProgress>()
            .map_or((Default::default(), 1), |p| {
                (p.started.elapsed(), p.attempts)
            });
        let outcome = match ctx.output_or_error() {
            Some(Ok(_)) => "ok",
            _ => "failed",
        };
        let retries = match attempts {
            0 | 1 => String::new(),
            n => format!(" after {n} attempts"),
        };
        tracing::debug!(
            target: "pedestal::aws",
            "{}: {} {outcome} in {elapsed:.0?}{retries}",
            operation(cfg),
            status(ctx)
        );
        Ok(())
    }
}
