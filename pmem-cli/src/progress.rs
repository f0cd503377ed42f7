//! The progress bar of the long walks (`check`, `stats`), drawn by indicatif on stderr
//! and labelled by the command that runs it.
//!
//! By default it is drawn only when stderr is a terminal and the pool is big enough to
//! take a while; everywhere else it is hidden, so pipes and logs get no escape codes.
//! `--progress` asks for it regardless: on something that is not a terminal it is then
//! drawn as plain text, each redraw starting with a carriage return.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

/// Pools with more live allocations than this get a bar on a terminal unasked.
const UNASKED_ABOVE: u64 = 10_000;

/// Whether and how a command shows its progress.
#[derive(Clone, Copy)]
pub(crate) struct Progress {
    /// What the bar says the command is doing (`checking`, `counting`).
    pub(crate) label: &'static str,
    /// `--progress`: draw even when stderr is not a terminal, however small the pool.
    pub(crate) forced: bool,
}

impl Progress {
    /// A bar for `total` allocations; hidden when it should not show.
    pub(crate) fn bar(self, total: u64) -> ProgressBar {
        let target = if self.forced && !std::io::stderr().is_terminal() {
            ProgressDrawTarget::term_like_with_hz(Box::new(PlainStderr), 10)
        } else if self.forced || (total > UNASKED_ABOVE && std::io::stderr().is_terminal()) {
            ProgressDrawTarget::stderr_with_hz(10)
        } else {
            return ProgressBar::hidden();
        };
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {human_pos}/{human_len} allocations ({percent}%)",
        )
        .expect("the template is valid")
        .progress_chars("#> ");
        ProgressBar::with_draw_target(Some(total), target)
            .with_style(style)
            .with_message(self.label)
    }
}

/// Stderr that is not a terminal: text and carriage returns, no cursor movement.
#[derive(Debug)]
struct PlainStderr;

impl TermLike for PlainStderr {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        writeln!(std::io::stderr(), "{s}")
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        std::io::stderr().write_all(s.as_bytes())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        std::io::stderr().write_all(b"\r")
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
