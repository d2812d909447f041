//! Writes a run's files. A day's files are written into a fresh, hidden staging folder
//! (`<output_dir>/.<name>.staging-<pid>-<n>/`, owner-only) and switched in as
//! `<output_dir>/<name>/` with one rename, so the day's folder is always wholly the old one or
//! wholly the new one; the old one is kept until the caller says the ledger has committed.
//! Each file inside is written to a temporary file created under a unique name (`O_EXCL`,
//! `O_NOFOLLOW`, mode 0600) and renamed into place, so a reader (or a crashed run) never sees
//! half a report, two runs never share a temporary file, and no link placed in the folder is
//! ever followed.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;

use crate::owner_only::{create_dir, create_dirs, create_temp};

/// Files [`RunFolder::write_many`] syncs at the same time.
const SYNCS_AT_ONCE: usize = 8;

/// The folder of one digest date (or of a dry run).
#[derive(Debug)]
pub struct RunFolder {
    /// Where the files are written now: the staging folder until [`RunFolder::switch_in`].
    pub dir: PathBuf,
    /// Where they are once switched in: `<output_dir>/<name>/`.
    final_dir: PathBuf,
    /// Whether `dir` is a staging folder of this run (removed when dropped unswitched).
    staged: bool,
}

/// A staging folder switched in. The previous folder of the same name, if any, waits under
/// the staging name until [`Switched::keep`] removes it or [`Switched::undo`] puts it back.
#[derive(Debug)]
#[must_use = "keep() removes the old folder once the ledger has committed; undo() restores it"]
pub struct Switched {
    final_dir: PathBuf,
    /// The old folder's contents, at the staging folder's name.
    old: Option<PathBuf>,
}

impl RunFolder {
    /// `<output_dir>/<name>/` (and `mail/` inside it), created if missing and written in
    /// place: for callers that need no switch (tests, tools).
    pub fn create(output_dir: &Path, name: &str) -> anyhow::Result<Self> {
        let dir = output_dir.join(name);
        create_dirs(&dir.join("mail"))
            .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
        Ok(Self {
            final_dir: dir.clone(),
            dir,
            staged: false,
        })
    }

