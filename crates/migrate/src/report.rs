//! A scan's [`Outcome`] as text: a table for people, JSON for scripts,
//! SARIF 2.1.0 for code-scanning tools. Findings hold no values, so none
//! of these can print one; file names and paths are escaped where a
//! terminal would interpret them.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::detect::RULES;
use crate::scan::{Finding, Outcome, Skipped};

/// How the table looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// ANSI bold/dim, for a terminal.
    Color,
    /// The same layout without escape sequences (pipes, files, CI logs).
    Plain,
}

/// One file's findings under its name, aligned columns, then a summary.
pub fn table(outcome: &Outcome, style: Style) -> String {
    table_with(outcome, style, false)
}

/// [`table`]; with `show_skipped`, the values skipped as placeholders or
/// examples are listed too (masked, with the reason), before the summary.
pub fn table_with(outcome: &Outcome, style: Style, show_skipped: bool) -> String {
    let (bold, dim, red, reset) = match style {
        Style::Color => ("\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[0m"),
        Style::Plain => ("", "", "", ""),
    };
    let mut out = String::new();
    let mut files: Vec<&Path> = Vec::new();
    for f in &outcome.findings {
        if !files.contains(&f.file.as_path()) {
            files.push(&f.file);
        }
    }
    for file in &files {
        let rows: Vec<&Finding> = outcome
            .findings
            .iter()
            .filter(|f| f.file == *file)
            .collect();
        let _ = writeln!(
            out,
            "{bold}{}{reset}",
            printable(&file.display().to_string())
        );
        let line_w = rows.iter().map(|f| line_text(f).len()).max().unwrap_or(0);
        let paths: Vec<String> = rows.iter().map(|f| printable(&f.path)).collect();
        let path_w = paths.iter().map(|p| p.chars().count()).max().unwrap_or(0);
        let title_w = rows
            .iter()
            .map(|f| f.title.chars().count())
            .max()
            .unwrap_or(0);
        for (f, path) in rows.iter().zip(&paths) {
            let _ = writeln!(
                out,
                "  {dim}{:>line_w$}{reset}  {path:<path_w$}  {red}{:<title_w$}{reset}  {}",
                line_text(f),
                f.title,
                printable(&f.preview),
            );
        }
        out.push('\n');
    }
    if show_skipped && !outcome.skipped.is_empty() {
        let _ = writeln!(
            out,
            "{bold}skipped as placeholders or examples (not counted as secrets):{reset}"
        );
        skipped_rows(&mut out, &outcome.skipped, (bold, dim, reset));
    }
    let n = outcome.findings.len();
    let scanned = outcome.scanned.len();
    let counts = format!(
        "{} checked, {} scanned",
        plural(outcome.checked, "location"),
        plural(scanned, "file")
    );
    let mut summary = if n == 0 {
        format!("no plaintext secrets found ({counts})")
    } else {
        format!(
            "{} in {} ({counts})",
            plural(n, "plaintext secret"),
            plural(files.len(), "file"),
        )
    };
    if !outcome.errors.is_empty() {
        let _ = write!(
            summary,
            "; {} could not be scanned",
            plural(outcome.errors.len(), "file")
        );
    }
    let _ = writeln!(out, "{bold}{summary}{reset}");
    if !outcome.skipped.is_empty() {
        let k = outcome.skipped.len();
        let what = if k == 1 {
            "1 value skipped as a placeholder or example".to_string()
        } else {
            format!("{k} values skipped as placeholders or examples")
        };
        let tail = if show_skipped {
            "listed above"
        } else {
            "--show-skipped lists them"
        };
        let _ = writeln!(out, "{what} ({}); {tail}", reasons(&outcome.skipped));
    }
    if n > 0 {
        let _ = writeln!(
            out,
            "move them into keyward's vault with `keyward import` (see `keyward import --dry-run`)"
        );
    }
    out
}

