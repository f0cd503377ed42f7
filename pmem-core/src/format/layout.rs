//! The on-media format, in one place: every constant, header and record layout that
//! reaches a file is defined here and nowhere else. The prose, byte diagrams and
//! invariants are in `docs/ARCHITECTURE.md` §3 (pool file) and §4 (log file); this
//! module cites those sections rather than repeating them.

use crate::format::crc32c;

// Every integer of the format is little-endian (ARCHITECTURE §3). Headers in sectors are
// encoded with explicit little-endian access below, but `RootMeta`, `BlockHeader` and
// run bitmap words are read and written in place through the mapping, in host order:
// only a little-endian host reads them right.
#[cfg(not(target_endian = "little"))]
compile_error!(
    "pmem's on-media format is little-endian and its in-place headers (RootMeta, \
     BlockHeader) are accessed in host byte order: big-endian targets are not supported"
);

/// Size of a page, the unit of mapping, growth and checkpoint writes.
pub(crate) const PAGE: u64 = 4096;
/// Size of a sector, the unit a torn write tears at (ARCHITECTURE §6).
pub(crate) const SECTOR: u64 = 512;

/// Pool file magic at offset 0.
pub(crate) const POOL_MAGIC: [u8; 8] = *b"PMEMPOOL";
/// Log file magic at offset 0.
pub(crate) const LOG_MAGIC: [u8; 8] = *b"PMEMLOG\0";
/// The only format version this build reads and writes.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Pool file: the two checkpoint state slots (sectors 1 and 2 of page 0).
pub(crate) const STATE_SLOT_OFF: [u64; 2] = [SECTOR, 2 * SECTOR];
/// Pool file: the root metadata page, changed only through transactions.
pub(crate) const META_OFF: u64 = PAGE;
/// Pool file: first block of the heap.
pub(crate) const HEAP_START: u64 = 2 * PAGE;
/// Every heap block starts and ends on this boundary.
pub(crate) const BLOCK_ALIGN: u64 = 64;
/// Size of a heap block header.
pub(crate) const BLOCK_HEADER: u64 = 64;
/// Largest alignment an allocation may ask for.
pub(crate) const MAX_ALIGN: usize = 64;
/// Largest maximum size a pool header may declare (128 GiB: the pool half of the
/// largest address-space region).
pub(crate) const ABS_MAX_POOL_SIZE: u64 = 1 << 37;

/// Log file: header page; groups start after it.
pub(crate) const LOG_HEADER_LEN: u64 = PAGE;
/// Log group header magic.
pub(crate) const GROUP_MAGIC: u32 = 0x5052_4731; // "1GRP"
/// Size of a log group header.
pub(crate) const GROUP_HEADER_LEN: usize = 40;
/// Size of a record header inside a group.
pub(crate) const RECORD_HEADER_LEN: usize = 16;

/// Length of the layout name field.
pub(crate) const LAYOUT_LEN: usize = 64;
/// Length of the root type name field.
pub(crate) const TYPE_NAME_LEN: usize = 160;

/// Bits of a stored `PPtr` word below the pool tag: the target's offset (ARCHITECTURE
/// §12).
pub const PPTR_TAG_SHIFT: u32 = 48;

/// The 16-bit tag a pool with this UUID stamps into its `PPtr`s (the UUID's first two
/// bytes, little-endian): the one rule, for the engine and for tools that decode words.
pub fn pool_tag_of(uuid: &[u8; 16]) -> u64 {
    u64::from(u16::from_le_bytes([uuid[0], uuid[1]]))
}

