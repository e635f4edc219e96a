//! virtio-blk on a raw image file (virtio 1.2 §5.2): read, write, flush, discard, get-id;
//! `readonly` (VIRTIO_BLK_F_RO, writes fail) and `snapshot` (writes go to a throwaway
//! overlay, the image is never written).
//!
//! Every request is checked before any byte moves: the header must be device-readable and
//! 16 bytes, data buffers must all point the right way (device-writable for a read,
//! device-readable for a write), every buffer must lie in guest RAM, sizes must be whole
//! sectors and the range must fit the disk. A failing check makes the request complete with
//! VIRTIO_BLK_S_IOERR; a chain that does not even end properly, or whose status buffer is
//! unusable, completes with a used length of 0 and no byte written.
//!
//! The snapshot overlay is an unlinked temporary file of the image's size plus a bitmap of
//! the sectors written (or discarded) since start; reads take each sector from whichever
//! holds it.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use virtio_queue::{Queue, QueueT};

use super::{collect_chain, Activation, BlockConfig, Buf, Chain, Interrupt, QueueBroken, VirtioDevice, INT_VRING};
use crate::bus::Endian::Little;
use crate::memory::GuestRam;

/// virtio device ID of a block device.
pub const DEVICE_ID: u32 = 2;
/// Sector size of the protocol.
pub const SECTOR: u64 = 512;
const QUEUE_SIZE: u16 = 128;
const CHUNK: usize = 64 * 1024;

/// Feature bits (virtio 1.2 §5.2.3).
pub mod feat {
    /// Maximum segments in `seg_max`.
    pub const SEG_MAX: u64 = 1 << 2;
    /// Read-only device.
    pub const RO: u64 = 1 << 5;
    /// Block size in `blk_size`.
    pub const BLK_SIZE: u64 = 1 << 6;
    /// Flush command.
    pub const FLUSH: u64 = 1 << 9;
    /// Discard command.
    pub const DISCARD: u64 = 1 << 13;
}

/// Request types (§5.2.6).
pub mod req {
    /// Read.
    pub const IN: u32 = 0;
    /// Write.
    pub const OUT: u32 = 1;
    /// Flush.
    pub const FLUSH: u32 = 4;
    /// Device ID string.
    pub const GET_ID: u32 = 8;
    /// Discard.
    pub const DISCARD: u32 = 11;
}

/// Status byte values.
pub mod status {
    /// Success.
    pub const OK: u8 = 0;
    /// Failure.
    pub const IOERR: u8 = 1;
    /// Unsupported request.
    pub const UNSUPP: u8 = 2;
}

enum Disk {
    Plain(File),
    Snapshot { base: File, overlay: File, dirty: Vec<u64> },
}

impl Disk {
    fn in_overlay(dirty: &[u64], s: u64) -> bool {
        dirty[(s / 64) as usize] & (1 << (s % 64)) != 0
    }

    fn read_at(&self, buf: &mut [u8], off: u64) -> std::io::Result<()> {
        match self {
            Disk::Plain(f) => f.read_exact_at(buf, off),
            Disk::Snapshot { base, overlay, dirty } => {
                // Runs of sectors from the same source.
                let mut done = 0usize;
                while done < buf.len() {
                    let s = (off + done as u64) / SECTOR;
                    let ov = Self::in_overlay(dirty, s);
                    let mut n = SECTOR as usize;
                    while done + n < buf.len() && Self::in_overlay(dirty, s + (n as u64 / SECTOR)) == ov {
                        n += SECTOR as usize;
                    }
                    let n = n.min(buf.len() - done);
                    let src = if ov { overlay } else { base };
                    src.read_exact_at(&mut buf[done..done + n], off + done as u64)?;
                    done += n;
                }
                Ok(())
            }
        }
    }

    fn write_at(&mut self, buf: &[u8], off: u64) -> std::io::Result<()> {
        match self {
            Disk::Plain(f) => f.write_all_at(buf, off),
            Disk::Snapshot { overlay, dirty, .. } => {
                overlay.write_all_at(buf, off)?;
                for s in off / SECTOR..(off + buf.len() as u64).div_ceil(SECTOR) {
                    dirty[(s / 64) as usize] |= 1 << (s % 64);
                }
                Ok(())
            }
        }
    }

