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

/// Whether a stream is for a person: a terminal, with colour not turned off by `NO_COLOR`
/// (<https://no-color.org>, any non-empty value) or `TERM=dumb`.
fn colour_for(is_terminal: bool) -> bool {
    is_terminal
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// Whether stdout gets colour.
pub fn stdout_colour() -> bool {
    use std::io::IsTerminal;
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| colour_for(std::io::stdout().is_terminal()))
}

/// Colour the report's marks (green ✓, red ✗) in text already [`clean`]ed: the escapes are
/// ours, added after every control character of the text was made visible.
pub fn paint(text: Cow<'_, str>) -> Cow<'_, str> {
    if !stdout_colour() || !(text.contains('✓') || text.contains('✗')) {
        return text;
    }
    Cow::Owned(
        text.replace("  ✓ ", "  \x1b[32m✓\x1b[0m ")
            .replace("  ✗ ", "  \x1b[1;31m✗\x1b[0m "),
    )
}

/// A live countdown on stderr while rp waits for the user (the browser's redirect, a device
/// approval): one line rewritten each second, only on a terminal, erased when dropped.
#[derive(Debug)]
pub struct Countdown {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Countdown {
    /// Start counting down to `deadline` with `label` ("waiting for the browser").
    pub fn start(label: String, deadline: std::time::Instant) -> Countdown {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() || tokio::runtime::Handle::try_current().is_err() {
            return Countdown { task: None };
        }
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tick.tick().await;
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                let secs = left.as_secs();
                let line = format!("\r\x1b[2Krp: {label}: {}:{:02} left", secs / 60, secs % 60);
                {
                    use std::io::Write as _;
                    let mut err = std::io::stderr().lock();
                    let _ = err.write_all(line.as_bytes());
                    let _ = err.flush();
                }
                if left.is_zero() {
                    break;
                }
            }
        });
        Countdown { task: Some(task) }
    }
}

impl Drop for Countdown {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            use std::io::Write as _;
            let _ = std::io::stderr().write_all(b"\r\x1b[2K");
        }
    }
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
