//! Writes a run's files under `<output_dir>/<digest date>/`. Each file is written to a temporary
//! name and renamed into place, so a reader (or a crashed run) never sees half a report.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The folder of one digest date.
#[derive(Debug, Clone)]
pub struct RunFolder {
    pub dir: PathBuf,
}

impl RunFolder {
    /// Creates `<output_dir>/<digest_date>/` (and `mail/` inside it) if missing.
    pub fn create(output_dir: &Path, digest_date: &str) -> anyhow::Result<Self> {
        let dir = output_dir.join(digest_date);
        std::fs::create_dir_all(dir.join("mail"))
            .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
        Ok(Self { dir })
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.dir.join("mail")
    }

    /// Writes `relative` inside the folder, atomically; returns the final path.
    pub fn write(&self, relative: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
        let path = self.dir.join(relative);
        write_atomic(&path, bytes)?;
        Ok(path)
    }

    /// Streams `relative` inside the folder through a buffered writer, atomically; returns
    /// the final path and its size.
    pub fn write_with(
        &self,
        relative: &str,
        write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
    ) -> anyhow::Result<(PathBuf, u64)> {
        let path = self.dir.join(relative);
        let size = write_atomic_with(&path, write)?;
        Ok((path, size))
    }
}

/// Writes to `<name>.tmp` beside the target, syncs it, then renames it over the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic_with(path, |out| Ok(out.write_all(bytes)?)).map(|_| ())
}

/// [`write_atomic`] for content that `write` streams (through a 256 KiB buffer); returns the
/// size written.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let file_name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let mut tmp_name = file_name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let result = (|| -> anyhow::Result<u64> {
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(&tmp)?);
        write(&mut out)?;
        let file = out
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        file.sync_all()?;
        let size = file.metadata()?.len();
        std::fs::rename(&tmp, path)?;
        // The rename is durable only once the folder itself is synced.
        if let Some(parent) = path.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
        Ok(size)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        e.context(format!("cannot write {}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_the_file_and_leave_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunFolder::create(dir.path(), "2026-11-29").unwrap();
        run.write("digest.txt", b"first").unwrap();
        let path = run.write("digest.txt", b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(&run.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "only digest.txt and mail/: {names:?}");
        assert!(run.mail_dir().is_dir());
    }

    #[test]
    fn an_unwritable_folder_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("out");
        std::fs::write(&blocker, "a file where a folder should be").unwrap();
        let err = format!(
            "{:#}",
            RunFolder::create(&blocker, "2026-11-29").unwrap_err()
        );
        assert!(err.contains("out"), "{err}");
    }
}
