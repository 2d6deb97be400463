//! Text for the terminal: what a provider (or any other party) sends never reaches it with its
//! control characters.
//!
//! A provider that sets a claim to `ESC[2J…` or an OSC title sequence could otherwise clear
//! the screen, retitle the window, or print a fake "every check passed" line. Human output
//! goes through [`clean`] (every control character but newline and tab made a visible
//! escape, `\x1b`), and provider text placed inside one line through [`inline`] (newlines
//! escaped too, so a value cannot start a line of its own). Bidirectional overrides (the
//! "Trojan Source" characters) are escaped as well. `--json` output is printed exactly: JSON
//! escapes the C0 controls itself, and a program reads it, not a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Characters that reorder text on screen (Unicode bidirectional controls).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn escape(c: char, out: &mut String) {
    let n = c as u32;
    if n < 0x100 {
        let _ = write!(out, "\\x{n:02x}");
    } else {
        let _ = write!(out, "\\u{{{n:04x}}}");
    }
}

fn escaped(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| !keep(c) && (c.is_control() || is_bidi_control(c));
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            escape(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text for the terminal: control characters (C0, DEL, C1) and bidirectional controls
/// escaped, except newline and tab.
pub fn clean(text: &str) -> Cow<'_, str> {
    escaped(text, |c| c == '\n' || c == '\t')
}

/// Provider text placed inside one line: every control character escaped, newlines too.
pub fn inline(text: &str) -> Cow<'_, str> {
    escaped(text, |_| false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_made_visible() {
        let hostile = "Alice\u{1b}[2J\u{1b}]0;root\u{7}\r\u{9b}31m\u{202e}txt.exe";
        let shown = clean(hostile);
        assert_eq!(
            shown,
            "Alice\\x1b[2J\\x1b]0;root\\x07\\x0d\\x9b31m\\u{202e}txt.exe"
        );
        assert!(!shown.chars().any(|c| c.is_control()));
        assert_eq!(clean("two\nlines\tok"), "two\nlines\tok");
        assert_eq!(inline("fake\n  ✓ line"), "fake\\x0a  ✓ line");
        assert!(matches!(clean("plain ✓ text"), Cow::Borrowed(_)));
    }
}
