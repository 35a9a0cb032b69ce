//! The string leaves of a config file, with where they are: JSON and JSONC
//! (through `jsonc-parser`: comments, trailing commas), TOML (through
//! `toml_edit`), and `.env`/shell-rc assignments (a small parser here).
//!
//! Errors name a line and column, never the text around them: a broken
//! file may have a secret on the line that broke.

use std::fmt;

use jsonc_parser::ast;

use crate::locate::Format;

/// One step of a path: an object key or an array index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// A string value and where it is. `Debug` leaves the value out.
#[derive(Clone, PartialEq, Eq)]
pub struct Leaf {
    pub path: Vec<PathSeg>,
    pub value: String,
    /// 1-based line of the value (of the name, for `.env` assignments).
    pub line: Option<usize>,
}

impl Leaf {
    /// The path as text: `mcpServers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN`,
    /// `args[3]`, `projects."/home/me/app".mcpServers`.
    pub fn dotted(&self) -> String {
        dotted(&self.path)
    }

    /// The last key on the path (the env var, header or JSON key the
    /// value sits under), if the path ends in one.
    pub fn key(&self) -> Option<&str> {
        match self.path.last() {
            Some(PathSeg::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Debug for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leaf")
            .field("path", &self.dotted())
            .field("value", &"<redacted>")
            .field("line", &self.line)
            .finish()
    }
}

/// The path only (never the value).
impl fmt::Display for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dotted())
    }
}

/// A key printed bare when it is an identifier-like word, quoted (JSON
/// string syntax) otherwise, so the path reads back unambiguously.
pub fn dotted(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
            PathSeg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if is_bare(k) {
                    out.push_str(k);
                } else {
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                }
            }
        }
    }
    out
}

fn is_bare(k: &str) -> bool {
    !k.is_empty()
        && k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalkError {
    #[error("invalid JSON at line {line}, column {column}: {reason}")]
    Json {
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("invalid TOML at line {line}")]
    Toml { line: usize },
}

/// The string leaves of a JSON/JSONC/TOML document, in document order.
pub fn leaves(text: &str, format: Format) -> Result<Vec<Leaf>, WalkError> {
    match format {
        Format::Json | Format::Jsonc => json_leaves(text),
        Format::Toml => toml_leaves(text),
    }
}

// === JSON / JSONC ===

fn json_leaves(text: &str) -> Result<Vec<Leaf>, WalkError> {
    // Strict JSON is a subset of what the parser accepts: one path for both.
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &Default::default())
        .map_err(|e| WalkError::Json {
            line: e.line_display(),
            column: e.column_display(),
            // The kind is a fixed description ("Expected comma"): no text
            // of the file.
            reason: e.kind().to_string(),
        })?;
    let lines = LineIndex::new(text);
    let mut out = Vec::new();
    if let Some(v) = &parsed.value {
        json_walk(v, &mut Vec::new(), &lines, &mut out);
    }
    Ok(out)
}

fn json_walk(v: &ast::Value<'_>, path: &mut Vec<PathSeg>, lines: &LineIndex, out: &mut Vec<Leaf>) {
    match v {
        ast::Value::StringLit(s) => out.push(Leaf {
            path: path.clone(),
            value: s.value.to_string(),
            line: Some(lines.line_of(s.range.start)),
        }),
        ast::Value::Object(o) => {
            for p in &o.properties {
                path.push(PathSeg::Key(p.name.as_str().to_string()));
                json_walk(&p.value, path, lines, out);
                path.pop();
            }
        }
        ast::Value::Array(a) => {
            for (i, e) in a.elements.iter().enumerate() {
                path.push(PathSeg::Index(i));
                json_walk(e, path, lines, out);
                path.pop();
            }
        }
        ast::Value::NumberLit(_) | ast::Value::BooleanLit(_) | ast::Value::NullKeyword(_) => {}
    }
}

// === TOML ===

fn toml_leaves(text: &str) -> Result<Vec<Leaf>, WalkError> {
    let lines = LineIndex::new(text);
    let doc = toml_edit::Document::parse(text).map_err(|e| WalkError::Toml {
        // The error's own text quotes the line: only its position is kept.
        line: e.span().map_or(1, |s| lines.line_of(s.start)),
    })?;
    let mut out = Vec::new();
    toml_table(doc.as_table(), &mut Vec::new(), &lines, &mut out);
    Ok(out)
}

fn toml_table(
    t: &toml_edit::Table,
    path: &mut Vec<PathSeg>,
    lines: &LineIndex,
    out: &mut Vec<Leaf>,
) {
    for (k, item) in t.iter() {
        path.push(PathSeg::Key(k.to_string()));
        toml_item(item, path, lines, out);
        path.pop();
    }
}

