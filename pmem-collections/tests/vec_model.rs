//! Model tests: `PVec<u64>` and `PVec<PString>` against `Vec`, under random operation
//! sequences in transactions of which some are rolled back (the closure returns `Err`).
//! After every transaction the pool must equal the model (the old one after a rollback)
//! and pass `Pool::check` (no leak, no dangling or doubly-owned buffer).

#![allow(clippy::too_many_lines)] // one match arm per operation

use pmem_collections::{PString, PVec};
use pmem_core::Pool;

mod model_common;
use model_common::{Rng, TestError};

/// xorshift64*: small, seeded, no dependencies.
impl Rng {
    fn word(&mut self) -> String {
        const PARTS: [&str; 6] = ["a", "bc", "déf", "ghij", "€", "klmnopqrstuvwxyz0123456789"];
        (0..self.below(4))
            .map(|_| PARTS[self.below(PARTS.len())])
            .collect()
    }
}

const BATCHES: usize = 1_500;

fn x_of(n: usize) -> u64 {
    n as u64 * 7
}
const OPS_PER_BATCH: usize = 8;

#[test]
fn pvec_of_u64_matches_vec_under_random_ops_and_aborts() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut pool = Pool::<PVec<u64>>::volatile().unwrap();
    let mut model: Vec<u64> = Vec::new();
    let mut ops = 0;
    for _ in 0..BATCHES {
        let abort = rng.below(4) == 0;
        let mut m = model.clone();
        let r = pool.tx(|tx| {
            let v = tx.root_mut();
            for _ in 0..OPS_PER_BATCH {
                ops += 1;
                let len = m.len();
                match rng.below(30) {
                    0..=3 => {
                        let x = rng.next();
                        v.push(x)?;
                        m.push(x);
                    }
                    18 => {
                        let (a, b) = (rng.below(len + 1), rng.below(len + 1));
                        let (a, b) = (a.min(b), a.max(b));
                        assert!(v.drain(a..b).eq(m.drain(a..b)));
                    }
                    19 => {
                        let k = rng.below(4) as u64 + 1;
                        v.dedup_by_key(|x| *x % k)?;
                        m.dedup_by_key(|x| *x % k);
                        if rng.below(2) == 0 {
                            v.dedup()?;
                            m.dedup();
                        }
                    }
                    20 => {
                        let at = rng.below(len + 1);
                        assert_eq!(v.split_off(at), m.split_off(at));
                    }
                    21 => {
                        let n = rng.below(len + 10);
                        let x = rng.next() % 4;
                        if rng.below(2) == 0 {
                            v.resize(n, x)?;
                            m.resize(n, x);
                        } else {
                            v.resize_with(n, || x)?;
                            m.resize_with(n, || x);
                        }
                    }
                    22 => {
                        let k = rng.next() % 3;
                        v.retain_mut(|x| {
                            *x = x.wrapping_add(1);
                            *x % 3 != k
                        })?;
                        m.retain_mut(|x| {
                            *x = x.wrapping_add(1);
                            *x % 3 != k
                        });
                    }
                    23 => {
                        let (a, b) = (rng.below(len + 1), rng.below(len + 1));
                        let (a, b) = (a.min(b), a.max(b));
                        let new: Vec<u64> = (0..rng.below(6)).map(|_| rng.next()).collect();
                        let got: Vec<u64> = v.splice(a..b, new.iter().copied())?.collect();
                        let want: Vec<u64> = m.splice(a..b, new).collect();
                        assert_eq!(got, want);
                    }
                    24 => {
                        let (a, b) = (rng.below(len + 1), rng.below(len + 1));
                        let (a, b) = (a.min(b), a.max(b));
                        let k = rng.next() % 3;
                        let stop = rng.below(4);
                        let got: Vec<u64> =
                            v.extract_if(a..b, |x| *x % 3 == k).take(stop).collect();
                        let want: Vec<u64> =
                            m.extract_if(a..b, |x| *x % 3 == k).take(stop).collect();
                        assert_eq!(got, want);
                    }
                    25 => {
                        let (a, b) = (rng.below(len + 1), rng.below(len + 1));
                        let (a, b) = (a.min(b), a.max(b));
                        v.extend_from_within(a..b)?;
                        m.extend_from_within(a..b);
                    }
                    26 if len > 0 => {
                        let (i, j) = (rng.below(len), rng.below(len));
                        let x = rng.next();
                        v[i] = x;
                        m[i] = x;
                        v.swap(i, j);
                        m.swap(i, j);
                        v[i..].reverse();
                        m[i..].reverse();
                    }
                    27 => {
                        let k = rng.next() % 2;
                        assert_eq!(v.pop_if(|x| *x % 2 == k), m.pop_if(|x| *x % 2 == k));
                    }
                    28 => {
                        let x = rng.next();
                        let i = rng.below(len + 1);
                        *v.insert_mut(i, x)? += 1;
                        m.insert(i, x + 1);
                        *v.push_mut(x)? += 2;
                        m.push(x + 2);
                    }
                    29 => {
                        let n = rng.below(40);
                        let before = v.capacity();
                        v.shrink_to(n)?;
                        m.shrink_to(n);
                        assert_eq!(v.capacity(), before.min(n.max(m.len())));
                        Extend::extend(v, [x_of(n)]);
                        m.push(x_of(n));
                    }
                    4 => assert_eq!(v.pop(), m.pop()),
                    5 if len > 0 => {
                        let i = rng.below(len);
                        assert_eq!(v.remove(i), m.remove(i));
                    }
                    6 if len > 0 => {
                        let i = rng.below(len);
                        assert_eq!(v.swap_remove(i), m.swap_remove(i));
                    }
                    7 => {
                        let i = rng.below(len + 1);
                        let x = rng.next();
                        v.insert(i, x)?;
                        m.insert(i, x);
                    }
                    8 => {
                        let n = rng.below(len + 2);
                        v.truncate(n)?;
                        m.truncate(n);
                    }
                    9 if rng.below(8) == 0 => {
                        v.clear()?;
                        m.clear();
                    }
                    10 => {
                        let xs: Vec<u64> = (0..rng.below(20)).map(|_| rng.next()).collect();
                        if rng.below(2) == 0 {
                            v.extend(xs.iter().copied())?;
                        } else {
                            v.extend_from_slice(&xs)?;
                        }
                        m.extend(xs);
                    }
                    11 => {
                        let k = rng.next() % 3;
                        v.retain(|x| x % 3 != k)?;
                        m.retain(|x| x % 3 != k);
                    }
                    12 if len > 0 => {
                        let i = rng.below(len);
                        *v.get_mut(i).unwrap() += 1;
                        m[i] += 1;
                        assert!(v.get_mut(len).is_none());
                    }
                    13 if len > 0 => {
                        let i = rng.below(len);
                        let x = rng.next();
                        v.set(i, x)?;
                        m[i] = x;
                    }
                    14 => {
                        if rng.below(2) == 0 {
                            v.as_mut_slice().sort_unstable();
                            m.sort_unstable();
                        } else {
                            for x in v.iter_mut() {
                                *x ^= 1;
                            }
                            for x in &mut m {
                                *x ^= 1;
                            }
                        }
                    }
                    15 => {
                        let n = rng.below(40);
                        if rng.below(2) == 0 {
                            v.reserve(n)?;
                        } else {
                            v.reserve_exact(n)?;
                        }
                        assert!(v.capacity() >= len + n);
                    }
                    16 => {
                        v.shrink_to_fit()?;
                        assert_eq!(v.capacity(), len);
                    }
                    _ => {
                        assert_eq!(v[..], m[..]);
                    }
                }
                assert_eq!(v.len(), m.len());
            }
            if abort {
                Err(TestError::Abort)
            } else {
                Ok(())
            }
        });
        match r {
            Ok(()) => model = m,
            Err(TestError::Abort) => {}
            Err(TestError::Pmem(e)) => panic!("transaction failed: {e}"),
        }
        assert_eq!(pool.read(|v| v.to_vec()).unwrap(), model);
        pool.check().unwrap();
    }
    assert!(ops >= 10_000, "{ops} ops");
}

