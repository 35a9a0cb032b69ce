//! The demo's steps: each makes the calls an agent would, prints what the
//! agent sent, what keyward decided and why (from the record it wrote),
//! and what the agent got back, and checks that it went as it should.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keyward_audit::Record;
use keyward_config::Paths;
use keyward_gateway::transport::control::QuestionView;
use keyward_vault::SecretValue;
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig};
use rmcp::service::{RoleClient, RunningService};
use serde_json::{Value, json};

use super::SECRET_NAME;
use crate::cli::{AuditArgs, AuditCmd, DemoArgs};
use crate::cmd::approvals;
use crate::cmd::demo_echo::EchoApi;

/// How long one call may take (the confirmation's wait not counted).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the held call may take to show up as a question.
const QUESTION_TIMEOUT: Duration = Duration::from_secs(10);

/// How the confirmation is answered.
#[derive(Clone, Copy)]
pub(super) enum Answer {
    Yes,
    No,
    /// Asked at the terminal; without one, not asked: a no.
    Ask,
}

impl Answer {
    pub(super) fn from_args(args: &DemoArgs) -> Answer {
        match (args.yes, args.no) {
            (true, _) => Answer::Yes,
            (_, true) => Answer::No,
            _ => Answer::Ask,
        }
    }
}

pub(super) struct Demo<'a> {
    pub(super) rt: &'a tokio::runtime::Runtime,
    pub(super) paths: &'a Paths,
    pub(super) client: &'a Arc<RunningService<RoleClient, ClientConfig>>,
    pub(super) echo: &'a EchoApi,
    pub(super) secret: &'a SecretValue,
    /// The demo vault's passphrase: the proof `keyward approve` sends.
    pub(super) passphrase: &'a SecretValue,
    pub(super) answer: Answer,
}

/// What went differently from what the step shows, if anything.
type Checked = Result<(), String>;

/// Says how step `n` went, and keeps it in `failed` if not as expected.
fn report(failed: &mut Vec<String>, n: usize, name: &str, checked: Checked) {
    match checked {
        Ok(()) => println!("  ok"),
        Err(why) => {
            println!("  NOT AS EXPECTED: {why}");
            failed.push(format!("step {n} ({name}): {why}"));
        }
    }
}