/// Little-endian field access on a byte buffer; the format never relies on host order.
pub(crate) fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
pub(crate) fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}
pub(crate) fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
pub(crate) fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// The immutable pool header (ARCHITECTURE §3.1), one sector at offset 0.
///
/// ```text
///   0  magic            [8]   "PMEMPOOL"
///   8  format_version   u32
///  12  page_size        u32   4096
///  16  uuid             [16]
///  32  layout           [64]  UTF-8, NUL padded
///  96  root_fingerprint u64
/// 104  root_size        u64
/// 112  root_align       u64
/// 120  max_size         u64
/// 128  created_unix     u64
/// 136  root_type_name   [160] UTF-8, NUL padded
/// 296  reserved         zero
/// 508  crc32c           u32   over bytes 0..508
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StaticHeader {
    pub(crate) uuid: [u8; 16],
    pub(crate) layout: String,
    pub(crate) root_fingerprint: u64,
    pub(crate) root_size: u64,
    pub(crate) root_align: u64,
    pub(crate) max_size: u64,
    pub(crate) created_unix: u64,
    pub(crate) root_type_name: String,
}

/// Why a static header did not decode.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeaderFault {
    Magic,
    Version(u32),
    Checksum,
    Field(&'static str),
}

impl StaticHeader {
    pub(crate) fn encode(&self) -> [u8; SECTOR as usize] {
        let mut b = [0u8; SECTOR as usize];
        b[0..8].copy_from_slice(&POOL_MAGIC);
        put_u32(&mut b, 8, FORMAT_VERSION);
        put_u32(&mut b, 12, PAGE as u32);
        b[16..32].copy_from_slice(&self.uuid);
        put_str(&mut b[32..32 + LAYOUT_LEN], &self.layout);
        put_u64(&mut b, 96, self.root_fingerprint);
        put_u64(&mut b, 104, self.root_size);
        put_u64(&mut b, 112, self.root_align);
        put_u64(&mut b, 120, self.max_size);
        put_u64(&mut b, 128, self.created_unix);
        put_str(&mut b[136..136 + TYPE_NAME_LEN], &self.root_type_name);
        let crc = crc32c(&b[..508]);
        put_u32(&mut b, 508, crc);
        b
    }

    pub(crate) fn decode(b: &[u8]) -> Result<Self, HeaderFault> {
        if b.len() < SECTOR as usize || b[0..8] != POOL_MAGIC {
            return Err(HeaderFault::Magic);
        }
        let version = get_u32(b, 8);
        if crc32c(&b[..508]) != get_u32(b, 508) {
            // A version we do not know may lay the sector out differently; say so first.
            if version != FORMAT_VERSION {
                return Err(HeaderFault::Version(version));
            }
            return Err(HeaderFault::Checksum);
        }
        if version != FORMAT_VERSION {
            return Err(HeaderFault::Version(version));
        }
        if get_u32(b, 12) != PAGE as u32 {
            return Err(HeaderFault::Field("page_size"));
        }
        let layout = get_str(&b[32..32 + LAYOUT_LEN]).ok_or(HeaderFault::Field("layout"))?;
        let root_type_name =
            get_str(&b[136..136 + TYPE_NAME_LEN]).ok_or(HeaderFault::Field("root_type_name"))?;
        let h = StaticHeader {
            uuid: b[16..32].try_into().expect("16 bytes"),
            layout,
            root_fingerprint: get_u64(b, 96),
            root_size: get_u64(b, 104),
            root_align: get_u64(b, 112),
            max_size: get_u64(b, 120),
            created_unix: get_u64(b, 128),
            root_type_name,
        };
        if h.max_size < HEAP_START + PAGE || h.max_size > ABS_MAX_POOL_SIZE {
            return Err(HeaderFault::Field("max_size"));
        }
        if h.root_align == 0 || !h.root_align.is_power_of_two() || h.root_align > MAX_ALIGN as u64 {
            return Err(HeaderFault::Field("root_align"));
        }
        Ok(h)
    }

    /// A 64-bit salt derived from the UUID; stamped into every log group so that a log
    /// belonging to another pool never replays.
    pub(crate) fn salt(&self) -> u64 {
        u64::from_le_bytes(self.uuid[0..8].try_into().expect("8 bytes"))
            ^ u64::from_le_bytes(self.uuid[8..16].try_into().expect("8 bytes"))
    }
}