    fn flush(&self) -> std::io::Result<()> {
        match self {
            Disk::Plain(f) => f.sync_data(),
            Disk::Snapshot { .. } => Ok(()),
        }
    }

    fn discard(&mut self, off: u64, len: u64) -> std::io::Result<()> {
        use vmm_sys_util::fallocate::{fallocate, FallocateMode};
        let punch = |f: &File| {
            fallocate(f, FallocateMode::PunchHole, true, off, len)
                .map_err(|e| std::io::Error::from_raw_os_error(e.errno()))
        };
        match self {
            Disk::Plain(f) => punch(f),
            Disk::Snapshot { overlay, dirty, .. } => {
                punch(overlay)?;
                for s in off / SECTOR..(off + len) / SECTOR {
                    dirty[(s / 64) as usize] |= 1 << (s % 64);
                }
                Ok(())
            }
        }
    }
}

/// Opens the overlay of a snapshot disk: an unlinked temporary file of `size` bytes.
fn overlay_file(size: u64) -> std::io::Result<File> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let p = std::env::temp_dir().join(format!("remu-snapshot-{}-{n}", std::process::id()));
    let f = OpenOptions::new().read(true).write(true).create_new(true).open(&p)?;
    let _ = std::fs::remove_file(&p);
    f.set_len(size)?;
    Ok(f)
}

/// A virtio-blk device.
pub struct Block {
    disk: Disk,
    readonly: bool,
    discard: bool,
    capacity: u64,
    id: [u8; 20],
    queue: Option<Queue>,
    ram: Option<Arc<GuestRam>>,
    interrupt: Option<Interrupt>,
    features: u64,
}

impl Block {
    /// Opens the image of `cfg`; `index` makes the device ID string unique.
    pub fn new(cfg: &BlockConfig, index: usize) -> std::io::Result<Self> {
        let writable = !cfg.readonly && !cfg.snapshot;
        let f = OpenOptions::new().read(true).write(writable).open(&cfg.path)?;
        let size = f.metadata()?.len();
        let capacity = size / SECTOR;
        let disk = if cfg.snapshot {
            Disk::Snapshot {
                overlay: overlay_file(size)?,
                dirty: vec![0; (capacity as usize).div_ceil(64) + 1],
                base: f,
            }
        } else {
            Disk::Plain(f)
        };
        let mut id = [0u8; 20];
        let s = format!("remu-blk-{index}");
        id[..s.len()].copy_from_slice(s.as_bytes());
        Ok(Self {
            disk,
            readonly: cfg.readonly,
            discard: cfg.discard,
            capacity,
            id,
            queue: None,
            ram: None,
            interrupt: None,
            features: 0,
        })
    }

    /// Executes one checked request; returns the used length.
    fn execute(&mut self, ram: &GuestRam, c: &Chain) -> u32 {
        if c.truncated || c.bufs.len() < 2 {
            crate::guest_error!("virtio-blk chain", "descriptor chain loops, is cut short or has no status buffer");
            return 0;
        }
        let st = c.bufs[c.bufs.len() - 1];
        if !st.write || st.len < 1 || !st.in_ram {
            crate::guest_error!("virtio-blk chain", "status buffer not device-writable, empty or outside RAM");
            return 0;
        }
        let (s, written) = self.run(ram, &c.bufs[..c.bufs.len() - 1]);
        // The status buffer was checked to be in RAM just above.
        let _ = ram.write_u8(st.addr, s);
        written + 1
    }

