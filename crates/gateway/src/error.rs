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

impl GatewayError {
    /// Why one target is unavailable, with what to do about it, for
    /// `list_services`, the CLI's listings and the refusal of a call. It
    /// names the reference, never a value.
    pub fn unavailable_reason(&self) -> String {
        use keyward_vault::SecretRef;
        match self {
            GatewayError::Secret { source, .. } => {
                // The vault's own error already says how to add the secret.
                let other = match source.reference() {
                    Some(SecretRef::Vault(_)) => {
                        " (or correct the name in keyward.toml and approve the edit)".to_string()
                    }
                    Some(SecretRef::Env(var)) => {
                        format!("; set {var} in keyward's own environment")
                    }
                    _ => String::new(),
                };
                format!(
                    "its secret does not resolve: {source}{other}; then restart keyward (`keyward doctor` checks every reference)"
                )
            }
            GatewayError::Credential { message, .. } => format!(
                "{message}; fix it, then restart keyward (`keyward doctor` checks every reference)"
            ),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_vault::{ResolveError, SecretRef};

    fn missing(r: &str) -> GatewayError {
        GatewayError::Secret {
            service: "services.gh".into(),
            source: Box::new(ResolveError::NotFound {
                reference: SecretRef::parse(r).unwrap(),
                what: "no secret named `x` in the vault".into(),
            }),
        }
    }

    #[test]
    fn one_missing_secret_names_its_reference_and_the_fix() {
        let why = missing("keyward://github_tokn").unavailable_reason();
        assert!(why.contains("`keyward://github_tokn`"), "{why}");
        assert!(why.contains("correct the name in keyward.toml"), "{why}");
        assert!(why.contains("restart keyward"), "{why}");
        let why = missing("env://GH_TOKEN").unavailable_reason();
        assert!(
            why.contains("set GH_TOKEN in keyward's own environment"),
            "{why}"
        );
    }
}
