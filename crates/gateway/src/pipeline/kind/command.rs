//! `run_command`: an allow-listed CLI tool, run without a shell, in a
//! clean environment with a private HOME and a safe PATH; its program
//! checked against the pin the human approved, before anyone is asked and
//! again before it runs.

use std::path::PathBuf;

use keyward_audit::{Decision, Event};
use keyward_config::Limits;
use keyward_connectors::exec::{ExecOutput, ExecSpec, run};
use keyward_policy::{GrantScope, RuleRef, Rules, Target};
use keyward_redact::Scrubber;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Kind;
use super::command_sandbox as sandbox;
use crate::approvals::Ask;
use crate::pipeline::approval::{self, Approved};
use crate::pipeline::inject::Credential;
use crate::pipeline::route::{Tables, Unavailable, refuse_unavailable};
use crate::pipeline::{Call, Stages, Stop, ToolOutcome, audit};
use crate::servers::CommandRuntime;

/// The `run_command` tool.
pub struct RunCommand;

/// A routed command: a configured command, well-formed arguments.
pub struct CommandCall {
    args: CommandArgs,
    requested_cwd: Option<PathBuf>,
}

/// Arguments of the `run_command` tool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandArgs {
    /// Name of a command from `list_services`.
    pub command: String,
    /// Arguments, one string each; no shell interprets them.
    #[serde(default)]
    pub args: Vec<String>,
    /// Text written to the program's standard input.
    #[serde(default)]
    pub stdin: Option<String>,
    /// Absolute working directory; refused unless the command's config
    /// allows it. Without one the program runs in `/`.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Why you run this, in a sentence. Shown to the user when a rule asks
    /// for their confirmation; not passed to the program.
    #[serde(default)]
    pub reason: Option<String>,
}

impl Kind for RunCommand {
    const KIND: &'static str = "command";
    type Routed = CommandCall;
    type Response = ExecOutput;
    type Clean = Ran;
    type Answer = ToolOutcome;

    async fn route(st: &Stages, call: &Call, rec: &mut Event) -> Result<CommandCall, Stop> {
        let args: CommandArgs = serde_json::from_value(Value::Object(
            call.args.clone().unwrap_or_default(),
        ))
        .map_err(|e| Stop::refused(Decision::Error, format!("error: invalid arguments: {e}")))?;
        rec.target = audit::printable(&args.command, 64);
        rec.args = Some(audit::printable(&args.args.join(" "), 256));
        if !st.tables.commands.contains_key(&args.command) {
            let names: Vec<&str> = st.tables.commands.keys().map(String::as_str).collect();
            return Err(Stop::refused(
                Decision::Error,
                format!(
                    "error: unknown command `{}`; known commands: {}",
                    audit::printable(&args.command, 64),
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        }
        if let Some(reason) = st
            .tables
            .commands
            .get(&args.command)
            .and_then(Unavailable::unavailable)
        {
            let what = format!("command `{}`", args.command);
            return Err(refuse_unavailable(&what, reason));
        }
        let requested_cwd = match args.cwd.as_deref().map(PathBuf::from) {
            Some(p) if !p.is_absolute() => {
                return Err(Stop::refused(
                    Decision::Error,
                    "error: `cwd` must be an absolute path",
                ));
            }
            other => other,
        };
        Ok(CommandCall {
            args,
            requested_cwd,
        })
    }

    fn target(c: &CommandCall) -> Target<'_> {
        Target::Command {
            command: &c.args.command,
            argv: &c.args.args,
        }
    }

    fn rules<'t>(tables: &'t Tables, c: &CommandCall) -> Rules<'t> {
        match tables.commands.get(&c.args.command) {
            Some(rt) => Rules::Command {
                rules: &rt.command.rules,
                rate: rt.command.rate,
            },
            None => Rules::Command {
                rules: &[],
                rate: None,
            },
        }
    }

    fn describe(c: &CommandCall) -> String {
        format!(
            "`{} {}`",
            c.args.command,
            audit::printable(&c.args.args.join(" "), 128)
        )
    }

    /// The directory, HOME, PATH and program file are checked before
    /// anyone is asked: a call that cannot run is not put to a human.
    async fn admit(st: &Stages, c: &CommandCall) -> Result<(), Stop> {
        let rt = runtime(&st.tables, c)?;
        if let Err(msg) = sandbox::cwd(&rt.command, c.requested_cwd.as_deref()) {
            let rule = Some(format!("commands.{}.cwd", rt.command.name));
            return Err(Stop::refused_by(
                Decision::Deny,
                rule,
                format!("denied: {msg}"),
            ));
        }
        program(st, rt).map(|_| ())
    }

    fn question(
        st: &Stages,
        call: &Call,
        c: &CommandCall,
        rule: Option<&RuleRef>,
    ) -> Result<Ask, Stop> {
        Ok(ask_command(st, call, &c.args, rule.map(|r| r.text.clone())))
    }

    fn timeout(tables: &Tables, c: &CommandCall) -> std::time::Duration {
        tables
            .commands
            .get(&c.args.command)
            .map_or(tables.limits.timeout, |rt| rt.command.timeout)
    }

