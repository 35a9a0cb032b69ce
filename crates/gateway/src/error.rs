/// Why the gateway could not start. Shown to the user at the CLI; never
/// contains a secret value (references are named, values never).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    #[error("service `{service}`: cannot resolve its secret: {source}")]
    Secret {
        service: String,
        #[source]
        source: Box<keyward_vault::ResolveError>,
    },
    #[error("service `{service}`: {message}")]
    Credential { service: String, message: String },
    #[error("cannot open the audit log: {0}")]
    Audit(#[from] keyward_audit::AuditError),
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] keyward_connectors::http::HttpError),
    #[error("cannot keep the vault open for live secrets: {0}")]
    Vault(#[from] keyward_vault::VaultError),
    #[error("MCP transport failed: {0}")]
    Transport(String),
    /// [`crate::serve_stdio_starting`]'s gateway was never built; the
    /// builder has the reason.
    #[error("keyward could not start")]
    NotStarted,
}
