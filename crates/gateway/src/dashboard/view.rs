//! The dashboard's HTML, rendered on the server. Every text that comes
//! from an agent, an upstream or a file — agent names, targets, reasons,
//! previews, grant scopes, audit lines — goes through [`text`]: hidden
//! characters (bidirectional overrides, zero-width, separators, controls)
//! shown as escapes by the one escaping of agent text
//! ([`keyward_audit::shown`]), then HTML-escaped by [`esc`]; nothing is
//! inserted unescaped but the page's own markup. The live updates send
//! this same HTML. (The texts were scrubbed of secrets before they were
//! queued: nothing here is secret.)

use std::fmt::Write as _;

use jiff::Timestamp;
use keyward_audit::Record;
use keyward_policy::{Expiry, Grant};

use crate::approvals::Question;

/// What the live part of the page shows, gathered at one instant.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) locked: bool,
    /// Set when keyward.toml has changes nobody approved.
    pub(crate) notice: Option<String>,
    /// `false` when no passphrase can be checked (no unlock form then).
    pub(crate) can_unlock: bool,
    pub(crate) pending: Vec<Question>,
    pub(crate) grants: Vec<Grant>,
    /// The last audit records, oldest first; `None` if unreadable.
    pub(crate) audit: Option<Vec<Record>>,
}

/// Escapes text for HTML content and double-quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Also keeps the HTML fit for one server-sent event.
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Agent text for the page: hidden characters escaped (a no-op for the
/// texts of a question, escaped when it was asked), then HTML-escaped.
pub(crate) fn text(s: &str) -> String {
    esc(&keyward_audit::shown::shown(s))
}

/// The buttons of a question: (answer, label, class).
pub(crate) const ANSWERS: [(&str, &str, &str); 5] = [
    ("deny", "Deny", "deny"),
    ("once", "Allow once", "allow"),
    ("5m", "Allow 5 min", "allow"),
    ("1h", "Allow 1 h", "allow"),
    ("session", "Allow for the session", "allow"),
];

fn head(title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"same-origin\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"/assets/dashboard.css\">\
         <script src=\"/assets/dashboard.js\" defer></script></head>\n",
        esc(title)
    )
}

/// The login page. `message` is one of the page's own texts.
pub(crate) fn login(message: Option<&str>, can_login: bool) -> String {
    let mut s = head("keyward — log in");
    s.push_str("<body class=\"login\"><main class=\"card\"><h1>keyward</h1>");
    s.push_str("<p class=\"sub\">Approvals dashboard</p>");
    if let Some(m) = message {
        let _ = write!(s, "<p class=\"flash error\" role=\"alert\">{}</p>", esc(m));
    }
    if can_login {
        s.push_str(
            "<form method=\"post\" action=\"/login\">\
             <label for=\"passphrase\">Vault passphrase</label>\
             <input type=\"password\" id=\"passphrase\" name=\"passphrase\" \
             autocomplete=\"current-password\" required autofocus>\
             <button type=\"submit\" class=\"primary\">Log in</button></form>\
             <p class=\"hint\">The passphrase proves a human is answering: an agent \
             running as you can reach this page, but cannot log in.</p>",
        );
    } else {
        s.push_str(
            "<p>This keyward cannot check a passphrase (it was started without \
             following a vault), so nothing can be approved here. Use the MCP \
             client's own prompt, or restart <code>keyward serve --http</code>.</p>",
        );
    }
    s.push_str("</main></body></html>\n");
    s
}

/// The whole dashboard page around the live part.
pub(crate) fn page(live: &str, csrf: &str, flash: Option<(&str, &str)>) -> String {
    let mut s = head("keyward — approvals");
    s.push_str("<body><header><h1>keyward</h1><span class=\"sub\">approvals</span>");
    s.push_str("<span id=\"conn\" class=\"conn\" title=\"live updates\">connecting…</span>");
    let _ = write!(
        s,
        "<form method=\"post\" action=\"/logout\" class=\"logout\">{}\
         <button type=\"submit\">Log out</button></form></header>",
        csrf_field(csrf)
    );
    if let Some((class, text)) = flash {
        let _ = write!(
            s,
            "<p class=\"flash {}\" role=\"status\">{}</p>",
            esc(class),
            esc(text)
        );
    }
    let _ = writeln!(
        s,
        "<main id=\"live\" data-hash=\"{}\">{live}</main></body></html>",
        hash(live)
    );
    s
}

