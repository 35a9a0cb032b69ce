//! The HTTP service connector.
//!
//! `prepare` builds the exact URL and headers from already-normalised parts
//! and proves that the final origin is the service's own (SECURITY.md item 2);
//! `client` sends it without following redirects.

mod client;
mod credential;
mod error;
mod headers;
mod prepare;

pub use client::{HttpConnector, HttpResponse};
pub use credential::Credential;
pub use error::HttpError;
pub use headers::{is_dropped_request_header, is_dropped_response_header, is_refused_method};
pub use prepare::{HttpRequest, Prepared, prepare};
