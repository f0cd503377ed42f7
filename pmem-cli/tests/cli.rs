//! The `pmem` command-line tool against real pools: `dump` renders every shape a
//! schema can describe (which pins the layouts the tool decodes without the types),
//! `check` passes healthy pools and names each kind of damage with the path that has it,
//! `stats` and `info` report what the allocator and the walk see, `schema` prints the
//! stored schema as declarations, `dump --path` reaches fields, elements and every kind
//! of key, pools open for writing and files that are not pools are refused with exit
//! status 2 and a message that says what to do, the command line is clap's (help,
//! version, completions), and no command ever changes a byte of the pool or its log.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};

use pmem::{
    Error, PBTreeMap, PBTreeSet, PBox, PHashMap, PHashSet, PPtr, PString, PVec, Persistent, Pool,
};
use serde_json::{json, Value};

#[derive(Persistent, Default, Clone, Copy, Debug, PartialEq)]
#[repr(u8)]
#[pmem(plain)]
enum Level {
    #[default]
    Low,
    Mid = 5,
    High,
}

#[derive(Persistent, Default, Clone, Copy)]
#[repr(C)]
#[pmem(plain)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(Persistent, Default)]
#[repr(u16)]
enum Shape {
    #[default]
    Empty,
    Circle {
        r: f64,
    } = 10,
    Rect(f32, f32),
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Node {
    value: u32,
    next: Option<PBox<Node>>,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Pair(u8, i16);

#[derive(Persistent, Default)]
#[repr(C)]
struct Everything {
    small: u8,
    neg: i64,
    big: u128,
    ratio: f64,
    flag: bool,
    letter: char,
    some_num: Option<u64>,
    no_num: Option<u64>,
    some_flag: Option<bool>,
    no_flag: Option<bool>,
    some_char: Option<char>,
    no_char: Option<char>,
    some_level: Option<Level>,
    no_level: Option<Level>,
    some_pair: Option<(u8, u16)>,
    some_bytes: Option<[u8; 3]>,
    some_point: Option<Point>,
    no_point: Option<Point>,
    level: Level,
    shape: Shape,
    other_shape: Shape,
    triple: (u8, u64, i32),
    arr: [i16; 4],
    pair: Pair,
    name: PString,
    list: PVec<u32>,
    spare: PVec<u32>,
    nested: PVec<PString>,
    scores: PHashMap<PString, PVec<u32>>,
    ranks: PBTreeMap<u64, PString>,
    tags: PHashSet<u32>,
    words: PBTreeSet<PString>,
    pairs: PHashMap<(u8, u8), u8>,
    chain: Option<PBox<Node>>,
    link: PPtr<Node>,
}

/// Tests in this file run one at a time: a child process spawned by one test inherits,
/// between its fork and its exec, the pool descriptors another test holds, and with them
/// that pool's lock, so a pool closed at that moment would still look open elsewhere.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("pmem-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn pmem(args: &[&str]) -> Run {
    pmem_in(&std::env::temp_dir(), args)
}

/// `pmem args` run in `dir`, so that messages name files as the command line does.
fn pmem_in(dir: &Path, args: &[&str]) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_pmem"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the pmem binary runs");
    Run {
        code: o.status.code().expect("exited"),
        out: String::from_utf8(o.stdout).unwrap(),
        err: String::from_utf8(o.stderr).unwrap(),
    }
}

fn on(cmd: &str, pool: &Path, extra: &[&str]) -> Run {
    let mut args = vec![cmd, pool.to_str().unwrap()];
    args.extend_from_slice(extra);
    pmem(&args)
}

fn json_of(r: &Run) -> Value {
    serde_json::from_str(&r.out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.out, r.err))
}

fn off<T>(r: &T) -> u64 {
    pmem::raw::offset_of(std::ptr::from_ref(r).cast()).expect("in the pool")
}

/// Pool offsets of the parts the damage tests overwrite.
struct Offsets {
    list: u64,
    spare: u64,
    scores: u64,
    chain: u64,
    root: u64,
}

