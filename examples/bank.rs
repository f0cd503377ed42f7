//! A bank whose accounts live in a pool file. Every transfer is one transaction: the
//! money leaves one account and arrives in the other, both histories record it, or
//! nothing happens at all — across errors, panics, `kill -9` and power loss.
//!
//! ```text
//! cargo run --example bank                # run it twice: the balances carry over
//! cargo run --example bank -- 1000000     # a long run: kill it half-way (Ctrl-C, kill -9),
//! cargo run --example bank                #   run again: the total is intact
//! pmem check bank.pool                    # the pool inspector agrees (cargo install --path pmem-cli)
//! ```
//!
//! The pool is `bank.pool` in the current directory (`BANK_POOL=path` to choose). A long
//! run shows its progress: a counter on stderr when that is a terminal (redrawn a few
//! times a second), and a line on stdout at every tenth of a run of 10,000 transfers or
//! more. Each transfer is a durable commit (one `fdatasync`), so a million of them take
//! a while on an ordinary disk.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use pmem::{Error, PHashMap, PString, PVec, Persistent, Pool};

/// One account: who owns it, what it holds, and its latest movements.
#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    owner: PString,
    balance: i64,
    history: PVec<i64>,
}

/// The root of the pool.
#[derive(Persistent, Default)]
#[repr(C)]
struct Bank {
    accounts: PHashMap<u64, Account>,
    runs: u64,
    transfers: u64,
}

const OWNERS: [&str; 8] = [
    "ada", "grace", "alan", "edsger", "barbara", "donald", "ken", "margaret",
];
const OPENING_BALANCE: i64 = 1_000;
/// Movements kept per account.
const HISTORY: usize = 8;

/// Why a transfer did not happen.
enum Refused {
    InsufficientFunds,
    Pool(Error),
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        Refused::Pool(e)
    }
}

/// Moves `amount` from account `from` to account `to` in one transaction.
fn transfer(pool: &mut Pool<Bank>, from: u64, to: u64, amount: i64) -> Result<(), Refused> {
    pool.tx(|tx| {
        let bank = tx.root_mut();
        let payer = bank
            .accounts_mut()
            .get_mut(&from)
            .ok_or(Error::InvalidOptions(format!("no account {from}")))?;
        if payer.balance < amount {
            return Err(Refused::InsufficientFunds); // rolls back: nothing was written yet, and nothing would be
        }
        *payer.balance_mut() -= amount;
        record(payer.history_mut(), -amount)?;
        let receiver = bank
            .accounts_mut()
            .get_mut(&to)
            .ok_or(Error::InvalidOptions(format!("no account {to}")))?;
        *receiver.balance_mut() += amount;
        record(receiver.history_mut(), amount)?;
        *bank.transfers_mut() += 1;
        Ok(())
    })
}

/// Appends a movement, keeping the last [`HISTORY`].
fn record(history: &mut pmem::PVecMut<i64>, amount: i64) -> Result<(), Error> {
    if history.len() >= HISTORY {
        history.remove(0);
    }
    history.push(amount)
}

fn balances(pool: &Pool<Bank>) -> Result<(Vec<(String, i64)>, i64), Error> {
    pool.read(|bank| {
        let mut v: Vec<(u64, String, i64)> = bank
            .accounts
            .iter()
            .map(|(id, a)| (*id, a.owner.to_string(), a.balance))
            .collect();
        v.sort_unstable();
        let total = v.iter().map(|(_, _, b)| b).sum();
        (v.into_iter().map(|(_, o, b)| (o, b)).collect(), total)
    })
}

