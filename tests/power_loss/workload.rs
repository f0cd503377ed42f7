//! The recorded workload: a bank of derived structs with strings, vectors, a B-tree
//! journal and large blobs, planned from a seed so that the parent (which checks crash
//! states against an in-memory model) and the child (which runs it on a real pool file)
//! agree on every transaction.
//!
//! Every committed transaction increments `commits`, so the state after commit M has a
//! digest no other M shares. Blobs are 100–300 KiB (the pool starts at 64 KiB, so they
//! force growth) and their contents are a function of their id: a digest covers ids and
//! lengths, and the contents are compared with the expected ones directly.
//!
//! Blobs hold `u64` words rather than bytes: `pool.check()` visits every element of a
//! `PVec`, and `pmem-collections` is not optimised in debug test builds, where a walk
//! over a million `u8`s per image dominated the run.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hasher;

use pmem::{Error, PBTreeMap, PString, PVec, Persistent};

/// One account.
#[derive(Persistent, Default)]
#[repr(C)]
pub(crate) struct Account {
    owner: PString,
    balance: i64,
    history: PVec<i64>,
}

/// A journal entry.
#[derive(Persistent, Default)]
#[repr(C)]
pub(crate) struct Note {
    memo: PString,
    amount: i64,
    tags: PVec<u32>,
}

/// A large binary value.
#[derive(Persistent, Default)]
#[repr(C)]
pub(crate) struct Blob {
    id: u64,
    words: PVec<u64>,
}

/// The root of the pool.
#[derive(Persistent, Default)]
#[repr(C)]
pub(crate) struct Bank {
    accounts: PVec<Account>,
    ledger: PVec<i64>,
    journal: PBTreeMap<u64, Note>,
    blobs: PVec<Blob>,
    commits: u64,
    total: i64,
}

/// Movements kept per account.
const HISTORY: usize = 6;
/// Blobs kept at most: two at first, one more every 30 commits (so the pool keeps
/// growing through the run), at most eight.
fn max_blobs(commits: u64) -> usize {
    (2 + commits as usize / 30).min(8)
}

/// One change inside a transaction.
#[derive(Clone, Debug)]
pub(crate) enum Action {
    Open {
        owner: String,
        deposit: i64,
    },
    Transfer {
        from: usize,
        to: usize,
        amount: i64,
    },
    Rename {
        account: usize,
        owner: String,
    },
    Ledger {
        values: Vec<i64>,
    },
    TrimLedger {
        keep: usize,
    },
    Note {
        key: u64,
        memo: String,
        amount: i64,
        tags: Vec<u32>,
    },
    Forget {
        key: u64,
    },
    /// `len` words.
    AddBlob {
        id: u64,
        len: usize,
    },
    DropBlob {
        index: usize,
    },
}

/// How a planned transaction ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    Commit,
    /// The closure returns `Err`: rolled back.
    Fail,
    /// The closure panics: rolled back.
    Panic,
}

/// One planned step of the workload.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    Tx {
        actions: Vec<Action>,
        end: End,
    },
    /// Close the pool (drop) and open it again.
    Reopen,
}

/// The model of [`Bank`].
#[derive(Clone, Default)]
pub(crate) struct Model {
    accounts: Vec<(String, i64, Vec<i64>)>,
    ledger: Vec<i64>,
    journal: BTreeMap<u64, (String, i64, Vec<u32>)>,
    blobs: Vec<(u64, usize)>,
    commits: u64,
    total: i64,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn text(&mut self, min: usize, max: usize) -> String {
        let len = min + self.below((max - min + 1) as u64) as usize;
        (0..len)
            .map(|_| char::from(b'a' + self.below(26) as u8))
            .collect()
    }
}

/// The `len` words of blob `id`.
pub(crate) fn blob_words(id: u64, len: usize) -> Vec<u64> {
    let mut r = Rng(id.wrapping_mul(0x2545_f491_4f6c_dd1d));
    (0..len).map(|_| r.next()).collect()
}

