//! Transactions interrupted three ways — an error, a panic, and `kill -9` of the whole
//! process in the middle of one — and the pool rolled back to its last commit each time.
//!
//! ```text
//! cargo run --example crash_demo
//! ```
//!
//! For the kill, the demo runs itself again as a child process, which commits one
//! transaction, starts a second one, changes every field, and waits inside it; the
//! parent then kills the child with SIGKILL and reopens the pool. The pool lives in a
//! fresh temporary directory (`CRASH_DEMO_DIR=dir` to choose).

use std::io::{BufRead, BufReader};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use pmem::{Error, PString, PVec, Persistent, Pool};

/// The root: an account with a history and a note.
#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    balance: i64,
    history: PVec<i64>,
    note: PString,
}

/// What the account holds, for comparing and printing.
#[derive(Debug, PartialEq)]
struct State {
    balance: i64,
    history: Vec<i64>,
    note: String,
}

fn state(pool: &Pool<Account>) -> Result<State, Error> {
    pool.read(|a| State {
        balance: a.balance,
        history: a.history.to_vec(),
        note: a.note.to_string(),
    })
}

/// Deposits `amount` and notes why: three changes that must happen together.
fn deposit(a: &mut AccountMut, amount: i64, why: &str) -> Result<(), Error> {
    *a.balance_mut() += amount;
    a.history_mut().push(amount)?;
    a.note_mut().set(why)
}

/// A refusal of our own, rolled back like any error (`tx` takes any `E: From<Error>`).
enum Refusal {
    Declined,
    Pool(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Refusal::Pool(e)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = if args.get(1).map(String::as_str) == Some("--child") {
        child(Path::new(&args[2]))
    } else {
        parent()
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("crash_demo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The child: one commit, then a transaction that never finishes.
fn child(path: &Path) -> Result<bool, Error> {
    let mut pool = Pool::<Account>::open(path)?;
    pool.tx(|tx| deposit(tx.root_mut(), 1, "committed by the child"))?;
    pool.tx(|tx| {
        deposit(tx.root_mut(), 1_000_000, "half-way through a transaction")?;
        println!("inside the transaction");
        loop {
            std::thread::park(); // the parent kills us here
        }
    })
}

fn expect(what: &str, got: &State, want: &State) -> bool {
    if got == want {
        println!("{what}: rolled back, the account is as committed: {got:?}");
        true
    } else {
        println!("{what}: NOT ROLLED BACK: {got:?}, expected {want:?}");
        false
    }
}

#[allow(clippy::too_many_lines)] // the demo reads top to bottom, as a story
fn parent() -> Result<bool, Error> {
    let dir = std::env::var_os("CRASH_DEMO_DIR").map_or_else(
        || std::env::temp_dir().join(format!("pmem-crash-demo-{}", std::process::id())),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        op: "creating",
        path: dir.clone(),
        source: e,
    })?;
    let path = dir.join("crash_demo.pool");
    let _ = std::fs::remove_file(&path);
    let mut log = path.clone().into_os_string();
    log.push(".log");
    let _ = std::fs::remove_file(&log);

    let mut pool = Pool::<Account>::create(&path)?;
    pool.tx(|tx| deposit(tx.root_mut(), 100, "opening deposit"))?;
    let committed = state(&pool)?;
    println!("committed: {committed:?}");
    let mut ok = true;

    // 1. The closure returns an error: the transaction rolls back.
    let r = pool.tx(|tx| {
        deposit(tx.root_mut(), 50, "about to be declined")?;
        Err::<(), _>(Refusal::Declined)
    });
    match r {
        Err(Refusal::Declined) => println!("a transaction that returned an error (declined)"),
        Err(Refusal::Pool(e)) => return Err(e),
        Ok(()) => unreachable!("the closure always fails"),
    }
    ok &= expect("after the error", &state(&pool)?, &committed);

    // 2. The closure panics: the transaction rolls back and the panic goes on.
    panic::set_hook(Box::new(|info| {
        println!(
            "(a panic inside the transaction: {})",
            info.payload().downcast_ref::<&str>().unwrap_or(&"?")
        );
    }));
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.tx(|tx| {
            deposit(tx.root_mut(), 70, "about to panic")?;
            panic!("bug in the middle of a transaction");
            #[allow(unreachable_code)]
            Ok::<_, Error>(())
        })
    }));
    let _ = panic::take_hook();
    assert!(r.is_err(), "the panic reached us");
    ok &= expect("after the panic", &state(&pool)?, &committed);
    pool.close()?;

    // 3. The whole process is killed inside a transaction.
    let exe = std::env::current_exe().map_err(|e| Error::Io {
        op: "finding",
        path: "current_exe".into(),
        source: e,
    })?;
    let mut child = Command::new(exe)
        .arg("--child")
        .arg(&path)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Io {
            op: "starting the child",
            path: path.clone(),
            source: e,
        })?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .map_err(|e| Error::Io {
            op: "reading the child",
            path: path.clone(),
            source: e,
        })?;
    if line.trim() != "inside the transaction" {
        println!("the child did not reach its transaction: {line:?}");
        let _ = child.kill();
        return Ok(false);
    }
    child.kill().map_err(|e| Error::Io {
        op: "killing the child",
        path: path.clone(),
        source: e,
    })?; // SIGKILL
    let status = child.wait().map_err(|e| Error::Io {
        op: "waiting for the child",
        path: path.clone(),
        source: e,
    })?;
    println!(
        "killed the child (pid {}) inside its transaction: {status}",
        child.id()
    );

    let pool = Pool::<Account>::open(&path)?; // recovery replays the log
    let want = State {
        balance: committed.balance + 1,
        history: [committed.history.clone(), vec![1]].concat(),
        note: "committed by the child".into(),
    };
    ok &= expect(
        "after kill -9 (the child's commit kept, its open transaction gone)",
        &state(&pool)?,
        &want,
    );
    let report = pool.check()?;
    println!(
        "integrity check: ok ({} allocations, nothing leaked)",
        report.allocations
    );
    pool.close()?;
    if std::env::var_os("CRASH_DEMO_DIR").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!(
        "{}",
        if ok {
            "every interrupted transaction rolled back"
        } else {
            "SOMETHING WAS NOT ROLLED BACK"
        }
    );
    Ok(ok)
}
