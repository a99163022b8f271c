//! The shell's line editor: insert anywhere, backspace, delete, cursor movement, ctrl-u,
//! ctrl-c, and a history browsed with up and down.

use crate::keyboard::Key;

/// Longest line accepted; with the prompt it fits on one 80-column row.
pub const LINE_CAPACITY: usize = 70;
/// Lines kept in the history.
pub const HISTORY_ENTRIES: usize = 16;

/// What the caller should do after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditAction {
    /// The line or cursor changed: redraw it.
    Redraw,
    /// Nothing changed (e.g. left at the start of the line).
    None,
    /// A character was refused because the line is full.
    LineFull,
    /// Enter: run `line()`, then call `finish_line`.
    Submit,
    /// Ctrl-C: the line was abandoned and cleared.
    Abandon,
    /// Ctrl-L: clear the screen and redraw the line.
    ClearScreen,
}

#[derive(Clone, Copy)]
struct Line {
    bytes: [u8; LINE_CAPACITY],
    length: usize,
}

impl Line {
    const EMPTY: Line = Line { bytes: [0; LINE_CAPACITY], length: 0 };

    fn text(&self) -> &str {
        // Only printable ASCII is ever stored.
        core::str::from_utf8(&self.bytes[..self.length]).unwrap_or("")
    }
}

/// An editable line of printable ASCII with a cursor and a history.
pub struct LineEditor {
    line: Line,
    cursor: usize,
    history: [Line; HISTORY_ENTRIES],
    /// Number of history entries in use (the newest at `history_count - 1`).
    history_count: usize,
    /// While browsing, how many entries back from the newest (1 = newest); 0 = not browsing.
    browse_depth: usize,
    /// The line being typed before browsing started, restored when browsing past the newest.
    draft: Line,
}

impl LineEditor {
    pub const fn new() -> LineEditor {
        LineEditor {
            line: Line::EMPTY,
            cursor: 0,
            history: [Line::EMPTY; HISTORY_ENTRIES],
            history_count: 0,
            browse_depth: 0,
            draft: Line::EMPTY,
        }
    }

    /// The line as typed so far.
    pub fn line(&self) -> &str {
        self.line.text()
    }

    /// The cursor's position within the line (0 = before the first character).
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Applies `key` to the line.
    pub fn handle(&mut self, key: Key) -> EditAction {
        match key {
            Key::Character(character) => self.insert(character),
            Key::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.remove_at_cursor();
                EditAction::Redraw
            }
            Key::Delete if self.cursor < self.line.length => {
                self.remove_at_cursor();
                EditAction::Redraw
            }
            Key::Left if self.cursor > 0 => self.move_to(self.cursor - 1),
            Key::Right if self.cursor < self.line.length => self.move_to(self.cursor + 1),
            Key::Home if self.cursor > 0 => self.move_to(0),
            Key::End if self.cursor < self.line.length => self.move_to(self.line.length),
            Key::Up => self.browse_older(),
            Key::Down => self.browse_newer(),
            Key::ClearLine if self.line.length > 0 => {
                self.replace_line(Line::EMPTY);
                EditAction::Redraw
            }
            Key::Interrupt => {
                self.replace_line(Line::EMPTY);
                self.browse_depth = 0;
                EditAction::Abandon
            }
            Key::ClearScreen => EditAction::ClearScreen,
            Key::Enter => EditAction::Submit,
            _ => EditAction::None,
        }
    }

    /// After a submitted line has run: remember it in the history and start a new, empty line.
    pub fn finish_line(&mut self) {
        let line = self.line;
        let repeated =
            self.history_count > 0 && self.history[self.history_count - 1].text() == line.text();
        if line.length > 0 && !repeated {
            if self.history_count == HISTORY_ENTRIES {
                self.history.copy_within(1.., 0);
                self.history_count -= 1;
            }
            self.history[self.history_count] = line;
            self.history_count += 1;
        }
        self.replace_line(Line::EMPTY);
        self.browse_depth = 0;
    }

    fn insert(&mut self, character: char) -> EditAction {
        if !(' '..='~').contains(&character) {
            return EditAction::None;
        }
        if self.line.length == LINE_CAPACITY {
            return EditAction::LineFull;
        }
        self.line.bytes.copy_within(self.cursor..self.line.length, self.cursor + 1);
        self.line.bytes[self.cursor] = character as u8;
        self.line.length += 1;
        self.cursor += 1;
        EditAction::Redraw
    }

    fn remove_at_cursor(&mut self) {
        self.line.bytes.copy_within(self.cursor + 1..self.line.length, self.cursor);
        self.line.length -= 1;
    }

    fn move_to(&mut self, position: usize) -> EditAction {
        self.cursor = position;
        EditAction::Redraw
    }

    fn replace_line(&mut self, line: Line) {
        self.line = line;
        self.cursor = line.length;
    }

    fn browse_older(&mut self) -> EditAction {
        if self.browse_depth == self.history_count {
            return EditAction::None;
        }
        if self.browse_depth == 0 {
            self.draft = self.line;
        }
        self.browse_depth += 1;
        self.replace_line(self.history[self.history_count - self.browse_depth]);
        EditAction::Redraw
    }

    fn browse_newer(&mut self) -> EditAction {
        if self.browse_depth == 0 {
            return EditAction::None;
        }
        self.browse_depth -= 1;
        let line = if self.browse_depth == 0 {
            self.draft
        } else {
            self.history[self.history_count - self.browse_depth]
        };
        self.replace_line(line);
        EditAction::Redraw
    }
}

