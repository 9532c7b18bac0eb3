//! SDK errors turned into [`ProviderError`]s at the adapter boundary: error codes and HTTP
//! statuses mapped to [`ErrorKind`], with the full error context kept in the message.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::provider::{ErrorKind, Owner, ProviderError};

const NOT_FOUND: &[&str] = &[
    "NotFound",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchTagSet",
    "NoSuchLifecycleConfiguration",
    "NoSuchPublicAccessBlockConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "ResourceNotFoundException",
    "ClusterNotFoundException",
    "ServiceNotFoundException",
    "ObjectNotFoundException",
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
    "AccessDenied",
    "AccessDeniedException",
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
    let kind = classify(code(&e), status(&e), matches!(e, SdkError::TimeoutError(_)));
    let detail = match (&e, code(&e)) {
        (SdkError::ServiceError(s), Some(c)) => match s.err().message() {
            Some(m) => format!("{c}: {m}"),
            None => c.to_string(),
        },
        _ => DisplayErrorContext(&e).to_string(),
    };
    ProviderError::new(kind, format!("{what}: {detail}"))
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
    } else if has(EXISTS) {
        ErrorKind::AlreadyExists {
            owner: Owner::Nobody,
        }
    } else if has(CONFLICT) || status == Some(409) || status == Some(412) {
        ErrorKind::Conflict
    } else if has(INVALID) || (code.is_none() && status == Some(400)) {
        ErrorKind::Invalid
    } else {
        ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
