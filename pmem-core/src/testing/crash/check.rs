//! The checks: run a workload, recover every crash image, compare states.

use std::fmt::Debug;

use super::config::{CrashConfig, CrashReport, Step};
use super::images::{for_each_image, Rng};
use crate::error::Result;
use crate::media::sim::{FileId, SimDisk};
use crate::pool::{Pool, PoolOptions};
use crate::types::Persistent;

fn options(cfg: &CrashConfig) -> PoolOptions {
    PoolOptions::new()
        .durability(cfg.durability)
        .checkpoint_threshold(cfg.checkpoint_threshold)
        .initial_size(cfg.initial_size)
        .max_size(cfg.max_size)
}

fn recover_and_observe<R: Persistent, S>(
    cfg: &CrashConfig,
    disk: &SimDisk,
    observe: &impl Fn(&R) -> S,
) -> Result<S> {
    if !disk.exists(FileId::Pool) {
        return Err(crate::error::Error::NotAPool {
            path: "sim.pool".into(),
        });
    }
    let pool = options(cfg).open_sim::<R>(disk)?;
    pool.check()?;
    pool.read(observe)
}

/// Runs `steps` after `setup` on a simulated disk and verifies every crash image (see
/// the module docs). Answers what was checked, or the first violation.
///
/// # Errors
/// A description of the first image that failed to recover, failed `Pool::check`, or
/// recovered to a state that is not allowed.
///
/// # Examples
///
/// ```
/// use pmem_core::crash::{check_crash_states, CrashConfig, Step};
/// use pmem_core::Pool;
/// let steps: Vec<Step<u64>> = (0..3)
///     .map(|_| Box::new(|p: &mut Pool<u64>| {
///         p.tx(|tx| { *tx.root_mut() += 1; Ok::<_, pmem_core::Error>(()) }).unwrap();
///     }) as Step<u64>)
///     .collect();
/// let report = check_crash_states(&CrashConfig::default(), |_| {}, steps, |n: &u64| *n).unwrap();
/// assert!(report.images > 10);
/// ```
pub fn check_crash_states<R, S>(
    cfg: &CrashConfig,
    setup: impl FnOnce(&mut Pool<R>),
    steps: Vec<Step<R>>,
    observe: impl Fn(&R) -> S,
) -> std::result::Result<CrashReport, String>
where
    R: Persistent + Default,
    S: PartialEq + Debug + Clone,
{
    let disk = SimDisk::new();
    let mut pool = options(cfg)
        .create_sim::<R>(&disk)
        .map_err(|e| format!("create: {e}"))?;
    setup(&mut pool);
    let base = disk.images();
    let mut states = vec![pool.read(&observe).map_err(|e| format!("read: {e}"))?];
    disk.start_recording();
    for (i, step) in steps.into_iter().enumerate() {
        step(&mut pool);
        disk.mark(i as u64 + 1);
        states.push(
            pool.read(&observe)
                .map_err(|e| format!("read after step {}: {e}", i + 1))?,
        );
    }
    drop(pool); // closing checkpoints: its writes are crash points too
    let trace = disk.take_trace();

    let mut rng = Rng(cfg.seed | 1);
    let mut report = CrashReport::default();
    let mut rec_rng = Rng(cfg.seed.rotate_left(17) | 1);
    let points = for_each_image(base, &trace, cfg, &mut rng, |img, process_crash, acked| {
        report.images += 1;
        let describe = |what: String| {
            format!(
                "crash image {} (after {acked} acknowledged steps, {}): {what}",
                report.images,
                if process_crash {
                    "process crash"
                } else {
                    "power loss"
                }
            )
        };
        let disk = SimDisk::from_files(img.clone());
        let state = recover_and_observe(cfg, &disk, &observe)
            .map_err(|e| describe(format!("recovery failed: {e}")))?;
        let a = acked as usize;
        let allowed: &[S] = if !process_crash && !cfg.durability.survives_power_loss() {
            &states[..(a + 2).min(states.len())]
        } else {
            &states[a..(a + 2).min(states.len())]
        };
        if !allowed.contains(&state) {
            return Err(describe(format!(
                "recovered state {state:?} is none of the allowed {allowed:?}"
            )));
        }
        if cfg.recovery_crash_every > 0 && report.images % cfg.recovery_crash_every as u64 == 0 {
            let rbase = img.clone();
            let rdisk = SimDisk::from_files(img);
            rdisk.start_recording();
            let expected = recover_and_observe(cfg, &rdisk, &observe)
                .map_err(|e| describe(format!("recovery failed: {e}")))?;
            let rtrace = rdisk.take_trace();
            let mut nested = 0u64;
            for_each_image(rbase, &rtrace, cfg, &mut rec_rng, |img2, _, _| {
                nested += 1;
                let d = SimDisk::from_files(img2);
                let s = recover_and_observe(cfg, &d, &observe).map_err(|e| {
                    describe(format!(
                        "crash during recovery, second recovery failed: {e}"
                    ))
                })?;
                if s != expected {
                    return Err(describe(format!(
                        "crash during recovery changed the state: {s:?} instead of {expected:?}"
                    )));
                }
                Ok(())
            })?;
            report.recovery_images += nested;
        }
        Ok(())
    })?;
    report.crash_points = points;
    report.images += report.recovery_images;
    Ok(report)
}

/// Crash-checks pool creation itself (ARCHITECTURE §8.1): every crash image of
/// `create` must either fail to open with a typed error (only before `create` returned)
/// or open with `R::default()` as its root and pass `Pool::check`; after `create`
/// returned, every image — power loss included, in every durability mode — must open.
///
/// # Errors
/// A description of the first image that broke the rule.
///
/// # Examples
///
/// ```
/// use pmem_core::crash::{check_create_crash_states, CrashConfig};
/// let report = check_create_crash_states::<u64, _>(&CrashConfig::default(), |n| *n).unwrap();
/// assert!(report.images > 0);
/// ```
pub fn check_create_crash_states<R, S>(
    cfg: &CrashConfig,
    observe: impl Fn(&R) -> S,
) -> std::result::Result<CrashReport, String>
where
    R: Persistent + Default,
    S: PartialEq + Debug,
{
    let disk = SimDisk::new();
    disk.start_recording();
    let pool = options(cfg)
        .create_sim::<R>(&disk)
        .map_err(|e| format!("create: {e}"))?;
    disk.mark(1);
    let expected = pool.read(&observe).map_err(|e| format!("read: {e}"))?;
    drop(pool);
    let trace = disk.take_trace();
    let mut rng = Rng(cfg.seed | 1);
    let mut report = CrashReport::default();
    let points = for_each_image(
        [None, None],
        &trace,
        cfg,
        &mut rng,
        |img, process_crash, acked| {
            report.images += 1;
            let kind = if process_crash {
                "process crash"
            } else {
                "power loss"
            };
            let disk = SimDisk::from_files(img);
            match recover_and_observe(cfg, &disk, &observe) {
                Ok(s) if s == expected => Ok(()),
                Ok(s) => Err(format!(
                    "create crash image {} ({kind}): state {s:?}, expected {expected:?}",
                    report.images
                )),
                Err(e) if acked == 0 => {
                    // Before `create` returned a typed error is allowed; a panic is not
                    // (it would have unwound out of this closure).
                    let _ = e;
                    Ok(())
                }
                Err(e) => Err(format!(
                    "create crash image {} ({kind}) after create returned: {e}",
                    report.images
                )),
            }
        },
    )?;
    report.crash_points = points;
    Ok(report)
}