impl Default for LineEditor {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_text(editor: &mut LineEditor, text: &str) {
        for character in text.chars() {
            editor.handle(Key::Character(character));
        }
    }

    fn submit(editor: &mut LineEditor, text: &str) {
        type_text(editor, text);
        assert_eq!(editor.handle(Key::Enter), EditAction::Submit);
        editor.finish_line();
    }

    #[test]
    fn typing_inserts_at_the_cursor() {
        let mut editor = LineEditor::new();
        type_text(&mut editor, "helo");
        editor.handle(Key::Left);
        type_text(&mut editor, "l");
        assert_eq!(editor.line(), "hello");
        assert_eq!(editor.cursor(), 4);
        editor.handle(Key::Home);
        type_text(&mut editor, ">");
        editor.handle(Key::End);
        type_text(&mut editor, "!");
        assert_eq!(editor.line(), ">hello!");
    }

    #[test]
    fn backspace_and_delete_remove_either_side_of_the_cursor() {
        let mut editor = LineEditor::new();
        type_text(&mut editor, "abcd");
        editor.handle(Key::Left);
        editor.handle(Key::Left);
        assert_eq!(editor.handle(Key::Backspace), EditAction::Redraw);
        assert_eq!(editor.line(), "acd");
        assert_eq!(editor.handle(Key::Delete), EditAction::Redraw);
        assert_eq!(editor.line(), "ad");
        assert_eq!(editor.cursor(), 1);
        editor.handle(Key::Home);
        assert_eq!(editor.handle(Key::Backspace), EditAction::None);
        editor.handle(Key::End);
        assert_eq!(editor.handle(Key::Delete), EditAction::None);
        assert_eq!(editor.handle(Key::Right), EditAction::None);
    }

    #[test]
    fn ctrl_u_clears_and_ctrl_c_abandons() {
        let mut editor = LineEditor::new();
        type_text(&mut editor, "some words");
        assert_eq!(editor.handle(Key::ClearLine), EditAction::Redraw);
        assert_eq!(editor.line(), "");
        type_text(&mut editor, "more");
        assert_eq!(editor.handle(Key::Interrupt), EditAction::Abandon);
        assert_eq!(editor.line(), "");
        assert_eq!(editor.cursor(), 0);
    }

    #[test]
    fn a_full_line_refuses_more_characters() {
        let mut editor = LineEditor::new();
        type_text(&mut editor, &"x".repeat(LINE_CAPACITY));
        assert_eq!(editor.handle(Key::Character('y')), EditAction::LineFull);
        assert_eq!(editor.line().len(), LINE_CAPACITY);
        editor.handle(Key::Home);
        assert_eq!(editor.handle(Key::Character('y')), EditAction::LineFull);
        assert!(!editor.line().contains('y'));
    }

    #[test]
    fn non_printable_characters_are_ignored() {
        let mut editor = LineEditor::new();
        assert_eq!(editor.handle(Key::Character('é')), EditAction::None);
        assert_eq!(editor.handle(Key::Character('\u{7}')), EditAction::None);
        assert_eq!(editor.line(), "");
    }

    #[test]
    fn history_goes_back_and_forth_and_keeps_the_draft() {
        let mut editor = LineEditor::new();
        submit(&mut editor, "first");
        submit(&mut editor, "second");
        submit(&mut editor, "second");
        type_text(&mut editor, "draft");
        editor.handle(Key::Up);
        assert_eq!(editor.line(), "second");
        assert_eq!(editor.cursor(), 6);
        editor.handle(Key::Up);
        assert_eq!(editor.line(), "first");
        assert_eq!(editor.handle(Key::Up), EditAction::None, "repeated lines are stored once");
        editor.handle(Key::Down);
        assert_eq!(editor.line(), "second");
        editor.handle(Key::Down);
        assert_eq!(editor.line(), "draft");
        assert_eq!(editor.handle(Key::Down), EditAction::None);
    }

    #[test]
    fn history_keeps_the_newest_entries() {
        let mut editor = LineEditor::new();
        for index in 0..HISTORY_ENTRIES + 5 {
            submit(&mut editor, &std::format!("line {index}"));
        }
        for _ in 0..HISTORY_ENTRIES + 5 {
            editor.handle(Key::Up);
        }
        assert_eq!(editor.line(), "line 5");
    }

    #[test]
    fn empty_lines_are_not_remembered() {
        let mut editor = LineEditor::new();
        submit(&mut editor, "");
        assert_eq!(editor.handle(Key::Up), EditAction::None);
    }
}