    /// Runs a request given its header and data buffers; returns (status, bytes written to
    /// the guest).
    fn run(&mut self, ram: &GuestRam, bufs: &[Buf]) -> (u8, u32) {
        let hdr = bufs[0];
        if hdr.write || hdr.len < 16 || !hdr.in_ram || bufs.iter().any(|b| !b.in_ram) {
            return (status::IOERR, 0);
        }
        let (Ok(kind), Ok(sector)) = (ram.read_u32(hdr.addr, Little), ram.read_u64(hdr.addr + 8, Little)) else {
            return (status::IOERR, 0);
        };
        let data = &bufs[1..];
        let total: u64 = data.iter().map(|b| b.len as u64).sum();
        let in_range = |sectors: u64| sector.checked_add(sectors).is_some_and(|end| end <= self.capacity);
        match kind {
            req::IN => {
                if data.iter().any(|b| !b.write) || !total.is_multiple_of(SECTOR) || !in_range(total / SECTOR) {
                    return (status::IOERR, 0);
                }
                let mut off = sector * SECTOR;
                let mut tmp = vec![0u8; CHUNK];
                for b in data {
                    let mut done = 0u64;
                    while done < b.len as u64 {
                        let n = (b.len as u64 - done).min(CHUNK as u64) as usize;
                        if self.disk.read_at(&mut tmp[..n], off).is_err()
                            || ram.write(b.addr + done, &tmp[..n]).is_err()
                        {
                            return (status::IOERR, 0);
                        }
                        done += n as u64;
                        off += n as u64;
                    }
                }
                (status::OK, total as u32)
            }
            req::OUT => {
                if self.readonly
                    || data.iter().any(|b| b.write)
                    || !total.is_multiple_of(SECTOR)
                    || !in_range(total / SECTOR)
                {
                    return (status::IOERR, 0);
                }
                let mut off = sector * SECTOR;
                let mut tmp = vec![0u8; CHUNK];
                for b in data {
                    let mut done = 0u64;
                    while done < b.len as u64 {
                        let n = (b.len as u64 - done).min(CHUNK as u64) as usize;
                        if ram.read(b.addr + done, &mut tmp[..n]).is_err()
                            || self.disk.write_at(&tmp[..n], off).is_err()
                        {
                            return (status::IOERR, 0);
                        }
                        done += n as u64;
                        off += n as u64;
                    }
                }
                (status::OK, 0)
            }
            req::FLUSH => match self.disk.flush() {
                Ok(()) => (status::OK, 0),
                Err(_) => (status::IOERR, 0),
            },
            req::GET_ID => {
                if data.iter().any(|b| !b.write) {
                    return (status::IOERR, 0);
                }
                let n = super::write_to_bufs(ram, data, &self.id);
                (status::OK, n as u32)
            }
            req::DISCARD if self.features & feat::DISCARD != 0 => {
                if self.readonly || data.iter().any(|b| b.write) || !total.is_multiple_of(16) || total == 0 {
                    return (status::IOERR, 0);
                }
                let Some(segs) = super::read_from_bufs(ram, data, 16 * 256) else { return (status::IOERR, 0) };
                for seg in segs.chunks(16) {
                    let s = u64::from_le_bytes(seg[0..8].try_into().unwrap_or_default());
                    let n = u32::from_le_bytes(seg[8..12].try_into().unwrap_or_default()) as u64;
                    if s.checked_add(n).is_none_or(|e| e > self.capacity) {
                        return (status::IOERR, 0);
                    }
                    if n > 0 && self.disk.discard(s * SECTOR, n * SECTOR).is_err() {
                        return (status::IOERR, 0);
                    }
                }
                (status::OK, 0)
            }
            _ => (status::UNSUPP, 0),
        }
    }
}

