//! The shell's line editor: insert anywhere, backspace, delete, cursor movement, ctrl-u,
//! ctrl-c, and a history browsed with up and down.

use alloc::string::String;
use alloc::vec::Vec;

use crate::console::keyboard::Key;

/// Longest line accepted on the 80-column text screen: with the prompt it fits on one row.
/// Wider screens take longer lines (`LineEditor::with_capacity`).
pub const LINE_CAPACITY: usize = 70;
/// Lines kept in the history.
pub const HISTORY_ENTRIES: usize = 16;

/// The longest line that fits on one row of `columns` after a prompt of `prompt_length`
/// characters, with the last column left for the cursor: 70 on the 80-column text screen.
pub fn capacity_for_row(columns: usize, prompt_length: usize) -> usize {
    columns.saturating_sub(prompt_length + 1).max(1)
}

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

/// An editable line of printable ASCII with a cursor and a history, kept on the heap.
pub struct LineEditor {
    line: String,
    /// Longest line accepted, in characters.
    capacity: usize,
    /// Position in `line` (every character is one byte).
    cursor: usize,
    /// Earlier lines, oldest first, at most `HISTORY_ENTRIES`.
    history: Vec<String>,
    /// While browsing, how many entries back from the newest (1 = newest); 0 = not browsing.
    browse_depth: usize,
    /// The line being typed before browsing started, restored when browsing past the newest.
    draft: String,
}

impl LineEditor {
    pub fn new() -> LineEditor {
        LineEditor::with_capacity(LINE_CAPACITY)
    }

    /// An editor for lines of at most `capacity` characters.
    pub fn with_capacity(capacity: usize) -> LineEditor {
        LineEditor {
            line: String::with_capacity(capacity),
            capacity,
            cursor: 0,
            history: Vec::with_capacity(HISTORY_ENTRIES),
            browse_depth: 0,
            draft: String::with_capacity(capacity),
        }
    }

    /// The line as typed so far.
    pub fn line(&self) -> &str {
        &self.line
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
                self.remove_at_cursor()
            }
            Key::Delete if self.cursor < self.line.len() => self.remove_at_cursor(),
            Key::Left if self.cursor > 0 => self.move_to(self.cursor - 1),
            Key::Right if self.cursor < self.line.len() => self.move_to(self.cursor + 1),
            Key::Home if self.cursor > 0 => self.move_to(0),
            Key::End if self.cursor < self.line.len() => self.move_to(self.line.len()),
            Key::Up => self.browse_older(),
            Key::Down => self.browse_newer(),
            Key::ClearLine if !self.line.is_empty() => {
                Self::replace_line(&mut self.line, &mut self.cursor, "");
                EditAction::Redraw
            }
            Key::Interrupt => {
                Self::replace_line(&mut self.line, &mut self.cursor, "");
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
        let repeated = self.history.last() == Some(&self.line);
        if !self.line.is_empty() && !repeated {
            if self.history.len() == HISTORY_ENTRIES {
                self.history.remove(0);
            }
            // An exact-size copy: the line's own buffer stays for the next line, so the
            // editor's memory depends on what the history holds, not on how it was typed.
            self.history.push(self.line.as_str().into());
        }
        self.line.clear();
        self.cursor = 0;
        self.browse_depth = 0;
    }

    fn insert(&mut self, character: char) -> EditAction {
        if !(' '..='~').contains(&character) {
            return EditAction::None;
        }
        if self.line.len() >= self.capacity {
            return EditAction::LineFull;
        }
        self.line.insert(self.cursor, character);
        self.cursor += 1;
        EditAction::Redraw
    }

    /// Removes the character under the cursor. Every character is one byte, so the range is
    /// whole; `String::remove` would check that by slicing, and that slice's panic message
    /// brings 3 KB of Unicode tables into the image.
    fn remove_at_cursor(&mut self) -> EditAction {
        self.line.replace_range(self.cursor..self.cursor + 1, "");
        EditAction::Redraw
    }

    fn move_to(&mut self, position: usize) -> EditAction {
        self.cursor = position;
        EditAction::Redraw
    }

    /// Puts `text` in place of the line, in the line's own buffer.
    fn replace_line(line: &mut String, cursor: &mut usize, text: &str) {
        line.clear();
        line.push_str(text);
        *cursor = line.len();
    }

    fn browse_older(&mut self) -> EditAction {
        if self.browse_depth == self.history.len() {
            return EditAction::None;
        }
        if self.browse_depth == 0 {
            self.draft.clear();
            self.draft.push_str(&self.line);
        }
        self.browse_depth += 1;
        let entry = &self.history[self.history.len() - self.browse_depth];
        Self::replace_line(&mut self.line, &mut self.cursor, entry);
        EditAction::Redraw
    }

    fn browse_newer(&mut self) -> EditAction {
        if self.browse_depth == 0 {
            return EditAction::None;
        }
        self.browse_depth -= 1;
        let text = if self.browse_depth == 0 {
            &self.draft
        } else {
            &self.history[self.history.len() - self.browse_depth]
        };
        Self::replace_line(&mut self.line, &mut self.cursor, text);
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
    fn the_capacity_follows_the_width_of_the_screen() {
        assert_eq!(capacity_for_row(80, 9), LINE_CAPACITY);
        assert_eq!(capacity_for_row(128, 9), 118);
        assert_eq!(capacity_for_row(5, 9), 1);
        let mut editor = LineEditor::with_capacity(118);
        type_text(&mut editor, &"x".repeat(120));
        assert_eq!(editor.line().len(), 118);
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
