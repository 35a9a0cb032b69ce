use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};
use keyward_audit::{Record, read_from, read_last, verify};
use keyward_config::Paths;
use keyward_policy::NamePattern;

use crate::cli::{AuditArgs, AuditCmd};
use crate::error::CliError;

/// How often `--follow` looks for new records.
const FOLLOW_POLL: Duration = Duration::from_millis(250);

/// What `--follow` shows before the new records when `-n` is not given.
const FOLLOW_BACKLOG: usize = 10;

pub(crate) fn run(paths: &Paths, args: AuditArgs) -> Result<ExitCode, CliError> {
    let file = paths.audit_file();
    if let Some(AuditCmd::Verify) = args.action {
        return Ok(verify_log(&file));
    }
    let filter = Filter::from_args(&args, Timestamp::now())?;
    if !file.exists() && !args.follow {
        println!("no audit records yet ({})", file.display());
        return Ok(ExitCode::SUCCESS);
    }
    let last = args.last.or(args.follow.then_some(FOLLOW_BACKLOG));
    let (records, offset) = if file.exists() {
        backlog(&file, &filter, last, args.follow)?
    } else {
        (Vec::new(), 0)
    };
    let mut printer = Printer::new(args.json, &records);
    for r in &records {
        printer.print(r);
    }
    if args.follow {
        follow(&file, &filter, &mut printer, offset)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn verify_log(file: &Path) -> ExitCode {
    if !file.exists() {
        println!("ok: no audit log yet ({})", file.display());
        return ExitCode::SUCCESS;
    }
    match verify(file) {
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
    }
}

/// The records to show first (the last `last` of those `filter` lets
/// through), and where the log ended when they were read.
fn backlog(
    file: &Path,
    filter: &Filter,
    last: Option<usize>,
    follow: bool,
) -> Result<(Vec<Record>, u64), CliError> {
    let (mut records, offset) = match last {
        // Without a filter only the end of the log needs reading (when
        // following, the whole log is read to know exactly where it ends).
        Some(n) if filter.is_empty() && !follow => (read_last(file, n)?, 0),
        _ => read_from(file, 0)?,
    };
    records.retain(|r| filter.matches(r));
    if let Some(n) = last {
        let skip = records.len().saturating_sub(n);
        records.drain(..skip);
    }
    Ok((records, offset))
}

/// Prints each record appended after `offset`, until stdout's reader goes.
fn follow(
    file: &Path,
    filter: &Filter,
    printer: &mut Printer,
    mut offset: u64,
) -> Result<(), CliError> {
    while !crate::out::closed() {
        std::thread::sleep(FOLLOW_POLL);
        if !file.exists() {
            continue;
        }
        let (records, next) = read_from(file, offset)?;
        offset = next;
        for r in records.iter().filter(|r| filter.matches(r)) {
            printer.print(r);
        }
    }
    Ok(())
}

/// The record filters of `keyward audit`; all must match.
#[derive(Default)]
struct Filter {
    since: Option<Timestamp>,
    agent: Option<String>,
    decisions: Vec<String>,
    target: Option<NamePattern>,
}

impl Filter {
    fn from_args(args: &AuditArgs, now: Timestamp) -> Result<Filter, CliError> {
        let target = match &args.target {
            Some(glob) => Some(
                NamePattern::parse(glob)
                    .map_err(|e| CliError::msg(format!("--target {glob:?}: {e}")))?,
            ),
            None => None,
        };
        Ok(Filter {
            since: args.since.as_deref().map(|s| since(s, now)).transpose()?,
            agent: args.agent.clone(),
            decisions: args.decision.clone(),
            target,
        })
    }

    fn is_empty(&self) -> bool {
        self.since.is_none()
            && self.agent.is_none()
            && self.decisions.is_empty()
            && self.target.is_none()
    }

    fn matches(&self, r: &Record) -> bool {
        let e = &r.event;
        self.since.is_none_or(|t| r.ts >= t)
            && self
                .agent
                .as_deref()
                .is_none_or(|a| e.agent == a || e.agent.split_whitespace().next() == Some(a))
            && (self.decisions.is_empty() || {
                let d = e.decision.to_string();
                self.decisions.iter().any(|want| {
                    d == *want
                        || d.strip_prefix(want.as_str())
                            .is_some_and(|r| r.starts_with(' '))
                })
            })
            && self
                .target
                .as_ref()
                .is_none_or(|p| p.matches(&e.target_name(), false) || p.matches(&e.target, false))
    }
}

/// `--since`: a duration back from `now` (`1h`, `30m`, `2d`, `1 hour`) or
/// an RFC 3339 time.
fn since(s: &str, now: Timestamp) -> Result<Timestamp, CliError> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let bad = || {
        CliError::msg(format!(
            "--since {s:?}: not a duration (90s, 30m, 1h, 2d) or an RFC 3339 time (2026-12-03T14:00:00Z)"
        ))
    };
    let span: Span = s.trim().parse().map_err(|_| bad())?;
    // Days are calendar days in the local zone (a day can be 23 or 25 hours).
    now.to_zoned(TimeZone::system())
        .checked_sub(span.abs())
        .map(|z| z.timestamp())
        .map_err(|_| bad())
}

/// Prints records in aligned columns (or as JSON lines).
struct Printer {
    json: bool,
    tz: TimeZone,
    decision_width: usize,
    agent_width: usize,
}

impl Printer {
    fn new(json: bool, first: &[Record]) -> Printer {
        let width = |f: &dyn Fn(&Record) -> usize, min: usize| {
            first.iter().map(f).max().unwrap_or(0).max(min)
        };
        Printer {
            json,
            tz: TimeZone::system(),
            decision_width: width(&|r| r.event.decision.to_string().chars().count(), 12),
            agent_width: width(&|r| r.event.agent.chars().count(), 24),
        }
    }

    fn print(&mut self, r: &Record) {
        if self.json {
            println!("{}", serde_json::to_string(r).unwrap_or_default());
            return;
        }
        // A record printed later (--follow) may be wider: the columns grow.
        self.decision_width = self
            .decision_width
            .max(r.event.decision.to_string().chars().count());
        self.agent_width = self.agent_width.max(r.event.agent.chars().count());
        println!("{}", self.human(r));
    }

    /// One readable line. Every field that came from the agent or an
    /// upstream was escaped when it was recorded (`keyward_audit::shown`);
    /// a record that still holds a hidden character (an older keyward's,
    /// or an edited file's) is escaped here: a record must not be able to
    /// forge lines, drive the terminal that prints it, or read differently
    /// from what it holds. Escaped text is not escaped again.
    fn human(&self, r: &Record) -> String {
        keyward_audit::shown::shown(&self.raw_human(r)).into_owned()
    }

    fn raw_human(&self, r: &Record) -> String {
        let e = &r.event;
        let mut line = format!(
            "#{:<5} {} {:<dw$} {:<aw$} {}",
            r.seq,
            local_time(&r.ts.to_zoned(self.tz.clone())),
            e.decision,
            e.agent,
            e.target_text(),
            dw = self.decision_width,
            aw = self.agent_width,
        );
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
        line.trim_end().to_string()
    }
}

/// `2026-12-03 15:00:29 CET`: the local time, with its zone's name (or
/// its offset, where the zone has no abbreviation).
fn local_time(z: &Zoned) -> String {
    z.strftime("%Y-%m-%d %H:%M:%S %Z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_audit::Event;

    fn record(agent: &str, decision: &str, kind: &str, target: &str, tool: Option<&str>) -> Record {
        Record {
            seq: 1,
            ts: "2026-12-03T14:00:00Z".parse().unwrap(),
            prev: String::new(),
            event: Event {
                agent: agent.into(),
                decision: decision.into(),
                kind: kind.into(),
                target: target.into(),
                tool: tool.map(str::to_string),
                ..Event::default()
            },
            hash: String::new(),
        }
    }

    fn now() -> Timestamp {
        "2026-12-03T15:00:00Z".parse().unwrap()
    }

    #[test]
    fn since_takes_durations_and_rfc3339_times() {
        let t = |s| since(s, now()).unwrap().to_string();
        assert_eq!(t("1h"), "2026-12-03T14:00:00Z");
        assert_eq!(t("30m"), "2026-12-03T14:30:00Z");
        assert_eq!(t("90s"), "2026-12-03T14:58:30Z");
        assert_eq!(t("2 hours"), "2026-12-03T13:00:00Z");
        assert_eq!(t("2026-12-03T10:00:00+01:00"), "2026-12-03T09:00:00Z");
        assert!(since("yesterday-ish", now()).is_err());
    }

    #[test]
    fn filters_match_agent_decision_and_target() {
        let tool = record(
            "claude-code 1.2.3",
            "deny",
            "tool",
            "fs",
            Some("write_file"),
        );
        let f = |agent: Option<&str>, decisions: &[&str], target: Option<&str>| Filter {
            agent: agent.map(str::to_string),
            decisions: decisions.iter().map(|d| d.to_string()).collect(),
            target: target.map(|t| NamePattern::parse(t).unwrap()),
            ..Filter::default()
        };
        assert!(f(Some("claude-code"), &[], None).matches(&tool));
        assert!(f(Some("claude-code 1.2.3"), &[], None).matches(&tool));
        assert!(!f(Some("claude"), &[], None).matches(&tool));
        assert!(f(None, &["deny"], None).matches(&tool));
        assert!(f(None, &["allow", "deny"], None).matches(&tool));
        assert!(!f(None, &["allow"], None).matches(&tool));
        assert!(f(None, &[], Some("fs__*")).matches(&tool));
        assert!(f(None, &[], Some("fs")).matches(&tool));
        assert!(!f(None, &[], Some("fs__read_*")).matches(&tool));
        let yes = record("a", "allow for 5m (grant g)", "approval", "x", None);
        assert!(f(None, &["allow"], None).matches(&yes));
        assert!(!f(None, &["all"], None).matches(&yes));
    }

    /// issue 12: times were UTC without a label.
    #[test]
    fn times_are_local_with_their_zone() {
        let berlin = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        let summer: Timestamp = "2026-07-01T12:00:00Z".parse().unwrap();
        let winter: Timestamp = "2026-12-03T14:20:00Z".parse().unwrap();
        assert_eq!(
            local_time(&summer.to_zoned(berlin.clone())),
            "2026-07-01 14:00:00 CEST"
        );
        assert_eq!(
            local_time(&winter.to_zoned(berlin)),
            "2026-12-03 15:20:00 CET"
        );
        assert_eq!(
            local_time(&winter.to_zoned(TimeZone::UTC)),
            "2026-12-03 14:20:00 UTC"
        );
    }

    /// issue 12: `allow for the session (grant …)` pushed the columns apart.
    #[test]
    fn long_decisions_keep_the_columns_aligned() {
        let records = [
            record("a", "allow", "http", "x", None),
            record(
                "a",
                "allow for the session (grant 0123456789abcdef)",
                "approval",
                "x",
                None,
            ),
        ];
        let p = Printer::new(false, &records);
        let lines: Vec<String> = records.iter().map(|r| p.raw_human(r)).collect();
        let col = |l: &str| l.find(" a ").unwrap();
        assert_eq!(col(&lines[0]), col(&lines[1]));
    }
}