fn toml_item(
    item: &toml_edit::Item,
    path: &mut Vec<PathSeg>,
    lines: &LineIndex,
    out: &mut Vec<Leaf>,
) {
    match item {
        toml_edit::Item::Value(v) => toml_value(v, path, lines, out),
        toml_edit::Item::Table(t) => toml_table(t, path, lines, out),
        toml_edit::Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                path.push(PathSeg::Index(i));
                toml_table(t, path, lines, out);
                path.pop();
            }
        }
        toml_edit::Item::None => {}
    }
}

fn toml_value(
    v: &toml_edit::Value,
    path: &mut Vec<PathSeg>,
    lines: &LineIndex,
    out: &mut Vec<Leaf>,
) {
    match v {
        toml_edit::Value::String(s) => out.push(Leaf {
            path: path.clone(),
            value: s.value().clone(),
            line: v.span().map(|r| lines.line_of(r.start)),
        }),
        toml_edit::Value::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                path.push(PathSeg::Index(i));
                toml_value(e, path, lines, out);
                path.pop();
            }
        }
        toml_edit::Value::InlineTable(t) => {
            for (k, e) in t.iter() {
                path.push(PathSeg::Key(k.to_string()));
                toml_value(e, path, lines, out);
                path.pop();
            }
        }
        _ => {}
    }
}

// === .env and shell rc ===

/// The assignments of a `.env` file or a shell rc file: `KEY=value`,
/// `export KEY=value`, `KEY="value"` (escapes `\n \" \\ \$`), `KEY='value'`
/// (literal), quoted values over several lines, `# comments` (whole-line,
/// and after an unquoted value). Lines that are not assignments (aliases,
/// functions, `if`) are skipped; nothing is evaluated.
pub fn env_leaves(text: &str) -> Vec<Leaf> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut line = 1usize;
    while !rest.is_empty() {
        let (consumed, leaf) = env_line(rest, line);
        if let Some(l) = leaf {
            out.push(l);
        }
        let taken = &rest[..consumed];
        line += taken.matches('\n').count();
        rest = &rest[consumed..];
    }
    out
}

/// One logical line: how many bytes it takes and the assignment it holds.
fn env_line(s: &str, line: usize) -> (usize, Option<Leaf>) {
    let eol = s.find('\n').map_or(s.len(), |i| i + 1);
    let whole_line = |leaf| (eol, leaf);
    let t = s[..eol].trim_start_matches([' ', '\t']);
    let t = t
        .strip_prefix("export ")
        .map_or(t, |r| r.trim_start_matches([' ', '\t']));
    let name_len = t
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_alphabetic() || c == '_' || (i > 0 && (c.is_ascii_digit() || c == '.')))
        })
        .map_or(t.len(), |(i, _)| i);
    if name_len == 0 {
        return whole_line(None);
    }
    let name = &t[..name_len];
    let after = t[name_len..].trim_start_matches([' ', '\t']);
    let Some(after) = after.strip_prefix('=') else {
        return whole_line(None);
    };
    let after = after.trim_start_matches([' ', '\t']);
    // `after` is a suffix of the first line: where it starts in `s`.
    let start = eol - after.len();
    let (value, consumed) = match after.chars().next() {
        Some(q @ ('"' | '\'')) => match quoted(&s[start + 1..], q) {
            Some((v, used)) => {
                // The rest of the closing line (a comment) goes too.
                let end = start + 1 + used;
                let eol = s[end..].find('\n').map_or(s.len(), |i| end + i + 1);
                (v, eol)
            }
            // Unterminated: treat as unquoted up to the line's end.
            None => (unquoted(&after[1..]), eol),
        },
        _ => (unquoted(after), eol),
    };
    let leaf = Leaf {
        path: vec![PathSeg::Key(name.to_string())],
        value,
        line: Some(line),
    };
    (consumed, Some(leaf))
}

/// A quoted value after its opening quote: the value and the bytes used
/// including the closing quote.
fn quoted(s: &str, q: char) -> Option<(String, usize)> {
    let mut v = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == q {
            return Some((v, i + 1));
        }
        if c == '\\' && q == '"' {
            match chars.next() {
                Some((_, 'n')) => v.push('\n'),
                Some((_, 't')) => v.push('\t'),
                Some((_, 'r')) => v.push('\r'),
                Some((_, e @ ('"' | '\\' | '$' | '`'))) => v.push(e),
                Some((_, '\n')) => {}
                Some((_, other)) => {
                    v.push('\\');
                    v.push(other);
                }
                None => return None,
            }
            continue;
        }
        v.push(c);
    }
    None
}

/// An unquoted value: up to the end of the line or a ` #` comment.
fn unquoted(s: &str) -> String {
    let line = s.split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    let cut = line
        .char_indices()
        .find(|&(i, c)| c == '#' && (i == 0 || line[..i].ends_with([' ', '\t'])))
        .map_or(line.len(), |(i, _)| i);
    line[..cut].trim_end().to_string()
}

// === line numbers ===

struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(ls: &[Leaf]) -> Vec<(String, String, Option<usize>)> {
        ls.iter()
            .map(|l| (l.dotted(), l.value.clone(), l.line))
            .collect()
    }

    fn t(p: &str, v: &str, line: usize) -> (String, String, Option<usize>) {
        (p.to_string(), v.to_string(), Some(line))
    }

    #[test]
    fn json_paths_and_lines() {
        let text = r#"{
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "server"],
      "env": { "GITHUB_TOKEN": "v1", "N": 3 }
    }
  },
  "projects": { "/home/me/app": { "x.y": "v2" } }
}"#;
        assert_eq!(
            flat(&leaves(text, Format::Json).unwrap()),
            [
                t("mcpServers.github.command", "npx", 4),
                t("mcpServers.github.args[0]", "-y", 5),
                t("mcpServers.github.args[1]", "server", 5),
                t("mcpServers.github.env.GITHUB_TOKEN", "v1", 6),
                t(r#"projects."/home/me/app"."x.y""#, "v2", 9),
            ]
        );
    }

    #[test]
    fn jsonc_comments_and_trailing_commas() {
        let text = "// user settings\n{\n  /* block */ \"mcp\": {\n    \"servers\": {\"a\": {\"env\": {\"K\": \"v\",},},},\n  },\n}\n";
        assert_eq!(
            flat(&leaves(text, Format::Jsonc).unwrap()),
            [t("mcp.servers.a.env.K", "v", 4)]
        );
    }

    #[test]
    fn json_escapes_are_decoded() {
        let ls = leaves(r#"{"k": "a\"b\u0041\n"}"#, Format::Json).unwrap();
        assert_eq!(ls[0].value, "a\"bA\n");
    }

    #[test]
    fn json_errors_hold_no_text_of_the_file() {
        let canary = "kw_canary_walk_json_0123456789";
        let text = format!("{{\n  \"k\": \"{canary}\" \"oops\"\n}}");
        let e = leaves(&text, Format::Json).unwrap_err();
        assert!(matches!(e, WalkError::Json { line: 2..=3, .. }), "{e:?}");
        assert!(!e.to_string().contains("kw_canary"), "{e}");
        assert!(!format!("{e:?}").contains("kw_canary"));
    }

    #[test]
    fn toml_paths_and_lines() {
        let text = "model = \"o3\"\n[mcp_servers.github]\ncommand = \"npx\"\nargs = [\"-y\", \"srv\"]\nenv = { GITHUB_TOKEN = \"v1\" }\n\n[mcp_servers.pg.env]\nPW = 'v2'\n[[arr]]\nx = \"v3\"\n";
        assert_eq!(
            flat(&leaves(text, Format::Toml).unwrap()),
            [
                t("model", "o3", 1),
                t("mcp_servers.github.command", "npx", 3),
                t("mcp_servers.github.args[0]", "-y", 4),
                t("mcp_servers.github.args[1]", "srv", 4),
                t("mcp_servers.github.env.GITHUB_TOKEN", "v1", 5),
                t("mcp_servers.pg.env.PW", "v2", 8),
                t("arr[0].x", "v3", 10),
            ]
        );
    }

    #[test]
    fn toml_errors_hold_no_text_of_the_file() {
        let text = "a = 1\nb = \"kw_canary_walk_toml_0123\" junk\n";
        let e = leaves(text, Format::Toml).unwrap_err();
        assert_eq!(e, WalkError::Toml { line: 2 });
        assert!(!e.to_string().contains("kw_canary"));
    }

    #[test]
    fn env_files() {
        let text = "# a comment\nA=1\nexport B=\"two words\"  # trailing\n  C='lit $X \\n'\nD=plain # comment\nE=x#y\nalias ll='ls -l'\nif [ -f x ]; then\nF=\"multi\nline\"\nG=\"esc\\\"aped\\n\"\nexport H\nI=\nJ = spaced\n";
        assert_eq!(
            flat(&env_leaves(text)),
            [
                t("A", "1", 2),
                t("B", "two words", 3),
                t("C", "lit $X \\n", 4),
                t("D", "plain", 5),
                t("E", "x#y", 6),
                t("F", "multi\nline", 9),
                t("G", "esc\"aped\n", 11),
                t("I", "", 13),
                t("J", "spaced", 14),
            ]
        );
    }

    #[test]
    fn env_crlf_and_unterminated_quotes() {
        assert_eq!(
            flat(&env_leaves("A=1\r\nB=\"open\n")),
            [t("A", "1", 1), t("B", "open", 2)]
        );
    }

    #[test]
    fn debug_of_a_leaf_has_no_value() {
        let l = Leaf {
            path: vec![PathSeg::Key("K".into())],
            value: "kw_canary_leaf".into(),
            line: None,
        };
        assert!(!format!("{l:?}").contains("kw_canary"));
        assert_eq!(l.to_string(), "K");
    }
}
