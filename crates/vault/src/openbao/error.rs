//! Errors of the OpenBao / HashiCorp Vault client.
//!
//! Each names the backend's address and, where there is one, the secret's
//! path, and says what to do. None carries a secret value, a token, a role
//! or secret id: only addresses, mount/path/field names, HTTP statuses and
//! the server's own error texts (which Vault and OpenBao never fill with
//! secret data; they are still cut short and stripped of control
//! characters before they are shown).

/// Why OpenBao / Vault could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenBaoError {
    /// Neither `[backends.vault]` nor `VAULT_ADDR` says where the server is.
    #[error(
        "no OpenBao/Vault server is configured: set VAULT_ADDR and VAULT_TOKEN for keyward, or \
         add [backends.vault] to keyward.toml"
    )]
    NotConfigured,
    /// The configuration cannot work (bad address, unresolvable token
    /// reference, no credentials).
    #[error("OpenBao/Vault backend: {message}")]
    Setup { message: String },
    #[error(
        "cannot connect to OpenBao/Vault at {address}: {detail} (is the server running, and \
         VAULT_ADDR / [backends.vault].address right?)"
    )]
    Connect { address: String, detail: String },
    #[error("OpenBao/Vault at {address} did not answer in time")]
    Timeout { address: String },
    #[error("talking to OpenBao/Vault at {address} failed: {detail}")]
    Transport { address: String, detail: String },
    #[error(
        "OpenBao/Vault at {address}: permission denied for {what} (the token may have expired, \
         or its policy lacks this path)"
    )]
    PermissionDenied { address: String, what: String },
    #[error("OpenBao/Vault at {address}: no secret at `{mount}/{path}` (KV v2 mount `{mount}`)")]
    NoSuchSecret {
        address: String,
        mount: String,
        path: String,
    },
    #[error(
        "OpenBao/Vault at {address}: the secret `{mount}/{path}` has no field `{field}` (its fields: {available})"
    )]
    FieldMissing {
        address: String,
        mount: String,
        path: String,
        field: String,
        /// Field names only, comma-separated (or "none").
        available: String,
    },
    #[error(
        "OpenBao/Vault at {address}: field `{field}` of `{mount}/{path}` is {kind}, not a string"
    )]
    FieldNotScalar {
        address: String,
        mount: String,
        path: String,
        field: String,
        kind: &'static str,
    },
    #[error(
        "OpenBao/Vault at {address}: `{mount}` is not a KV version 2 mount ({detail}); keyward \
         reads KV v2 only (`bao secrets enable -version=2 -path={mount} kv`)"
    )]
    NotKvV2 {
        address: String,
        mount: String,
        detail: String,
    },
    #[error(
        "OpenBao/Vault at {address}: no secrets engine is mounted at `{mount}/` (or the token's \
         policy does not reach it)"
    )]
    NoSuchMount { address: String, mount: String },
    #[error("OpenBao/Vault at {address} is sealed; unseal it (`bao operator unseal`)")]
    Sealed { address: String },
    #[error("OpenBao/Vault at {address}: AppRole login failed: {detail}")]
    Login { address: String, detail: String },
    #[error(
        "OpenBao/Vault at {address}: `{mount}/{path}` changed while keyward was writing it; run \
         the command again"
    )]
    Conflict {
        address: String,
        mount: String,
        path: String,
    },
    #[error("OpenBao/Vault at {address} answered {status} for {what}{detail}")]
    Status {
        address: String,
        status: u16,
        what: String,
        /// `": <server errors>"`, or empty.
        detail: String,
    },
    #[error("OpenBao/Vault at {address} sent an answer keyward cannot read for {what}: {detail}")]
    BadResponse {
        address: String,
        what: String,
        detail: String,
    },
    /// A reference keyward refuses to turn into a request path.
    #[error("invalid OpenBao/Vault path: {reason}")]
    BadPath { reason: String },
    /// KV v2 holds JSON text; binary values cannot be written.
    #[error("the value is not UTF-8 text; OpenBao/Vault KV stores text")]
    NotUtf8,
}

/// The server's `errors` array, made safe to show: at most three, each cut
/// to 200 characters, control characters replaced.
pub(crate) fn server_errors(errors: &[String]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .take(3)
        .map(|e| {
            e.trim()
                .chars()
                .take(200)
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
        })
        .filter(|e| !e.is_empty())
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_are_bounded_and_single_line() {
        assert_eq!(server_errors(&[]), "");
        assert_eq!(
            server_errors(&["1 error occurred:\n\t* permission denied\n\n".into()]),
            ": 1 error occurred:  * permission denied"
        );
        let long = "x".repeat(500);
        let many = vec![long.clone(), long.clone(), long.clone(), long];
        let out = server_errors(&many);
        assert_eq!(out.matches("; ").count(), 2);
        assert!(out.len() < 3 * 200 + 10);
    }
}