    /// A fresh staging folder for `<output_dir>/<name>/`, with `mail/` inside; removed again
    /// if dropped before [`RunFolder::switch_in`].
    pub fn stage(output_dir: &Path, name: &str) -> anyhow::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        create_dirs(output_dir)
            .with_context(|| format!("cannot create the output folder {}", output_dir.display()))?;
        let final_dir = output_dir.join(name);
        loop {
            let dir = output_dir.join(format!(
                "{}{}-{}",
                staging_prefix(name),
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            // Not recursive: the folder must be new (a name that exists, a link included, is
            // skipped).
            match create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(anyhow::Error::new(e).context(format!(
                        "cannot create a staging folder in {}",
                        output_dir.display()
                    )));
                }
            }
            let folder = Self {
                dir,
                final_dir,
                staged: true,
            };
            create_dir(&folder.dir.join("mail"))
                .with_context(|| format!("cannot create {}", folder.dir.display()))?;
            return Ok(folder);
        }
    }

    /// Removes what crashed runs left: staging folders of `name` (and the old folders they
    /// switched out). Only for a caller that holds the state's lock, so no other run of the
    /// same name is staging now.
    pub fn remove_leftovers(output_dir: &Path, name: &str) {
        let prefix = staging_prefix(name);
        let Ok(entries) = std::fs::read_dir(output_dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
            {
                remove_any(&entry.path());
            }
        }
    }

    /// `<output_dir>/<name>/`: where the files are once switched in.
    pub fn final_dir(&self) -> &Path {
        &self.final_dir
    }

    /// The `mail/` folder, as it is named once switched in.
    pub fn mail_dir(&self) -> PathBuf {
        self.final_dir.join("mail")
    }

    /// Switches the staging folder in as `<output_dir>/<name>/` with one rename: exchanged
    /// with the folder of that name if there is one (whatever it is: a link is never
    /// followed), else renamed to it. Then syncs `output_dir`.
    pub fn switch_in(mut self) -> anyhow::Result<Switched> {
        let result = if self.staged {
            exchange_or_rename(&self.dir, &self.final_dir)
        } else {
            Ok(false)
        };
        let exchanged = result.with_context(|| {
            format!(
                "cannot switch the new files in as {}",
                self.final_dir.display()
            )
        })?;
        // From here on the staging name holds the old folder, if any: not ours to remove.
        self.staged = false;
        if let Some(parent) = self.final_dir.parent() {
            sync_folder(parent)?;
        }
        Ok(Switched {
            final_dir: self.final_dir.clone(),
            old: exchanged.then(|| self.dir.clone()),
        })
    }

    /// Writes `relative` inside the folder, atomically; returns its path once switched in.
    pub fn write(&self, relative: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
        let mut paths = self.write_many(&[(relative.to_owned(), bytes)])?;
        paths.pop().context("one file was written")
    }

    /// Writes several files inside the folder, each to a temporary file of its own, synced,
    /// then renamed over its name, syncing each folder once for all the renames into it;
    /// returns their paths once switched in. On failure no temporary file is left.
    pub fn write_many(&self, files: &[(String, &[u8])]) -> anyhow::Result<Vec<PathBuf>> {
        let paths: Vec<PathBuf> = files.iter().map(|(name, _)| self.dir.join(name)).collect();
        let mut tmps: Vec<PathBuf> = Vec::with_capacity(files.len());
        let result = (|| -> anyhow::Result<()> {
            let mut written = Vec::with_capacity(files.len());
            for (path, (_, bytes)) in paths.iter().zip(files) {
                let (mut file, tmp) = create_temp(path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                tmps.push(tmp);
                file.write_all(bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                written.push((file, path));
            }
            // Synced side by side: the file system commits its journal once for several. A
            // file no thread can be started for is synced here.
            let sync = |(file, path): &(File, &PathBuf)| {
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
        Ok(files
            .iter()
            .map(|(name, _)| self.final_dir.join(name))
            .collect())
    }

    /// [`RunFolder::write_with`] for a large file: written past the page cache where the
    /// file system allows (see [`super::direct`]).
    pub fn write_direct_with(
        &self,
        relative: &str,
        write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
    ) -> anyhow::Result<(PathBuf, u64)> {
        let size = atomically(&self.dir.join(relative), |_, tmp| {
            let mut out = super::direct::DirectWriter::create(tmp)?;
            write(&mut out)?;
            Ok(out.finish()?.0)
        })?;
        Ok((self.final_dir.join(relative), size))
    }

    /// Streams `relative` inside the folder through a buffered writer, atomically; returns
    /// its path once switched in and its size.
    pub fn write_with(
        &self,
        relative: &str,
        write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
    ) -> anyhow::Result<(PathBuf, u64)> {
        let size = write_atomic_with(&self.dir.join(relative), write)?;
        Ok((self.final_dir.join(relative), size))
    }
}

impl Drop for RunFolder {
    /// A staging folder never switched in (the run failed) goes: nothing half-made stays
    /// where it could pass for a day's folder.
    fn drop(&mut self) {
        if self.staged {
            remove_any(&self.dir);
        }
    }
}

impl Switched {
    /// The ledger has committed: the old folder is no longer needed.
    pub fn keep(self) {
        if let Some(old) = &self.old {
            remove_any(old);
        }
    }

    /// The ledger could not commit: the old folder goes back (the new one is removed); with
    /// no old folder, the new one is removed.
    pub fn undo(self) -> anyhow::Result<()> {
        match &self.old {
            Some(old) => {
                exchange_or_rename(old, &self.final_dir).with_context(|| {
                    format!("cannot put the earlier {} back", self.final_dir.display())
                })?;
                remove_any(old);
            }
            None => remove_any(&self.final_dir),
        }
        Ok(())
    }
}

/// `.<name>.staging-`: hidden, and never mistaken for a day's folder.
fn staging_prefix(name: &str) -> String {
    format!(".{name}.staging-")
}

/// Renames `from` to `to` if `to` does not exist (false), else exchanges the two in one step
/// (true). Where the file system cannot exchange, `to` is first moved aside to `from`'s name
/// after `from` has been moved to a name beside it — two renames, the only window in which
/// `to` is briefly missing.
fn exchange_or_rename(from: &Path, to: &Path) -> std::io::Result<bool> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(false),
            Err(e) if e == rustix::io::Errno::EXIST => {
                match renameat_with(CWD, from, CWD, to, RenameFlags::EXCHANGE) {
                    Ok(()) => return Ok(true),
                    Err(e) if e != rustix::io::Errno::INVAL && e != rustix::io::Errno::NOSYS => {
                        return Err(e.into());
                    }
                    Err(_) => {}
                }
            }
            Err(e) if e != rustix::io::Errno::INVAL && e != rustix::io::Errno::NOSYS => {
                return Err(e.into());
            }
            Err(_) => {}
        }
    }
    // Without renameat2: move `to` out of the way, then `from` in.
    match std::fs::symlink_metadata(to) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::rename(from, to)?;
            Ok(false)
        }
        Err(e) => Err(e),
        Ok(_) => {
            let mut aside = from.as_os_str().to_owned();
            aside.push(".new");
            let aside = PathBuf::from(aside);
            std::fs::rename(from, &aside)?;
            std::fs::rename(to, from)?;
            std::fs::rename(&aside, to)?;
            Ok(true)
        }
    }
}

