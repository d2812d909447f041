//! Files and folders that hold customer data or secrets (reports, messages, the ledger, the
//! sign-in store): owner-only — files 0600, folders 0700, whatever the umask — and never opened
//! through a link placed where they go. Proved through its callers: `tests/e2e/binary/hardening.rs`
//! (a run under `umask 000`, links planted at the day's folder and the old temporary names, six
//! dry runs at once) and the sign-in store's tests in `source/graph/signin.rs`.

use std::fs::{DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The mode of every file the job creates.
pub const FILE_MODE: u32 = 0o600;
/// The mode of every folder the job creates.
pub const DIR_MODE: u32 = 0o700;

/// Options for a file of ours: writable, 0600 when created, `O_NOFOLLOW` (a link at the path
/// is an error, never followed). Add `create`, `create_new`, `truncate` or `read` as needed.
pub fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options
        .write(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    options
}

/// Creates a folder and its missing parents, 0700.
pub fn create_dirs(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Creates one new folder, 0700: an existing name (a link included) is an error.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new().mode(DIR_MODE).create(dir)
}

/// Creates a new temporary file beside `path` under a name no other process or thread uses
/// (`.<name>.<pid>.<n>.tmp`), exclusively (`O_EXCL`: an existing file or link there is never
/// opened); returns it and its path, to rename over `path` once written.
pub fn create_temp(path: &Path) -> std::io::Result<(File, PathBuf)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    loop {
        let tmp = path.with_file_name(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        match options().create_new(true).open(&tmp) {
            Ok(file) => return Ok((file, tmp)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
}
