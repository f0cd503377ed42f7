//! Every example runs and does what the README says: `bank` keeps its balances between
//! runs and keeps its total through a `kill -9` in the middle of a run (and the pool
//! inspector finds the killed pool healthy without changing it), `todo` adds, marks
//! and removes items across invocations, `leaderboard` ranks with range queries, and
//! `crash_demo` rolls back a transaction interrupted by an error, a panic and a kill.
//!
//! Examples are not binaries of the package, so each test asks cargo to build the
//! example (a no-op when `cargo test` already did) with this test's features, and runs
//! the executable cargo names.

mod common;
use common::Dir;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// One test at a time: a child spawned by one test inherits (until its exec) the pool
/// descriptors of another test's children's parent, and with them the pool locks.
static SERIAL: Mutex<()> = Mutex::new(());
static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The executable of example `name`, built with this test's features and profile.
fn example(name: &str) -> PathBuf {
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(p) = built.get_or_insert_with(HashMap::new).get(name) {
        return p.clone();
    }
    let features: Vec<&str> = [
        ("default", cfg!(feature = "default")),
        ("serde", cfg!(feature = "serde")),
    ]
    .into_iter()
    .filter_map(|(f, on)| on.then_some(f))
    .collect();
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "--quiet",
            "--message-format=json",
            "--example",
            name,
            "--no-default-features",
            "--features",
        ])
        .arg(features.join(","));
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "building example {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exe = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo named no executable for example {name}"));
    built
        .as_mut()
        .expect("initialised")
        .insert(name.to_string(), exe.clone());
    exe
}

fn run(name: &str, env: (&str, &Path), args: &[&str]) -> (bool, String) {
    let o: Output = Command::new(example(name))
        .args(args)
        .env(env.0, env.1)
        .output()
        .expect("the example runs");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("panicked"),
        "{name} panicked: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (
        o.status.success(),
        text + &String::from_utf8_lossy(&o.stderr),
    )
}

/// The number before `what` on the line starting with `line`.
fn number_in(out: &str, line: &str, what: &str) -> u64 {
    let l = out
        .lines()
        .find(|l| l.starts_with(line))
        .unwrap_or_else(|| panic!("no line {line:?} in\n{out}"));
    let before = &l[..l
        .find(what)
        .unwrap_or_else(|| panic!("no {what:?} in {l:?}"))];
    before
        .split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number before {what:?} in {l:?}"))
}

#[test]
fn bank_carries_its_balances_over_between_runs() {
    let _serial = serial();
    let d = Dir::new("examples", "bank");
    let pool = d.path("bank.pool");
    let (ok, first) = run("bank", ("BANK_POOL", &pool), &["50"]);
    assert!(ok, "{first}");
    assert!(first.contains("opened 8 accounts of 1000"), "{first}");
    assert!(
        first.contains("run #1 of") && first.contains("total 8000 (intact)"),
        "{first}"
    );
    let made = number_in(&first, "this run:", "transfers made");
    let end_balances = first
        .lines()
        .rfind(|l| l.starts_with("balances:"))
        .unwrap()
        .to_string();

    let (ok, second) = run("bank", ("BANK_POOL", &pool), &["50"]);
    assert!(ok, "{second}");
    assert!(
        !second.contains("opened"),
        "the accounts were already there: {second}"
    );
    assert_eq!(number_in(&second, "run #2 of", "transfers so far"), made);
    assert_eq!(
        second.lines().find(|l| l.starts_with("balances:")).unwrap(),
        end_balances,
        "the first run's final balances, read back"
    );
    assert!(
        second.contains("total 8000 (intact)") && second.contains("integrity check: ok"),
        "{second}"
    );
}

#[test]
fn bank_keeps_its_total_through_a_kill_in_the_middle_of_a_run() {
    let _serial = serial();
    let d = Dir::new("examples", "bank-kill");
    let pool = d.path("bank.pool");
    let mut child = Command::new(example("bank"))
        .arg("100000000")
        .env("BANK_POOL", &pool)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    while let Some(Ok(l)) = lines.next() {
        if l.starts_with("total ") {
            break; // transfers start right after this line
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "bank never started"
        );
    }
    std::thread::sleep(Duration::from_millis(400));
    child.kill().unwrap(); // SIGKILL, in the middle of a transfer or between two
    child.wait().unwrap();

    let (ok, after) = run("bank", ("BANK_POOL", &pool), &["20"]);
    assert!(ok, "{after}");
    assert!(after.contains("run #2 of"), "{after}");
    assert!(
        number_in(&after, "run #2 of", "transfers so far") > 0,
        "the killed run committed transfers before it died: {after}"
    );
    assert!(after.contains("total 8000 (intact)"), "{after}");
}

