//! The line diff between the approved keyward.toml and the current one, as
//! the human reads it before approving.
//!
//! The file may have been written by the agent, so every line is made
//! safe for the terminal first: control characters, and the invisible and
//! bidirectional formatting characters that can make a line read
//! differently from what it holds ("Trojan Source"), are shown as `\u{..}`
//! escapes (and a backslash as `\\`, so an escape cannot be faked) by
//! [`keyward_audit::shown`]. A change cannot hide itself from the reviewer.

use similar::{Algorithm, ChangeTag, TextDiff};

/// Lines added and removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub added: usize,
    pub removed: usize,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "+{} -{} lines", self.added, self.removed)
    }
}

/// A unified diff (3 lines of context) from `old` (labelled `old_label`)
/// to `new`, and its counts. Empty text when the two are equal.
pub fn unified(old: &str, new: &str, old_label: &str, new_label: &str) -> (String, Stats) {
    // Patience anchors on lines that occur once (table headers), so a
    // change reads as being in the table it is in.
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .diff_lines(old, new);
    let mut stats = Stats::default();
    let mut out = String::new();
    let mut udiff = diff.unified_diff();
    udiff.context_radius(3);
    for hunk in udiff.iter_hunks() {
        if out.is_empty() {
            out.push_str(&format!(
                "--- {}\n+++ {}\n",
                printable(old_label),
                printable(new_label)
            ));
        }
        out.push_str(&format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let sign = match change.tag() {
                ChangeTag::Delete => {
                    stats.removed += 1;
                    '-'
                }
                ChangeTag::Insert => {
                    stats.added += 1;
                    '+'
                }
                ChangeTag::Equal => ' ',
            };
            let line = change.value();
            let (body, newline) = match line.strip_suffix('\n') {
                Some(b) => (b, true),
                None => (line, false),
            };
            out.push(sign);
            out.push_str(&printable(body));
            out.push('\n');
            if !newline {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
    (out, stats)
}

/// `s` with every character that could drive the terminal or change how a
/// line reads escaped (`\u{1b}`, `\u{202e}`, a backslash as `\\`); tabs
/// stay. The one escaping of agent text keyward shows a human.
pub fn printable(s: &str) -> String {
    keyward_audit::shown::escape(s)
}

/// [`printable`] line by line: a multi-line message (a TOML error with its
/// excerpt and caret) keeps its line breaks.
pub fn printable_lines(s: &str) -> String {
    s.lines().map(printable).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_lines_keeps_line_breaks_and_escapes_within_lines() {
        assert_eq!(
            printable_lines("parse error\n31 | x = \u{1b}[2J\n   |     ^"),
            "parse error\n31 | x = \\u{1b}[2J\n   |     ^"
        );
    }

    #[test]
    fn equal_texts_have_no_diff() {
        let (d, s) = unified("a\nb\n", "a\nb\n", "approved", "current");
        assert_eq!(d, "");
        assert_eq!(s, Stats::default());
    }

    #[test]
    fn a_changed_line_is_one_removal_and_one_addition() {
        let old =
            "[services.s]\nbase_url = \"https://x\"\n\n[[services.s.rules]]\naction = \"deny\"\n";
        let new = old.replace("\"deny\"", "\"allow\"");
        let (d, s) = unified(old, &new, "approved", "keyward.toml");
        assert_eq!(
            s,
            Stats {
                added: 1,
                removed: 1
            }
        );
        assert!(d.starts_with("--- approved\n+++ keyward.toml\n@@ "), "{d}");
        assert!(
            d.contains("\n-action = \"deny\"\n+action = \"allow\"\n"),
            "{d}"
        );
        assert!(d.contains("\n [[services.s.rules]]\n"), "{d}");
        assert_eq!(s.to_string(), "+1 -1 lines");
    }

    #[test]
    fn everything_is_added_to_an_empty_base() {
        let (d, s) = unified("", "a\nb", "(nothing approved)", "keyward.toml");
        assert_eq!(
            s,
            Stats {
                added: 2,
                removed: 0
            }
        );
        assert!(d.ends_with("+a\n+b\n\\ No newline at end of file\n"), "{d}");
    }

    /// A line that would move the cursor up and erase the line above, or
    /// reverse how the rest of the line reads, is shown with its escapes.
    #[test]
    fn terminal_and_bidi_tricks_are_escaped() {
        let new = "ok = 1\nx = \"\u{1b}[1A\u{1b}[2K\"\ny = \"\u{202e}wolla\u{2066}\"\r\n";
        let (d, _) = unified("ok = 1\n", new, "a", "b");
        assert!(
            !d.contains('\u{1b}') && !d.contains('\u{202e}') && !d.contains('\r'),
            "{d:?}"
        );
        assert!(d.contains("+x = \"\\u{1b}[1A\\u{1b}[2K\"\n"), "{d}");
        assert!(d.contains("+y = \"\\u{202e}wolla\\u{2066}\"\\r\n"), "{d}");
        assert_eq!(printable("a\tb"), "a\tb");
        assert_eq!(printable("a\u{200b}b"), "a\\u{200b}b");
    }

    /// The file's own text `\u{202e}` is not shown as a real U+202E is.
    #[test]
    fn an_escape_written_into_the_file_cannot_pass_for_one() {
        let (real, _) = unified("", "x = \"\u{202e}\"\n", "a", "b");
        let (fake, _) = unified("", "x = \"\\u{202e}\"\n", "a", "b");
        assert_ne!(real, fake);
        assert!(fake.contains("+x = \"\\\\u{202e}\"\n"), "{fake}");
    }
}
