//! A game leaderboard in a pool: a `PBTreeMap` ordered by (score, player) answers "top
//! ten", "who scored between 400 and 600" and "what is my rank" with range queries,
//! and every score update (remove the old key, insert the new one, bump the counters)
//! is one transaction, so the board never lists a player twice or not at all.
//!
//! ```text
//! cargo run --example leaderboard            # play 200 games, show the board
//! cargo run --example leaderboard -- 5000    # play more: scores carry over between runs
//! ```
//!
//! The pool is `leaderboard.pool` in the current directory (`LEADERBOARD_POOL=path`).

use std::ops::Bound;

use pmem::{Error, PBTreeMap, PHashMap, PString, Persistent, Pool};

/// The root.
#[derive(Persistent, Default)]
#[repr(C)]
struct Board {
    /// (score, player id) → player name: iteration order is the ranking (reversed).
    by_score: PBTreeMap<(u64, u64), PString>,
    /// Player id → current score.
    score_of: PHashMap<u64, u64>,
    games: u64,
}

const PLAYERS: u64 = 40;
const NAMES: [&str; 8] = [
    "ada", "alan", "barbara", "donald", "edsger", "grace", "ken", "margaret",
];

fn name(id: u64) -> String {
    format!("{}-{id}", NAMES[(id % NAMES.len() as u64) as usize])
}

/// Adds `points` to `player`'s score: the old ranking entry goes, the new one comes.
fn play(pool: &mut Pool<Board>, player: u64, points: u64) -> Result<(), Error> {
    pool.tx(|tx| {
        let board = tx.root_mut();
        let old = board.score_of.get(&player).copied().unwrap_or(0);
        let new = old + points;
        board
            .by_score_mut()
            .remove_with(&(old, player), |_, _| ())?;
        board
            .by_score_mut()
            .set((new, player), name(player).as_str())?;
        board.score_of_mut().insert(player, new)?;
        *board.games_mut() += 1;
        Ok(())
    })
}

fn main() -> Result<(), Error> {
    let games: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let path = std::env::var("LEADERBOARD_POOL").unwrap_or_else(|_| "leaderboard.pool".into());
    let mut pool = Pool::<Board>::open_or_create(&path)?;

    if pool.read(|b| b.score_of.is_empty())? {
        pool.tx(|tx| {
            let board = tx.root_mut();
            for id in 0..PLAYERS {
                board.by_score_mut().set((0, id), name(id).as_str())?;
                board.score_of_mut().insert(id, 0)?;
            }
            Ok::<_, Error>(())
        })?;
    }
    let mut seed = pool
        .read(|b| b.games)?
        .wrapping_add(1)
        .wrapping_mul(0x2545_F491_4F6C_DD1D);
    for _ in 0..games {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        play(&mut pool, seed % PLAYERS, (seed >> 32) % 100)?;
    }

    pool.read(|board| {
        println!(
            "{} games played by {} players ({path})",
            board.games,
            board.score_of.len()
        );
        println!("top 5:");
        for (rank, ((score, _), who)) in board.by_score.iter().rev().take(5).enumerate() {
            println!("  #{} {who} {score}", rank + 1);
        }
        let (top, _) = *board.by_score.last_key_value().expect("players").0;
        let (lo, hi) = (top / 2, top * 3 / 4);
        let band: Vec<String> = board
            .by_score
            .range((lo, 0)..(hi + 1, 0))
            .map(|((s, _), who)| format!("{who} {s}"))
            .collect();
        println!(
            "scores from {lo} to {hi}: {} players: {}",
            band.len(),
            band.join(", ")
        );
        let me = 7;
        let mine = board.score_of[&me];
        let above = board
            .by_score
            .range((Bound::Excluded((mine, me)), Bound::Unbounded))
            .count();
        println!(
            "{} has {mine} points and is ranked #{} of {}",
            name(me),
            above + 1,
            board.by_score.len()
        );
        let (low_score, low) = board
            .by_score
            .first_key_value()
            .map(|((s, _), w)| (*s, w.to_string()))
            .expect("players");
        println!("last place: {low} {low_score}");
    })?;
    let report = pool.check()?;
    println!("integrity check: ok ({} allocations)", report.allocations);
    pool.close()
}