/// Names one rendering of the live part (the page tells the stream which
/// one it shows, so the stream does not send it again).
pub(crate) fn hash(live: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(live.as_bytes())[..12])
}

fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(csrf)
    )
}

/// The part of the page that live updates replace.
pub(crate) fn live(snap: &Snapshot, csrf: &str) -> String {
    let mut s = String::new();
    if let Some(n) = &snap.notice {
        let _ = write!(
            s,
            "<div class=\"banner\" role=\"alert\"><strong>keyward.toml changed</strong> {}</div>",
            text(n)
        );
    }
    lock_section(&mut s, snap, csrf);
    pending_section(&mut s, snap, csrf);
    grants_section(&mut s, snap, csrf);
    audit_section(&mut s, snap);
    s
}

fn lock_section(s: &mut String, snap: &Snapshot, csrf: &str) {
    if snap.locked {
        s.push_str(
            "<section id=\"lock\" class=\"lock locked\"><h2>Locked</h2>\
             <p>Every call of every agent is denied until you unlock.</p>",
        );
        if snap.can_unlock {
            let _ = write!(
                s,
                "<form method=\"post\" action=\"/unlock\" class=\"unlock\">{}\
                 <label for=\"unlock-pass\">Vault passphrase</label>\
                 <input type=\"password\" id=\"unlock-pass\" name=\"passphrase\" \
                 autocomplete=\"current-password\" required>\
                 <button type=\"submit\" class=\"primary\">Unlock</button></form>",
                csrf_field(csrf)
            );
        }
        s.push_str("</section>");
    } else {
        let _ = write!(
            s,
            "<section id=\"lock\" class=\"lock\"><p>Calls are served by the rules and \
             grants below. <strong>Lock</strong> denies every call at once.</p>\
             <form method=\"post\" action=\"/lock\">{}\
             <button type=\"submit\" class=\"danger\" id=\"lock-button\">Lock keyward</button>\
             </form></section>",
            csrf_field(csrf)
        );
    }
}

fn pending_section(s: &mut String, snap: &Snapshot, csrf: &str) {
    let _ = write!(
        s,
        "<section id=\"pending\"><h2>Waiting for you <span class=\"count\">{}</span></h2>",
        snap.pending.len()
    );
    if snap.pending.is_empty() {
        s.push_str("<p class=\"empty\">No call is waiting for approval.</p>");
    }
    for q in &snap.pending {
        let _ = write!(
            s,
            "<article class=\"question\" data-id=\"{id}\"><h3><span class=\"agent\">{agent}</span> \
             wants <span class=\"target\">{target}</span> <span class=\"kind\">{kind}</span></h3><dl>",
            id = esc(&q.id),
            agent = text(&q.agent),
            target = text(&q.target),
            kind = text(q.kind),
        );
        row(s, "Rule", q.rule.as_deref().map(text));
        row(
            s,
            "Reason",
            q.reason
                .as_deref()
                .map(|r| format!("<span class=\"reason\">{}</span>", text(r))),
        );
        row(
            s,
            "Arguments",
            q.preview
                .as_deref()
                .map(|p| format!("<pre class=\"preview\">{}</pre>", text(p))),
        );
        row(s, "A grant would cover", Some(text(&q.grants)));
        row(
            s,
            "Denied at",
            Some(format!("{} unless answered", deadline(&q.deadline))),
        );
        let _ = write!(
            s,
            "</dl><form method=\"post\" action=\"/answer\" class=\"answers\">{}\
             <input type=\"hidden\" name=\"id\" value=\"{}\">",
            csrf_field(csrf),
            esc(&q.id)
        );
        for (value, label, class) in ANSWERS {
            let _ = write!(
                s,
                "<button type=\"submit\" name=\"answer\" value=\"{value}\" class=\"{class}\">{label}</button>"
            );
        }
        s.push_str("</form></article>");
    }
    s.push_str("</section>");
}