impl Model {
    fn apply(&mut self, a: &Action) {
        match a {
            Action::Open { owner, deposit } => {
                self.accounts
                    .push((owner.clone(), *deposit, vec![*deposit]));
                self.total += deposit;
            }
            Action::Transfer { from, to, amount } => {
                for (i, d) in [(*from, -amount), (*to, *amount)] {
                    let acct = &mut self.accounts[i];
                    acct.1 += d;
                    if acct.2.len() >= HISTORY {
                        acct.2.remove(0);
                    }
                    acct.2.push(d);
                }
            }
            Action::Rename { account, owner } => owner.clone_into(&mut self.accounts[*account].0),
            Action::Ledger { values } => self.ledger.extend_from_slice(values),
            Action::TrimLedger { keep } => self.ledger.truncate(*keep),
            Action::Note {
                key,
                memo,
                amount,
                tags,
            } => {
                self.journal
                    .insert(*key, (memo.clone(), *amount, tags.clone()));
            }
            Action::Forget { key } => {
                self.journal.remove(key);
            }
            Action::AddBlob { id, len } => self.blobs.push((*id, *len)),
            Action::DropBlob { index } => {
                self.blobs.remove(*index);
            }
        }
    }

    fn commit(&mut self, actions: &[Action]) {
        for a in actions {
            self.apply(a);
        }
        self.commits += 1;
    }

    /// The digest of this state (see [`digest_pool`]).
    pub(crate) fn digest(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        h.write_u64(self.commits);
        h.write_i64(self.total);
        h.write_usize(self.accounts.len());
        for (owner, balance, history) in &self.accounts {
            feed_account(&mut h, owner, *balance, history);
        }
        h.write_usize(self.ledger.len());
        for x in &self.ledger {
            h.write_i64(*x);
        }
        h.write_usize(self.journal.len());
        for (k, (memo, amount, tags)) in &self.journal {
            feed_note(&mut h, *k, memo, *amount, tags);
        }
        h.write_usize(self.blobs.len());
        for &(id, len) in &self.blobs {
            h.write_u64(id);
            h.write_usize(len);
        }
        h.finish()
    }

    fn plan_action(&mut self, r: &mut Rng, next_blob: &mut u64) -> Action {
        loop {
            let n = self.accounts.len();
            match r.below(100) {
                0..=29 if n >= 2 => {
                    let from = r.below(n as u64) as usize;
                    let to = (from + 1 + r.below(n as u64 - 1) as usize) % n;
                    return Action::Transfer {
                        from,
                        to,
                        amount: 1 + r.below(500) as i64,
                    };
                }
                30..=39 => {
                    let k = 1 + r.below(12) as usize;
                    return Action::Ledger {
                        values: (0..k).map(|_| r.next() as i64).collect(),
                    };
                }
                40..=43 if self.ledger.len() > 40 => {
                    return Action::TrimLedger {
                        keep: r.below(self.ledger.len() as u64) as usize,
                    };
                }
                44..=61 => {
                    let tags = (0..r.below(9)).map(|_| r.next() as u32).collect();
                    return Action::Note {
                        key: r.below(64),
                        memo: r.text(0, 90),
                        amount: r.next() as i64 >> 20,
                        tags,
                    };
                }
                62..=67 if !self.journal.is_empty() => {
                    let i = r.below(self.journal.len() as u64) as usize;
                    return Action::Forget {
                        key: *self.journal.keys().nth(i).expect("in range"),
                    };
                }
                68..=74 if n > 0 => {
                    return Action::Rename {
                        account: r.below(n as u64) as usize,
                        owner: r.text(1, 60),
                    };
                }
                75..=79 if n < 24 => {
                    return Action::Open {
                        owner: r.text(1, 40),
                        deposit: r.below(10_000) as i64,
                    };
                }
                80..=86 if self.blobs.len() < max_blobs(self.commits) => {
                    *next_blob += 1;
                    return Action::AddBlob {
                        id: *next_blob,
                        len: ((100 << 10) + r.below(200 << 10) as usize) / 8,
                    };
                }
                87..=90 if !self.blobs.is_empty() => {
                    return Action::DropBlob {
                        index: r.below(self.blobs.len() as u64) as usize,
                    };
                }
                _ => {}
            }
        }
    }
}