/// A closed pool holding one of everything.
fn everything(path: &Path) -> Offsets {
    let mut pool = Pool::<Everything>::create(path).unwrap();
    pool.tx(|tx| {
        let e = tx.root_mut();
        *e.small_mut() = 7;
        *e.neg_mut() = -5;
        *e.big_mut() = u128::from(u64::MAX) + 1;
        *e.ratio_mut() = 0.5;
        *e.flag_mut() = true;
        *e.letter_mut() = 'λ';
        *e.some_num_mut() = Some(12);
        *e.some_flag_mut() = Some(false);
        *e.some_char_mut() = Some('z');
        *e.some_level_mut() = Some(Level::Mid);
        *e.some_pair_mut() = Some((1, 515));
        *e.some_bytes_mut() = Some([1, 2, 3]);
        *e.some_point_mut() = Some(Point { x: 1.0, y: -2.0 });
        *e.level_mut() = Level::High;
        e.set_shape(Shape::Circle { r: 1.5 })?;
        e.set_other_shape(Shape::Rect(2.0, 3.5))?;
        *e.triple_mut() = (1, 2, -3);
        *e.arr_mut() = [4, -4, 5, -5];
        e.set_pair(Pair(9, -9))?;
        e.name_mut().push_str("everything")?;
        e.list_mut().extend([10, 20, 30])?;
        e.nested_mut().push("x")?;
        e.nested_mut().push("yz")?;
        e.scores_mut().set("bob", vec![3])?;
        e.scores_mut().set("ada", vec![1, 2])?;
        e.ranks_mut().set(3u64, "three")?;
        e.ranks_mut().set(1u64, "one")?;
        e.tags_mut().insert(8)?;
        e.words_mut().insert("b")?;
        e.words_mut().insert("a")?;
        e.pairs_mut().insert((1, 2), 3)?;
        let first = e.chain_mut().insert(Node {
            value: 1,
            next: None,
        })?;
        first.next_mut().insert(Node {
            value: 2,
            next: None,
        })?;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.tx(|tx| {
        let second = tx.root().chain.as_ref().unwrap().next.as_ref().unwrap();
        let link = PPtr::from_ref(&**second).unwrap();
        *tx.root_mut().link_mut() = link;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.check().unwrap();
    let o = pool
        .read(|e| Offsets {
            list: off(&e.list),
            spare: off(&e.spare),
            scores: off(&e.scores),
            chain: off(&e.chain),
            root: off(e),
        })
        .unwrap();
    pool.close().unwrap();
    o
}

fn expected_link(path: &Path) -> u64 {
    let pool = Pool::<Everything>::open(path).unwrap();
    pool.read(|e| off(&**e.chain.as_ref().unwrap().next.as_ref().unwrap()))
        .unwrap()
}

#[test]
fn dump_shows_every_shape_as_json() {
    let _serial = serial();
    let d = Dir::new("dump");
    let p = d.file("e.pool");
    everything(&p);
    let link = expected_link(&p);
    let r = on("dump", &p, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out.contains("18446744073709551616"),
        "u128 printed in full: {}",
        r.out
    );
    let v = json_of(&r);
    assert_eq!(
        v,
        json!({
            "small": 7, "neg": -5, "big": 18_446_744_073_709_551_616.0, "ratio": 0.5, "flag": true, "letter": "λ",
            "some_num": 12, "no_num": null, "some_flag": false, "no_flag": null, "some_char": "z", "no_char": null,
            "some_level": "Mid", "no_level": null, "some_pair": [1, 515], "some_bytes": [1, 2, 3],
            "some_point": { "x": 1.0, "y": -2.0 }, "no_point": null,
            "level": "High", "shape": { "Circle": { "r": 1.5 } }, "other_shape": { "Rect": [2.0, 3.5] },
            "triple": [1, 2, -3], "arr": [4, -4, 5, -5], "pair": [9, -9],
            "name": "everything", "list": [10, 20, 30], "spare": [], "nested": ["x", "yz"],
            "scores": { "ada": [1, 2], "bob": [3] }, "ranks": { "1": "one", "3": "three" },
            "tags": [8], "words": ["a", "b"], "pairs": [{ "key": [1, 2], "value": 3 }],
            "chain": { "value": 1, "next": { "value": 2, "next": null } },
            "link": link,
        })
    );
    assert!(
        r.out.starts_with("{\n  \"small\": 7,\n  \"neg\": -5,"),
        "fields in declaration order: {}",
        r.out
    );
    let compact = on("dump", &p, &["--compact"]);
    assert_eq!(compact.out.lines().count(), 1);
    assert_eq!(json_of(&compact), v);
}

#[test]
fn dump_path_names_fields_entries_and_elements() {
    let _serial = serial();
    let d = Dir::new("path");
    let p = d.file("e.pool");
    everything(&p);
    for (path, want) in [
        ("root.name", json!("everything")),
        ("root.scores[\"ada\"]", json!([1, 2])),
        ("root.scores.bob.0", json!(3)),
        ("root.ranks[3]", json!("three")),
        ("root.list[2]", json!(30)),
        ("root.words.1", json!("b")),
        ("root.chain.next.value", json!(2)),
        ("root.shape.r", json!(1.5)),
        ("root.triple.1", json!(2)),
        ("root.arr[3]", json!(-5)),
        ("root", json_of(&on("dump", &p, &[]))),
    ] {
        let r = on("dump", &p, &["--path", path]);
        assert_eq!((r.code, json_of(&r)), (0, want), "{path}: {}", r.err);
    }
    for (path, why) in [
        ("root.nope", "has no field \"nope\""),
        ("root.scores.carol", "has no key \"carol\""),
        ("root.list.3", "no index 3"),
        ("root.small.x", "has no parts"),
        ("root.no_num.x", "None"),
        ("root[", "unclosed"),
    ] {
        let r = on("dump", &p, &["--path", path]);
        assert_eq!(r.code, 2, "{path}");
        assert!(r.err.contains(why), "{path}: {}", r.err);
    }
}

#[test]
fn dump_stops_at_max_depth_without_failing() {
    let _serial = serial();
    let d = Dir::new("depth");
    let p = d.file("e.pool");
    everything(&p);
    let r = on("dump", &p, &["--path", "root.chain", "--max-depth", "1"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out
            .contains("\"$truncated\": \"deeper than --max-depth 1 at"),
        "{}",
        r.out
    );
    assert!(json_of(&r).is_object());
}

#[test]
fn check_passes_a_healthy_pool_and_reaches_every_allocation() {
    let _serial = serial();
    let d = Dir::new("healthy");
    let p = d.file("e.pool");
    everything(&p);
    let r = on("check", &p, &[]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.ends_with("healthy\n"), "{}", r.out);
    let v = json_of(&on("check", &p, &["--json"]));
    assert_eq!(v["healthy"], json!(true));
    assert_eq!(v["problems"], json!([]));
    assert_eq!(v["warnings"], json!([]), "the PPtr points into a live node");
    let (all, reached) = (
        v["allocations"]["count"].as_u64().unwrap(),
        v["reached"]["count"].as_u64().unwrap(),
    );
    assert_eq!(
        reached + 1,
        all,
        "everything but the schema record is reached from the root"
    );
    let pool = Pool::<Everything>::open(&p).unwrap();
    assert_eq!(
        pool.check().unwrap().allocations,
        reached,
        "the tool reaches what the typed check reaches"
    );
}

#[test]
fn stats_lists_space_by_type_and_adds_up() {
    let _serial = serial();
    let d = Dir::new("stats");
    let p = d.file("e.pool");
    everything(&p);
    let r = on("stats", &p, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    for label in [
        "Everything (root)",
        "PString bytes",
        "PVec<u32> buffer",
        "PVec<PString> buffer",
        "PHashMap<PString, PVec<u32>> table",
        "PBTreeMap<u64, PString> nodes",
        "PHashSet<u32> table",
        "PBTreeSet<PString> nodes",
        "PHashMap<(u8, u8), u8> table",
        "(schema record)",
    ] {
        assert!(r.out.contains(label), "no {label:?} in\n{}", r.out);
    }
    let v = json_of(&on("stats", &p, &["--json"]));
    let by = v["by_type"].as_array().unwrap();
    let node = by
        .iter()
        .find(|e| e["type"] == "Node")
        .expect("the boxed nodes");
    assert_eq!(node["count"], json!(2));
    let strings = by.iter().find(|e| e["type"] == "PString bytes").unwrap();
    assert_eq!(
        strings["count"],
        json!(9),
        "name, 2 nested, 2 keys, 2 ranks, 2 words"
    );
    let sum: u64 = by.iter().map(|e| e["count"].as_u64().unwrap()).sum::<u64>()
        + v["schema_record"]["count"].as_u64().unwrap();
    assert_eq!(sum, v["total"]["count"].as_u64().unwrap());
}

#[test]
fn info_reports_the_header_root_type_log_and_allocator() {
    let _serial = serial();
    let d = Dir::new("info");
    let p = d.file("e.pool");
    everything(&p);
    let r = on("info", &p, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    for part in [
        "format        version 1",
        "root type     Everything, fingerprint",
        "Everything, Level, Shape, Pair, Point, Node",
        "commits",
        "durability    chosen by each program",
    ] {
        assert!(r.out.contains(part), "no {part:?} in\n{}", r.out);
    }
    let v = json_of(&on("info", &p, &["--json"]));
    let pool = Pool::<Everything>::open(&p).unwrap();
    assert_eq!(
        v["root"]["fingerprint"],
        json!(format!("{:016x}", Everything::FINGERPRINT))
    );
    assert_eq!(v["root"]["size"], json!(size_of::<Everything>()));
    assert_eq!(
        v["stats"]["allocations"],
        json!(pool.stats().unwrap().allocations)
    );
    assert_eq!(
        v["uuid"].as_str().unwrap().replace('-', ""),
        pool.uuid()
            .iter()
            .fold(String::new(), |h, b| h + &format!("{b:02x}"))
    );
}

#[test]
fn a_pool_copied_without_its_log_or_with_another_is_refused_with_what_to_do() {
    let _serial = serial();
    let d = Dir::new("logs");
    let p = d.file("e.pool");
    everything(&p);
    let other = d.file("other.pool");
    drop(Pool::<u64>::create(&other).unwrap());
    // While the pool is open its file says that its log may hold commits.
    let pool = Pool::<Everything>::open(&p).unwrap();
    std::fs::copy(&p, d.file("copy.pool")).unwrap();
    drop(pool);
    for cmd in ["info", "check", "schema"] {
        let r = pmem_in(&d.0, &[cmd, "copy.pool"]);
        assert_eq!(
            (r.code, r.err.as_str()),
            (
                2,
                "pmem: copy.pool needs its log copy.pool.log (it may hold commits not yet in \
                 the pool file), and the log is missing; copy a pool with its log, or close it \
                 first\n"
            ),
            "{cmd}"
        );
    }
    let _writer = Pool::<u64>::open(&other).unwrap();
    std::fs::copy(d.file("other.pool.log"), d.file("copy.pool.log")).unwrap();
    let r = pmem_in(&d.0, &["check", "copy.pool"]);
    assert_eq!(
        (r.code, r.err.as_str()),
        (
            2,
            "pmem: copy.pool.log is not the log of copy.pool: the log belongs to another pool\n"
        )
    );
}

#[test]
fn a_pool_open_for_writing_is_reported_as_open_elsewhere() {
    let _serial = serial();
    let d = Dir::new("locked");
    let p = d.file("e.pool");
    everything(&p);
    let pool = Pool::<Everything>::open(&p).unwrap();
    for cmd in ["info", "check", "dump", "stats", "schema"] {
        let r = on(cmd, &p, &[]);
        assert_eq!(r.code, 2, "{cmd}");
        assert!(r.err.contains("is open elsewhere"), "{cmd}: {}", r.err);
        let r = pmem_in(&d.0, &[cmd, "e.pool"]);
        assert_eq!(
            (r.code, r.err.as_str()),
            (
                2,
                "pmem: e.pool is open elsewhere: a program has it open for writing, and pmem \
                 reads a pool only while nothing writes it. Close that program (or wait for it \
                 to finish), then run pmem again.\n"
            ),
            "{cmd}"
        );
    }
    drop(pool);
    let r = on("check", &p, &[]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
}

#[test]
fn files_that_are_not_pools_and_bad_arguments_exit_with_status_2() {
    let _serial = serial();
    let d = Dir::new("notpool");
    let missing = d.file("missing.pool");
    let r = on("check", &missing, &[]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("missing.pool"), "{}", r.err);
    let r = pmem_in(&d.0, &["check", "missing.pool"]);
    assert_eq!(
        (r.code, r.err.as_str()),
        (2, "pmem: missing.pool: No such file or directory\n"),
        "the file is named once"
    );
    let garbage = d.file("garbage.pool");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    let r = on("info", &garbage, &[]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("is not a pmem pool"), "{}", r.err);
    std::fs::write(d.file("notes.txt"), "hello").unwrap();
    for cmd in ["info", "check", "dump", "stats", "schema"] {
        let r = pmem_in(&d.0, &[cmd, "garbage.pool"]);
        assert_eq!(
            (r.code, r.err.as_str()),
            (
                2,
                "pmem: garbage.pool is not a pmem pool: it does not start with a pool header\n"
            ),
            "{cmd}"
        );
        let r = pmem_in(&d.0, &[cmd, "notes.txt"]);
        assert_eq!(
            (r.code, r.err.as_str()),
            (
                2,
                "pmem: notes.txt is not a pmem pool: it does not start with a pool header\n"
            ),
            "{cmd}: a file too short for a header"
        );
    }
    for args in [
        &[][..],
        &["check"],
        &["frob", "x.pool"],
        &["check", "x.pool", "--nope"],
        &["info", "x.pool", "--path", "root"],
        &["dump", "x.pool", "--max-depth", "0"],
        &["check", "a", "b"],
    ] {
        let r = pmem(args);
        assert_eq!(r.code, 2, "{args:?}");
        // clap shows the usage line, or points at --help (a bad value), or both.
        assert!(
            r.err.contains("Usage: pmem") || r.err.contains("try '--help'"),
            "{args:?}: {}",
            r.err
        );
        assert_eq!(r.out, "", "{args:?}");
    }
    let r = pmem(&["--help"]);
    assert_eq!(
        (r.code, r.out.contains("\nUsage: pmem <COMMAND>\n")),
        (0, true)
    );
}

fn overwrite(path: &Path, at: u64, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(bytes).unwrap();
}

fn read(path: &Path, at: u64, len: usize) -> Vec<u8> {
    std::fs::read(path).unwrap()[at as usize..at as usize + len].to_vec()
}

fn damaged(name: &str, damage: impl FnOnce(&Path, &Offsets), expect: &[&str]) {
    let d = Dir::new(name);
    let p = d.file("e.pool");
    let o = everything(&p);
    damage(&p, &o);
    let r = on("check", &p, &[]);
    assert_eq!(r.code, 1, "{name}: {}{}", r.out, r.err);
    for e in expect {
        assert!(
            r.out.contains(e) || r.err.contains(e),
            "{name}: no {e:?} in\n{}{}",
            r.out,
            r.err
        );
    }
    // The other commands refuse to panic on it too.
    for cmd in ["dump", "stats", "info"] {
        let r = on(cmd, &p, &[]);
        assert!(r.code <= 1, "{name}: {cmd} exited {}: {}", r.code, r.err);
        assert!(!r.err.contains("panicked"), "{name}: {cmd}: {}", r.err);
    }
}

#[test]
fn check_finds_a_leaked_buffer() {
    let _serial = serial();
    // The vector forgets its buffer: the allocation is no one's.
    damaged(
        "leak",
        |p, o| overwrite(p, o.list, &[0; 24]),
        &[
            "leaked allocation at",
            "not reachable from the root",
            "1 problem found",
        ],
    );
}

#[test]
fn check_finds_an_allocation_owned_twice() {
    let _serial = serial();
    damaged(
        "twice",
        |p, o| overwrite(p, o.spare, &read(p, o.list, 24)),
        &[
            "root.spare: owns the allocation at",
            "already owned by root.list",
        ],
    );
}

#[test]
fn check_finds_a_box_pointing_at_no_allocation() {
    let _serial = serial();
    // The list head points into the middle of the root object.
    damaged(
        "dangling",
        |p, o| overwrite(p, o.chain, &(o.root + 8).to_le_bytes()),
        &["root.chain: owns", "which is not a live allocation"],
    );
}

#[test]
fn check_finds_inconsistent_collection_lengths() {
    let _serial = serial();
    damaged(
        "veclen",
        |p, o| overwrite(p, o.list + 8, &1000u64.to_le_bytes()),
        &["root.list: corrupted pool: vector length exceeds its capacity"],
    );
    damaged(
        "maplen",
        |p, o| overwrite(p, o.scores + 16, &5u64.to_le_bytes()),
        &["root.scores: corrupted pool: hash map length disagrees with its table"],
    );
}

#[test]
fn check_reports_a_damaged_heap_as_a_problem() {
    let _serial = serial();
    // The first block header of the heap (ARCHITECTURE §5) loses its magic.
    damaged(
        "heap",
        |p, _| overwrite(p, 8192, &[0xEE; 8]),
        &["corrupted pool"],
    );
}

/// A file's bytes and mtime; `None` when it does not exist.
type FileState = Option<(Vec<u8>, std::time::SystemTime)>;

/// The pool file and its log (absent once the pool is closed).
fn fingerprint(path: &Path) -> Vec<(PathBuf, FileState)> {
    let mut log = path.as_os_str().to_owned();
    log.push(".log");
    // A closed pool is one file; its log exists only while it is open (or crashed).
    [path.to_path_buf(), PathBuf::from(log)]
        .into_iter()
        .filter(|f| f.exists())
        .map(|f| {
            let contents = std::fs::metadata(&f)
                .ok()
                .map(|m| (std::fs::read(&f).unwrap(), m.modified().unwrap()));
            (f, contents)
        })
        .collect()
}

#[test]
fn no_command_changes_the_pool_or_its_log() {
    let _serial = serial();
    let d = Dir::new("readonly");
    let p = d.file("e.pool");
    everything(&p);
    let before = fingerprint(&p);
    for (cmd, extra) in [
        ("info", &[][..]),
        ("info", &["--json"]),
        ("check", &[]),
        ("check", &["--progress"]),
        ("dump", &[]),
        ("dump", &["--path", "root.scores"]),
        ("stats", &[]),
    ] {
        assert_eq!(on(cmd, &p, extra).code, 0, "{cmd}");
    }
    assert!(
        fingerprint(&p) == before,
        "a command wrote to the pool or its log"
    );
}

#[test]
fn compact_shrinks_a_pool_of_a_known_root_and_of_an_application_type() {
    let _serial = serial();
    let d = Dir::new("compact");
    let p = d.file("m.pool");
    let mut pool = pmem::PoolOptions::new()
        .initial_size(64 << 10)
        .create::<PHashMap<u64, PString>>(&p)
        .unwrap();
    pool.tx(|tx| (0..20_000u64).try_for_each(|i| tx.root_mut().set(i, format!("v{i}")).map(drop)))
        .unwrap();
    pool.tx(|tx| tx.root_mut().retain(|k, _| k % 100 == 0))
        .unwrap();
    pool.close().unwrap();
    let before = std::fs::metadata(&p).unwrap().len();
    let r = on("compact", &p, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("PHashMap<u64, PString>"), "{}", r.out);
    let after = std::fs::metadata(&p).unwrap().len();
    assert!(after < before / 2, "{before} -> {after}");
    let pool = Pool::<PHashMap<u64, PString>>::open(&p).unwrap();
    pool.check().unwrap();
    pool.read(|m| {
        assert_eq!(m.len(), 200);
        assert_eq!(m.get(&300).map(PString::as_str), Some("v300"));
    })
    .unwrap();
    drop(pool);

    // An application type holding every shape (a `PPtr` into a box of the chain
    // included): compacted by its stored schema, every value unchanged, the link
    // following its target to its new place.
    let e = d.file("e.pool");
    everything(&e);
    let dump = |p: &Path| {
        let mut v = json_of(&on("dump", p, &["--compact"]));
        v.as_object_mut().unwrap().remove("link");
        v
    };
    let before = dump(&e);
    let r = on("compact", &e, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("root Everything"), "{}", r.out);
    assert_eq!(dump(&e), before);
    assert_eq!(on("check", &e, &[]).code, 0);
    let pool = Pool::<Everything>::open(&e).unwrap();
    pool.check().unwrap();
    // SAFETY: the target is a box the root owns; nothing frees it while we read.
    let link = pool
        .read(|x| unsafe { x.link.as_ref_in(x) }.unwrap().map(|n| n.value))
        .unwrap();
    assert_eq!(
        link,
        Some(2),
        "the PPtr carries the new pool's tag and place"
    );
    let (link, second) = pool
        .read(|x| {
            (
                x.link.offset(),
                off(&**x.chain.as_ref().unwrap().next.as_ref().unwrap()),
            )
        })
        .unwrap();
    assert_eq!(link, second, "the PPtr names the compacted box");
    drop(pool);
}

#[test]
fn progress_goes_to_stderr_only_when_asked() {
    let _serial = serial();
    let d = Dir::new("progress");
    let p = d.file("e.pool");
    everything(&p);
    let quiet = on("check", &p, &[]);
    assert_eq!(quiet.err, "", "stderr is not a terminal here");
    let shown = on("check", &p, &["--progress"]);
    assert!(
        shown.err.contains("checking [") && shown.err.contains("allocations"),
        "{}",
        shown.err
    );
    assert!(
        !shown.out.contains("checking ["),
        "progress stays off stdout"
    );
}

#[test]
fn no_damage_to_a_pool_makes_the_tool_panic() {
    let _serial = serial();
    let d = Dir::new("fuzz");
    let p = d.file("e.pool");
    everything(&p);
    // Damage lands where it matters: the metadata page and the live allocations
    // (the schema record among them), block headers included.
    let live: Vec<(u64, u64)> = {
        let ins = pmem_core::inspect::Inspector::open(&p).unwrap();
        ins.check_heap()
            .unwrap()
            .iter()
            .map(|a| (a.offset - 64, a.size + 64))
            .chain([(4096, 64)])
            .collect()
    };
    let pristine = std::fs::read(&p).unwrap();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let cases = std::env::var("PMEM_CLI_FUZZ")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(60);
    let mut outcomes = [0u32; 3];
    for case in 0..cases {
        let mut img = pristine.clone();
        for _ in 0..=next() % 4 {
            let (start, len) = live[(next() % live.len() as u64) as usize];
            let at = (start + next() % len) as usize;
            img[at] = if next() % 2 == 0 {
                img[at] ^ (1 << (next() % 8))
            } else {
                next() as u8
            };
        }
        std::fs::write(&p, &img).unwrap();
        for (cmd, extra) in [("check", &[][..]), ("dump", &["--compact"]), ("stats", &[])] {
            let o = Command::new(env!("CARGO_BIN_EXE_pmem"))
                .arg(cmd)
                .arg(&p)
                .args(extra)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            let code = o
                .status
                .code()
                .unwrap_or_else(|| panic!("case {case}: {cmd} was killed by a signal: {err}"));
            assert!(
                code <= 2 && !err.contains("panicked"),
                "case {case}: {cmd} exited {code}: {err}"
            );
            if cmd == "check" {
                outcomes[code as usize] += 1;
            }
        }
    }
    println!(
        "{cases} damaged pools: check said healthy {}, found problems {}, could not open {}",
        outcomes[0], outcomes[1], outcomes[2]
    );
    assert!(
        outcomes[1] > cases / 4,
        "most damage is found: {outcomes:?}"
    );
}

#[test]
fn a_damaged_schema_still_leaves_the_header_readable() {
    let _serial = serial();
    let d = Dir::new("schema");
    let p = d.file("e.pool");
    everything(&p);
    let at = pmem_core::inspect::Inspector::open(&p)
        .unwrap()
        .schema_offset();
    overwrite(&p, at, b"X");
    let r = on("info", &p, &[]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(
        r.out.contains("root type     Everything, fingerprint")
            && r.out
                .contains("schema        unusable: stored schema is not JSON"),
        "{}",
        r.out
    );
    assert!(r.out.contains("heap          "), "{}", r.out);
    for cmd in ["check", "dump", "stats"] {
        let r = on(cmd, &p, &[]);
        assert_eq!(r.code, 1, "{cmd}");
        assert!(
            r.err.contains("stored schema is not JSON"),
            "{cmd}: {}",
            r.err
        );
    }
}

#[test]
fn help_version_and_completions_come_from_clap() {
    let _serial = serial();
    let r = pmem(&["--version"]);
    assert_eq!(
        (r.code, r.out),
        (0, format!("pmem {}\n", env!("CARGO_PKG_VERSION")))
    );
    let long = pmem(&["dump", "--help"]);
    assert_eq!(long.code, 0, "{}", long.err);
    for part in [
        "Usage: pmem dump [OPTIONS] <POOL>",
        "--path <PATH>",
        "--max-depth <N>",
        "Exit status: 0 healthy",
    ] {
        assert!(long.out.contains(part), "no {part:?} in\n{}", long.out);
    }
    assert_eq!(pmem(&["help", "dump"]).out, long.out);
    for cmd in ["info", "check", "dump", "stats", "schema", "completions"] {
        let r = pmem(&["--help"]);
        assert!(r.out.contains(&format!("\n  {cmd} ")), "{cmd}: {}", r.out);
        let r = pmem(&["help", cmd]);
        assert_eq!(r.code, 0, "{cmd}");
        assert!(
            r.out.contains(&format!("Usage: pmem {cmd}")),
            "{cmd}: {}",
            r.out
        );
    }
    for (shell, marker) in [
        ("bash", "_pmem()"),
        ("zsh", "#compdef pmem"),
        ("fish", "complete -c pmem"),
    ] {
        let r = pmem(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.err);
        assert!(r.out.contains(marker), "{shell}: {}", r.out);
        for cmd in ["info", "check", "dump", "stats", "schema", "max-depth"] {
            assert!(r.out.contains(cmd), "{shell} completes {cmd}");
        }
    }
    assert_eq!(pmem(&["completions", "tcsh"]).code, 2);
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Account {
    owner: PString,
    balance: i64,
    history: PVec<i64>,
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Bank {
    accounts: PHashMap<u64, Account>,
    total: i64,
}

#[test]
fn schema_prints_the_stored_types_as_declarations_root_first() {
    let _serial = serial();
    let d = Dir::new("schema-decl");
    let bank = d.file("bank.pool");
    drop(Pool::<Bank>::create(&bank).unwrap());
    let r = on("schema", &bank, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(
        r.out,
        format!(
            "\
// root, {} bytes, align 8
#[repr(C)]
struct Bank {{
    accounts: PHashMap<u64, Account>, // offset 0
    total: i64,                       // offset 48
}}

// {} bytes, align 8
#[repr(C)]
struct Account {{
    owner: PString,     // offset 0
    balance: i64,       // offset 24
    history: PVec<i64>, // offset 32
}}
",
            size_of::<Bank>(),
            size_of::<Account>()
        )
    );
    let e = d.file("e.pool");
    everything(&e);
    let r = on("schema", &e, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    let order: Vec<&str> = r
        .out
        .lines()
        .filter_map(|l| l.strip_prefix("struct ").or(l.strip_prefix("enum ")))
        .collect();
    assert_eq!(
        order,
        [
            "Everything {",
            "Level {",
            "Shape {",
            "Pair(",
            "Point {",
            "Node {"
        ],
        "one declaration per type, root first, then as the fields meet them:\n{}",
        r.out
    );
    for part in [
        "    some_level: Option<Level>,",
        "    scores: PHashMap<PString, PVec<u32>>,",
        "    chain: Option<PBox<Node>>,",
        "    link: PPtr<Node>,",
        "#[repr(u8)]\nenum Level {\n    Low = 0,\n    Mid = 5,\n    High = 6,\n}\n",
        "#[repr(u16)]\nenum Shape {\n    Empty = 0,\n    Circle { r: f64 } = 10,\n    Rect(f32, f32) = 11,\n}\n",
        "#[repr(C)]\nstruct Pair(\n    u8,  // offset 0\n    i16, // offset 2\n);\n",
    ] {
        assert!(r.out.contains(part), "no {part:?} in\n{}", r.out);
    }
    let stored = pmem_core::inspect::Inspector::open(&e)
        .unwrap()
        .schema_json()
        .unwrap();
    let json = on("schema", &e, &["--json"]);
    assert_eq!(json.code, 0, "{}", json.err);
    assert_eq!(
        json_of(&json),
        serde_json::from_str::<Value>(&stored).unwrap()
    );
    let plain = d.file("plain.pool");
    drop(Pool::<PVec<(u8, u64)>>::create(&plain).unwrap());
    let r = on("schema", &plain, &[]);
    assert_eq!(
        (r.code, r.out.as_str()),
        (0, "type Root = PVec<(u8, u64)>; // 24 bytes, align 8\n")
    );
}

#[derive(Persistent, Default)]
#[repr(C)]
struct Board {
    by_score: PBTreeMap<(u64, u64), PString>,
    by_name: PHashMap<PString, u64>,
    letters: PBTreeMap<char, i8>,
}

fn board(path: &Path) {
    let mut pool = Pool::<Board>::create(path).unwrap();
    pool.tx(|tx| {
        let b = tx.root_mut();
        b.by_score_mut().set((187u64, 27u64), "ada")?;
        b.by_score_mut().set((90u64, 3u64), "alan")?;
        b.by_name_mut().insert("ada", 187)?;
        b.by_name_mut().insert("grace \"amazing\"", 90)?;
        b.letters_mut().set('λ', -1)?;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.close().unwrap();
}

#[test]
fn dump_path_reaches_tuple_string_and_char_keys() {
    let _serial = serial();
    let d = Dir::new("keys");
    board(&d.file("b.pool"));
    for (path, want) in [
        ("root.by_score[(187,27)]", json!("ada")),
        ("root.by_score[( 90, 3 )]", json!("alan")),
        ("root.by_name[\"ada\"]", json!(187)),
        ("root.by_name.ada", json!(187)),
        ("root.by_name[\"grace \\\"amazing\\\"\"]", json!(90)),
        ("root.letters['λ']", json!(-1)),
        ("root.letters.λ", json!(-1)),
    ] {
        let r = pmem_in(&d.0, &["dump", "b.pool", "--path", path, "--compact"]);
        assert_eq!((r.code, json_of(&r)), (0, want), "{path}: {}", r.err);
    }
    let e = d.file("e.pool");
    everything(&e);
    let r = on("dump", &e, &["--path", "root.pairs[(1, 2)]"]);
    assert_eq!((r.code, json_of(&r)), (0, json!(3)), "{}", r.err);
}

#[test]
fn a_path_that_names_nothing_says_what_is_there() {
    let _serial = serial();
    let d = Dir::new("badpath");
    board(&d.file("b.pool"));
    everything(&d.file("e.pool"));
    for (pool, path, message) in [
        (
            "b.pool",
            "root.nope",
            "root (Board) has no field \"nope\"; its fields are by_score, by_name, letters",
        ),
        (
            "e.pool",
            "root.shape.x",
            "root.shape (Shape::Circle) has no field \"x\"; its fields are r",
        ),
        (
            "e.pool",
            "root.level.x",
            "root.level (Level::High) has no field \"x\"; it has no fields",
        ),
        (
            "e.pool",
            "root.small.x",
            "root.small (u8) has no parts to name with .x",
        ),
        (
            "b.pool",
            "root.by_score[(1,2)]",
            "root.by_score (PBTreeMap<(u64, u64), PString>) has no key (1, 2): it has 2 entries",
        ),
        (
            "b.pool",
            "root.by_name[\"bob\"]",
            "root.by_name (PHashMap<PString, u64>) has no key \"bob\": it has 2 entries",
        ),
        (
            "b.pool",
            "root.by_name.bob",
            "root.by_name (PHashMap<PString, u64>) has no key \"bob\": it has 2 entries",
        ),
        (
            "e.pool",
            "root.list[7]",
            "root.list (PVec<u32>) has no index 7: it has 3 elements",
        ),
        ("e.pool", "root.no_num.x", "root.no_num is None"),
        ("e.pool", "root.by_score[(1,2", "unclosed ["),
        (
            "b.pool",
            "root.by_score[(1,2]",
            "[(1,2] is not a key literal (\"text\", 'c', 7, true, (1, \"a\"))",
        ),
    ] {
        let r = pmem_in(&d.0, &["dump", pool, "--path", path]);
        assert_eq!(
            (r.code, r.err.as_str(), r.out.as_str()),
            (2, format!("pmem: --path {path}: {message}\n").as_str(), ""),
        );
    }
}

#[test]
fn check_names_a_value_under_a_tuple_key_as_dump_path_reads_it() {
    let _serial = serial();
    let d = Dir::new("tuplekey");
    let p = d.file("b.pool");
    board(&p);
    let name_at = {
        let pool = Pool::<Board>::open(&p).unwrap();
        pool.read(|b| off(b.by_score.get(&(187, 27)).unwrap()))
            .unwrap()
    };
    // The string under (187, 27) claims a length beyond its capacity.
    overwrite(&p, name_at + 8, &1000u64.to_le_bytes());
    let r = on("check", &p, &[]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    let line = r
        .out
        .lines()
        .find(|l| l.starts_with("problem: root.by_score[(187, 27)]: "))
        .unwrap_or_else(|| panic!("{}", r.out));
    let path = line
        .strip_prefix("problem: ")
        .and_then(|l| l.split(": ").next())
        .unwrap();
    let r = on("dump", &p, &["--path", path]);
    assert_eq!(
        r.code, 1,
        "the path resolves; the value is damaged: {}",
        r.err
    );
    assert!(r.out.contains("$error"), "{}", r.out);
}

#[test]
fn each_command_labels_its_own_progress_bar() {
    let _serial = serial();
    let d = Dir::new("labels");
    let p = d.file("e.pool");
    everything(&p);
    for (cmd, label) in [("check", "checking ["), ("stats", "counting [")] {
        let r = on(cmd, &p, &["--progress"]);
        assert_eq!(r.code, 0, "{cmd}: {}", r.err);
        assert!(r.err.contains(label), "{cmd}: {}", r.err);
        assert!(!r.out.contains(label), "{cmd}: progress stays off stdout");
        let quiet = on(cmd, &p, &[]);
        assert_eq!(quiet.err, "", "{cmd}: stderr is not a terminal here");
    }
}

/// Set in the child that `a_pool_killed_mid_commit_reads_healthy_and_unchanged` kills.
const WRITER: &str = "PMEM_CLI_TEST_WRITER";

/// The writer child, killed even when an assertion fails before the test kills it.
struct Writer(std::process::Child);

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_pool_killed_mid_commit_reads_healthy_and_unchanged() {
    if let Some(path) = std::env::var_os(WRITER) {
        // The child: commit until killed, each transaction allocating and growing.
        let mut pool = Pool::<Bank>::create(&path).unwrap();
        for i in 0u64.. {
            pool.tx(|tx| {
                let a = tx.root_mut().accounts_mut().entry(i % 50).or_default()?;
                a.history_mut().push(i as i64)?;
                a.owner_mut().set(&format!("owner {i}"))?;
                *tx.root_mut().total_mut() += 1;
                Ok::<_, Error>(())
            })
            .unwrap();
            if i == 100 {
                println!("writer ready");
            }
        }
        return;
    }
    let _serial = serial();
    let d = Dir::new("killed");
    let p = d.file("k.pool");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_pool_killed_mid_commit_reads_healthy_and_unchanged",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRITER, &p)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut writer = Writer(child);
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    assert!(
        lines.any(|l| l.is_ok_and(|l| l.contains("writer ready"))),
        "the writer started"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    writer.0.kill().unwrap(); // SIGKILL, in the middle of a commit or between two
    writer.0.wait().unwrap();
    let before = fingerprint(&p);
    let r = on("check", &p, &[]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.ends_with("healthy\n"), "{}", r.out);
    assert_eq!(
        on("dump", &p, &["--path", "root.accounts[7].owner"]).code,
        0
    );
    assert!(
        fingerprint(&p) == before,
        "reading a killed pool (its log replayed in private memory) wrote to it"
    );
}

#[test]
fn backup_writes_a_self_contained_copy_that_checks_healthy_and_never_overwrites() {
    let _serial = serial();
    let d = Dir::new("backup");
    let p = d.file("e.pool");
    everything(&p);
    let dest = d.file("copy.pool");
    let r = on("backup", &p, &[dest.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out.starts_with("backed up ") && r.out.contains("MB/s"),
        "{}",
        r.out
    );
    assert!(!d.file("copy.pool.log").exists(), "a backup is one file");
    let c = on("check", &dest, &[]);
    assert_eq!(c.code, 0, "{}{}", c.out, c.err);
    // The copy's dump equals the original's.
    assert_eq!(on("dump", &dest, &[]).out, on("dump", &p, &[]).out);
    let again = on("backup", &p, &[dest.to_str().unwrap()]);
    assert_eq!(again.code, 2, "{}{}", again.out, again.err);
    assert!(again.err.contains("already exists"), "{}", again.err);
}