fn row(s: &mut String, name: &str, value: Option<String>) {
    if let Some(v) = value {
        let _ = write!(s, "<dt>{name}</dt><dd>{v}</dd>");
    }
}

/// An instant as UTC time of day; the page's script shows the time left.
fn deadline(at: &Timestamp) -> String {
    format!(
        "<time datetime=\"{}\" data-deadline=\"{}\">{}</time>",
        esc(&at.to_string()),
        at.as_millisecond(),
        esc(&at.strftime("%H:%M:%S UTC").to_string())
    )
}

fn grants_section(s: &mut String, snap: &Snapshot, csrf: &str) {
    let _ = write!(
        s,
        "<section id=\"grants\"><h2>Grants <span class=\"count\">{}</span></h2>",
        snap.grants.len()
    );
    if snap.grants.is_empty() {
        s.push_str(
            "<p class=\"empty\">No grants: every <code>confirm</code> rule asks you.</p></section>",
        );
        return;
    }
    s.push_str(
        "<table><thead><tr><th>Agent</th><th>Covers</th><th>Until</th><th>Given by</th>\
         <th>Reason</th><th></th></tr></thead><tbody>",
    );
    for g in &snap.grants {
        let until = match &g.expiry {
            Expiry::Time { at } => deadline(at),
            Expiry::Session { .. } => "end of the agent's session".to_string(),
        };
        let _ = write!(
            s,
            "<tr class=\"grant\" data-id=\"{id}\"><td class=\"agent\">{agent}</td>\
             <td class=\"scope\">{scope}</td><td>{until}</td><td>{by}</td><td>{reason}</td>\
             <td><form method=\"post\" action=\"/revoke\">{csrf}\
             <input type=\"hidden\" name=\"id\" value=\"{id}\">\
             <button type=\"submit\" class=\"deny\">Revoke</button></form></td></tr>",
            id = esc(&g.id),
            agent = text(&g.agent),
            scope = text(&g.scope.to_string()),
            by = text(&g.created_by),
            reason = text(g.reason.as_deref().unwrap_or("")),
            csrf = csrf_field(csrf),
        );
    }
    let _ = write!(
        s,
        "</tbody></table><form method=\"post\" action=\"/revoke\" class=\"revoke-all\">{}\
         <input type=\"hidden\" name=\"all\" value=\"1\">\
         <button type=\"submit\" class=\"danger\">Revoke all</button></form></section>",
        csrf_field(csrf)
    );
}

