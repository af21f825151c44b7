//! Errors of the emulator: [`EmulatorError`] for starting and serving, [`GraphError`] for one
//! Graph request (rendered in Graph's exact body shape), [`StsError`] for the identity platform
//! (OAuth 2.0 error bodies with `AADSTS` codes).
//!
//! Invariants: every Graph error body is `{"error":{"code","message","innerError":{"date",
//! "request-id","client-request-id"}}}` (plus `details` where Graph sends them); every token error
//! body carries `error`, `error_description` (starting `AADSTSnnnn:`), `error_codes`,
//! `timestamp`, `trace_id` and `correlation_id`.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::util::{iso8601, new_guid, now_secs, sts_timestamp};

/// Starting or running the emulator failed.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// A file or directory could not be read or written.
    #[error("{0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    /// Key or certificate generation or loading failed.
    #[error("keys and certificates: {0}")]
    Crypto(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(std::net::SocketAddr, #[source] std::io::Error),
    /// The seed file is not valid.
    #[error("seed file {0}: {1}")]
    Seed(PathBuf, String),
}

/// One failed Graph request.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    /// HTTP status.
    pub status: u16,
    /// Graph's `error.code`.
    pub code: String,
    /// Graph's `error.message`.
    pub message: String,
    /// Graph's `error.details`, when it sends them (conflicts).
    pub details: Option<Value>,
    /// `Retry-After` seconds for 429/503.
    pub retry_after: Option<u64>,
}

impl GraphError {
    /// A new error without details.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// 400 `Request_BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "Request_BadRequest", message)
    }

    /// 404 `Request_ResourceNotFound` for an id.
    pub fn not_found(id: &str) -> Self {
        Self::new(
            404,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// 400 `Request_UnsupportedQuery`.
    pub fn unsupported_query(message: impl Into<String>) -> Self {
        Self::new(400, "Request_UnsupportedQuery", message)
    }

    /// 400 for writing a read-only property.
    pub fn read_only(property: &str) -> Self {
        Self::bad_request(format!(
            "Property '{property}' is read-only and cannot be set."
        ))
    }

    /// 400 `Request_BadRequest` with an `ObjectConflict` detail for a uniqueness violation.
    pub fn conflict(property: &str) -> Self {
        let mut e = Self::bad_request(format!(
            "Another object with the same value for property {property} already exists."
        ));
        e.details = Some(json!([{ "target": property, "code": "ObjectConflict" }]));
        e
    }

    /// 401 `InvalidAuthenticationToken`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "InvalidAuthenticationToken", message)
    }

    /// 403 `Authorization_RequestDenied`.
    pub fn forbidden() -> Self {
        Self::new(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    /// 429 `TooManyRequests` with `Retry-After`.
    pub fn throttled(retry_after: u64) -> Self {
        let mut e = Self::new(429, "TooManyRequests", "Too many requests.");
        e.retry_after = Some(retry_after);
        e
    }

    /// The JSON body in Graph's shape.
    pub fn body(&self, client_request_id: Option<&str>) -> Value {
        let request_id = new_guid();
        let client = client_request_id.map_or_else(|| request_id.clone(), str::to_string);
        let mut inner = json!({
            "date": iso8601(now_secs()).trim_end_matches('Z'),
            "request-id": request_id,
            "client-request-id": client,
        });
        if self.status == 429
            && let Some(m) = inner.as_object_mut()
        {
            m.insert("code".into(), json!("429"));
            m.insert("status".into(), json!("429"));
            m.insert("message".into(), json!("Please retry after"));
        }
        let mut error = json!({ "code": self.code, "message": self.message, "innerError": inner });
        if let (Some(d), Some(m)) = (&self.details, error.as_object_mut()) {
            m.insert("details".into(), d.clone());
        }
        json!({ "error": error })
    }
}

/// One failed identity-platform request (token, device code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsError {
    /// HTTP status (400 or 401).
    pub status: u16,
    /// OAuth 2.0 `error`.
    pub error: String,
    /// The AADSTS number.
    pub aadsts: u32,
    /// Human text after `AADSTSnnnn: `.
    pub description: String,
}

impl StsError {
    /// A 400 error.
    pub fn new(error: &str, aadsts: u32, description: impl Into<String>) -> Self {
        Self {
            status: 400,
            error: error.to_string(),
            aadsts,
            description: description.into(),
        }
    }

    /// The JSON body the identity platform sends.
    pub fn body(&self) -> Value {
        let trace = new_guid();
        let correlation = new_guid();
        let ts = sts_timestamp(now_secs());
        json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {ts}",
                self.aadsts, self.description
            ),
            "error_codes": [self.aadsts],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.aadsts),
        })
    }
}