fn put_str(dst: &mut [u8], s: &str) {
    let n = s.len().min(dst.len());
    dst[..n].copy_from_slice(&s.as_bytes()[..n]);
}

fn get_str(src: &[u8]) -> Option<String> {
    let end = src.iter().position(|&c| c == 0).unwrap_or(src.len());
    if src[end..].iter().any(|&c| c != 0) {
        return None;
    }
    String::from_utf8(src[..end].to_vec()).ok()
}

/// A checkpoint state slot (ARCHITECTURE §3.2); two alternate so a torn write of one
/// leaves the other intact.
///
/// ```text
///   0  checkpoint_count u64   slot = checkpoint_count % 2; highest valid wins
///   8  checkpoint_seq   u64   every commit with seq <= this is in the pool file
///  16  log_state        u32   0 legacy, 1 clean (no log needed), 2 in use
///  20  reserved         u32   zero
///  24  log_id           u64   in use: the id the log header must carry
///  32  reserved         zero
///  60  crc32c           u32   over bytes 0..60
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct StateSlot {
    pub(crate) checkpoint_count: u64,
    pub(crate) checkpoint_seq: u64,
    pub(crate) log: LogState,
}

/// What a pool file says about its log (ARCHITECTURE §3.2, "the two files stay a pair").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum LogState {
    /// Written before the pool recorded its log's identity: the log is used if present
    /// and never required.
    #[default]
    Legacy,
    /// Closed cleanly: every commit is in the pool file and no log is needed.
    Clean,
    /// The log whose header carries this id may hold commits past the checkpoint: the
    /// pool does not open without it.
    InUse(u64),
}

impl StateSlot {
    pub(crate) const LEN: usize = 64;

    pub(crate) fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        put_u64(&mut b, 0, self.checkpoint_count);
        put_u64(&mut b, 8, self.checkpoint_seq);
        let (state, id) = match self.log {
            LogState::Legacy => (0, 0),
            LogState::Clean => (1, 0),
            LogState::InUse(id) => (2, id),
        };
        put_u32(&mut b, 16, state);
        put_u64(&mut b, 24, id);
        let crc = crc32c(&b[..60]);
        put_u32(&mut b, 60, crc);
        b
    }

    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        if b.len() < Self::LEN || crc32c(&b[..60]) != get_u32(b, 60) {
            return None;
        }
        let log = match (get_u32(b, 16), get_u64(b, 24)) {
            (0, 0) => LogState::Legacy,
            (1, 0) => LogState::Clean,
            (2, id) if id != 0 => LogState::InUse(id),
            _ => return None,
        };
        Some(StateSlot {
            checkpoint_count: get_u64(b, 0),
            checkpoint_seq: get_u64(b, 8),
            log,
        })
    }

    /// File offset this slot is written at.
    pub(crate) fn offset(&self) -> u64 {
        STATE_SLOT_OFF[(self.checkpoint_count % 2) as usize]
    }
}

/// The root metadata page (ARCHITECTURE §3.3), read and written in place through the
/// mapping and changed only inside transactions.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct RootMeta {
    /// `META_MAGIC`.
    pub(crate) magic: u64,
    /// Offset of the root object.
    pub(crate) root_off: u64,
    /// End of the heap: blocks tile `HEAP_START..heap_end` exactly.
    pub(crate) heap_end: u64,
    /// Offset of the schema record (0 when none), for inspection tools.
    pub(crate) schema_off: u64,
    /// Length of the schema record in bytes.
    pub(crate) schema_len: u64,
    pub(crate) reserved: [u64; 3],
}
const _: () = assert!(core::mem::size_of::<RootMeta>() == 64);
pub(crate) const META_MAGIC: u64 = 0x4154_454d_4d45_4d50; // "PMEMMETA"

/// Kinds of heap block.
pub(crate) const KIND_FREE: u8 = 1;
pub(crate) const KIND_LARGE: u8 = 2;
pub(crate) const KIND_RUN: u8 = 3;
pub(crate) const BLOCK_MAGIC: u32 = 0xB10C_0000;