fn show(list: &[(String, i64)]) -> String {
    list.iter()
        .map(|(o, b)| format!("{o} {b}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The counter a long run redraws on stderr (when it is a terminal).
struct Progress {
    total: u64,
    started: Instant,
    drawn: Option<Instant>,
    tty: bool,
}

impl Progress {
    fn new(total: u64) -> Progress {
        Progress {
            total,
            started: Instant::now(),
            drawn: None,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// `done` of the run's transfers are finished.
    fn tick(&mut self, done: u64) {
        if !self.tty
            || self
                .drawn
                .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        self.drawn = Some(Instant::now());
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        let rate = done as f64 / secs;
        let left = (self.total - done) as f64 / rate.max(1e-9);
        let mut e = std::io::stderr().lock();
        let _ = write!(
            e,
            "\r  {done} of {} transfers ({:.1}%), {rate:.0}/s, about {} left   ",
            self.total,
            done as f64 * 100.0 / self.total.max(1) as f64,
            eta(left)
        );
        let _ = e.flush();
    }

    /// Erases the counter.
    fn finish(&self) {
        if self.tty && self.drawn.is_some() {
            eprint!("\r{:78}\r", "");
        }
    }
}

fn eta(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bank: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode, Error> {
    let transfers: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    let path = std::env::var("BANK_POOL").unwrap_or_else(|_| "bank.pool".into());
    let mut pool = match Pool::<Bank>::open_or_create(&path) {
        Ok(p) => p,
        Err(e @ Error::TypeMismatch { .. }) => {
            eprintln!("bank: {path} holds another root type (an older version of this example?): {e}\nbank: delete {path} and {path}.log to start over");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e),
    };

    if pool.read(|b| b.accounts.is_empty())? {
        pool.tx(|tx| {
            let bank = tx.root_mut();
            for (id, owner) in (0u64..).zip(OWNERS) {
                let acct = bank.accounts_mut().entry(id).or_default()?;
                acct.set_owner(owner)?;
                *acct.balance_mut() = OPENING_BALANCE;
            }
            Ok::<_, Error>(())
        })?;
        println!(
            "opened {} accounts of {OPENING_BALANCE} in {path}",
            OWNERS.len()
        );
    }
    let (runs, done) = pool.read(|b| (b.runs, b.transfers))?;
    let (list, total) = balances(&pool)?;
    let expected = OPENING_BALANCE * OWNERS.len() as i64;
    println!("run #{} of {path}: {done} transfers so far", runs + 1);
    println!("balances: {}", show(&list));
    if total != expected {
        println!("total {total}: MONEY WAS CREATED OR DESTROYED (expected {expected})");
        return Ok(ExitCode::FAILURE);
    }
    println!("total {total} (intact)");

    pool.tx(|tx| {
        *tx.root_mut().runs_mut() += 1;
        Ok::<_, Error>(())
    })?;
    let mut seed = (done + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let (mut made, mut refused) = (0u64, 0u64);
    let started = Instant::now();
    let mut progress = Progress::new(transfers);
    for i in 0..transfers {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = OWNERS.len() as u64;
        let from = seed % n;
        let to = (from + 1 + (seed >> 8) % (n - 1)) % n;
        let amount = ((seed >> 16) % 250) as i64 + 1;
        match transfer(&mut pool, from, to, amount) {
            Ok(()) => made += 1,
            Err(Refused::InsufficientFunds) => refused += 1,
            Err(Refused::Pool(e)) => return Err(e),
        }
        if transfers >= 10_000 && (i + 1) % (transfers / 10) == 0 {
            progress.finish();
            println!("  ... {} transfers", i + 1);
        }
        progress.tick(i + 1);
    }
    progress.finish();
    let (list, total) = balances(&pool)?;
    let done = pool.read(|b| b.transfers)?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "this run: {made} transfers made, {refused} refused for insufficient funds, in {secs:.2} s ({:.0} transactions/s)",
        (made + refused) as f64 / secs.max(1e-9)
    );
    println!("balances: {}", show(&list));
    println!("total {total}; {done} transfers in all");
    let report = pool.check()?;
    println!("integrity check: ok ({} allocations)", report.allocations);
    pool.close()?;
    Ok(if total == expected {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
