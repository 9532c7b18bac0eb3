//! SDK errors turned into [`ProviderError`]s at the adapter boundary: error codes, HTTP statuses
//! and transport failures mapped to [`ErrorKind`], each described in one line — what failed,
//! why, and what to check — never as the SDK's `Debug` dump.

use std::error::Error as StdError;
use std::future::Future;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::provider::{ErrorKind, Owner, ProviderError};

tokio::task_local! {
    /// The custom endpoint the running provider call talks to, for messages.
    static ENDPOINT: Option<String>;
}

/// Runs a provider call with `endpoint` known to the errors it maps.
pub(crate) async fn with_endpoint<T>(endpoint: Option<String>, call: impl Future<Output = T>) -> T {
    ENDPOINT.scope(endpoint, call).await
}

fn endpoint() -> Option<String> {
    ENDPOINT.try_with(Clone::clone).ok().flatten()
}

const NOT_FOUND: &[&str] = &[
    "NotFound",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchTagSet",
    "NoSuchLifecycleConfiguration",
    "NoSuchPublicAccessBlockConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "ResourceNotFoundException",
    "ResourceNotFound",
    "ClusterNotFoundException",
    "ServiceNotFoundException",
    "ObjectNotFoundException",
    "LoadBalancerNotFound",
    "TargetGroupNotFound",
    "ListenerNotFound",
    "RuleNotFound",
    "NoSuchEntity",
    "ParameterNotFound",
];
const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "RequestThrottled",
    "RequestThrottledException",
];
const EXISTS: &[&str] = &[
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "ResourceAlreadyExistsException",
    "DuplicateLoadBalancerName",
    "DuplicateTargetGroupName",
    "DuplicateListener",
    "EntityAlreadyExists",
    "ParameterAlreadyExists",
];
const CONFLICT: &[&str] = &[
    "PreconditionFailed",
    "BucketNotEmpty",
    "ConflictException",
    "OperationAborted",
    "ConcurrentUpdateException",
    "ResourceInUseException",
    "ClusterContainsServicesException",
    "ClusterContainsTasksException",
    "PriorityInUse",
    "ResourceInUse",
    "DeleteConflict",
];
const INVALID: &[&str] = &[
    "InvalidParameterException",
    "ValidationException",
    "ClientException",
    "InvalidRequest",
    "InvalidArgument",
    "InvalidBucketName",
    "MalformedXML",
    "InvalidParameterValueException",
    "ValidationError",
    "InvalidConfigurationRequest",
    "MalformedPolicyDocument",
];
const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
];
const BAD_CREDENTIALS: &[&str] = &[
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidToken",
];

/// The error code of an SDK error, if the service sent one.
pub fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    match e {
        SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}

/// The HTTP status of an SDK error response, if there was one.
pub fn status<E>(e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

/// The outcome of a delete call: a resource already gone counts as deleted.
pub fn deleted<T, E>(
    what: &str,
    r: Result<T, SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> Result<(), ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match r {
        Ok(_) => Ok(()),
        Err(e) => {
            let err = map(what, e);
            if err.is_not_found() { Ok(()) } else { Err(err) }
        }
    }
}

/// Classifies an SDK error; `what` says which call on which resource failed.
pub fn map<E>(what: &str, e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (kind, detail) = match &e {
        SdkError::ServiceError(s) => {
            let code = s.err().code();
            let kind = classify(code, status(&e), false);
            let mut detail = match (code, s.err().message()) {
                (Some(c), Some(m)) => format!("{c}: {}", one_line(m)),
                (Some(c), None) => c.to_string(),
                (None, _) => format!(
                    "HTTP {} from AWS",
                    status(&e).map_or_else(|| "error".to_string(), |s| s.to_string())
                ),
            };
            if let Some(hint) = hint(&kind, code, status(&e)) {
                detail.push_str(" — ");
                detail.push_str(hint);
            }
            (kind, detail)
        }
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => {
            (ErrorKind::Unreachable, unreachable(&cause(&e)))
        }
        SdkError::TimeoutError(_) => (
            ErrorKind::Timeout,
            format!(
                "no answer from AWS{} in time ({}) — check the endpoint and the network",
                at(),
                cause(&e)
            ),
        ),
        SdkError::ConstructionFailure(_) if credentials_failed(&e) => (
            ErrorKind::Credentials,
            format!(
                "no usable AWS credentials ({}) — set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                cause(&e)
            ),
        ),
        SdkError::ResponseError(_) => (
            classify(None, status(&e), false),
            format!("unexpected response from AWS{}: {}", at(), cause(&e)),
        ),
        _ => (ErrorKind::Other, cause(&e)),
    };
    ProviderError::new(kind, format!("{what}: {detail}"))
}

/// " at <endpoint>" when a custom endpoint is configured.
fn at() -> String {
    endpoint().map(|ep| format!(" at {ep}")).unwrap_or_default()
}

/// The message for an endpoint that could not be reached.
fn unreachable(cause: &str) -> String {
    match endpoint() {
        Some(ep) => format!(
            "could not reach AWS at {ep} ({cause}) — check [provider.aws] endpoint / AWS_ENDPOINT_URL"
        ),
        None => format!(
            "could not reach AWS ({cause}) — check the network connection, any proxy settings and the region"
        ),
    }
}

/// What to do about a service error, when there is something to say.
fn hint(kind: &ErrorKind, code: Option<&str>, status: Option<u16>) -> Option<&'static str> {
    let has = |list: &[&str]| code.is_some_and(|c| list.contains(&c));
    match kind {
        ErrorKind::Throttled if has(THROTTLED) || status == Some(429) => {
            Some("AWS is throttling requests; retry later or lower --parallelism")
        }
        // A 503 that is no throttling code: the service itself is unavailable.
        ErrorKind::Throttled => Some("the AWS service is unavailable at the moment; retry later"),
        ErrorKind::Credentials => Some(
            "the AWS credentials were refused; check that they are current and for this account",
        ),
        _ if has(ACCESS_DENIED) || (code.is_none() && status == Some(403)) => {
            Some("the AWS credentials in use are not allowed to do this; check their IAM policy")
        }
        _ => None,
    }
}

