use std::process::ExitCode;

use keyward_audit::{Record, read_last, read_records, verify};
use keyward_config::Paths;

use crate::cli::{AuditArgs, AuditCmd};
use crate::error::CliError;

pub(crate) fn run(paths: &Paths, args: AuditArgs) -> Result<ExitCode, CliError> {
    let file = paths.audit_file();
    if let Some(AuditCmd::Verify) = args.action {
        if !file.exists() {
            println!("ok: no audit log yet ({})", file.display());
            return Ok(ExitCode::SUCCESS);
        }
        return Ok(match verify(&file) {
            Ok(report) => {
                println!(
                    "ok: {} records, hash chain intact ({})",
                    report.records,
                    file.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("TAMPERED: {e}");
                ExitCode::from(1)
            }
        });
    }
    if !file.exists() {
        println!("no audit records yet ({})", file.display());
        return Ok(ExitCode::SUCCESS);
    }
    let records = match args.last {
        Some(n) => read_last(&file, n)?,
        None => read_records(&file)?,
    };
    for r in &records {
        if args.json {
            println!("{}", serde_json::to_string(r).unwrap_or_default());
        } else {
            println!("{}", human(r));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One readable line. Every field that came from the agent or an upstream
/// was escaped when it was recorded (`keyward_audit::shown`); a record
/// that still holds a hidden character (an older keyward's, or an edited
/// file's) is escaped here: a record must not be able to forge lines, drive
/// the terminal that prints it, or read differently from what it holds.
/// Escaped text is not escaped again (its backslashes would double).
fn human(r: &Record) -> String {
    keyward_audit::shown::shown(&raw_human(r)).into_owned()
}

fn raw_human(r: &Record) -> String {
    let e = &r.event;
    let mut line = format!(
        "#{:<5} {} {:<12} {:<24} {}",
        r.seq,
        r.ts.strftime("%Y-%m-%d %H:%M:%S"),
        e.decision,
        e.agent,
        e.target
    );
    if let Some(m) = &e.method {
        line.push(' ');
        line.push_str(m);
    }
    if let Some(p) = &e.path {
        line.push(' ');
        line.push_str(p);
    }
    if let Some(s) = e.status {
        line.push_str(&format!(" -> {s}"));
    }
    if let Some(us) = e.latency_us {
        line.push_str(&format!(" {:.1}ms", us as f64 / 1000.0));
    }
    if e.redactions > 0 {
        line.push_str(&format!(" scrubbed={}", e.redactions));
    }
    if let Some(rule) = &e.rule {
        line.push_str(&format!(" [{rule}]"));
    }
    if let Some(err) = &e.error {
        line.push_str(&format!(" ({err})"));
    }
    line
}
