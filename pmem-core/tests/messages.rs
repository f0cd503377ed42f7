//! Error messages a newcomer meets first (issue 15, item 4), pinned: each names the
//! file once, says what is wrong in the user's terms, and where there is one, what to
//! do. A message that regresses to the engine's internals (a temporary file name, a
//! heap offset instead of "truncated", an alignment complaint for a size) fails here.

use std::path::{Path, PathBuf};

use pmem_core::{Error, Pool, PoolOptions};

/// A fresh directory for one test.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pmem-messages-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn occurrences(text: &str, of: &Path) -> usize {
    text.matches(&*of.to_string_lossy()).count()
}

#[test]
fn a_missing_file_is_named_once_and_the_message_reads_on_its_own() {
    let d = dir("missing");
    let path = d.join("missing.pool");
    let e = Pool::<u64>::open(&path).unwrap_err();
    assert!(
        matches!(&e, Error::Io { op: "opening", path: p, .. } if *p == path),
        "{e:?}"
    );
    let text = e.to_string();
    assert_eq!(
        text,
        format!(
            "opening {}: No such file or directory (os error 2)",
            path.display()
        )
    );
    assert_eq!(occurrences(&text, &path), 1, "{text}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn creating_where_the_directory_cannot_hold_files_names_the_pool_not_a_temporary_file() {
    let d = dir("create");
    // A parent that is a regular file: ENOTDIR, whoever runs the test (root included).
    let parent = d.join("not-a-directory");
    std::fs::write(&parent, b"x").unwrap();
    let path = parent.join("new.pool");
    for e in [
        Pool::<u64>::create(&path).unwrap_err(),
        Pool::<u64>::open_or_create(&path).unwrap_err(),
        Pool::<u64>::options().create(&path).unwrap_err(),
    ] {
        assert!(
            matches!(&e, Error::Io { op: "creating", path: p, .. } if *p == path),
            "{e:?}"
        );
        let text = e.to_string();
        assert!(!text.contains(".creating."), "{text}");
        assert_eq!(
            text,
            format!("creating {}: Not a directory (os error 20)", path.display())
        );
    }
    // Nothing was left behind under a temporary name.
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_refused_writable_open_suggests_opening_read_only() {
    let path = Path::new("/pools/shared.pool");
    for errno in [libc::EACCES, libc::EROFS, libc::EPERM] {
        let e = Error::Io {
            op: "opening for writing",
            path: path.to_path_buf(),
            source: std::io::Error::from_raw_os_error(errno),
        };
        let text = e.to_string();
        assert!(
            text.starts_with("opening for writing /pools/shared.pool: "),
            "{text}"
        );
        assert!(
            text.ends_with(
                "; to read it without writing, open it with PoolOptions::read_only(true)"
            ),
            "{text}"
        );
    }
    // Other failures, and failures of read-only opens, make no such suggestion.
    let e = Error::Io {
        op: "opening",
        path: path.to_path_buf(),
        source: std::io::Error::from_raw_os_error(libc::EACCES),
    };
    assert!(!e.to_string().contains("read_only"), "{e}");
}

#[test]
fn a_read_only_file_opened_for_writing_suggests_opening_read_only() {
    use std::os::unix::fs::PermissionsExt;
    let d = dir("readonly");
    let path = d.join("ro.pool");
    drop(Pool::<u64>::create(&path).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    match Pool::<u64>::open(&path) {
        // Root ignores file modes; the message itself is pinned above and in the
        // engine's unit test of the error it builds.
        Ok(pool) => drop(pool),
        Err(e) => {
            assert!(
                matches!(
                    &e,
                    Error::Io {
                        op: "opening for writing",
                        ..
                    }
                ),
                "{e:?}"
            );
            let text = e.to_string();
            assert!(text.contains("Permission denied"), "{text}");
            assert!(text.contains("PoolOptions::read_only(true)"), "{text}");
            assert_eq!(occurrences(&text, &path), 1, "{text}");
        }
    }
    // And the suggestion works.
    let pool = Pool::<u64>::options().read_only(true).open(&path).unwrap();
    assert_eq!(pool.read(|n| *n).unwrap(), 0);
    drop(pool);
    std::fs::remove_dir_all(&d).unwrap();
}

/// A closed 1 MiB pool cut to 100,000 bytes.
fn truncated_pool(d: &Path) -> PathBuf {
    let path = d.join("cut.pool");
    let mut pool = Pool::<u64>::create(&path).unwrap();
    pool.tx(|tx| {
        *tx.root_mut() = 5;
        Ok::<_, Error>(())
    })
    .unwrap();
    pool.close().unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 1 << 20);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(100_000).unwrap();
    path
}

#[test]
fn a_truncated_pool_says_truncated_with_both_sizes() {
    let d = dir("truncated");
    let path = truncated_pool(&d);
    for e in [
        Pool::<u64>::open(&path).unwrap_err(),
        PoolOptions::new()
            .read_only(true)
            .open::<u64>(&path)
            .unwrap_err(),
    ] {
        assert!(
            matches!(&e, Error::Corrupted { what, offset: 100_000 } if what.starts_with("pool file truncated")),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "corrupted pool: pool file truncated: 100000 bytes, the heap needs 1048576; \
             the file ends at offset 0x186a0"
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_truncated_pool_opened_as_the_wrong_type_reports_the_damage_not_the_type() {
    let d = dir("truncated-type");
    let path = truncated_pool(&d);
    let e = Pool::<(u32, u32, u32)>::open(&path).unwrap_err();
    assert!(
        matches!(&e, Error::Corrupted { what, .. } if what.starts_with("pool file truncated")),
        "{e:?}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_request_larger_than_the_maximum_size_is_out_of_space() {
    let mut pool = Pool::<u64>::options().max_size(1 << 20).volatile().unwrap();
    let before = pool.heap_image();
    let e = pool.tx(|tx| tx.alloc_raw(4 << 20, 8)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::OutOfSpace {
                requested: 4_194_304,
                max_size: 1_048_576
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "out of space: 4194304 bytes requested, pool maximum is 1048576 bytes"
    );
    assert!(pool.heap_image() == before, "rolled back");
    // Alignment and zero size stay layout errors.
    let e = pool.tx(|tx| tx.alloc_raw(8, 128)).unwrap_err();
    assert!(matches!(e, Error::UnsupportedLayout { .. }), "{e:?}");
    let e = pool.tx(|tx| tx.alloc_raw(0, 8)).unwrap_err();
    assert!(matches!(e, Error::UnsupportedLayout { .. }), "{e:?}");
}

#[test]
fn typed_options_infer_the_pool_type_without_annotations() {
    let d = dir("typed");
    let path = d.join("big.pool");
    // No turbofish and no annotation on `pool`: the type comes from `Pool::<[u64; 32]>`.
    let mut pool = Pool::<[u64; 32]>::options()
        .max_size(8 << 20)
        .open_or_create(&path)
        .unwrap();
    pool.tx(|tx| {
        tx.root_mut()[31] = 1;
        Ok::<_, Error>(())
    })
    .unwrap();
    drop(pool);
    let pool = Pool::<[u64; 32]>::options().open(&path).unwrap();
    assert_eq!(pool.read(|r| r[31]).unwrap(), 1);
    drop(pool);
    // The untyped builder names the type at the call.
    let pool = PoolOptions::new().open::<[u64; 32]>(&path).unwrap();
    assert_eq!(pool.info().max_size, 8 << 20);
    drop(pool);
    std::fs::remove_dir_all(&d).unwrap();
}