impl VirtioDevice for Block {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }

    fn queue_max_sizes(&self) -> Vec<u16> {
        vec![QUEUE_SIZE]
    }

    fn features(&self) -> u64 {
        let mut f = feat::SEG_MAX | feat::BLK_SIZE | feat::FLUSH | super::F_EVENT_IDX;
        if self.readonly {
            f |= feat::RO;
        }
        if self.discard && !self.readonly {
            f |= feat::DISCARD;
        }
        f
    }

    fn read_config(&self, offset: u64, data: &mut [u8]) {
        let mut c = [0u8; 64];
        c[0..8].copy_from_slice(&self.capacity.to_le_bytes());
        c[12..16].copy_from_slice(&(QUEUE_SIZE as u32 - 2).to_le_bytes()); // seg_max
        c[20..24].copy_from_slice(&(SECTOR as u32).to_le_bytes()); // blk_size
        c[36..40].copy_from_slice(&(u32::MAX >> 9).to_le_bytes()); // max_discard_sectors
        c[40..44].copy_from_slice(&256u32.to_le_bytes()); // max_discard_seg
        c[44..48].copy_from_slice(&1u32.to_le_bytes()); // discard_sector_alignment
        for (i, b) in data.iter_mut().enumerate() {
            *b = c.get(offset as usize + i).copied().unwrap_or(0);
        }
    }

    fn activate(&mut self, a: Activation) -> Result<(), String> {
        self.queue = a.queues.into_iter().next();
        self.ram = Some(a.ram);
        self.interrupt = Some(a.interrupt);
        self.features = a.features;
        Ok(())
    }

    fn reset(&mut self) {
        self.queue = None;
        self.ram = None;
        self.interrupt = None;
        self.features = 0;
    }

    fn queue_notify(&mut self, q: usize) -> Result<bool, QueueBroken> {
        let (Some(ram), Some(irq)) = (self.ram.clone(), self.interrupt.clone()) else { return Ok(false) };
        let Some(mut queue) = self.queue.take().filter(|_| q == 0) else { return Ok(false) };
        let r = serve(&mut queue, &ram, &irq, |c| self.execute(&ram, c));
        self.queue = Some(queue);
        r.map(|_| false)
    }
}

/// Pops every available chain of `queue`, runs `f` on it and completes it with the length
/// `f` returns, re-enabling notifications without missing late arrivals; interrupts if the
/// driver wants to hear.
pub fn serve(
    queue: &mut Queue,
    ram: &GuestRam,
    irq: &Interrupt,
    mut f: impl FnMut(&Chain) -> u32,
) -> Result<usize, QueueBroken> {
    let mem = ram.memory();
    let broken = |msg: String| QueueBroken { queue: 0, msg };
    if !queue.ready() {
        return Ok(0);
    }
    let mut n = 0;
    loop {
        queue.disable_notification(mem).map_err(|e| broken(format!("{e:?}")))?;
        while let Some(chain) = queue.pop_descriptor_chain(mem) {
            let c = collect_chain(chain, ram);
            let len = f(&c);
            queue.add_used(mem, c.head, len).map_err(|e| broken(format!("used ring: {e:?}")))?;
            n += 1;
        }
        if !queue.enable_notification(mem).map_err(|e| broken(format!("{e:?}")))? {
            break;
        }
    }
    if n > 0 && queue.needs_notification(mem).map_err(|e| broken(format!("{e:?}")))? {
        irq.raise(INT_VRING);
    }
    Ok(n)
}

