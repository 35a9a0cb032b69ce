use keyward_vault::SecretValue;

/// A resolved credential and where it goes. Only the inject stage builds
/// these; the values stay in zeroizing [`SecretValue`]s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    None,
    Bearer(SecretValue),
    Basic {
        username: String,
        password: SecretValue,
    },
    Header {
        name: String,
        value: SecretValue,
    },
    Query {
        name: String,
        value: SecretValue,
    },
}

impl Credential {
    /// The header the credential occupies, lower-cased, so that an agent's
    /// header of that name can be dropped rather than sent beside it.
    pub(crate) fn header_name(&self) -> Option<String> {
        match self {
            Credential::Bearer(_) | Credential::Basic { .. } => Some("authorization".into()),
            Credential::Header { name, .. } => Some(name.to_ascii_lowercase()),
            Credential::None | Credential::Query { .. } => None,
        }
    }
}
