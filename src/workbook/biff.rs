//! The guard in front of every xls (OLE2/BIFF) file: what calamine's xls reader would
//! allocate, read before it does.
//!
//! calamine 0.38 trusts an xls file's numbers: it reserves `rows × columns` cells from a
//! sheet's DIMENSIONS record (a 7 KB file can so ask for 11 PB, and the process aborts), fills
//! the whole rectangle between a sheet's first and last cells (two cells at A1 and at column
//! 65535, row 65535 make 137 GB), for every sheet at once, and follows a stream's sector chain
//! until it has the stream's declared size (a chain that loops grows without end).
//! [`check_xls`] walks the compound file and the workbook stream's records itself, with every
//! offset checked, and refuses those. A file it cannot make sense of passes: calamine then
//! reports it in its own words.

use std::path::Path;

use anyhow::anyhow;

use crate::limits::Limits;

/// The BIFF8 grid: a DIMENSIONS record past it is damaged or crafted.
const GRID_CELLS: u64 = 65_536 * 256;
const END_OF_CHAIN: u32 = 0xFFFF_FFFE;

/// Refuses the xls at `path` when calamine would allocate past `limits` (or past the xls grid)
/// reading it. The file must be an OLE2 compound file no larger than `input_bytes`.
pub fn check_xls(path: &Path, limits: &Limits) -> anyhow::Result<()> {
    let reason = |r: String| anyhow!("could not read `{}`: {r}", path.display());
    let size = std::fs::metadata(path)
        .map_err(|e| reason(e.to_string()))?
        .len();
    limits
        .check("input_bytes", size)
        .map_err(|e| reason(format!("the file is {size} bytes, which {e}")))?;
    let data = std::fs::read(path).map_err(|e| reason(e.to_string()))?;
    let Some(cfb) = Compound::parse(&data) else {
        return Ok(());
    };
    let stream = cfb.stream("Workbook").or_else(|| cfb.stream("Book"));
    match stream {
        Some(Ok(stream)) => check_records(&stream, limits).map_err(reason),
        Some(Err(why)) => Err(reason(why)),
        None => Ok(()),
    }
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// An OLE2 compound file read from memory.
struct Compound<'a> {
    data: &'a [u8],
    sector: usize,
    fat: Vec<u32>,
    directory: Vec<u8>,
}

impl<'a> Compound<'a> {
    fn parse(data: &'a [u8]) -> Option<Compound<'a>> {
        let sector = match u16_at(data, 30)? {
            9 => 512,
            12 => 4096,
            _ => return None,
        };
        let sectors = data.len() / sector;
        let mut fat_sectors: Vec<u32> = (0..109).filter_map(|i| u32_at(data, 76 + 4 * i)).collect();
        let mut difat = u32_at(data, 68)?;
        // Each DIFAT sector lists FAT sectors and the next DIFAT sector; a loop ends at the
        // count of sectors in the file.
        for _ in 0..sectors {
            if difat >= END_OF_CHAIN - 4 {
                break;
            }
            let bytes = Self::sector_of(data, sector, difat)?;
            let ids: Vec<u32> = bytes
                .chunks_exact(4)
                .filter_map(|c| c.try_into().ok().map(u32::from_le_bytes))
                .collect();
            let (next, listed) = ids.split_last()?;
            fat_sectors.extend_from_slice(listed);
            difat = *next;
        }
        let count = u32_at(data, 44)? as usize;
        let mut fat = Vec::new();
        for &id in fat_sectors.iter().take(count.min(sectors)) {
            let bytes = Self::sector_of(data, sector, id)?;
            fat.extend(
                bytes
                    .chunks_exact(4)
                    .filter_map(|c| c.try_into().ok().map(u32::from_le_bytes)),
            );
        }
        let mut cfb = Compound {
            data,
            sector,
            fat,
            directory: Vec::new(),
        };
        cfb.directory = cfb.chain(u32_at(data, 48)?, usize::MAX).0;
        Some(cfb)
    }

    fn sector_of(data: &[u8], size: usize, id: u32) -> Option<&[u8]> {
        let start = (id as usize).checked_add(1)?.checked_mul(size)?;
        data.get(start..start.checked_add(size)?)
    }

    /// The bytes of the chain from `start`, at most `len`, and whether the chain loops (it is
    /// cut at as many sectors as the file has). A chain that leaves the file ends there.
    fn chain(&self, start: u32, len: usize) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut id = start;
        let mut steps = 0;
        while id != END_OF_CHAIN && out.len() < len {
            steps += 1;
            if steps > self.data.len() / self.sector + 1 {
                return (out, true);
            }
            let Some(bytes) = Self::sector_of(self.data, self.sector, id) else {
                break;
            };
            out.extend_from_slice(&bytes[..bytes.len().min(len - out.len())]);
            match self.fat.get(id as usize) {
                Some(next) => id = *next,
                None => break,
            }
        }
        (out, false)
    }