/// Whether the request could not be built because no credentials could be loaded.
fn credentials_failed<E, R>(e: &SdkError<E, R>) -> bool
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    chain(e).any(|s| {
        s.downcast_ref::<aws_credential_types::provider::error::CredentialsError>()
            .is_some()
    })
}

/// The error and its sources, outermost first.
fn chain<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |e: &&'a (dyn StdError + 'static)| (*e).source())
}

/// The root cause of an SDK error in a few words: the innermost source's message on one line,
/// without the OS error number (`connection refused`).
fn cause<E, R>(e: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let root = chain(e).last().unwrap_or(e);
    if let Some(io) = root.downcast_ref::<std::io::Error>() {
        match io.kind() {
            std::io::ErrorKind::ConnectionRefused => return "connection refused".into(),
            std::io::ErrorKind::TimedOut => return "connection timed out".into(),
            _ => {}
        }
    }
    let text = one_line(&root.to_string());
    let text = match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => "no details".into(),
    }
}

/// The first line of a message.
fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_string()
}

fn classify(code: Option<&str>, status: Option<u16>, timeout: bool) -> ErrorKind {
    if timeout {
        return ErrorKind::Timeout;
    }
    let has = |list: &[&str]| code.is_some_and(|c| list.contains(&c));
    if has(NOT_FOUND) || (code.is_none() && status == Some(404)) {
        ErrorKind::NotFound
    } else if has(THROTTLED) || status == Some(429) || status == Some(503) {
        ErrorKind::Throttled
    } else if has(BAD_CREDENTIALS) {
        ErrorKind::Credentials
    } else if has(EXISTS) {
        ErrorKind::AlreadyExists {
            owner: Owner::Nobody,
        }
    } else if has(CONFLICT) || status == Some(409) || status == Some(412) {
        ErrorKind::Conflict
    } else if has(INVALID) || has(ACCESS_DENIED) || (code.is_none() && status == Some(400)) {
        ErrorKind::Invalid
    } else {
        ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_throttling_is_called_throttling() {
        let throttled = ErrorKind::Throttled;
        let said = |code, status| hint(&throttled, code, status).unwrap_or_default();
        assert!(said(Some("ThrottlingException"), Some(400)).contains("throttling"));
        assert!(said(Some("SlowDown"), Some(503)).contains("throttling"));
        assert!(said(None, Some(429)).contains("throttling"));
        for (code, status) in [
            (Some("ServiceUnavailableException"), Some(503)),
            (Some("ServiceUnavailable"), Some(503)),
            (None, Some(503)),
        ] {
            let hint = said(code, status);
            assert!(!hint.contains("throttling"), "{code:?}: {hint}");
            assert!(hint.contains("unavailable"), "{code:?}: {hint}");
        }
    }

    #[test]
    fn classification() {
        assert_eq!(
            classify(Some("NoSuchBucket"), Some(404), false),
            ErrorKind::NotFound
        );
        assert_eq!(classify(None, Some(404), false), ErrorKind::NotFound);
        assert_eq!(
            classify(Some("ThrottlingException"), Some(400), false),
            ErrorKind::Throttled
        );
        assert_eq!(
            classify(Some("PreconditionFailed"), Some(412), false),
            ErrorKind::Conflict
        );
        assert_eq!(
            classify(Some("InvalidParameterException"), Some(400), false),
            ErrorKind::Invalid
        );
        assert_eq!(classify(None, Some(500), false), ErrorKind::Other);
        assert_eq!(classify(None, None, true), ErrorKind::Timeout);
    }
}
