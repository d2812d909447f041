//! The spill file: the long free text of the alerts a digest keeps (descriptions, affected
//! resources, additional details), moved out of memory as they are collected and read back one
//! alert at a time when `alerts.csv` is written. A million alerts hold about a gigabyte of such
//! text; the digest itself only sorts and groups on the short fields.
//!
//! The file is created in a folder the job may write to and unlinked at once, so it takes no
//! name on disk and disappears with the process, however the process ends.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::model::{AffectedResource, Detail, Details};

/// The spill file while alerts are being collected.
#[derive(Debug)]
pub struct Spill {
    writer: BufWriter<File>,
    reader: File,
    end: u64,
    buffer: Vec<u8>,
}

/// The spill file once written: reads details back.
#[derive(Debug)]
pub struct SpillFile {
    file: File,
}

impl Spill {
    /// An unnamed file in `dir` (created then unlinked).
    pub fn create_in(dir: &Path) -> io::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            ".csp-alert-digest-{}-{}.spill",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = dir.join(name);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        std::fs::remove_file(&path)?;
        Ok(Self {
            reader: file.try_clone()?,
            writer: BufWriter::with_capacity(256 * 1024, file),
            end: 0,
            buffer: Vec::new(),
        })
    }

    /// Moves held details into the file; spilled ones stay as they are.
    pub fn put(&mut self, detail: &mut Detail) -> io::Result<()> {
        let Detail::Held(details) = detail else {
            return Ok(());
        };
        self.buffer.clear();
        encode(details, &mut self.buffer);
        let len = u32::try_from(self.buffer.len())
            .map_err(|_| io::Error::other("the details of one alert pass 4 GiB"))?;
        self.writer.write_all(&self.buffer)?;
        *detail = Detail::Spilled {
            offset: self.end,
            len,
        };
        self.end += u64::from(len);
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.end
    }

    pub fn is_empty(&self) -> bool {
        self.end == 0
    }

    /// Flushes the writes; the file can then be read.
    pub fn finish(self) -> io::Result<SpillFile> {
        self.writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        Ok(SpillFile { file: self.reader })
    }
}

impl SpillFile {
    /// The details of an alert, from memory or from the file.
    pub fn load<'a>(&self, detail: &'a Detail) -> io::Result<Cow<'a, Details>> {
        load(Some(self), detail)
    }
}

/// The details of an alert: borrowed when held, read from `spill` when spilled (an error when
/// there is no spill file to read them from).
pub fn load<'a>(spill: Option<&SpillFile>, detail: &'a Detail) -> io::Result<Cow<'a, Details>> {
    match detail {
        Detail::Held(details) => Ok(Cow::Borrowed(details)),
        Detail::Spilled { offset, len } => {
            let spill = spill
                .ok_or_else(|| io::Error::other("alert details were spilled, but no spill file"))?;
            let mut bytes = vec![0; *len as usize];
            spill.file.read_exact_at(&mut bytes, *offset)?;
            decode(&bytes)
                .map(Cow::Owned)
                .ok_or_else(|| io::Error::other("the spill file does not read back"))
        }
    }
}

// Encoding: strings as a u32 length (little-endian) and UTF-8 bytes; an optional string as a
// 0 (absent) or 1 (present) byte first; lists and maps as a u32 count, then their items.

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

fn put_count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn encode(details: &Details, out: &mut Vec<u8>) {
    put_opt(out, details.description.as_deref());
    put_count(out, details.affected_resources.len());
    for r in &details.affected_resources {
        put_opt(out, r.resource_id.as_deref());
        put_opt(out, r.resource_type.as_deref());
    }
    put_count(out, details.additional_details.len());
    for (k, v) in &details.additional_details {
        put_str(out, k);
        put_str(out, v);
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u32(&mut self) -> Option<usize> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        usize::try_from(u32::from_le_bytes(*head)).ok()
    }

    fn str(&mut self) -> Option<String> {
        let len = self.u32()?;
        if len > self.0.len() {
            return None;
        }
        let (text, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8(text.to_vec()).ok()
    }

    #[expect(
        clippy::option_option,
        reason = "the outer None: cannot be read; the inner: an absent string"
    )]
    fn opt(&mut self) -> Option<Option<String>> {
        let (flag, rest) = self.0.split_first()?;
        self.0 = rest;
        match flag {
            0 => Some(None),
            _ => self.str().map(Some),
        }
    }
}

fn decode(bytes: &[u8]) -> Option<Details> {
    let mut r = Reader(bytes);
    let description = r.opt()?;
    let resources = r.u32()?;
    let mut affected_resources = Vec::with_capacity(resources.min(1024));
    for _ in 0..resources {
        affected_resources.push(AffectedResource {
            resource_id: r.opt()?,
            resource_type: r.opt()?,
        });
    }
    let entries = r.u32()?;
    let mut additional_details = std::collections::BTreeMap::new();
    for _ in 0..entries {
        let key = r.str()?;
        additional_details.insert(key, r.str()?);
    }
    r.0.is_empty().then_some(Details {
        description,
        affected_resources,
        additional_details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(n: usize) -> Details {
        Details {
            description: n
                .is_multiple_of(2)
                .then(|| format!("déscription {n} \u{202e}\0 😀")),
            affected_resources: (0..n % 4)
                .map(|i| AffectedResource {
                    resource_id: (i != 1).then(|| format!("/subscriptions/x/vm-{i}")),
                    resource_type: Some("Microsoft.Compute/virtualMachines".into()),
                })
                .collect(),
            additional_details: (0..n % 3)
                .map(|i| (format!("k{i}"), format!("[ \"v{i}\" ]")))
                .collect(),
        }
    }

    #[test]
    fn spilled_details_read_back_as_they_were_and_the_file_has_no_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::create_in(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut spilled: Vec<Detail> = (0..50)
            .map(|n| Detail::Held(Box::new(details(n))))
            .collect();
        for d in &mut spilled {
            spill.put(d).unwrap();
            assert!(matches!(d, Detail::Spilled { .. }));
        }
        let file = spill.finish().unwrap();
        for (n, d) in spilled.iter().enumerate().rev() {
            assert_eq!(file.load(d).unwrap().into_owned(), details(n));
        }
        let held = Detail::Held(Box::new(details(3)));
        assert!(matches!(file.load(&held).unwrap(), Cow::Borrowed(_)));
        assert!(load(None, &spilled[0]).is_err());
    }
}
