//! The redo log (ARCHITECTURE §4): building a commit group from the ranges a transaction
//! wrote, and scanning the log at open to replay every complete group.
//!
//! A group is valid only if its magic, salt (from the pool UUID), sequence number
//! (exactly one past the previous group, or past the checkpoint) and CRC-32C all match.
//! The scan stops at the first group that is not valid: that is the torn tail of the
//! last commit before a crash, or stale bytes from before the last checkpoint.

use crate::error::{Error, Result};
use crate::format::{crc32c, crc32c_append};
use crate::format::{
    get_u32, get_u64, pad8, put_u32, put_u64, GroupHeader, GROUP_HEADER_LEN, LOG_HEADER_LEN, PAGE,
    RECORD_HEADER_LEN,
};
use crate::media::Backing;

/// Longest single record; longer ranges are split.
const MAX_RECORD: u64 = 1 << 30;

/// Groups up to this size are built in one buffer and written with one call; larger ones
/// are streamed (body first, header last) so a bulk transaction needs no second copy of
/// its data in memory.
const ONE_SHOT: u64 = 256 << 10;

/// Writes one commit group for `ranges` of the mapping at `base` to `log` at `pos`, using
/// `buf` as scratch. Answers the group's length.
///
/// # Safety
/// - every `(off, len)` from `ranges` must be readable at `base + off`.
pub(crate) unsafe fn write_group(
    log: &dyn Backing,
    pos: u64,
    buf: &mut Vec<u8>,
    base: *const u8,
    salt: u64,
    seq: u64,
    ranges: &[(u64, u64)],
) -> std::io::Result<u64> {
    let mut records = 0u32;
    let mut body_len = 0u64;
    for &(_, len) in ranges {
        let full = len / MAX_RECORD;
        let rest = len % MAX_RECORD;
        records += (full + u64::from(rest > 0)) as u32;
        body_len += full * (RECORD_HEADER_LEN as u64 + MAX_RECORD)
            + if rest > 0 {
                RECORD_HEADER_LEN as u64 + pad8(rest)
            } else {
                0
            };
    }
    let total = GROUP_HEADER_LEN as u64 + body_len;
    let mut header = [0u8; GROUP_HEADER_LEN];
    GroupHeader {
        crc: 0,
        salt,
        seq,
        body_len,
        records,
    }
    .encode_into(&mut header);
    buf.clear();
    let one_shot = total <= ONE_SHOT;
    // One-shot groups are checksummed once at the end, over the whole buffer.
    let mut crc = if one_shot { 0 } else { crc32c(&header) };
    if one_shot {
        buf.extend_from_slice(&header);
    }
    let mut at = pos + if one_shot { 0 } else { GROUP_HEADER_LEN as u64 };
    for &(mut off, mut len) in ranges {
        while len > 0 {
            let n = len.min(MAX_RECORD);
            let mut rh = [0u8; RECORD_HEADER_LEN];
            put_u64(&mut rh, 0, off);
            put_u32(&mut rh, 8, n as u32);
            buf.extend_from_slice(&rh);
            // SAFETY: the caller promises the range is readable.
            let data = unsafe { std::slice::from_raw_parts(base.add(off as usize), n as usize) };
            let pad = (pad8(n) - n) as usize;
            if one_shot || n < 64 << 10 {
                buf.extend_from_slice(data);
                buf.resize(buf.len() + pad, 0);
            } else {
                // A big range goes straight from the mapping to the log.
                crc = crc32c_append(crc, buf);
                log.write_at(at, buf)?;
                at += buf.len() as u64;
                buf.clear();
                crc = crc32c_append(crc, data);
                log.write_at(at, data)?;
                at += n;
                buf.resize(pad, 0);
            }
            if !one_shot && buf.len() as u64 >= ONE_SHOT {
                crc = crc32c_append(crc, buf);
                log.write_at(at, buf)?;
                at += buf.len() as u64;
                buf.clear();
            }
            records -= 1;
            off += n;
            len -= n;
        }
    }
    debug_assert_eq!(records, 0);
    if one_shot {
        let crc = crc32c(buf);
        put_u32(buf, 4, crc);
        log.write_at(pos, buf)?;
    } else {
        crc = crc32c_append(crc, buf);
        log.write_at(at, buf)?;
        debug_assert_eq!(at + buf.len() as u64, pos + total);
        put_u32(&mut header, 4, crc);
        // The header goes last: until it is written the group cannot validate.
        log.write_at(pos, &header)?;
    }
    if buf.capacity() > 4 * ONE_SHOT as usize {
        *buf = Vec::new();
    }
    Ok(total)
}

