//! The spill file: the long free text of the alerts a digest keeps (descriptions, affected
//! resources, additional details), moved out of memory as they are collected and read back one
//! alert at a time when `alerts.csv` is written. A million alerts hold about half a gigabyte of
//! such text; the digest itself only sorts and groups on the short fields.
//!
//! The file is created in a folder the job may write to and unlinked at once, so it takes no
//! name on disk and disappears with the process, however the process ends. What it holds is
//! each alert's encoded details as the page parser made them (see [`super::details`]).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::model::{Detail, DetailsRef};

/// The spill file while alerts are being collected.
#[derive(Debug)]
pub struct Spill {
    writer: BufWriter<File>,
    reader: File,
    end: u64,
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
        })
    }

    /// Moves held details into the file; spilled ones stay as they are.
    pub fn put(&mut self, detail: &mut Detail) -> io::Result<()> {
        let Detail::Held(bytes) = detail else {
            return Ok(());
        };
        let len = u32::try_from(bytes.len())
            .map_err(|_| io::Error::other("the details of one alert pass 4 GiB"))?;
        self.writer.write_all(bytes)?;
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
    /// The details of an alert, from memory or from the file (into `buffer`).
    pub fn load<'a>(
        &self,
        detail: &'a Detail,
        buffer: &'a mut Vec<u8>,
    ) -> io::Result<DetailsRef<'a>> {
        load(Some(self), detail, buffer)
    }
}

/// The encoded details of an alert: borrowed when held, read from `spill` into `buffer` when
/// spilled (an error when there is no spill file to read them from).
pub fn bytes<'a>(
    spill: Option<&SpillFile>,
    detail: &'a Detail,
    buffer: &'a mut Vec<u8>,
) -> io::Result<&'a [u8]> {
    match detail {
        Detail::Held(bytes) => Ok(bytes),
        Detail::Spilled { offset, len } => {
            let spill = spill
                .ok_or_else(|| io::Error::other("alert details were spilled, but no spill file"))?;
            buffer.resize(*len as usize, 0);
            spill.file.read_exact_at(buffer, *offset)?;
            Ok(buffer)
        }
    }
}

/// The details of an alert (see [`bytes`]), read.
pub fn load<'a>(
    spill: Option<&SpillFile>,
    detail: &'a Detail,
    buffer: &'a mut Vec<u8>,
) -> io::Result<DetailsRef<'a>> {
    DetailsRef::decode(bytes(spill, detail, buffer)?)
        .ok_or_else(|| io::Error::other("the spill file does not read back"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::model::{AffectedResource, Details};

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
        let mut spilled: Vec<Detail> = (0..50).map(|n| Detail::from(&details(n))).collect();
        for d in &mut spilled {
            spill.put(d).unwrap();
            assert!(matches!(d, Detail::Spilled { .. }));
        }
        let file = spill.finish().unwrap();
        let mut buffer = Vec::new();
        for (n, d) in spilled.iter().enumerate().rev() {
            assert_eq!(file.load(d, &mut buffer).unwrap().to_details(), details(n));
        }
        let held = Detail::from(&details(3));
        assert_eq!(
            file.load(&held, &mut buffer).unwrap().to_details(),
            details(3)
        );
        assert!(load(None, &spilled[0], &mut buffer).is_err());
    }
}
