//! Reading a file the config names, with a size limit, refusing what is not a regular file: a
//! device (`/dev/zero`), a FIFO or a folder named by mistake must fail with its key named, not
//! fill memory or wait forever for a writer (issue 18, I1).

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// The most a secret file may hold (a client secret, a password, a federated or refresh token):
/// Entra ID secrets are 40 characters and workload identity tokens about 2 KiB.
pub const SECRET_BYTES: u64 = 16 * 1024;

/// Why a file could not be read; names the config key, the file and, when it is too large,
/// the limit.
#[derive(Debug)]
pub struct ReadError {
    pub key: &'static str,
    pub path: PathBuf,
    pub problem: Problem,
}

#[derive(Debug)]
pub enum Problem {
    /// A folder, a device, a FIFO or a socket: what it is.
    NotRegular(&'static str),
    TooLarge {
        limit: u64,
    },
    NotUtf8,
    /// Kept as text, not as a `source`: the message already says it, once.
    Io(std::io::Error),
}

impl ReadError {
    /// The sentence without the key, for callers that name the key themselves.
    pub fn sentence(&self) -> String {
        let path = self.path.display();
        match &self.problem {
            Problem::NotRegular(what) => format!("{path} is not a regular file ({what})"),
            Problem::TooLarge { limit } => {
                format!(
                    "{path} is larger than {}, the most it may hold",
                    size(*limit)
                )
            }
            Problem::NotUtf8 => format!("{path} is not UTF-8 text"),
            Problem::Io(e) => format!("cannot read {path}: {e}"),
        }
    }

    /// Whether the file is simply not there (so a caller may treat it as "none yet").
    pub fn is_not_found(&self) -> bool {
        matches!(&self.problem, Problem::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.sentence())
    }
}

impl std::error::Error for ReadError {}

/// `limit` bytes in the largest whole unit: `16 KiB`, `1 GiB`, `1000 bytes`.
pub fn size(limit: u64) -> String {
    for (unit, bytes) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if limit >= bytes && limit.is_multiple_of(bytes) {
            return format!("{} {unit}", limit / bytes);
        }
    }
    format!("{limit} bytes")
}

/// The whole file at `path`, which the config names by `key`, if it is a regular file of at
/// most `limit` bytes.
pub fn read(path: &Path, key: &'static str, limit: u64) -> Result<Vec<u8>, ReadError> {
    let fail = |problem| ReadError {
        key,
        path: path.to_path_buf(),
        problem,
    };
    let file = open(path).map_err(&fail)?;
    let len = file.metadata().map_err(|e| fail(Problem::Io(e)))?.len();
    if len > limit {
        return Err(fail(Problem::TooLarge { limit }));
    }
    // The size is a hint only: the file may grow while it is read, so the read itself stops
    // one byte past the limit. With the capacity right, this is as fast as `fs::read`.
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(len).unwrap_or(0))
        .map_err(|e| fail(Problem::Io(std::io::Error::other(e))))?;
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| fail(Problem::Io(e)))?;
    if bytes.len() as u64 > limit {
        return Err(fail(Problem::TooLarge { limit }));
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, key: &'static str, limit: u64) -> Result<String, ReadError> {
    let bytes = read(path, key, limit)?;
    String::from_utf8(bytes).map_err(|_| ReadError {
        key,
        path: path.to_path_buf(),
        problem: Problem::NotUtf8,
    })
}

/// Checks, without reading it, that `path` is a regular file within `limit`: for a file read
/// again later (a federated token is read for every token request).
pub fn check(path: &Path, key: &'static str, limit: u64) -> Result<(), ReadError> {
    read(path, key, limit).map(drop)
}

/// Opens a regular file for reading. Looked at before opening, since opening a FIFO waits for a
/// writer; opened without blocking and looked at again, in case it was swapped in between.
fn open(path: &Path) -> Result<File, Problem> {
    let kind = |meta: &std::fs::Metadata| -> Option<&'static str> {
        let t = meta.file_type();
        if t.is_file() {
            None
        } else if t.is_dir() {
            Some("a folder")
        } else if t.is_fifo() {
            Some("a FIFO")
        } else if t.is_char_device() || t.is_block_device() {
            Some("a device")
        } else if t.is_socket() {
            Some("a socket")
        } else {
            Some("not a file")
        }
    };
    let meta = std::fs::metadata(path).map_err(Problem::Io)?;
    if let Some(what) = kind(&meta) {
        return Err(Problem::NotRegular(what));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(Problem::Io)?;
    let meta = file.metadata().map_err(Problem::Io)?;
    match kind(&meta) {
        Some(what) => Err(Problem::NotRegular(what)),
        None => Ok(file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_a_folder_and_a_fifo_are_refused_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        for (path, what) in [
            (Path::new("/dev/zero"), "a device"),
            (dir.path(), "a folder"),
            (fifo.as_path(), "a FIFO"),
        ] {
            let e = read(path, "source.path", 10).unwrap_err().to_string();
            assert!(
                e.starts_with("source.path: ")
                    && e.contains("is not a regular file")
                    && e.contains(what),
                "{e}"
            );
        }
    }

    #[test]
    fn a_file_at_the_limit_is_read_and_one_byte_more_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, vec![b'x'; 1024]).unwrap();
        assert_eq!(read(&path, "k", 1024).unwrap().len(), 1024);
        let e = read(&path, "k", 1023).unwrap_err().to_string();
        assert!(e.contains("larger than 1023 bytes"), "{e}");
        assert_eq!(size(16 * 1024), "16 KiB");
        assert_eq!(size(1 << 30), "1 GiB");
    }

    #[test]
    fn a_missing_file_says_so_once() {
        let e = read(Path::new("/nonexistent/x"), "k", 1).unwrap_err();
        assert!(e.is_not_found());
        let text = format!("{:#}", anyhow::Error::new(e));
        assert_eq!(text.matches("No such file").count(), 1, "{text}");
    }
}