#[test]
fn todo_adds_marks_and_removes_items_across_invocations() {
    let _serial = serial();
    let d = Dir::new("examples", "todo");
    let pool = d.path("todo.pool");
    let todo = |args: &[&str]| run("todo", ("TODO_POOL", &pool), args);
    assert!(todo(&["add", "buy", "milk"])
        .1
        .contains("added 1: buy milk"));
    assert!(todo(&["add", "call the bank"])
        .1
        .contains("added 2: call the bank"));
    let (ok, out) = todo(&["done", "1"]);
    assert!(
        ok && out.contains("  1 [x] buy milk\n  2 [ ] call the bank\n2 items, 1 done"),
        "{out}"
    );
    let (ok, out) = todo(&["remove", "1"]);
    assert!(
        ok && out.contains("removed 1") && out.contains("  2 [ ] call the bank\n1 items, 0 done"),
        "{out}"
    );
    let (ok, out) = todo(&["done", "7"]);
    assert!(!ok && out.contains("no item 7"), "{out}");
    let (ok, out) = todo(&["frobnicate"]);
    assert!(!ok && out.contains("usage: todo"), "{out}");
    let (ok, out) = todo(&[]);
    assert!(
        ok && out.ends_with("  2 [ ] call the bank\n1 items, 0 done\n"),
        "{out}"
    );
    assert!(
        todo(&["add", "again"]).1.contains("added 3: again"),
        "ids are never reused"
    );
}

#[test]
fn leaderboard_ranks_players_with_range_queries() {
    let _serial = serial();
    let d = Dir::new("examples", "leaderboard");
    let pool = d.path("lb.pool");
    let (ok, out) = run("leaderboard", ("LEADERBOARD_POOL", &pool), &["300"]);
    assert!(ok, "{out}");
    assert!(out.starts_with("300 games played by 40 players"), "{out}");
    let top: Vec<u64> = out
        .lines()
        .filter(|l| l.starts_with("  #"))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(top.len(), 5);
    assert!(
        top.windows(2).all(|w| w[0] >= w[1]),
        "top 5 in descending order: {top:?}"
    );
    let (lo, hi) = (top[0] / 2, top[0] * 3 / 4);
    let band = out.lines().find(|l| l.starts_with("scores from")).unwrap();
    let scores: Vec<u64> = band
        .split(": ")
        .nth(2)
        .unwrap_or("")
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(|e| e.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] <= w[1]) && scores.iter().all(|s| (lo..=hi).contains(s)),
        "{band}"
    );
    assert!(
        out.contains("is ranked #") && out.contains("integrity check: ok"),
        "{out}"
    );
    let (ok, again) = run("leaderboard", ("LEADERBOARD_POOL", &pool), &["10"]);
    assert!(
        ok && again.starts_with("310 games played"),
        "the scores carried over: {again}"
    );
}

#[test]
fn crash_demo_rolls_back_every_interrupted_transaction() {
    let _serial = serial();
    let d = Dir::new("examples", "crash");
    let (ok, out) = run("crash_demo", ("CRASH_DEMO_DIR", &d.0), &[]);
    assert!(ok, "{out}");
    for part in [
        "after the error: rolled back",
        "(a panic inside the transaction: bug in the middle of a transaction)",
        "after the panic: rolled back",
        "inside its transaction: signal: 9 (SIGKILL)",
        "after kill -9 (the child's commit kept, its open transaction gone): rolled back",
        "integrity check: ok",
        "every interrupted transaction rolled back",
    ] {
        assert!(out.contains(part), "no {part:?} in\n{out}");
    }
}

#[test]
fn migrate_turns_a_version_1_bank_into_version_2_once() {
    let _serial = serial();
    let d = Dir::new("examples", "migrate");
    let pool = d.path("bank.pool");
    let (ok, first) = run("migrate", ("MIGRATE_POOL", &pool), &[]);
    assert!(ok, "{first}");
    assert!(first.contains("wrote a version-1 bank"), "{first}");
    // The diagnosis docs/MIGRATIONS.md quotes, by path.
    for line in [
        "root.accounts[].holder: renamed? `owner` (PString at offset 0) → `holder` (at offset 0): \
         if it is a rename, add #[pmem(renamed_from = \"owner\")] to `holder`; otherwise \
         `owner` was removed and `holder` added",
        "root.accounts[].history[]: i32 → Movement",
    ] {
        assert!(first.contains(line), "{line:?} in {first}");
    }
    assert_eq!(
        number_in(&first, "migrate: 1", "migration step"),
        1,
        "{first}"
    );
    // Renamed field, new fields, and the nested type changed from i32 to Movement.
    assert!(
        first.contains("account 1: holder ada, balance 37, limit 0, history [30, -5, 12]"),
        "{first}"
    );
    assert!(
        first.contains("total 104 (migrated by bank 2.0)"),
        "{first}"
    );
    let (ok, second) = run("migrate", ("MIGRATE_POOL", &pool), &[]);
    assert!(ok, "{second}");
    assert_eq!(
        number_in(&second, "migrate: 0", "migration step"),
        0,
        "{second}"
    );
    assert!(second.contains("total 104"), "{second}");
}