/// Reads the whole image of a block device (tests).
pub fn read_image(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let mut v = Vec::new();
    File::open(path)?.read_to_end(&mut v)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::super::testq::TestQueue;
    use super::*;
    use crate::irq::RecordingIrq;

    const F_NEXT: u16 = 1;
    const F_WRITE: u16 = 2;

    fn disk(tag: &str, snapshot: bool, readonly: bool) -> (Block, std::path::PathBuf) {
        let p = std::env::temp_dir().join(format!("remu-blk-test-{}-{tag}", std::process::id()));
        let img: Vec<u8> = (0..64 * 512u32).map(|i| (i / 512) as u8 ^ (i as u8)).collect();
        std::fs::write(&p, img).unwrap();
        let b = Block::new(&BlockConfig { path: p.clone(), readonly, snapshot, discard: true }, 0).unwrap();
        (b, p)
    }

    fn activate(b: &mut Block, tq: &TestQueue) -> Arc<RecordingIrq> {
        let irq = RecordingIrq::new();
        b.activate(Activation {
            queues: vec![tq.queue()],
            ram: tq.ram.clone(),
            interrupt: Interrupt::new(irq.clone()),
            features: super::super::F_VERSION_1 | feat::DISCARD | feat::FLUSH,
        })
        .unwrap();
        irq
    }

    /// Header at 0x10000, data at 0x20000, status at 0x30000.
    fn request(tq: &mut TestQueue, kind: u32, sector: u64, len: u32, data_flags: u16) {
        tq.ram.write_u32(0x10000, kind, Little).unwrap();
        tq.ram.write_u64(0x10008, sector, Little).unwrap();
        tq.ram.write_u8(0x30000, 0xff).unwrap();
        tq.set_desc(0, 0x10000, 16, F_NEXT, 1);
        tq.set_desc(1, 0x20000, len, F_NEXT | data_flags, 2);
        tq.set_desc(2, 0x30000, 1, F_WRITE, 0);
        tq.push(0);
    }

    fn status_byte(tq: &TestQueue) -> u8 {
        tq.ram.read_u8(0x30000).unwrap()
    }

    #[test]
    fn read_write_flush_and_interrupt() {
        let (mut b, p) = disk("rw", false, false);
        let mut tq = TestQueue::new();
        let irq = activate(&mut b, &tq);
        request(&mut tq, req::IN, 3, 1024, F_WRITE);
        b.queue_notify(0).unwrap();
        assert_eq!(tq.pop_used(), Some((0, 1025)));
        assert_eq!(status_byte(&tq), status::OK);
        let mut got = [0u8; 4];
        tq.ram.read(0x20000 + 512, &mut got).unwrap();
        assert_eq!(got, [4, 5, 6, 7], "sector 4 pattern");
        assert!(irq.level());

        tq.ram.write(0x20000, &[0xab; 512]).unwrap();
        request(&mut tq, req::OUT, 10, 512, 0);
        b.queue_notify(0).unwrap();
        assert_eq!(tq.pop_used(), Some((0, 1)));
        assert_eq!(status_byte(&tq), status::OK);
        request(&mut tq, req::FLUSH, 0, 0, 0);
        tq.set_desc(0, 0x10000, 16, F_NEXT, 2);
        b.queue_notify(0).unwrap();
        assert_eq!(tq.pop_used().map(|u| u.1), Some(1));
        let img = read_image(&p).unwrap();
        assert!(img[10 * 512..11 * 512].iter().all(|&x| x == 0xab));
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn malformed_chains_fail_and_nothing_else() {
        let (mut b, p) = disk("bad", false, false);
        let before = read_image(&p).unwrap();
        let mut tq = TestQueue::new();
        activate(&mut b, &tq);

        // Data buffer outside guest RAM.
        request(&mut tq, req::IN, 0, 512, F_WRITE);
        tq.set_desc(1, 0x7_0000_0000, 512, F_NEXT | F_WRITE, 2);
        b.queue_notify(0).unwrap();
        assert_eq!(tq.pop_used(), Some((0, 1)));
        assert_eq!(status_byte(&tq), status::IOERR);

        // Wrong direction: a read into a device-readable buffer.
        request(&mut tq, req::IN, 0, 512, 0);
        b.queue_notify(0).unwrap();
        assert_eq!(tq.pop_used(), Some((0, 1)));
        assert_eq!(status_byte(&tq), status::IOERR);

        // Wrong direction: a write from a device-writable buffer.
        request(&mut tq, req::OUT, 0, 512, F_WRITE);
        b.queue_notify(0).unwrap();
        assert_eq!(status_byte(&tq), status::IOERR);
        tq.pop_used();

        // A loop: 1 -> 2 -> 1.
        request(&mut tq, req::IN, 0, 512, F_WRITE);
        tq.set_desc(2, 0x30000, 1, F_WRITE | F_NEXT, 1);
        b.queue_notify(0).unwrap();
        assert_eq!(tq.pop_used(), Some((0, 0)), "no status can be trusted in a loop");
        assert_eq!(status_byte(&tq), 0xff, "nothing written");

        // `next` past the table.
        request(&mut tq, req::IN, 0, 512, F_WRITE);
        tq.set_desc(1, 0x20000, 512, F_WRITE | F_NEXT, 999);
        b.queue_notify(0).unwrap();
        assert_eq!(tq.pop_used(), Some((0, 0)));

        // Beyond the end of the disk, and a partial sector.
        request(&mut tq, req::IN, 63, 1024, F_WRITE);
        b.queue_notify(0).unwrap();
        assert_eq!(status_byte(&tq), status::IOERR);
        tq.pop_used();
        request(&mut tq, req::OUT, 0, 100, 0);
        b.queue_notify(0).unwrap();
        assert_eq!(status_byte(&tq), status::IOERR);
        tq.pop_used();

        // Status buffer device-readable: used length 0, nothing written.
        request(&mut tq, req::IN, 0, 512, F_WRITE);
        tq.set_desc(2, 0x30000, 1, 0, 0);
        b.queue_notify(0).unwrap();
        assert_eq!(tq.pop_used(), Some((0, 0)));
        assert_eq!(status_byte(&tq), 0xff);

        // An unknown request type.
        request(&mut tq, 77, 0, 512, F_WRITE);
        b.queue_notify(0).unwrap();
        assert_eq!(status_byte(&tq), status::UNSUPP);
        tq.pop_used();

        // And the device still works.
        request(&mut tq, req::IN, 1, 512, F_WRITE);
        b.queue_notify(0).unwrap();
        assert_eq!(tq.pop_used(), Some((0, 513)));
        assert_eq!(status_byte(&tq), status::OK);
        assert_eq!(read_image(&p).unwrap(), before, "the image is untouched");
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn snapshot_and_readonly_leave_the_file_alone() {
        let (mut b, p) = disk("snap", true, false);
        let before = read_image(&p).unwrap();
        let mut tq = TestQueue::new();
        activate(&mut b, &tq);
        tq.ram.write(0x20000, &[0x5a; 1024]).unwrap();
        request(&mut tq, req::OUT, 5, 1024, 0);
        b.queue_notify(0).unwrap();
        assert_eq!(status_byte(&tq), status::OK);
        tq.pop_used();
        // Read sectors 4..8: 4 from the image, 5 and 6 from the overlay, 7 from the image.
        request(&mut tq, req::IN, 4, 2048, F_WRITE);
        b.queue_notify(0).unwrap();
        assert_eq!(status_byte(&tq), status::OK);
        let mut got = vec![0u8; 2048];
        tq.ram.read(0x20000, &mut got).unwrap();
        assert_eq!(got[0], 4);
        assert!(got[512..1536].iter().all(|&x| x == 0x5a));
        assert_eq!(got[1536], 7);
        assert_eq!(read_image(&p).unwrap(), before);
        let _ = std::fs::remove_file(&p);

        let (mut b, p) = disk("ro", false, true);
        assert_ne!(b.features() & feat::RO, 0);
        let mut tq = TestQueue::new();
        activate(&mut b, &tq);
        request(&mut tq, req::OUT, 0, 512, 0);
        b.queue_notify(0).unwrap();
        assert_eq!(status_byte(&tq), status::IOERR);
        assert_eq!(read_image(&p).unwrap(), before);
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn discard_punches_zeros() {
        let (mut b, p) = disk("discard", false, false);
        let mut tq = TestQueue::new();
        activate(&mut b, &tq);
        // One segment: sectors 8..16.
        tq.ram.write_u64(0x20000, 8, Little).unwrap();
        tq.ram.write_u32(0x20008, 8, Little).unwrap();
        tq.ram.write_u32(0x2000c, 0, Little).unwrap();
        request(&mut tq, req::DISCARD, 0, 16, 0);
        b.queue_notify(0).unwrap();
        assert_eq!(status_byte(&tq), status::OK);
        let img = read_image(&p).unwrap();
        assert!(img[8 * 512..16 * 512].iter().all(|&x| x == 0));
        assert_eq!(img[16 * 512 + 1], 17);
        let _ = std::fs::remove_file(p);
    }
}
