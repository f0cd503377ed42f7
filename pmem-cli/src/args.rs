//! The command line, declared for clap: each doc comment below is the `--help` text of
//! its command or option.
// The doc comments are printed verbatim by --help, where Markdown backticks would show.
#![allow(
    clippy::doc_markdown,
    clippy::doc_link_with_quotes,
    rustdoc::broken_intra_doc_links
)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

/// Inspect a pmem pool file without the program that wrote it.
///
/// Every command opens the pool read-only with a shared lock and never writes to it or
/// to its log (recovery replays the log into private memory). The pool describes
/// itself: it stored the schema of its root type at creation, so no application code
/// is needed.
#[derive(Parser)]
#[command(
    name = "pmem",
    version,
    propagate_version = true,
    arg_required_else_help = true,
    after_help = EXIT_STATUS,
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

const EXIT_STATUS: &str = "\
Exit status: 0 healthy (or done); 1 problems found in the pool, including a pool too
damaged to open; 2 usage errors and pools that cannot be opened (missing, not a pool,
open elsewhere, a newer format).";

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Header, format version, sizes, durability, log, root type, allocator statistics.
    #[command(after_help = EXIT_STATUS)]
    Info {
        #[command(flatten)]
        pool: PoolArg,
        #[command(flatten)]
        json: Json,
    },
    /// Allocator integrity and a type-aware walk from the root.
    ///
    /// Every owned pointer must name a live allocation large enough for what it holds,
    /// nothing may be owned twice, every live allocation must be reached (else it
    /// leaked), and every collection's length must agree with its contents. Each
    /// problem is printed with the path of the value that has it.
    #[command(after_help = EXIT_STATUS)]
    Check {
        #[command(flatten)]
        pool: PoolArg,
        #[command(flatten)]
        json: Json,
        #[command(flatten)]
        progress: ProgressArg,
    },
    /// The object graph, or the part at --path, as JSON.
    #[command(after_help = EXIT_STATUS)]
    Dump {
        #[command(flatten)]
        pool: PoolArg,
        /// Only the value at PATH: fields by name, elements by index, map entries by key
        /// (root.accounts[7].owner, root.by_name["ada"], root.by_score[(187,27)])
        #[arg(long, value_name = "PATH")]
        path: Option<String>,
        /// JSON on one line.
        #[arg(long)]
        compact: bool,
        /// Nesting limit; deeper values show as {"$truncated": ...}.
        #[arg(long, value_name = "N", default_value_t = 10_000,
              value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        max_depth: u32,
    },
    /// Space by type: allocations and bytes per type, from the walk.
    #[command(after_help = EXIT_STATUS)]
    Stats {
        #[command(flatten)]
        pool: PoolArg,
        #[command(flatten)]
        json: Json,
        #[command(flatten)]
        progress: ProgressArg,
    },
    /// The stored schema as Rust declarations, root first.
    ///
    /// One declaration per struct and enum reachable from the root: field types,
    /// offsets and sizes, enum discriminants.
    #[command(after_help = EXIT_STATUS)]
    Schema {
        #[command(flatten)]
        pool: PoolArg,
        /// The schema as the pool stores it (JSON).
        #[arg(long)]
        json: bool,
    },
    /// A self-contained copy of the pool in one new file (the log's commits included).
    ///
    /// The pool must not be open for writing elsewhere (a program should call
    /// `Pool::backup_to` itself). The copy appears complete or not at all; DEST must not
    /// exist.
    #[command(after_help = EXIT_STATUS)]
    Backup {
        #[command(flatten)]
        pool: PoolArg,
        /// The new file.
        #[arg(value_name = "DEST")]
        dest: PathBuf,
    },
    /// Rewrites the pool's live data into a fresh file that replaces it atomically
    ///
    /// Works for any pool, without the application's code: the live graph is read by the
    /// pool's stored schema and copied into a fresh pool with the same root type, so the
    /// application opens it as before. Vectors and strings are cut to their length,
    /// boxes and B-tree nodes copied, hash tables copied at their bucket count (roots
    /// the CLI knows — integers, strings, vectors, maps and sets of them — get hash
    /// tables cut to their entries too), non-owning pointers carried to their targets'
    /// new places. A pointer whose target would not be copied (dangling, foreign) is
    /// refused and the pool left as it was. A crash leaves the old pool or the compacted
    /// one. The pool must not be open anywhere.
    #[command(after_help = EXIT_STATUS)]
    Compact {
        #[command(flatten)]
        pool: PoolArg,
    },
    /// A shell completion script, on stdout
    ///
    /// Install it with, for example:
    ///   bash:  pmem completions bash > ~/.local/share/bash-completion/completions/pmem
    ///   zsh:   pmem completions zsh > "${fpath[1]}/_pmem"
    ///   fish:  pmem completions fish > ~/.config/fish/completions/pmem.fish
    #[command(verbatim_doc_comment)]
    Completions {
        /// The shell.
        shell: Shell,
    },
}

#[derive(Args)]
pub(crate) struct PoolArg {
    /// The pool file.
    #[arg(value_name = "POOL")]
    pub(crate) pool: PathBuf,
}

#[derive(Args)]
pub(crate) struct Json {
    /// Machine-readable output.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args)]
pub(crate) struct ProgressArg {
    /// Draw the progress bar on stderr even when stderr is not a terminal (on a
    /// terminal it shows by itself for pools of more than 10,000 allocations).
    #[arg(long)]
    pub(crate) progress: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