/// Where a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanEnd {
    /// Offset just past the last valid group (where the next group goes).
    pub(crate) pos: u64,
    /// Sequence number of the last valid group (the checkpoint's when none).
    pub(crate) last_seq: u64,
    /// Valid groups found.
    pub(crate) groups: u64,
}

/// Reads groups `after_seq + 1, after_seq + 2, ...` from `log` and calls `apply` for each
/// record of each valid group, in order. Records must target `[PAGE, limit)`.
pub(crate) fn scan(
    log: &dyn Backing,
    salt: u64,
    after_seq: u64,
    limit: u64,
    mut apply: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<ScanEnd> {
    let log_len = log.len().map_err(|e| Error::io("reading", log.path(), e))?;
    let mut end = ScanEnd {
        pos: LOG_HEADER_LEN,
        last_seq: after_seq,
        groups: 0,
    };
    let mut hdr = [0u8; GROUP_HEADER_LEN];
    let mut body = Vec::new();
    loop {
        let pos = end.pos;
        if pos + GROUP_HEADER_LEN as u64 > log_len {
            return Ok(end);
        }
        log.read_at(pos, &mut hdr)
            .map_err(|e| Error::io("reading", log.path(), e))?;
        let Some(h) = GroupHeader::decode(&hdr) else {
            return Ok(end);
        };
        if h.salt != salt
            || (h.seq != end.last_seq + 1
                && !crate::inject::is(crate::inject::Broken::IgnoreSequence))
            || h.body_len % 8 != 0
            || h.body_len > log_len - pos - GROUP_HEADER_LEN as u64
        {
            return Ok(end);
        }
        body.clear();
        body.resize(h.body_len as usize, 0);
        log.read_at(pos + GROUP_HEADER_LEN as u64, &mut body)
            .map_err(|e| Error::io("reading", log.path(), e))?;
        let mut zeroed = hdr;
        put_u32(&mut zeroed, 4, 0);
        if crc32c_append(crc32c(&zeroed), &body) != h.crc
            && !crate::inject::is(crate::inject::Broken::SkipGroupChecksum)
        {
            return Ok(end);
        }
        // The group is complete and intact: every record in it must make sense, or the
        // log was written by something other than pmem.
        let mut at = 0usize;
        for _ in 0..h.records {
            let bad = |what: &str| {
                Error::corrupted(format!("log group {}: {what}", h.seq), pos + at as u64)
            };
            if at + RECORD_HEADER_LEN > body.len() {
                return Err(bad("record header past the group end"));
            }
            let off = get_u64(&body, at);
            let len = u64::from(get_u32(&body, at + 8));
            let data_at = at + RECORD_HEADER_LEN;
            if len > (body.len() - data_at) as u64 {
                return Err(bad("record data past the group end"));
            }
            if off < PAGE || off.checked_add(len).is_none_or(|e| e > limit) {
                return Err(bad("record outside the pool"));
            }
            apply(off, &body[data_at..data_at + len as usize])?;
            at = data_at + pad8(len) as usize;
        }
        if at != body.len() {
            return Err(Error::corrupted(
                format!("log group {}: trailing bytes", h.seq),
                pos,
            ));
        }
        end = ScanEnd {
            pos: pos + GROUP_HEADER_LEN as u64 + h.body_len,
            last_seq: h.seq,
            groups: end.groups + 1,
        };
    }
}