/// Skipped values by file, in columns like findings', with the reason.
fn skipped_rows(out: &mut String, skipped: &[Skipped], (bold, dim, reset): (&str, &str, &str)) {
    let mut files: Vec<&Path> = Vec::new();
    for s in skipped {
        if !files.contains(&s.file.as_path()) {
            files.push(&s.file);
        }
    }
    for file in files {
        let rows: Vec<&Skipped> = skipped.iter().filter(|s| s.file == file).collect();
        let _ = writeln!(
            out,
            "{bold}{}{reset}",
            printable(&file.display().to_string())
        );
        let lines: Vec<String> = rows
            .iter()
            .map(|s| s.line.map_or_else(|| "-".to_string(), |l| l.to_string()))
            .collect();
        let paths: Vec<String> = rows.iter().map(|s| printable(&s.path)).collect();
        let previews: Vec<String> = rows.iter().map(|s| printable(&s.preview)).collect();
        let w = |v: &[String]| v.iter().map(|p| p.chars().count()).max().unwrap_or(0);
        let (line_w, path_w, prev_w) = (w(&lines), w(&paths), w(&previews));
        let title_w = rows
            .iter()
            .map(|s| s.title.chars().count())
            .max()
            .unwrap_or(0);
        for (((s, line), path), preview) in rows.iter().zip(&lines).zip(&paths).zip(&previews) {
            let _ = writeln!(
                out,
                "  {dim}{line:>line_w$}{reset}  {path:<path_w$}  {:<title_w$}  {preview:<prev_w$}  {dim}skipped: {}{reset}",
                s.title, s.reason,
            );
        }
        out.push('\n');
    }
}

/// `2 contains "example", 1 placeholder word`: the reasons by count, most
/// frequent first (ties in order of first appearance).
fn reasons(skipped: &[Skipped]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for s in skipped {
        match counts.iter_mut().find(|(r, _)| *r == s.reason) {
            Some((_, n)) => *n += 1,
            None => counts.push((s.reason, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
        .iter()
        .map(|(r, n)| format!("{n} {r}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn line_text(f: &Finding) -> String {
    f.line.map_or_else(|| "-".to_string(), |l| l.to_string())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Control characters (ANSI escapes, newlines in a crafted key) shown as
/// escapes rather than sent to the terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "file": f.file.to_string_lossy(),
        "path": f.path,
        "line": f.line,
        "rule": f.rule,
        "title": f.title,
        "preview": f.preview,
    })
}

fn skipped_json(s: &Skipped) -> Value {
    json!({
        "file": s.file.to_string_lossy(),
        "path": s.path,
        "line": s.line,
        "rule": s.rule,
        "title": s.title,
        "preview": s.preview,
        "reason": s.reason,
    })
}

/// `{"version": 1, "checked": N, "scanned": [...], "findings": [...],
/// "skipped": [...], "errors": [...]}`.
pub fn json(outcome: &Outcome) -> String {
    let v = json!({
        "version": 1,
        "checked": outcome.checked,
        "scanned": outcome.scanned.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
        "findings": outcome.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "skipped": outcome.skipped.iter().map(skipped_json).collect::<Vec<_>>(),
        "errors": outcome.errors.iter().map(|e| json!({
            "file": e.path().to_string_lossy(),
            "error": e.to_string(),
        })).collect::<Vec<_>>(),
        "warnings": outcome.warnings,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// A `file://` URI for an absolute path (percent-encoded: `Application
/// Support` has a space); a relative one as it is, `/`-separated.
fn uri(path: &Path) -> String {
    match url::Url::from_file_path(path) {
        Ok(u) => u.to_string(),
        Err(()) => path.to_string_lossy().replace('\\', "/"),
    }
}

/// SARIF 2.1.0: one run, the detection table as the driver's rules, one
/// result a finding (level `error`), files that could not be scanned as
/// tool execution notifications.
pub fn sarif(outcome: &Outcome) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": camel(r.id),
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": format!("{} in plain text in a config file.", r.title) },
                "help": {
                    "text": "Move the secret into keyward's vault (`keyward import`, or `keyward secret set NAME`) and put a reference such as keyward://NAME in its place; then rotate it, since it has been on disk in plain text."
                },
                "defaultConfiguration": { "level": "error" },
            })
        })
        .collect();
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| {
            let mut region = json!({});
            if let Some(l) = f.line {
                region = json!({ "startLine": l });
            }
            let mut physical = json!({ "artifactLocation": { "uri": uri(&f.file) } });
            if f.line.is_some() {
                physical["region"] = region;
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": RULES.iter().position(|r| r.id == f.rule),
                "level": "error",
                "message": { "text": format!("{} in plain text at {} ({})", f.title, f.path, f.preview) },
                "locations": [{
                    "physicalLocation": physical,
                    "logicalLocations": [{ "fullyQualifiedName": f.path, "kind": "member" }],
                }],
            })
        })
        .collect();
    let notifications: Vec<Value> = outcome
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": { "text": e.to_string() },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri(e.path()) } } }],
            })
        })
        .collect();
    let v = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "keyward",
                "informationUri": "https://example.invalid/keyward",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": outcome.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "artifacts": outcome.scanned.iter().map(|p| json!({ "location": { "uri": uri(p) } })).collect::<Vec<_>>(),
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// `github-pat` → `GithubPat` (SARIF's `name` is a PascalCase identifier).
fn camel(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests;
