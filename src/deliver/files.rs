//! Writes a run's files under `<output_dir>/<digest date>/`. Each file is written to a temporary
//! name and renamed into place, so a reader (or a crashed run) never sees half a report.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Files [`RunFolder::write_many`] syncs at the same time.
const SYNCS_AT_ONCE: usize = 8;

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
        let mut paths = self.write_many(&[(relative.to_owned(), bytes)])?;
        paths.pop().context("one file was written")
    }

    /// Writes several files inside the folder, each to `<name>.tmp`, synced, then renamed
    /// over its name, syncing each folder once for all the renames into it; returns the final
    /// paths. On failure no temporary file is left.
    pub fn write_many(&self, files: &[(String, &[u8])]) -> anyhow::Result<Vec<PathBuf>> {
        let paths: Vec<PathBuf> = files.iter().map(|(name, _)| self.dir.join(name)).collect();
        let tmps: Vec<PathBuf> = paths.iter().map(|p| tmp_path(p)).collect();
        let result = (|| -> anyhow::Result<()> {
            let mut written = Vec::with_capacity(files.len());
            for ((tmp, path), (_, bytes)) in tmps.iter().zip(&paths).zip(files) {
                let mut file = std::fs::File::create(tmp)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                file.write_all(bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                written.push((file, path));
            }
            // Synced side by side: the file system commits its journal once for several. A
            // file no thread can be started for is synced here.
            let sync = |(file, path): &(std::fs::File, &PathBuf)| {
                file.sync_all()
                    .with_context(|| format!("cannot write {}", path.display()))
            };
            for group in written.chunks(SYNCS_AT_ONCE) {
                std::thread::scope(|scope| {
                    let mut syncs = Vec::with_capacity(group.len());
                    for each in group {
                        match std::thread::Builder::new().spawn_scoped(scope, move || sync(each)) {
                            Ok(handle) => syncs.push(handle),
                            Err(_) => sync(each)?,
                        }
                    }
                    syncs.into_iter().try_for_each(|handle| {
                        handle
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    })
                })?;
            }
            drop(written);
            let mut folders = Vec::new();
            for (tmp, path) in tmps.iter().zip(&paths) {
                std::fs::rename(tmp, path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                if let Some(parent) = path.parent()
                    && !folders.contains(&parent)
                {
                    folders.push(parent);
                }
            }
            for folder in folders {
                sync_folder(folder)?;
            }
            Ok(())
        })();
        result.inspect_err(|_| {
            for tmp in &tmps {
                let _ = std::fs::remove_file(tmp);
            }
        })?;
        Ok(paths)
    }

    /// [`RunFolder::write_with`] for a large file: written past the page cache where the
    /// file system allows (see [`super::direct`]).
    pub fn write_direct_with(
        &self,
        relative: &str,
        write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
    ) -> anyhow::Result<(PathBuf, u64)> {
        let path = self.dir.join(relative);
        let size = atomically(&path, |tmp| {
            let mut out = super::direct::DirectWriter::create(tmp)?;
            write(&mut out)?;
            Ok(out.finish()?.0)
        })?;
        Ok((path, size))
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

/// Writes what `write` streams (through a 256 KiB buffer) to `<name>.tmp` beside `path`, syncs
/// it, then renames it over `path`; returns the size written.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    atomically(path, |tmp| {
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(tmp)?);
        write(&mut out)?;
        Ok(out
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?)
    })
}

/// Has `make` write `<name>.tmp` beside `path` and return it, then syncs it and renames it
/// over `path`; returns the size. On failure the temporary file is removed.
fn atomically(
    path: &Path,
    make: impl FnOnce(&Path) -> anyhow::Result<std::fs::File>,
) -> anyhow::Result<u64> {
    let tmp = tmp_path(path);
    let result = (|| -> anyhow::Result<u64> {
        let file = make(&tmp)?;
        file.sync_all()?;
        let size = file.metadata()?.len();
        std::fs::rename(&tmp, path)?;
        if let Some(parent) = path.parent() {
            sync_folder(parent)?;
        }
        Ok(size)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        e.context(format!("cannot write {}", path.display()))
    })
}

/// Syncs a folder: a rename into it is durable only once the folder itself is synced.
fn sync_folder(folder: &Path) -> anyhow::Result<()> {
    std::fs::File::open(folder)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", folder.display()))
}

/// `<name>.tmp` beside `path`.
fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
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
    fn several_files_are_written_whole_and_a_failure_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunFolder::create(dir.path(), "2026-11-29").unwrap();
        let files = [
            ("digest.html".to_owned(), &b"<p>html</p>"[..]),
            ("mail/a@p.example.eml".to_owned(), &b"From: x"[..]),
        ];
        let paths = run.write_many(&files).unwrap();
        assert_eq!(
            paths,
            [
                run.dir.join("digest.html"),
                run.mail_dir().join("a@p.example.eml")
            ]
        );
        assert_eq!(std::fs::read(&paths[1]).unwrap(), b"From: x");

        // The second file cannot be written (its folder is missing): nothing half-written
        // stays, and the error names the file.
        let files = [
            ("digest.txt".to_owned(), &b"text"[..]),
            ("nowhere/b.eml".to_owned(), &b"From: y"[..]),
        ];
        let err = format!("{:#}", run.write_many(&files).unwrap_err());
        assert!(err.contains("b.eml"), "{err}");
        assert!(!run.dir.join("digest.txt.tmp").exists());
        assert!(!run.dir.join("digest.txt").exists());
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