fn audit_section(s: &mut String, snap: &Snapshot) {
    s.push_str("<section id=\"audit\"><h2>Recent activity</h2>");
    let Some(records) = &snap.audit else {
        s.push_str("<p class=\"empty\">The audit log cannot be read now (see <code>keyward audit verify</code>).</p></section>");
        return;
    };
    if records.is_empty() {
        s.push_str("<p class=\"empty\">Nothing recorded yet.</p></section>");
        return;
    }
    s.push_str(
        "<table><thead><tr><th>When</th><th>Agent</th><th>What</th><th>Decision</th>\
         <th>Via</th></tr></thead><tbody>",
    );
    for r in records.iter().rev() {
        let e = &r.event;
        let _ = write!(
            s,
            "<tr><td><time datetime=\"{ts}\" data-local>{time}</time></td><td>{agent}</td>\
             <td>{kind}: {target}</td><td class=\"decision\">{decision}</td><td>{via}</td></tr>",
            ts = esc(&r.ts.to_string()),
            time = esc(&r.ts.strftime("%H:%M:%S UTC").to_string()),
            agent = text(&e.agent),
            kind = text(e.kind.as_str()),
            target = text(&e.target_text()),
            decision = text(&e.decision.to_string()),
            via = text(
                &e.channel
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ),
        );
    }
    s.push_str("</tbody></table></section>");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>'&";

    fn question() -> Question {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        Question {
            id: "ab\"cd".into(),
            agent: HOSTILE.into(),
            kind: "http",
            target: format!("pay: POST /refunds/{HOSTILE}"),
            rule: Some(HOSTILE.into()),
            preview: Some(HOSTILE.into()),
            reason: Some(HOSTILE.into()),
            grants: HOSTILE.into(),
            asked: now,
            deadline: now,
        }
    }

    #[test]
    fn escaping_covers_markup_and_attributes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>\r"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;&#13;"
        );
    }

    #[test]
    fn agent_controlled_text_is_shown_as_text() {
        let snap = Snapshot {
            pending: vec![question()],
            notice: Some(HOSTILE.into()),
            ..Snapshot::default()
        };
        let html = live(&snap, "tok\"en");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&quot;&gt;&lt;img"),
            "quotes cannot close an attribute"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("value=\"tok&quot;en\""));
        assert!(html.contains("data-id=\"ab&quot;cd\""));
        // Every answer button is there.
        for (value, label, _) in ANSWERS {
            assert!(html.contains(&format!("value=\"{value}\"")), "{value}");
            assert!(html.contains(label));
        }
    }

    /// The page (and the live updates, which send the same HTML) shows no
    /// bidirectional, invisible or control character from any agent text.
    #[test]
    fn bidi_override_in_reason_is_escaped_on_the_dashboard() {
        use crate::approvals::question_tests::{assert_no_hidden, hostile_question};
        let q = hostile_question();
        let grant = keyward_policy::Grant {
            id: "g1".into(),
            agent: q.agent.clone(),
            scope: keyward_policy::GrantScope::Command {
                command: "git\u{202e}".into(),
            },
            expiry: Expiry::Session {
                session: "s1".into(),
            },
            created: q.asked,
            created_by: "cli".into(),
            reason: q.reason.clone(),
        };
        let record = Record {
            seq: 1,
            ts: q.asked,
            prev: String::new(),
            event: keyward_audit::Event {
                agent: q.agent.clone(),
                target: q.target.clone(),
                decision: "asked\u{2066}".into(),
                ..keyward_audit::Event::default()
            },
            hash: String::new(),
        };
        let snap = Snapshot {
            pending: vec![q],
            grants: vec![grant],
            notice: Some("changed \u{202e}".into()),
            audit: Some(vec![record]),
            ..Snapshot::default()
        };
        let html = live(&snap, "csrf");
        assert_no_hidden(&html.replace('\n', ""));
        assert!(
            html.contains("reasonx\\u{202e}\\u{2066}\\u{200b}\\u{2028}"),
            "{html}"
        );
    }

    /// issue 12: the recent activity said `tool: fs`, not which tool.
    #[test]
    fn recent_activity_names_the_tool_the_service_call_and_the_command() {
        let record = |seq, kind: &str, target: &str, f: fn(&mut keyward_audit::Event)| {
            let mut event = keyward_audit::Event {
                agent: "a".into(),
                kind: kind.into(),
                target: target.into(),
                decision: "allow".into(),
                ..keyward_audit::Event::default()
            };
            f(&mut event);
            Record {
                seq,
                ts: Timestamp::UNIX_EPOCH,
                prev: String::new(),
                event,
                hash: String::new(),
            }
        };
        let snap = Snapshot {
            audit: Some(vec![
                record(1, "tool", "fs", |e| e.tool = Some("read_text_file".into())),
                record(2, "http", "stripe", |e| {
                    e.method = Some("POST".into());
                    e.path = Some("/v1/refunds".into());
                }),
                record(3, "command", "gh", |e| e.args = Some("issue list".into())),
            ]),
            ..Snapshot::default()
        };
        let html = live(&snap, "csrf");
        for shown in [
            "tool: fs__read_text_file",
            "http: stripe POST /v1/refunds",
            "command: gh issue list",
        ] {
            assert!(html.contains(shown), "{shown}: {html}");
        }
    }

    #[test]
    fn login_page_has_no_reflected_input() {
        let html = login(Some("Wrong passphrase."), true);
        assert!(html.contains("type=\"password\""));
        assert!(html.contains("action=\"/login\""));
        let cannot = login(None, false);
        assert!(!cannot.contains("<form"));
    }
}