    /// The stream called `name`: `None` when there is none, `Err` when calamine would read it
    /// without end.
    fn stream(&self, name: &str) -> Option<Result<Vec<u8>, String>> {
        let entry = self.directory.chunks_exact(128).find(|e| {
            let units = u16_at(e, 64).unwrap_or(0) as usize / 2;
            let text: Vec<u16> = e[..64]
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take(units.saturating_sub(1))
                .collect();
            String::from_utf16_lossy(&text) == name
        })?;
        let start = u32_at(entry, 116)?;
        let declared = u32_at(entry, 120)? as usize;
        if declared >= 4096 {
            let (bytes, looped) = self.chain(start, declared);
            // calamine follows the chain until it has the declared size: a loop with a size
            // past the file's grows without end.
            if looped && declared > self.data.len() {
                return Some(Err(format!(
                    "the workbook stream declares {declared} bytes in a file of {} bytes and \
                     its sector chain loops; the file is damaged (open and re-save it in a \
                     spreadsheet program)",
                    self.data.len()
                )));
            }
            return Some(Ok(bytes));
        }
        // Small streams live in the mini stream, 64-byte sectors chained by the mini FAT.
        let root = self.directory.get(..128)?;
        let (mini, _) = self.chain(u32_at(root, 116)?, u32_at(root, 120)? as usize);
        let (mini_fat, _) = self.chain(u32_at(self.data, 60)?, usize::MAX);
        let mut out = Vec::new();
        let mut id = start;
        let mut steps = 0;
        while id != END_OF_CHAIN && out.len() < declared && steps <= mini.len() / 64 {
            steps += 1;
            let at = (id as usize).checked_mul(64)?;
            let Some(bytes) = mini.get(at..at + 64) else {
                break;
            };
            out.extend_from_slice(&bytes[..64.min(declared - out.len())]);
            id = u32_at(&mini_fat, id as usize * 4)?;
        }
        Some(Ok(out))
    }
}

/// Walks the BIFF records: per sheet, the DIMENSIONS record and the rectangle its cells span.
fn check_records(stream: &[u8], limits: &Limits) -> Result<(), String> {
    let mut at = 0;
    let mut sheet = 0u32;
    let mut depth = 0u32;
    let mut span: Option<(u32, u32, u32, u32)> = None;
    let mut held = 0u64;
    while let (Some(typ), Some(len)) = (u16_at(stream, at), u16_at(stream, at + 2)) {
        let body = stream.get(at + 4..at + 4 + len as usize).unwrap_or(&[]);
        at += 4 + len as usize;
        match typ {
            // FILEPASS: the records after it are encrypted; calamine says so.
            0x002F => return Ok(()),
            // BOF: the globals, then each sheet; a nested one is a chart inside a sheet.
            0x0809 => {
                depth += 1;
                if depth == 1 {
                    sheet += 1;
                    span = None;
                }
            }
            // EOF: the sheet's cells are held as one rectangle.
            0x000A => {
                if depth == 1
                    && let Some((r0, r1, c0, c1)) = span
                {
                    let area = u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1);
                    held = held.saturating_add(area);
                    let limit = limits.cells;
                    limits.check("cells", held).map_err(|e| {
                        format!(
                            "sheet {} spans rows {}-{} and columns {}-{}, so the workbook \
                                 holds more than {limit} cells, which {e}",
                            sheet - 1,
                            r0 + 1,
                            r1 + 1,
                            c0 + 1,
                            c1 + 1
                        )
                    })?;
                }
                depth = depth.saturating_sub(1);
            }
            0x0200 if depth == 1 => check_dimensions(body, sheet - 1)?,
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 | 0x00BD if depth == 1 => {
                let (Some(row), Some(col)) = (u16_at(body, 0), u16_at(body, 2)) else {
                    continue;
                };
                let last = match typ {
                    0x00BD => u16_at(body, body.len().saturating_sub(2)).unwrap_or(col),
                    _ => col,
                };
                let (row, first, last) = (u32::from(row), u32::from(col), u32::from(last));
                let (lo, hi) = (first.min(last), first.max(last));
                span = Some(match span {
                    None => (row, row, lo, hi),
                    Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(lo), c1.max(hi)),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// calamine reserves `rows × columns` cells from this record, computed as it does.
fn check_dimensions(body: &[u8], sheet: u32) -> Result<(), String> {
    let fields = match body.len() {
        10 => (0..4)
            .map(|i| u16_at(body, 2 * i).map(u32::from))
            .collect::<Option<Vec<_>>>(),
        14 | 16 => Some(vec![
            u32_at(body, 0).unwrap_or(0),
            u32_at(body, 4).unwrap_or(0),
            u16_at(body, 8).map_or(0, u32::from),
            u16_at(body, 10).map_or(0, u32::from),
        ]),
        _ => None,
    };
    let Some([rf, rl, mut cf, cl]) = fields.and_then(|f| <[u32; 4]>::try_from(f).ok()) else {
        return Ok(());
    };
    if cf > 0xFF || cl < cf {
        cf = 0;
    }
    if rl < 1 || cl < 1 {
        return Ok(());
    }
    let rows = u64::from((rl - 1).wrapping_sub(rf).wrapping_add(1));
    let cols = u64::from((cl - 1).wrapping_sub(cf).wrapping_add(1));
    if rows.saturating_mul(cols) > GRID_CELLS {
        return Err(format!(
            "sheet {sheet} declares {rows} rows by {cols} columns (its DIMENSIONS record), past \
             the xls grid of 65536 rows by 256 columns; the file is damaged (open and re-save it \
             in a spreadsheet program)"
        ));
    }
    Ok(())
}