fn feed_account(h: &mut impl Hasher, owner: &str, balance: i64, history: &[i64]) {
    h.write(owner.as_bytes());
    h.write_u8(0xff);
    h.write_i64(balance);
    h.write_usize(history.len());
    for x in history {
        h.write_i64(*x);
    }
}

fn feed_note(h: &mut impl Hasher, key: u64, memo: &str, amount: i64, tags: &[u32]) {
    h.write_u64(key);
    h.write(memo.as_bytes());
    h.write_u8(0xff);
    h.write_i64(amount);
    h.write_usize(tags.len());
    for t in tags {
        h.write_u32(*t);
    }
}

/// The digest of a pool's contents, equal to [`Model::digest`] of the same state; the
/// blobs' contents are compared with the expected ones (`blobs`: id → words).
pub(crate) fn digest_pool(b: &Bank, blobs: &HashMap<u64, Vec<u64>>) -> Result<u64, String> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write_u64(b.commits);
    h.write_i64(b.total);
    h.write_usize(b.accounts.len());
    for a in &b.accounts {
        feed_account(&mut h, a.owner.as_str(), a.balance, &a.history);
    }
    h.write_usize(b.ledger.len());
    for x in &b.ledger {
        h.write_i64(*x);
    }
    h.write_usize(b.journal.len());
    for (k, n) in &b.journal {
        feed_note(&mut h, *k, n.memo.as_str(), n.amount, &n.tags);
    }
    h.write_usize(b.blobs.len());
    for blob in &b.blobs {
        h.write_u64(blob.id);
        h.write_usize(blob.words.len());
        match blobs.get(&blob.id) {
            Some(want) if want[..] == blob.words[..] => {}
            Some(_) => {
                return Err(format!(
                    "blob {} ({} words) holds other words",
                    blob.id,
                    blob.words.len()
                ))
            }
            None => {
                return Err(format!(
                    "blob {} of {} words was never written",
                    blob.id,
                    blob.words.len()
                ))
            }
        }
    }
    Ok(h.finish())
}

/// The planned workload and the model digest after every commit (index M = after M
/// commits; 0 = the empty bank `create` makes).
pub(crate) struct Plan {
    pub(crate) steps: Vec<Step>,
    pub(crate) digests: Vec<u64>,
    /// Every blob the workload writes: id → words.
    pub(crate) blobs: HashMap<u64, Vec<u64>>,
}

/// Plans `commits` committed transactions (plus rolled-back ones and one reopen).
pub(crate) fn plan(seed: u64, commits: usize) -> Plan {
    let mut r = Rng(seed);
    let mut m = Model::default();
    let mut steps = Vec::new();
    let mut digests = vec![m.digest()];
    let mut blobs = HashMap::new();
    let mut next_blob = seed << 16;
    // The first transaction opens the first accounts.
    let first: Vec<Action> = (0..4)
        .map(|_| Action::Open {
            owner: r.text(3, 30),
            deposit: 1_000,
        })
        .collect();
    m.commit(&first);
    digests.push(m.digest());
    steps.push(Step::Tx {
        actions: first,
        end: End::Commit,
    });
    while digests.len() <= commits {
        if digests.len() == commits / 2 && !steps.iter().any(|s| matches!(s, Step::Reopen)) {
            steps.push(Step::Reopen);
        }
        let end = match r.below(100) {
            0..=6 => End::Fail,
            7..=10 => End::Panic,
            _ => End::Commit,
        };
        let mut trial = m.clone();
        let mut actions = Vec::new();
        for _ in 0..=r.below(3) {
            let a = trial.plan_action(&mut r, &mut next_blob);
            trial.apply(&a);
            actions.push(a);
        }
        for a in &actions {
            if let Action::AddBlob { id, len } = a {
                blobs.insert(*id, blob_words(*id, *len));
            }
        }
        if end == End::Commit {
            m.commit(&actions);
            digests.push(m.digest());
        }
        steps.push(Step::Tx { actions, end });
    }
    Plan {
        steps,
        digests,
        blobs,
    }
}

