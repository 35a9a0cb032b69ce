//! The only stage that touches plaintext secrets: it resolves each service's
//! reference once at start-up (so a missing secret is an error before the
//! first call, naming the reference) and hands the connector a
//! [`Credential`]. The same values seed the scrubber.

use std::collections::BTreeMap;

use keyward_config::{Auth, Service};
use keyward_connectors::http::Credential;
use keyward_redact::{Scrubber, ScrubberBuilder};
use keyward_vault::{EnvSource, Resolver, Vault};

use crate::{GatewayError, ServiceRuntime};

pub fn resolve_services(
    services: BTreeMap<String, Service>,
    vault: Option<&Vault>,
    env: &dyn EnvSource,
) -> Result<BTreeMap<String, ServiceRuntime>, GatewayError> {
    let resolver = Resolver { vault, env };
    services
        .into_iter()
        .map(|(name, service)| {
            let credential = credential_for(&resolver, &service)?;
            Ok((
                name,
                ServiceRuntime {
                    service,
                    credential,
                },
            ))
        })
        .collect()
}

fn credential_for(resolver: &Resolver<'_>, service: &Service) -> Result<Credential, GatewayError> {
    let Some(reference) = service.auth.secret() else {
        return Ok(Credential::None);
    };
    let value = resolver
        .resolve(reference)
        .map_err(|source| GatewayError::Secret {
            service: service.name.clone(),
            source: Box::new(source),
        })?;
    if value.is_empty() {
        return Err(GatewayError::Credential {
            service: service.name.clone(),
            message: format!("the secret `{reference}` is empty"),
        });
    }
    Ok(match &service.auth {
        Auth::None => Credential::None,
        Auth::Bearer { .. } => Credential::Bearer(value),
        Auth::Basic { username, .. } => Credential::Basic {
            username: username.clone(),
            password: value,
        },
        Auth::Header { name, .. } => Credential::Header {
            name: name.clone(),
            value,
        },
        Auth::Query { name, .. } => Credential::Query {
            name: name.clone(),
            value,
        },
    })
}

/// Every value keyward holds goes into the scrubber, not only the ones in
/// use: a secret of one service must not come back through another.
pub fn build_scrubber<'a>(
    vault: Option<&Vault>,
    services: impl Iterator<Item = &'a ServiceRuntime>,
    injected: &[keyward_vault::SecretValue],
) -> Scrubber {
    let mut b = ScrubberBuilder::new();
    for value in injected {
        b.add_secret(value.expose());
    }
    if let Some(v) = vault {
        for (_, value) in v.values() {
            b.add_secret(value.expose());
        }
    }
    for rt in services {
        match &rt.credential {
            Credential::None => {}
            Credential::Bearer(v)
            | Credential::Header { value: v, .. }
            | Credential::Query { value: v, .. } => {
                b.add_secret(v.expose());
            }
            Credential::Basic { username, password } => {
                b.add_secret(password.expose());
                b.add_basic_auth(username.as_bytes(), password.expose());
            }
        }
    }
    b.build()
}