#[test]
fn pvec_of_pstring_matches_vec_of_string_and_frees_what_it_drops() {
    let mut rng = Rng(0xfeed_face_dead_beef);
    let mut pool = Pool::<PVec<PString>>::volatile().unwrap();
    let mut model: Vec<String> = Vec::new();
    let mut ops = 0;
    for _ in 0..BATCHES {
        let abort = rng.below(4) == 0;
        let mut m = model.clone();
        let r = pool.tx(|tx| {
            let v = tx.root_mut();
            for _ in 0..OPS_PER_BATCH {
                ops += 1;
                let len = m.len();
                match rng.below(24) {
                    16 => {
                        let (a, b) = (rng.below(len + 1), rng.below(len + 1));
                        let (a, b) = (a.min(b), a.max(b));
                        let mut got = Vec::new();
                        v.drain_with(a..b, |s| got.push(s.to_string()))?;
                        assert_eq!(got, m.drain(a..b).collect::<Vec<_>>());
                    }
                    17 => {
                        let k = rng.below(3);
                        v.dedup_by_key(|s| s.len() % 3 == k)?;
                        m.dedup_by_key(|s| s.len() % 3 == k);
                    }
                    18 => {
                        let n = rng.below(len + 4);
                        let w = rng.word();
                        v.resize(n, w.as_str())?;
                        m.resize(n, w);
                    }
                    19 => {
                        let k = rng.below(3);
                        v.retain_mut(|s| s.push('+').is_ok() && s.len() % 3 != k)?;
                        m.retain_mut(|s| {
                            s.push('+');
                            s.len() % 3 != k
                        });
                    }
                    20 if len > 0 => {
                        let (i, j) = (rng.below(len), rng.below(len));
                        v.swap(i, j);
                        m.swap(i, j);
                        v.first_mut().unwrap().push('<')?;
                        m.first_mut().unwrap().push('<');
                        v.last_mut().unwrap().push('>')?;
                        m.last_mut().unwrap().push('>');
                    }
                    21 => {
                        let w = rng.word();
                        v.push_mut(w.as_str())?.push('.')?;
                        m.push(w + ".");
                    }
                    22 => {
                        let n = rng.below(len + 3);
                        let w = rng.word();
                        v.resize_with(n, || w.as_str())?;
                        m.resize_with(n, || w.clone());
                    }
                    23 => {
                        v.dedup()?;
                        m.dedup();
                    }
                    0..=3 => {
                        let w = rng.word();
                        if rng.below(2) == 0 {
                            v.push(w.as_str())?;
                        } else {
                            v.push(w.clone())?;
                        }
                        m.push(w);
                    }
                    4 => assert_eq!(v.pop_with(ToString::to_string)?, m.pop()),
                    5 if len > 0 => {
                        let i = rng.below(len);
                        assert_eq!(v.remove_with(i, ToString::to_string)?, m.remove(i));
                    }
                    6 if len > 0 => {
                        let i = rng.below(len);
                        assert_eq!(
                            v.swap_remove_with(i, ToString::to_string)?,
                            m.swap_remove(i)
                        );
                    }
                    7 => {
                        let i = rng.below(len + 1);
                        let w = rng.word();
                        v.insert(i, w.as_str())?;
                        m.insert(i, w);
                    }
                    8 => {
                        let n = rng.below(len + 2);
                        v.truncate(n)?;
                        m.truncate(n);
                    }
                    9 if rng.below(8) == 0 => {
                        v.clear()?;
                        m.clear();
                    }
                    10 => {
                        let ws: Vec<String> = (0..rng.below(10)).map(|_| rng.word()).collect();
                        v.extend(ws.iter())?;
                        m.extend(ws);
                    }
                    11 => {
                        let k = rng.below(4);
                        v.retain(|s| s.len() % 4 != k)?;
                        m.retain(|s| s.len() % 4 != k);
                    }
                    12 if len > 0 => {
                        let i = rng.below(len);
                        let w = rng.word();
                        v.get_mut(i).unwrap().push_str(&w)?;
                        m[i].push_str(&w);
                    }
                    13 if len > 0 => {
                        let i = rng.below(len);
                        let w = rng.word();
                        v.set(i, w.as_str())?;
                        m[i] = w;
                    }
                    14 => {
                        if rng.below(2) == 0 {
                            v.shrink_to_fit()?;
                        } else {
                            v.reserve(rng.below(30))?;
                        }
                    }
                    _ => {
                        for s in v.iter_mut() {
                            s.push('!')?;
                        }
                        for s in &mut m {
                            s.push('!');
                        }
                    }
                }
                assert_eq!(v.len(), m.len());
            }
            if abort {
                Err(TestError::Abort)
            } else {
                Ok(())
            }
        });
        match r {
            Ok(()) => model = m,
            Err(TestError::Abort) => {}
            Err(TestError::Pmem(e)) => panic!("transaction failed: {e}"),
        }
        assert_eq!(
            pool.read(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>())
                .unwrap(),
            model
        );
        pool.check().unwrap();
    }
    assert!(ops >= 10_000, "{ops} ops");
}