/// Runs one action on the pool.
pub(crate) fn run_action(bank: &mut BankMut, a: &Action) -> Result<(), Error> {
    match a {
        Action::Open { owner, deposit } => {
            let accounts = bank.accounts_mut();
            accounts.push(Account::default())?;
            let n = accounts.len();
            let acct = accounts.get_mut(n - 1).expect("just pushed");
            acct.set_owner(owner.as_str())?;
            *acct.balance_mut() = *deposit;
            acct.history_mut().push(*deposit)?;
            *bank.total_mut() += deposit;
        }
        Action::Transfer { from, to, amount } => {
            for (i, d) in [(*from, -amount), (*to, *amount)] {
                let acct = bank.accounts_mut().get_mut(i).expect("planned index");
                *acct.balance_mut() += d;
                let h = acct.history_mut();
                if h.len() >= HISTORY {
                    h.remove(0);
                }
                h.push(d)?;
            }
        }
        Action::Rename { account, owner } => {
            let acct = bank
                .accounts_mut()
                .get_mut(*account)
                .expect("planned index");
            acct.owner_mut().set(owner)?;
        }
        Action::Ledger { values } => bank.ledger_mut().extend(values.iter().copied())?,
        Action::TrimLedger { keep } => bank.ledger_mut().truncate(*keep)?,
        Action::Note {
            key,
            memo,
            amount,
            tags,
        } => {
            let journal = bank.journal_mut();
            journal.set(*key, Note::default())?;
            let note = journal.get_mut(key).expect("just put");
            note.set_memo(memo.as_str())?;
            *note.amount_mut() = *amount;
            note.set_tags(tags.clone())?;
        }
        Action::Forget { key } => {
            bank.journal_mut().remove_with(key, |_, _| ())?;
        }
        Action::AddBlob { id, len } => {
            let blobs = bank.blobs_mut();
            blobs.push(Blob::default())?;
            let n = blobs.len();
            let blob = blobs.get_mut(n - 1).expect("just pushed");
            *blob.id_mut() = *id;
            blob.words_mut().extend_from_slice(&blob_words(*id, *len))?;
        }
        Action::DropBlob { index } => bank.blobs_mut().remove_with(*index, |_| ())?,
    }
    Ok(())
}

/// Runs one planned transaction; answers whether it committed.
pub(crate) fn run_tx(
    pool: &mut pmem::Pool<Bank>,
    actions: &[Action],
    end: End,
) -> Result<bool, Error> {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.tx(|tx| {
            let bank = tx.root_mut();
            for a in actions {
                run_action(bank, a)?;
            }
            match end {
                End::Commit => {
                    *bank.commits_mut() += 1;
                    Ok(())
                }
                End::Fail => Err(Error::InvalidOptions("planned rollback".into())),
                End::Panic => panic!("planned rollback panic"),
            }
        })
    }));
    match (r, end) {
        (Ok(Ok(())), End::Commit) => Ok(true),
        (Ok(Err(Error::InvalidOptions(_))), End::Fail) | (Err(_), End::Panic) => Ok(false),
        (Ok(Err(e)), _) => Err(e),
        (Ok(Ok(())) | Err(_), _) => Err(Error::InvalidOptions(format!(
            "transaction planned to end with {end:?} did not"
        ))),
    }
}
