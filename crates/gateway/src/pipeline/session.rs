//! Who is calling. For the stdio transport that is what the client says in
//! `clientInfo`: a label for the audit log and the rate limiter, not an
//! authenticated identity (see the README's security model).

use rmcp::RoleServer;
use rmcp::service::RequestContext;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub agent: String,
}

impl Session {
    pub fn from_context(ctx: &RequestContext<RoleServer>) -> Session {
        let agent = ctx
            .client_info()
            .map(|i| format!("{} {}", i.name, i.version))
            .unwrap_or_else(|| "unknown".to_string());
        Session {
            agent: sanitize(&agent),
        }
    }
}

/// The name is the client's own words: keep it printable and short before it
/// reaches the audit log or a terminal.
pub fn sanitize(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).take(128).collect();
    let clean = clean.trim();
    if clean.is_empty() {
        "unknown".into()
    } else {
        clean.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn control_characters_and_length_are_bounded() {
        assert_eq!(sanitize("claude\n\u{1b}[31m 1.0"), "claude[31m 1.0");
        assert_eq!(sanitize("   "), "unknown");
        assert_eq!(sanitize(&"a".repeat(500)).len(), 128);
    }
}