impl Demo<'_> {
    /// Runs every step; the steps that did not behave as expected, named.
    pub(super) fn run_all(&self) -> Vec<String> {
        let mut failed = Vec::new();
        report(&mut failed, 1, "an allowed call", self.allowed());
        report(&mut failed, 2, "a denied call", self.denied());
        report(&mut failed, 3, "a call to confirm", self.confirmed());
        report(&mut failed, 4, "the audit log", self.audit());
        failed
    }

    // === 1. allowed ===

    fn allowed(&self) -> Checked {
        heading("1. An allowed call: keyward attaches the key, and scrubs it from the answer");
        let args = json!({"service": "echo", "method": "GET", "path": "/v1/account"});
        let (result, records, seen) = self.call(&args)?;
        self.decided(&records);
        self.received(seen.first());
        self.got(&result);
        self.key_arrived(seen.first())?;
        self.key_scrubbed(&result)?;
        expect_decision(&records, "allow")
    }

    // === 2. denied ===

    fn denied(&self) -> Checked {
        heading("2. A call no rule allows: refused before anything is sent");
        let args = json!({"service": "echo", "method": "DELETE", "path": "/v1/customers/42"});
        let (result, records, seen) = self.call(&args)?;
        self.decided(&records);
        self.got(&result);
        if !seen.is_empty() {
            return Err("the echo API received the denied call".into());
        }
        println!("  echo API   received nothing");
        if result.is_error != Some(true) {
            return Err("the agent was not told the call was denied".into());
        }
        expect_decision(&records, "deny")
    }

    // === 3. confirm ===

    fn confirmed(&self) -> Checked {
        heading("3. A call under a `confirm` rule: it waits for a human's answer");
        let args = json!({
            "service": "echo",
            "method": "POST",
            "path": "/v1/refunds/42",
            "json": {"amount": 5},
            "reason": "the customer asked for a refund"
        });
        let from = (self.echo.count(), self.audit_len());
        agent_sends(&args);
        let client = self.client.clone();
        let params = params(&args)?;
        let held = self.rt.spawn(async move { client.call_tool(params).await });
        let question = self.question()?;
        println!(
            "  keyward    holds the call and asks on every channel; `keyward approvals` shows:"
        );
        for line in approvals::describe(&question).lines() {
            println!("               {line}");
        }
        let yes = self.ask_human()?;
        let said = if yes {
            approvals::send_approve_once(self.paths, &question.id, self.passphrase)
        } else {
            approvals::send_deny(self.paths, &question.id)
        }
        .map_err(|e| format!("the answer did not reach keyward: {e}"))?;
        println!(
            "  answer     {}, sent as `keyward {} {}` sends it{}",
            if yes { "yes" } else { "no" },
            if yes { "approve" } else { "deny" },
            question.id,
            if yes {
                ", with the vault passphrase (the demo's own here; in real use, yours)"
            } else {
                ""
            }
        );
        println!("  keyward    {said}");
        let result = self
            .rt
            .block_on(async { tokio::time::timeout(CALL_TIMEOUT, held).await })
            .map_err(|_| "the held call did not finish after the answer".to_string())?
            .map_err(|e| format!("the held call failed: {e}"))?
            .map_err(|e| format!("the MCP call failed: {e}"))?;
        let (records, seen) = self.since(from);
        self.decided(&records);
        self.received(seen.first());
        self.got(&result);
        if yes {
            self.key_arrived(seen.first())?;
            self.key_scrubbed(&result)?;
            expect_decision(&records, "allow")
        } else {
            if !seen.is_empty() {
                return Err("the echo API received the call the human refused".into());
            }
            println!("  echo API   received nothing");
            expect_decision(&records, "deny")
        }
    }

    /// The held call's question, as `keyward approvals` gets it from the
    /// control socket.
    fn question(&self) -> Result<QuestionView, String> {
        let started = Instant::now();
        loop {
            if let Some(q) = approvals::pending(self.paths).into_iter().next() {
                return Ok(q);
            }
            if started.elapsed() > QUESTION_TIMEOUT {
                return Err(
                    "no question appeared in `keyward approvals` for the held call".to_string(),
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The human's answer: `--yes`/`--no`, else asked at the terminal;
    /// without a terminal, not asked (a no).
    fn ask_human(&self) -> Result<bool, String> {
        match self.answer {
            Answer::Yes => {
                println!("  Allow this call once? [y/N] yes (--yes)");
                Ok(true)
            }
            Answer::No => {
                println!("  Allow this call once? [y/N] no (--no)");
                Ok(false)
            }
            Answer::Ask if std::io::stdin().is_terminal() => {
                crate::prompt::confirm("  Allow this call once? [y/N] ")
                    .map_err(|e| format!("cannot read the answer: {e}"))
            }
            Answer::Ask => {
                println!(
                    "  (stdin is not a terminal, and neither --yes nor --no was given: not asking, which counts as a no)"
                );
                Ok(false)
            }
        }
    }

    // === 4. audit ===

    fn audit(&self) -> Checked {
        heading("4. The audit log: one hash-chained record per call, question and answer");
        println!("  $ keyward audit");
        let printed = super::super::audit::run(self.paths, audit_args(None))
            .map_err(|e| format!("`keyward audit` failed: {e}"))?;
        println!("  $ keyward audit verify");
        let verified = super::super::audit::run(self.paths, audit_args(Some(AuditCmd::Verify)))
            .map_err(|e| format!("`keyward audit verify` failed: {e}"))?;
        if printed != ExitCode::SUCCESS || verified != ExitCode::SUCCESS {
            return Err("`keyward audit verify` did not find the hash chain intact".into());
        }
        let (records, _) = keyward_audit::read_from(&self.paths.audit_file(), 0)
            .map_err(|e| format!("cannot read the audit log: {e}"))?;
        let calls = records
            .iter()
            .filter(|r| r.event.kind == keyward_audit::Kind::Http)
            .count();
        if calls != 3 {
            return Err(format!("the log holds {calls} call records, not 3"));
        }
        Ok(())
    }

    // === the parts ===

    /// Makes one `http_request` as the agent; its answer, the records
    /// keyward wrote meanwhile and what the echo API received.
    fn call(&self, args: &Value) -> Result<(CallToolResult, Vec<Record>, Vec<Seen>), String> {
        let from = (self.echo.count(), self.audit_len());
        agent_sends(args);
        let params = params(args)?;
        let result = self
            .rt
            .block_on(async {
                tokio::time::timeout(CALL_TIMEOUT, self.client.call_tool(params)).await
            })
            .map_err(|_| "the call did not finish".to_string())?
            .map_err(|e| format!("the MCP call failed: {e}"))?;
        let (records, seen) = self.since(from);
        Ok((result, records, seen))
    }

    fn audit_len(&self) -> u64 {
        std::fs::metadata(self.paths.audit_file()).map_or(0, |m| m.len())
    }

    /// The records written and the requests received since `from`.
    fn since(&self, (echo_from, audit_from): (usize, u64)) -> (Vec<Record>, Vec<Seen>) {
        let records = keyward_audit::read_from(&self.paths.audit_file(), audit_from)
            .map(|(r, _)| r)
            .unwrap_or_default();
        let seen = self.echo.since(echo_from, |s| {
            s.iter()
                .map(|s| Seen {
                    what: format!("{} {}", s.method, s.path),
                    authorization: s.authorization.clone(),
                })
                .collect()
        });
        (records, seen)
    }

    /// keyward's decision and its reason, as recorded.
    fn decided(&self, records: &[Record]) {
        let Some(call) = call_record(records) else {
            println!("  keyward    (no record of the call)");
            return;
        };
        let e = &call.event;
        let decision = e.decision.to_string();
        let mut why = Vec::new();
        if let Some(rule) = &e.rule {
            why.push(format!("rule `{rule}`"));
        }
        if let (Some(_), Some(c)) = (&e.approval, &e.channel) {
            why.push(format!("the human answered via {c}"));
        }
        let verb = match decision.as_str() {
            "allow" => "allows it",
            "deny" => "denies it",
            other => other,
        };
        if why.is_empty() && decision == "deny" {
            println!("  keyward    {verb}: no rule allows it, and keyward denies by default");
        } else if why.is_empty() {
            println!("  keyward    {verb}");
        } else {
            println!("  keyward    {verb} ({})", why.join("; "));
        }
        if e.decision == keyward_audit::Decision::Allow {
            println!(
                "             and attaches `{SECRET_NAME}` as `Authorization: Bearer ...` on the way out"
            );
        }
    }

    /// What the echo API received (the key masked).
    fn received(&self, seen: Option<&Seen>) {
        let Some(seen) = seen else { return };
        let auth = match &seen.authorization {
            Some(a) if a == &self.bearer() => {
                format!(
                    "Authorization: Bearer {} (the real key; masked here)",
                    masked(self.secret)
                )
            }
            Some(_) => "an Authorization header that is not the demo key".to_string(),
            None => "no Authorization header".to_string(),
        };
        println!("  echo API   received {} with {auth}", seen.what);
    }

    /// What the agent got back: the echoed Authorization header of an
    /// answer, or the text of a refusal.
    fn got(&self, result: &CallToolResult) {
        if result.is_error == Some(true) {
            println!("  agent gets an error: {}", text_of(result));
            return;
        }
        let status = result
            .structured_content
            .as_ref()
            .and_then(|s| s.get("status"))
            .and_then(Value::as_u64)
            .unwrap_or_default();
        match echoed_authorization(result) {
            Some(auth) => println!(
                "  agent gets HTTP {status}; the echoed request in it says \"authorization\": \"{auth}\""
            ),
            None => println!("  agent gets HTTP {status}"),
        }
    }

    fn key_arrived(&self, seen: Option<&Seen>) -> Checked {
        match seen.and_then(|s| s.authorization.as_ref()) {
            Some(a) if a == &self.bearer() => Ok(()),
            Some(_) => Err("the echo API received another Authorization header".into()),
            None => Err("the echo API did not receive the demo key".into()),
        }
    }

    fn key_scrubbed(&self, result: &CallToolResult) -> Checked {
        let whole = format!(
            "{}{}",
            text_of(result),
            result
                .structured_content
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default()
        );
        let secret = String::from_utf8_lossy(self.secret.expose());
        if whole.contains(secret.as_ref()) {
            return Err("the demo key reached the agent".into());
        }
        match echoed_authorization(result) {
            Some(a) if a.contains("[REDACTED]") => Ok(()),
            _ => Err("the echoed key did not come back as [REDACTED]".into()),
        }
    }

    fn bearer(&self) -> SecretValue {
        let mut v = b"Bearer ".to_vec();
        v.extend_from_slice(self.secret.expose());
        SecretValue::new(v)
    }
}

/// What the echo API received, for printing.
struct Seen {
    what: String,
    authorization: Option<SecretValue>,
}

fn heading(text: &str) {
    println!();
    println!("{text}");
}

fn agent_sends(args: &Value) {
    println!("  agent sends http_request {args}");
}

fn params(args: &Value) -> Result<CallToolRequestParams, String> {
    match args {
        Value::Object(map) => {
            Ok(CallToolRequestParams::new("http_request").with_arguments(map.clone()))
        }
        _ => Err("the demo's arguments are not an object".into()),
    }
}

/// The record of the call itself (not of a question or an answer).
fn call_record(records: &[Record]) -> Option<&Record> {
    records
        .iter()
        .rev()
        .find(|r| r.event.kind == keyward_audit::Kind::Http)
}

fn expect_decision(records: &[Record], want: &str) -> Checked {
    match call_record(records) {
        Some(r) if r.event.decision == want => Ok(()),
        Some(r) => Err(format!(
            "keyward recorded `{}`, not `{want}`",
            r.event.decision
        )),
        None => Err("keyward wrote no record of the call".into()),
    }
}

fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Authorization header the echo API says it received, as the agent
/// reads it in the answer.
fn echoed_authorization(result: &CallToolResult) -> Option<String> {
    let body = result.structured_content.as_ref()?.get("body")?.as_str()?;
    let echoed: Value = serde_json::from_str(body).ok()?;
    echoed
        .pointer("/you_sent/headers/authorization")?
        .as_str()
        .map(str::to_string)
}

/// A value as `keyward scan` previews one: the last four characters.
pub(super) fn masked(value: &SecretValue) -> String {
    keyward_migrate::detect::mask(&String::from_utf8_lossy(value.expose()))
}

fn audit_args(action: Option<AuditCmd>) -> AuditArgs {
    AuditArgs {
        action,
        json: false,
        last: None,
        since: None,
        agent: None,
        decision: Vec::new(),
        target: None,
        follow: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_audit::{Decision, Event, Kind};

    fn record(kind: Kind, decision: Decision) -> Record {
        Record {
            seq: 1,
            ts: jiff::Timestamp::UNIX_EPOCH,
            prev: String::new(),
            event: Event {
                kind,
                decision,
                ..Event::default()
            },
            hash: String::new(),
        }
    }

    /// The exit status names every step that went otherwise.
    #[test]
    fn a_step_that_goes_otherwise_is_named() {
        let mut failed = Vec::new();
        report(&mut failed, 1, "an allowed call", Ok(()));
        report(&mut failed, 2, "a denied call", Err("it was sent".into()));
        assert_eq!(failed, ["step 2 (a denied call): it was sent"]);
    }

    /// The decision checked is the call's own, not the approval's records
    /// around it.
    #[test]
    fn the_call_record_decides() {
        let asked = record(Kind::Approval, Decision::Asked);
        let yes = record(Kind::Approval, Decision::Allow);
        let denied = record(Kind::Http, Decision::Deny);
        assert!(expect_decision(&[asked.clone(), yes.clone(), denied.clone()], "deny").is_ok());
        assert_eq!(
            expect_decision(&[asked.clone(), yes, denied], "allow"),
            Err("keyward recorded `deny`, not `allow`".into())
        );
        assert!(expect_decision(&[asked], "allow").is_err());
    }

    #[test]
    fn the_echoed_header_is_read_from_the_answer() {
        let body = json!({"you_sent": {"headers": {"authorization": "Bearer [REDACTED]"}}});
        let mut result = CallToolResult::default();
        result.structured_content = Some(json!({"status": 200, "body": body.to_string()}));
        assert_eq!(
            echoed_authorization(&result).as_deref(),
            Some("Bearer [REDACTED]")
        );
        result.structured_content = Some(json!({"status": 200, "body": "not json"}));
        assert_eq!(echoed_authorization(&result), None);
    }
}
