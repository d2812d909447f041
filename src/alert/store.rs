//! Where each alert's long free text lives: in memory, or — past the first few MiB of a large
//! digest — in a spill file, read back one alert at a time when `alerts.csv` is written and
//! the email lists an alert. A million alerts hold about half a gigabyte of such text; the
//! digest itself only sorts and groups on the short fields. Everything about the spill file
//! (when to start one, where, what to do without one) stays behind [`DetailStore`].
//!
//! The file is created in the system's temporary folder and unlinked at once, so it takes no
//! name on disk and disappears with the process, however the process ends. What it holds is
//! each alert's encoded details as the page parser made them (see [`super::details`]).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Details, DetailsRef};

/// Where an alert's details are: in memory, encoded (see [`super::details`]), or in the run's
/// spill file (see [`DetailStore`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail(Repr);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    Held(Box<[u8]>),
    /// Written to the spill file at `offset`, `len` bytes.
    Spilled {
        offset: u64,
        len: u32,
    },
}

impl Default for Detail {
    fn default() -> Self {
        Self::from(&Details::default())
    }
}

impl From<&Details> for Detail {
    fn from(details: &Details) -> Self {
        Self(Repr::Held(details.encode()))
    }
}

impl Detail {
    /// Details already encoded (see [`super::encode`]).
    pub fn encoded(bytes: Box<[u8]>) -> Self {
        Self(Repr::Held(bytes))
    }

    /// The details when they are in memory.
    pub fn held(&self) -> Option<DetailsRef<'_>> {
        match &self.0 {
            Repr::Held(bytes) => DetailsRef::decode(bytes),
            Repr::Spilled { .. } => None,
        }
    }

    /// The encoded bytes' length when they are in memory.
    fn held_len(&self) -> Option<usize> {
        match &self.0 {
            Repr::Held(bytes) => Some(bytes.len()),
            Repr::Spilled { .. } => None,
        }
    }

    /// Details said to be in a spill file that no store holds (for tests of that failure).
    #[cfg(test)]
    pub(crate) fn spilled_nowhere() -> Self {
        Self(Repr::Spilled { offset: 0, len: 9 })
    }
}

/// The long text of the alerts a digest keeps stays in memory up to this many bytes (a digest
/// of a few thousand alerts); past it, it goes to the spill file.
const HELD_DETAILS_BYTES: usize = 8 << 20;

/// The details of a run's alerts: where they are kept while alerts are collected
/// ([`DetailStore::keep`]), and read back from ([`DetailStore::load`]) once
/// [`DetailStore::seal`]ed. Without a spill file (a small digest, or no usable temporary
/// folder) everything stays in memory.
#[derive(Debug, Default)]
pub struct DetailStore {
    /// Bytes of details kept so far.
    kept: usize,
    spill: Spilling,
}

#[derive(Debug, Default)]
enum Spilling {
    /// No spill file was needed (yet).
    #[default]
    None,
    /// No spill file can be made: details stay in memory.
    Unavailable,
    Writing(Spill),
    /// A write failed; the store cannot be sealed.
    Failed(io::Error),
    Sealed(SpillFile),
}

impl DetailStore {
    /// Keeps the details of an alert the digest keeps: in memory for the first
    /// few MiB, in the spill file past them.
    pub fn keep(&mut self, detail: &mut Detail) {
        let Some(len) = detail.held_len() else {
            return;
        };
        self.kept += len;
        if self.kept <= HELD_DETAILS_BYTES {
            return;
        }
        if let Spilling::None = self.spill {
            self.spill = open_spill().map_or(Spilling::Unavailable, Spilling::Writing);
        }
        if let Spilling::Writing(file) = &mut self.spill
            && let Err(e) = file.put(detail)
        {
            self.spill = Spilling::Failed(e);
        }
    }

    /// Finishes writing: the details can then be read back. Fails when a write failed.
    pub fn seal(&mut self) -> io::Result<()> {
        match std::mem::take(&mut self.spill) {
            Spilling::Writing(file) => self.spill = Spilling::Sealed(file.finish()?),
            Spilling::Failed(e) => return Err(e),
            other => self.spill = other,
        }
        Ok(())
    }

    /// Whether any details are in the spill file.
    pub fn spilled(&self) -> bool {
        matches!(self.spill, Spilling::Writing(_) | Spilling::Sealed(_))
    }

    /// The encoded details of an alert: borrowed when held, read from the spill file into
    /// `buffer` when spilled (an error when the store holds no sealed spill file).
    pub fn bytes<'a>(&self, detail: &'a Detail, buffer: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        match &detail.0 {
            Repr::Held(bytes) => Ok(bytes),
            Repr::Spilled { offset, len } => {
                let Spilling::Sealed(spill) = &self.spill else {
                    return Err(io::Error::other(
                        "alert details were spilled, but no spill file",
                    ));
                };
                buffer.resize(*len as usize, 0);
                spill.file.read_exact_at(buffer, *offset)?;
                Ok(buffer)
            }
        }
    }

    /// The details of an alert (see [`DetailStore::bytes`]), read.
    pub fn load<'a>(
        &self,
        detail: &'a Detail,
        buffer: &'a mut Vec<u8>,
    ) -> io::Result<DetailsRef<'a>> {
        DetailsRef::decode(self.bytes(detail, buffer)?)
            .ok_or_else(|| io::Error::other("the spill file does not read back"))
    }
}

/// The spill file for alert details, in the system's temporary folder (`TMPDIR`); without
/// one (a read-only or full temporary folder) the details stay in memory.
fn open_spill() -> Option<Spill> {
    let dir = std::env::temp_dir();
    Spill::create_in(&dir)
        .map_err(|e| {
            tracing::warn!(
                folder = %dir.display(),
                error = %e,
                "cannot create a spill file; alert details stay in memory"
            );
        })
        .ok()
}

/// The spill file while alerts are being collected.
#[derive(Debug)]
struct Spill {
    writer: BufWriter<File>,
    reader: File,
    end: u64,
}

/// The spill file once written: reads details back.
#[derive(Debug)]
struct SpillFile {
    file: File,
}

impl Spill {
    /// An unnamed file in `dir` (created then unlinked).
    fn create_in(dir: &Path) -> io::Result<Self> {
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
    fn put(&mut self, detail: &mut Detail) -> io::Result<()> {
        let Repr::Held(bytes) = &detail.0 else {
            return Ok(());
        };
        let len = u32::try_from(bytes.len())
            .map_err(|_| io::Error::other("the details of one alert pass 4 GiB"))?;
        self.writer.write_all(bytes)?;
        *detail = Detail(Repr::Spilled {
            offset: self.end,
            len,
        });
        self.end += u64::from(len);
        Ok(())
    }

    /// Flushes the writes; the file can then be read.
    fn finish(self) -> io::Result<SpillFile> {
        self.writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        Ok(SpillFile { file: self.reader })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AffectedResource;

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
            assert!(matches!(d.0, Repr::Spilled { .. }));
        }
        let store = DetailStore {
            kept: 0,
            spill: Spilling::Sealed(spill.finish().unwrap()),
        };
        let mut buffer = Vec::new();
        for (n, d) in spilled.iter().enumerate().rev() {
            assert_eq!(store.load(d, &mut buffer).unwrap().to_details(), details(n));
        }
        let held = Detail::from(&details(3));
        assert_eq!(
            store.load(&held, &mut buffer).unwrap().to_details(),
            details(3)
        );
        assert!(
            DetailStore::default()
                .load(&spilled[0], &mut buffer)
                .is_err()
        );
    }
}
