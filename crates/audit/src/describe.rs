//! What a record is about, in one short text: the one description of a
//! record's target that `keyward audit` and the dashboard both show.

use crate::fields::Kind;
use crate::record::Event;

/// How many characters of a command's arguments [`Event::target_text`]
/// shows (the record holds up to 256; `--json` shows them all).
pub const ARGS_PREVIEW_CHARS: usize = 60;

/// The separator between a server's name and its tool's in the names the
/// agent sees (`fs__read_text_file`); the gateway's `TOOL_SEPARATOR`.
const TOOL_SEPARATOR: &str = "__";

impl Event {
    /// The name of what was called, as the agent named it: the service
    /// (`stripe`), the server's tool (`fs__read_text_file`), the command
    /// (`gh`), the workflow; for other kinds the bare `target`.
    /// `keyward audit --target GLOB` matches this name (and `target`).
    pub fn target_name(&self) -> String {
        match (&self.kind, &self.tool) {
            (Kind::Tool, Some(tool)) => format!("{}{TOOL_SEPARATOR}{tool}", self.target),
            _ => self.target.clone(),
        }
    }

    /// What the call was, for a human: the service with the method and
    /// path (`stripe POST /v1/refunds`), the server's tool
    /// (`fs__read_text_file`), the command with a preview of its
    /// arguments (`gh issue list`), a resource's URI, a prompt's or a
    /// workflow step's name. Every part was escaped and scrubbed when it
    /// was recorded; this only joins them (cutting a command's arguments
    /// to [`ARGS_PREVIEW_CHARS`], with `…`).
    pub fn target_text(&self) -> String {
        let mut text = self.target_name();
        let mut add = |part: Option<&str>| {
            if let Some(p) = part.filter(|p| !p.is_empty()) {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(p);
            }
        };
        match self.kind {
            Kind::Tool => {}
            Kind::Command => add(self.args.as_deref().map(preview).as_deref()),
            _ => {
                add(self.method.as_deref());
                add(self.path.as_deref());
                add(self.tool.as_deref());
                add(self.args.as_deref().map(preview).as_deref());
            }
        }
        text
    }
}

/// The first [`ARGS_PREVIEW_CHARS`] characters of `args`, then `…` when
/// there were more. The gateway escaped the text, so cutting it can only
/// cut an escape such as `\u{202e}` short, never reveal what it stood for.
fn preview(args: &str) -> String {
    let mut chars = args.chars();
    let mut out: String = chars.by_ref().take(ARGS_PREVIEW_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, target: &str) -> Event {
        Event {
            kind: kind.into(),
            target: target.into(),
            ..Event::default()
        }
    }

    #[test]
    fn an_http_call_is_its_service_method_and_path() {
        let e = Event {
            method: Some("POST".into()),
            path: Some("/v1/refunds".into()),
            ..event("http", "stripe")
        };
        assert_eq!(e.target_name(), "stripe");
        assert_eq!(e.target_text(), "stripe POST /v1/refunds");
    }

    /// issue 12: a tool call read `mcp 0.1.0 fs`, the tool only in `--json`.
    #[test]
    fn a_tool_call_shows_its_tool_not_only_its_server() {
        let e = Event {
            tool: Some("read_text_file".into()),
            ..event("tool", "fs")
        };
        assert_eq!(e.target_name(), "fs__read_text_file");
        assert_eq!(e.target_text(), "fs__read_text_file");
        assert_eq!(event("tool", "fs").target_text(), "fs");
    }

    #[test]
    fn a_command_shows_a_preview_of_its_arguments() {
        let e = Event {
            args: Some("issue list --repo a/b".into()),
            ..event("command", "gh")
        };
        assert_eq!(e.target_text(), "gh issue list --repo a/b");
        let long = Event {
            args: Some("x".repeat(300)),
            ..event("command", "gh")
        };
        let text = long.target_text();
        assert_eq!(text.chars().count(), 3 + ARGS_PREVIEW_CHARS + 1);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn other_kinds_join_what_they_have() {
        let e = Event {
            path: Some("file:///tmp/a".into()),
            ..event("resource", "fs")
        };
        assert_eq!(e.target_text(), "fs file:///tmp/a");
        let step = Event {
            tool: Some("fetch".into()),
            ..event("workflow", "release")
        };
        assert_eq!(step.target_text(), "release fetch");
        assert_eq!(event("admin", "keyward").target_text(), "keyward");
        assert_eq!(event("config", "").target_text(), "");
    }
}