/// Removes a folder tree, a file or a link (never following it), best effort: what is left
/// is hidden under a staging name, and the next run removes it.
fn remove_any(path: &Path) {
    let removed = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => return,
    };
    if let Err(e) = removed {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove a leftover folder; the next run tries again");
    }
}

/// Writes what `write` streams (through a 256 KiB buffer) to a new temporary file beside
/// `path`, syncs it, then renames it over `path`; returns the size written.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    atomically(path, |file, _| {
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
        write(&mut out)?;
        Ok(out
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?)
    })
}

/// Creates a new temporary file beside `path` and has `make` fill it (through the handle, or
/// by opening the path again) and return a handle to it; then syncs it and renames it over
/// `path`; returns the size. On failure the temporary file is removed.
fn atomically(
    path: &Path,
    make: impl FnOnce(File, &Path) -> anyhow::Result<File>,
) -> anyhow::Result<u64> {
    let (file, tmp) =
        create_temp(path).with_context(|| format!("cannot write {}", path.display()))?;
    let result = (|| -> anyhow::Result<u64> {
        let file = make(file, &tmp)?;
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

/// Reads the `.eml` a pending delivery sends from, and checks that it is the message the
/// ledger recorded: its `Message-ID` header is `message_id`. A file that is another message
/// (a crash between switching a forced run's folder in and the ledger's commit leaves the new
/// messages beside the old record) is never sent in its place.
pub fn read_message(path: &Path, message_id: &str) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let head_end = memchr::memmem::find(&bytes, b"\r\n\r\n").unwrap_or(bytes.len());
    // The header, unfolded (a long header continues on lines that start with white space).
    let head = String::from_utf8_lossy(&bytes[..head_end]).replace("\r\n", "\n");
    let head = head.replace("\n ", " ").replace("\n\t", " ");
    let found = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("message-id")
            .then(|| value.trim().to_owned())
    });
    match found {
        Some(found) if found == message_id => Ok(bytes),
        found => anyhow::bail!(
            "{} is not the message the ledger recorded (Message-ID {} instead of {message_id})",
            path.display(),
            found.as_deref().unwrap_or("missing")
        ),
    }
}

/// Syncs a folder: a rename into it is durable only once the folder itself is synced.
fn sync_folder(folder: &Path) -> anyhow::Result<()> {
    File::open(folder)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", folder.display()))
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
        let left: Vec<_> = std::fs::read_dir(&run.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
        assert!(!run.dir.join("digest.txt").exists());
    }

    #[test]
    fn a_message_is_read_only_if_it_carries_the_recorded_message_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.eml");
        let message =
            b"From: x\r\nMessage-ID: <digest.2026-11-29.1@p.example>\r\n\r\nMessage-ID: <body>\r\n";
        std::fs::write(&path, message).unwrap();
        assert_eq!(
            read_message(&path, "<digest.2026-11-29.1@p.example>").unwrap(),
            message
        );
        let err = format!(
            "{:#}",
            read_message(&path, "<digest.2026-11-29.g1.1@p.example>").unwrap_err()
        );
        assert!(
            err.contains("not the message") && err.contains("a.eml"),
            "{err}"
        );
        // Folded over two lines, as a long header may be.
        std::fs::write(
            &path,
            b"From: x\r\nMessage-ID:\r\n <long@p.example>\r\n\r\nbody",
        )
        .unwrap();
        assert!(read_message(&path, "<long@p.example>").is_ok());
        // A Message-ID in the body does not count.
        std::fs::write(&path, b"From: x\r\n\r\nMessage-ID: <body>\r\n").unwrap();
        assert!(read_message(&path, "<body>").is_err());
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