/// A heap block header (ARCHITECTURE §5); blocks tile the heap with no gaps.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockHeader {
    /// `BLOCK_MAGIC | kind`.
    pub(crate) magic: u32,
    /// Size class of a run; 0 otherwise.
    pub(crate) class: u32,
    /// Size of the whole block in bytes, header included; a multiple of `BLOCK_ALIGN`.
    pub(crate) size: u64,
    /// Bytes the user asked for (large blocks); 0 otherwise.
    pub(crate) requested: u64,
    pub(crate) reserved: [u64; 5],
}
const _: () = assert!(core::mem::size_of::<BlockHeader>() == BLOCK_HEADER as usize);

impl BlockHeader {
    pub(crate) fn new(kind: u8, class: u32, size: u64, requested: u64) -> Self {
        BlockHeader {
            magic: BLOCK_MAGIC | kind as u32,
            class,
            size,
            requested,
            reserved: [0; 5],
        }
    }
    pub(crate) fn kind(&self) -> Option<u8> {
        if self.magic & 0xFFFF_FF00 != BLOCK_MAGIC {
            return None;
        }
        let k = (self.magic & 0xFF) as u8;
        matches!(k, KIND_FREE | KIND_LARGE | KIND_RUN).then_some(k)
    }
}

/// Small-object size classes (ARCHITECTURE §5): four steps per doubling above 128 keep
/// internal fragmentation under 20%.
pub(crate) const CLASSES: [u32; 24] = [
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024,
    1280, 1536, 1792, 2048,
];
/// Largest request served from a run; bigger requests get a large block.
pub(crate) const MAX_SMALL: u64 = 2048;

/// Geometry of a run of one size class.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunGeometry {
    pub(crate) block_size: u64,
    pub(crate) cell_size: u64,
    pub(crate) cells: u64,
    /// Offset of the bitmap from the block start.
    pub(crate) bitmap_off: u64,
    pub(crate) bitmap_words: u64,
    /// Offset of cell 0 from the block start (a multiple of 64).
    pub(crate) data_off: u64,
}

pub(crate) const fn run_geometry(class: usize) -> RunGeometry {
    let cell_size = CLASSES[class] as u64;
    let block_size = if cell_size <= 256 {
        16 * 1024
    } else {
        64 * 1024
    };
    let mut cells = (block_size - BLOCK_HEADER) / cell_size;
    loop {
        let words = cells.div_ceil(64);
        let data_off = (BLOCK_HEADER + words * 8).div_ceil(64) * 64;
        if data_off + cells * cell_size <= block_size {
            return RunGeometry {
                block_size,
                cell_size,
                cells,
                bitmap_off: BLOCK_HEADER,
                bitmap_words: words,
                data_off,
            };
        }
        cells -= 1;
    }
}

/// The log file header (ARCHITECTURE §4.1), one sector at offset 0 of the log.
///
/// ```text
///  0 magic [8] "PMEMLOG\0"   8 format_version u32   12 reserved u32
/// 16 pool uuid [16]          32 log_id u64          40 prev_log_id u64
/// 48 base_seq u64            56 reserved            508 crc32c u32 over 0..508
/// ```
///
/// `log_id` is new at every writable open; `prev_log_id` and `base_seq` name the log
/// and checkpoint it replaced, so that a crash between writing this header and
/// publishing the id in the pool file is told apart from a stale or foreign log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LogHeader {
    pub(crate) uuid: [u8; 16],
    pub(crate) log_id: u64,
    pub(crate) prev_log_id: u64,
    pub(crate) base_seq: u64,
}

