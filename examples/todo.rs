//! A command-line to-do list whose items live in a pool file: each command is one
//! transaction, so the list is never half-updated, whatever happens to the process.
//!
//! ```text
//! cargo run --example todo -- add buy milk
//! cargo run --example todo -- add call the bank
//! cargo run --example todo -- done 1
//! cargo run --example todo                 # (or `list`)
//!   1 [x] buy milk
//!   2 [ ] call the bank
//! cargo run --example todo -- remove 1
//! pmem dump todo.pool                      # the same list, read by the pool inspector
//! ```
//!
//! The pool is `todo.pool` in the current directory (`TODO_POOL=path` to choose).

use std::process::ExitCode;

use pmem::{Error, PBTreeMap, PString, Persistent, Pool};

/// One item.
#[derive(Persistent, Default)]
#[repr(C)]
struct Item {
    text: PString,
    done: bool,
}

/// The root: items by number, in the order they were added.
#[derive(Persistent, Default)]
#[repr(C)]
struct Todo {
    next_id: u64,
    items: PBTreeMap<u64, Item>,
}

const USAGE: &str = "usage: todo [list | add TEXT... | done N | undo N | remove N]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = std::env::var("TODO_POOL").unwrap_or_else(|_| "todo.pool".into());
    match run(&path, &args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("todo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command; answers `false` for a usage error or an unknown item.
fn run(path: &str, args: &[String]) -> Result<bool, Error> {
    let mut pool = Pool::<Todo>::open_or_create(path)?;
    let number = || args.get(1).and_then(|n| n.parse::<u64>().ok());
    match (args.first().map(String::as_str), number()) {
        (None | Some("list"), _) if args.len() <= 1 => {}
        (Some("add"), _) if args.len() > 1 => {
            let text = args[1..].join(" ");
            let id = pool.tx(|tx| {
                let todo = tx.root_mut();
                *todo.next_id_mut() += 1;
                let id = todo.next_id;
                todo.items_mut()
                    .entry(id)
                    .or_default()?
                    .set_text(text.as_str())?;
                Ok::<_, Error>(id)
            })?;
            println!("added {id}: {text}");
        }
        (Some(cmd @ ("done" | "undo")), Some(id)) if args.len() == 2 => {
            let found = pool.tx(|tx| {
                let Some(item) = tx.root_mut().items_mut().get_mut(&id) else {
                    return Ok::<_, Error>(false);
                };
                *item.done_mut() = cmd == "done";
                Ok(true)
            })?;
            if !found {
                eprintln!("todo: no item {id}");
                return Ok(false);
            }
        }
        (Some("remove"), Some(id)) if args.len() == 2 => {
            if pool
                .tx(|tx| tx.root_mut().items_mut().remove_with(&id, |_, _| ()))?
                .is_none()
            {
                eprintln!("todo: no item {id}");
                return Ok(false);
            }
            println!("removed {id}");
        }
        _ => {
            eprintln!("{USAGE}");
            return Ok(false);
        }
    }
    pool.read(|todo| {
        for (id, item) in &todo.items {
            println!(
                "{id:3} [{}] {}",
                if item.done { 'x' } else { ' ' },
                item.text
            );
        }
        let done = todo.items.values().filter(|i| i.done).count();
        println!("{} items, {done} done", todo.items.len());
    })?;
    pool.close()?;
    Ok(true)
}
