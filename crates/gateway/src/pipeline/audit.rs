//! audit: records the call. The record is written before the answer goes
//! back, and if it cannot be written the call fails (fail closed).

use std::time::Instant;

use keyward_audit::{AuditError, AuditLog, Decision, Event};
use keyward_redact::Scrubber;

use super::{Stop, Stopped};

pub const AUDIT_FAILED: &str = "error: keyward could not write its audit log, so the result is withheld; the user must check the disk and the log file";

/// Appends `event`. Free text in it (errors) must already be scrubbed.
pub fn record(log: &AuditLog, event: Event) -> Result<(), AuditError> {
    log.append(event).map(|_| ()).inspect_err(|e| {
        tracing::error!(error = %e, "audit append failed; failing the call");
    })
}

/// Before acting: can this call be recorded? If not, it is not made.
pub fn ready(log: &AuditLog) -> Result<(), Stop> {
    log.preflight().map_err(|e| {
        tracing::error!(error = %e, "audit log unusable; refusing to act");
        Stop::AuditFailed
    })
}

/// Agent-controlled text bound for the log and the human: every hidden
/// character escaped by the one escaping ([`keyward_audit::shown`]: control,
/// bidirectional and invisible characters as `\u{..}`, a backslash as
/// `\\`), so it cannot forge lines, drive a terminal or read differently
/// from what it holds when `keyward audit`, the dashboard or a question
/// shows it; and the length capped (so one call cannot grow the log by
/// megabytes), a cut marked `…`.
pub fn printable(s: &str, max_chars: usize) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(max_chars).collect();
    let mut out = keyward_audit::shown::escape(&head);
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// Records a call that stopped on the way, and says what the agent is
/// told: the one place every refusal and failure is written.
pub fn stopped(
    log: &AuditLog,
    scrubber: &Scrubber,
    mut event: Event,
    started: Instant,
    stop: Stop,
) -> Stopped {
    let message = match stop {
        Stop::Recorded(s) => return *s,
        Stop::AuditFailed => return Stopped::new(None, AUDIT_FAILED),
        Stop::Refused {
            decision,
            message,
            rule,
        } => {
            event.decision = decision;
            if let Some(rule) = rule {
                event.rule = rule;
            }
            message
        }
        Stop::Failed { error, received } => {
            event.decision = Decision::Allow;
            event.latency_us = Some(started.elapsed().as_micros() as u64);
            event.bytes_received = Some(received);
            format!("error: {error}")
        }
    };
    let (message, n) = scrubber.scrub_str(&message);
    event.redactions += n as u64;
    event.error = Some(printable(&message, ERROR_CHARS));
    let decision = event.decision.clone();
    if record(log, event).is_err() {
        return Stopped::new(None, AUDIT_FAILED);
    }
    Stopped::new(Some(decision), message)
}

/// How much of an error message the audit record keeps.
const ERROR_CHARS: usize = 512;

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped_and_length_capped() {
        assert_eq!(printable("GET\n#999 forged", 64), "GET\\n#999 forged");
        assert_eq!(printable("\u{1b}[2K\rX", 64), "\\u{1b}[2K\\rX");
        assert_eq!(printable(&"a".repeat(10), 4), "aaaa…");
        assert_eq!(printable("abcd", 4), "abcd");
    }

    #[test]
    fn bidi_and_invisible_characters_are_escaped_in_what_is_recorded() {
        assert_eq!(
            printable("/refunds/\u{202e}\u{2066}x\u{200b}\u{2028}", 64),
            "/refunds/\\u{202e}\\u{2066}x\\u{200b}\\u{2028}"
        );
        assert_eq!(printable("a\\u{202e}", 64), "a\\\\u{202e}");
    }
}
