//! A bank whose accounts live in a pool file. Every transfer is one transaction: the
//! money leaves one account and arrives in another, or neither happens — across errors,
//! panics, `kill -9` and power loss.
//!
//! ```text
//! cargo run --example bank            # run it twice: the balances carry over
//! cargo run --example bank -- 100000  # a long run: kill it half-way, run again: total intact
//! ```

use pmem::{Error, Pool};

const ACCOUNTS: usize = 8;
const OPENING_BALANCE: i64 = 1_000;

/// Root: (number of runs, transfers made, balances).
type Bank = (u64, u64, [i64; ACCOUNTS]);

fn main() -> Result<(), Error> {
    let transfers: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let path = std::env::var("BANK_POOL").unwrap_or_else(|_| "bank.pool".into());
    let mut pool = Pool::<Bank>::open_or_create(&path)?;

    let (runs, done, balances) = pool.read(|b| *b)?;
    if runs == 0 {
        pool.tx(|tx| {
            tx.root_mut().2 = [OPENING_BALANCE; ACCOUNTS];
            Ok::<_, Error>(())
        })?;
    }
    let total: i64 = pool.read(|b| b.2.iter().sum())?;
    println!("run #{} of {path}: {done} transfers so far, balances {balances:?}, total {total}", runs + 1);
    assert_eq!(total, OPENING_BALANCE * ACCOUNTS as i64, "money was created or destroyed");

    pool.tx(|tx| {
        tx.root_mut().0 += 1;
        Ok::<_, Error>(())
    })?;
    let mut seed = done.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for _ in 0..transfers {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let (from, to) = ((seed % ACCOUNTS as u64) as usize, ((seed >> 8) % ACCOUNTS as u64) as usize);
        let amount = (seed >> 16) as i64 % 100;
        // A transfer that would overdraw is refused: the transaction rolls back.
        let r = pool.tx(|tx| {
            let bank = tx.root_mut();
            bank.2[from] -= amount;
            bank.2[to] += amount;
            bank.1 += 1;
            if bank.2[from] < 0 {
                return Err(Error::InvalidOptions("insufficient funds".into()));
            }
            Ok(())
        });
        if let Err(e) = r {
            if !matches!(e, Error::InvalidOptions(_)) {
                return Err(e);
            }
        }
    }
    let (_, done, balances) = pool.read(|b| *b)?;
    println!("after this run: {done} transfers, balances {balances:?}, total {}", balances.iter().sum::<i64>());
    pool.close()
}