impl LogHeader {
    pub(crate) fn encode(&self) -> [u8; SECTOR as usize] {
        let mut b = [0u8; SECTOR as usize];
        b[0..8].copy_from_slice(&LOG_MAGIC);
        put_u32(&mut b, 8, FORMAT_VERSION);
        b[16..32].copy_from_slice(&self.uuid);
        put_u64(&mut b, 32, self.log_id);
        put_u64(&mut b, 40, self.prev_log_id);
        put_u64(&mut b, 48, self.base_seq);
        let crc = crc32c(&b[..508]);
        put_u32(&mut b, 508, crc);
        b
    }

    /// Checks a log header (`None`: not a valid log header).
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        if b.len() < SECTOR as usize
            || b[0..8] != LOG_MAGIC
            || get_u32(b, 8) != FORMAT_VERSION
            || crc32c(&b[..508]) != get_u32(b, 508)
        {
            return None;
        }
        Some(LogHeader {
            uuid: b[16..32].try_into().expect("16 bytes"),
            log_id: get_u64(b, 32),
            prev_log_id: get_u64(b, 40),
            base_seq: get_u64(b, 48),
        })
    }
}

/// A log group header (ARCHITECTURE §4.2).
///
/// ```text
///  0 magic u32   4 crc32c u32 (over the whole group with this field zero)
///  8 salt u64   16 seq u64   24 body_len u64   32 records u32   36 reserved u32
/// ```
/// followed by `records` records: `offset u64, len u32, reserved u32`, then `len`
/// bytes padded to 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GroupHeader {
    pub(crate) crc: u32,
    pub(crate) salt: u64,
    pub(crate) seq: u64,
    pub(crate) body_len: u64,
    pub(crate) records: u32,
}

impl GroupHeader {
    pub(crate) fn encode_into(&self, b: &mut [u8]) {
        put_u32(b, 0, GROUP_MAGIC);
        put_u32(b, 4, self.crc);
        put_u64(b, 8, self.salt);
        put_u64(b, 16, self.seq);
        put_u64(b, 24, self.body_len);
        put_u32(b, 32, self.records);
        put_u32(b, 36, 0);
    }
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        if b.len() < GROUP_HEADER_LEN || get_u32(b, 0) != GROUP_MAGIC {
            return None;
        }
        Some(GroupHeader {
            crc: get_u32(b, 4),
            salt: get_u64(b, 8),
            seq: get_u64(b, 16),
            body_len: get_u64(b, 24),
            records: get_u32(b, 32),
        })
    }
}

pub(crate) const fn pad8(n: u64) -> u64 {
    (n + 7) & !7
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_geometry_fits_its_block_and_aligns_cell_zero() {
        for c in 0..CLASSES.len() {
            let g = run_geometry(c);
            assert!(g.cells > 0);
            assert_eq!(g.data_off % 64, 0);
            assert!(g.data_off + g.cells * g.cell_size <= g.block_size);
            assert!(g.bitmap_off + g.bitmap_words * 8 <= g.data_off);
            // Internal waste of the run itself stays small.
            let used = g.cells * g.cell_size;
            assert!(used * 100 / g.block_size >= 85, "class {c} wastes too much");
        }
    }

    #[test]
    fn static_header_round_trips_and_rejects_a_flipped_bit() {
        let h = StaticHeader {
            uuid: [7; 16],
            layout: "bank".into(),
            root_fingerprint: 42,
            root_size: 24,
            root_align: 8,
            max_size: 1 << 30,
            created_unix: 1,
            root_type_name: "Bank".into(),
        };
        let mut b = h.encode();
        assert_eq!(StaticHeader::decode(&b), Ok(h));
        b[40] ^= 1;
        assert_eq!(StaticHeader::decode(&b), Err(HeaderFault::Checksum));
    }

    #[test]
    fn state_slot_rejects_torn_bytes() {
        let s = StateSlot {
            checkpoint_count: 3,
            checkpoint_seq: 9,
            log: LogState::InUse(77),
        };
        let mut b = s.encode();
        assert_eq!(StateSlot::decode(&b), Some(s));
        b[9] ^= 0x80;
        assert_eq!(StateSlot::decode(&b), None);
    }
}