    /// The process: no shell, clean environment, private HOME, safe PATH,
    /// and the program checked again (a human may have taken minutes to
    /// answer).
    async fn perform(
        st: &Stages,
        c: &CommandCall,
        credential: &Credential,
        _approved: Option<&Approved>,
        rec: &mut Event,
    ) -> Result<ExecOutput, Stop> {
        let rt = runtime(&st.tables, c)?;
        let program = program(st, rt)?;
        let (cwd, ceiling) = sandbox::cwd(&rt.command, c.requested_cwd.as_deref())
            .map_err(|msg| Stop::refused(Decision::Deny, format!("denied: {msg}")))?;
        let (home, _home_guard) =
            sandbox::home(st.connectors.exec.get(), &rt.command).map_err(Stop::failed)?;
        let env = match credential {
            Credential::Env(env) => env.clone(),
            _ => Vec::new(),
        };
        let spec = ExecSpec {
            program,
            args: c.args.args.clone(),
            inherit: sandbox::inherit(&st.connectors.inherit, &home, ceiling.as_deref(), &env),
            env,
            stdin: c.args.stdin.clone().map(String::into_bytes),
            cwd: Some(cwd),
            timeout: rt.command.timeout,
            max_output_bytes: rt.command.max_output_bytes,
        };
        rec.bytes_sent = Some(spec.stdin.as_ref().map_or(0, |s| s.len() as u64));
        run(spec).await.map_err(|e| Stop::failed(e.to_string()))
    }

    async fn redact(
        scrubber: &Scrubber,
        _limits: &Limits,
        out: ExecOutput,
    ) -> Result<(Ran, usize), Stop> {
        let (stdout, n1) = scrubber.scrub_str(&String::from_utf8_lossy(&out.stdout));
        let (stderr, n2) = scrubber.scrub_str(&String::from_utf8_lossy(&out.stderr));
        Ok((
            Ran {
                out,
                stdout,
                stderr,
            },
            n1 + n2,
        ))
    }

    fn render(ran: Ran, rec: &mut Event) -> ToolOutcome {
        render(ran, rec)
    }
}

/// The program's output, scrubbed (`out`'s own bytes are kept only for
/// their lengths and status).
pub struct Ran {
    out: ExecOutput,
    stdout: String,
    stderr: String,
}

fn runtime<'t>(tables: &'t Tables, c: &CommandCall) -> Result<&'t CommandRuntime, Stop> {
    tables
        .commands
        .get(&c.args.command)
        .ok_or_else(|| Stop::refused(Decision::Error, "error: unknown command"))
}

/// The pinned program, or why it may not run.
fn program(st: &Stages, rt: &CommandRuntime) -> Result<PathBuf, Stop> {
    sandbox::program(
        st.connectors.exec.get(),
        &rt.command,
        st.connectors.path_var(),
    )
    .map_err(|msg| {
        tracing::warn!(command = %rt.command.name, "{msg}");
        Stop::refused_by(Decision::Deny, None, format!("denied: {msg}"))
    })
}

fn render(
    Ran {
        out,
        stdout,
        stderr,
    }: Ran,
    event: &mut Event,
) -> ToolOutcome {
    event.bytes_received = Some((out.stdout.len() + out.stderr.len()) as u64);
    let status = match (out.status, out.signal, out.timed_out) {
        (_, _, true) => "timed out and was killed".to_string(),
        (Some(code), _, _) => format!("exit {code}"),
        (None, Some(sig), _) => format!("killed by signal {sig}"),
        (None, None, _) => "ended".to_string(),
    };
    let failed = out.timed_out || out.status != Some(0);
    if failed {
        event.error = Some(status.clone());
    }
    let mut text = format!("{status}\n");
    if !stdout.is_empty() {
        text.push_str(&format!(
            "--- stdout{} ---\n{stdout}\n",
            if out.stdout_truncated {
                " (truncated)"
            } else {
                ""
            }
        ));
    }
    if !stderr.is_empty() {
        text.push_str(&format!(
            "--- stderr{} ---\n{stderr}\n",
            if out.stderr_truncated {
                " (truncated)"
            } else {
                ""
            }
        ));
    }
    let structured = json!({
        "exit_code": out.status,
        "signal": out.signal,
        "timed_out": out.timed_out,
        "stdout": stdout,
        "stderr": stderr,
        "stdout_truncated": out.stdout_truncated,
        "stderr_truncated": out.stderr_truncated,
    });
    ToolOutcome {
        is_error: failed,
        text,
        structured: Some(structured),
    }
}

/// The question for a held command. "Allow for a while" grants this
/// command (its deny rules still hold).
fn ask_command(st: &Stages, call: &Call, args: &CommandArgs, rule: Option<String>) -> Ask {
    let scrubber = st.scrubber();
    let argv = serde_json::to_string(&args.args).unwrap_or_default();
    let (shown, _) = scrubber.scrub_str(&args.args.join(" "));
    let mut parts: Vec<&[u8]> = vec![b"command", args.command.as_bytes(), argv.as_bytes()];
    parts.push(args.stdin.as_deref().unwrap_or_default().as_bytes());
    parts.push(args.cwd.as_deref().unwrap_or_default().as_bytes());
    Ask {
        agent: call.session.agent.clone(),
        session: call.session.id.clone(),
        kind: "command",
        target: format!(
            "command: {} {}{}",
            args.command,
            approval::target_text(&shown),
            args.cwd
                .as_deref()
                .map(|c| format!(" (in {})", audit::printable(c, 200)))
                .unwrap_or_default()
        ),
        rule,
        preview: args
            .stdin
            .as_deref()
            .and_then(|s| approval::preview(&scrubber, &Value::String(format!("stdin: {s}")))),
        reason: approval::reason(&scrubber, args.reason.as_deref()),
        scope: GrantScope::Command {
            command: args.command.clone(),
        },
        digest: approval::digest(&parts),
        grant_on_once: None,
    }
}
