//! Model test: `PString` against `String` (ASCII and multi-byte characters) under random
//! operation sequences in transactions of which some are rolled back; `Pool::check`
//! after every transaction.

#![allow(clippy::too_many_lines)] // one match arm per operation

use pmem_collections::{PString, PVec};
use pmem_core::Pool;

mod model_common;
use model_common::{Rng, TestError};

impl Rng {
    fn text(&mut self) -> String {
        const PARTS: [&str; 7] = [
            "",
            "a",
            "xyz",
            "é",
            "日本",
            "🦀",
            "0123456789abcdefghijklmnop",
        ];
        (0..self.below(4))
            .map(|_| PARTS[self.below(PARTS.len())])
            .collect()
    }
    fn char(&mut self) -> char {
        ['a', 'Z', 'é', '€', '🦀'][self.below(5)]
    }
}

/// A char boundary of `s` chosen at random.
fn boundary(rng: &mut Rng, s: &str) -> usize {
    let bs: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
    bs[rng.below(bs.len())]
}

#[test]
fn pstring_matches_string_under_random_ops_and_aborts() {
    let mut rng = Rng(0x2468_ace0_1357_9bdf);
    // Several strings side by side, so buffers are freed and reused among them.
    let mut pool = Pool::<PVec<PString>>::volatile().unwrap();
    pool.tx(|tx| tx.root_mut().extend(["", "", "", ""]))
        .unwrap();
    let mut model = vec![String::new(); 4];
    let mut ops = 0;
    for _ in 0..1_400 {
        let abort = rng.below(4) == 0;
        let mut m = model.clone();
        let r = pool.tx(|tx| {
            for _ in 0..8 {
                ops += 1;
                let i = rng.below(4);
                let s = tx.root_mut().get_mut(i).unwrap();
                let ms = &mut m[i];
                match rng.below(19) {
                    10 => {
                        let n = boundary(&mut rng, ms);
                        let c = rng.char();
                        s.insert(n, c)?;
                        ms.insert(n, c);
                    }
                    11 => {
                        let n = boundary(&mut rng, ms);
                        let t = rng.text();
                        s.insert_str(n, &t)?;
                        ms.insert_str(n, &t);
                    }
                    12 if !ms.is_empty() => {
                        let n = boundary(&mut rng, ms);
                        if n < ms.len() {
                            assert_eq!(s.remove(n), ms.remove(n));
                        }
                    }
                    13 => {
                        let c = rng.char();
                        s.retain(|x| x != c);
                        ms.retain(|x| x != c);
                    }
                    14 => {
                        let (a, b) = (boundary(&mut rng, ms), boundary(&mut rng, ms));
                        let (a, b) = (a.min(b), a.max(b));
                        assert!(s.drain(a..b).eq(ms.drain(a..b)));
                    }
                    15 => {
                        let n = boundary(&mut rng, ms);
                        assert_eq!(s.split_off(n), ms.split_off(n));
                    }
                    16 => {
                        let (a, b) = (boundary(&mut rng, ms), boundary(&mut rng, ms));
                        let (a, b) = (a.min(b), a.max(b));
                        let t = rng.text();
                        s.replace_range(a..b, &t)?;
                        ms.replace_range(a..b, &t);
                    }
                    17 => {
                        let (a, b) = (boundary(&mut rng, ms), boundary(&mut rng, ms));
                        let (a, b) = (a.min(b), a.max(b));
                        s.extend_from_within(a..b)?;
                        ms.extend_from_within(a..b);
                    }
                    18 => {
                        use std::fmt::Write;
                        let t = rng.text();
                        *s += &t;
                        ms.push_str(&t);
                        write!(s, "{}", t.len()).unwrap();
                        write!(ms, "{}", t.len()).unwrap();
                        s.extend(t.chars().rev());
                        ms.extend(t.chars().rev());
                        let n = rng.below(64);
                        s.shrink_to(n)?;
                        ms.shrink_to(n);
                        s.as_mut_str().make_ascii_lowercase();
                        ms.make_ascii_lowercase();
                    }
                    0..=2 => {
                        let t = rng.text();
                        s.push_str(&t)?;
                        ms.push_str(&t);
                    }
                    3 => {
                        let c = rng.char();
                        s.push(c)?;
                        ms.push(c);
                    }
                    4 => assert_eq!(s.pop(), ms.pop()),
                    5 => {
                        let t = rng.text();
                        s.set(&t)?;
                        *ms = t;
                    }
                    6 => {
                        let n = boundary(&mut rng, ms);
                        s.truncate(n);
                        ms.truncate(n);
                    }
                    7 if rng.below(4) == 0 => {
                        s.clear();
                        ms.clear();
                    }
                    8 => {
                        let n = rng.below(64);
                        if rng.below(2) == 0 {
                            s.reserve(n)?;
                        } else {
                            s.reserve_exact(n)?;
                        }
                        assert!(s.capacity() >= ms.len() + n);
                    }
                    _ => {
                        s.shrink_to_fit()?;
                        assert_eq!(s.capacity(), ms.len());
                    }
                }
                assert_eq!(s.as_str(), ms.as_str());
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

#[test]
fn pstring_compares_hashes_and_displays_like_its_str() {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    let mut pool = Pool::<PVec<PString>>::volatile().unwrap();
    pool.tx(|tx| tx.root_mut().extend(["b", "a", "é"])).unwrap();
    pool.read(|v| {
        let h = BuildHasherDefault::<DefaultHasher>::default();
        assert_eq!(h.hash_one(&v[0]), h.hash_one("b"));
        assert!(v[1] < v[0] && v[0] < v[2]);
        assert_eq!(v[2], "é");
        assert_eq!("é", v[2]);
        assert_eq!(v[2], String::from("é"));
        assert_eq!(format!("{} {:?}", v[2], v[2]), "é \"é\"");
        assert_eq!(format!("{v:?}"), r#"["b", "a", "é"]"#);
    })
    .unwrap();
}
