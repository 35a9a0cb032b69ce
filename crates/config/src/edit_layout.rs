//! How edits keep the user's comments and layout. `toml_edit` attaches a
//! comment to the table header that FOLLOWS it (or to the document's
//! trailing text after the last table), so inserting or removing a table
//! has to move some comments by hand to keep each where the reader expects
//! it.

use toml_edit::{Item, Table};

use super::ConfigDoc;
use crate::ConfigError;

impl ConfigDoc {
    /// Moves the document's trailing text (comments after the last table)
    /// into the prefix of `table`, which is about to be appended, so that
    /// the text stays above it. Returns the text, for [`Self::undo_insert`].
    pub(super) fn move_trailing_into(&mut self, table: &mut Table) -> Option<String> {
        let t = self.doc.trailing().as_str().unwrap_or_default().to_string();
        if t.is_empty() {
            return None;
        }
        let sep = if t.ends_with("\n\n") { "" } else { "\n" };
        table.decor_mut().set_prefix(format!("{t}{sep}"));
        self.doc.set_trailing("");
        Some(t)
    }

    /// Takes back an insertion whose result did not validate.
    pub(super) fn undo_insert(
        &mut self,
        section: &str,
        name: &str,
        moved_trailing: Option<String>,
    ) {
        if let Ok(t) = self.section_table(section) {
            t.remove(name);
        }
        if let Some(t) = moved_trailing {
            self.doc.set_trailing(t);
        }
    }

    /// Removes `section.name` with the comment handling described at
    /// [`Self::remove_service`]; `false` if there is no such entry.
    ///
    /// `own_trailer` is a comment line the edit that added the entry wrote
    /// after it; once the file has been saved and read back, `toml_edit`
    /// files it under whatever follows, so it is removed from there too
    /// (only if it is still exactly there: a comment the user wrote is never
    /// deleted).
    pub(super) fn remove_entry(
        &mut self,
        section: &str,
        name: &str,
        own_trailer: Option<&str>,
    ) -> Result<bool, ConfigError> {
        let Some(removed) = self.section_table(section)?.remove(name) else {
            return Ok(false);
        };
        let Some(table) = removed.as_table() else {
            return Ok(true);
        };
        let Some(pos) = table.position() else {
            return Ok(true);
        };
        if let Some(line) = own_trailer {
            let line = format!("{line}\n");
            self.edit_text_after(pos, |old, _| {
                old.strip_prefix(line.as_str()).unwrap_or(old).to_string()
            });
        }
        let prefix = table
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or_default();
        if let Some(cut) = prefix.rfind("\n\n") {
            let detached = &prefix[..cut + 2];
            self.prepend_to_next_table(pos, detached);
        }
        Ok(true)
    }

    /// Puts `text` before the first table positioned after `pos`, or at the
    /// end of the document when none follows.
    pub(super) fn prepend_to_next_table(&mut self, pos: isize, text: &str) {
        self.edit_text_after(pos, |old, at_end| {
            if at_end && old.is_empty() {
                // The blank line separated the text from a header; at the
                // end of the file it would only be a stray blank line.
                format!("{}\n", text.trim_end_matches('\n'))
            } else {
                format!("{text}{old}")
            }
        });
    }

    /// Rewrites the text that follows the table at `pos`: the prefix of the
    /// first table positioned after it, or the document's trailing text
    /// when none follows (`edit` is then told `at_end`).
    pub(super) fn edit_text_after(&mut self, pos: isize, edit: impl FnOnce(&str, bool) -> String) {
        fn visit<'a>(t: &'a mut Table, pos: isize, best: &mut Option<(isize, &'a mut Table)>) {
            for (_, item) in t.iter_mut() {
                let Item::Table(child) = item else { continue };
                let candidate = child
                    .position()
                    .filter(|p| *p > pos && !child.is_implicit())
                    .filter(|p| best.as_ref().is_none_or(|(b, _)| p < b));
                match candidate {
                    Some(p) => *best = Some((p, child)),
                    None => visit(child, pos, best),
                }
            }
        }
        let mut best = None;
        visit(self.doc.as_table_mut(), pos, &mut best);
        match best {
            Some((_, next)) => {
                let old = next
                    .decor()
                    .prefix()
                    .and_then(|p| p.as_str())
                    .unwrap_or_default()
                    .to_string();
                next.decor_mut().set_prefix(edit(&old, false));
            }
            None => {
                let trailing = self.doc.trailing().as_str().unwrap_or_default().to_string();
                self.doc.set_trailing(edit(&trailing, true));
            }
        }
    }

    /// The highest position of any table, so that a table can be appended
    /// after everything else.
    pub(super) fn last_position(&self) -> isize {
        fn visit(t: &Table, max: &mut isize) {
            for (_, item) in t.iter() {
                match item {
                    Item::Table(child) => {
                        *max = (*max).max(child.position().unwrap_or(0));
                        visit(child, max);
                    }
                    Item::ArrayOfTables(a) => {
                        for child in a.iter() {
                            *max = (*max).max(child.position().unwrap_or(0));
                            visit(child, max);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut max = 0;
        visit(self.doc.as_table(), &mut max);
        max
    }

    /// The table `[key]` (created, implicit, when missing).
    pub(super) fn section_table(&mut self, key: &str) -> Result<&mut Table, ConfigError> {
        let path = self.path.clone();
        let item = self.doc.entry(key).or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        item.as_table_mut().ok_or(ConfigError::Invalid {
            path,
            at: key.into(),
            message: "must be a table".into(),
        })
    }
}
