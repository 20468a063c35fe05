//! Permissions of everything the log creates: directories 0700, files 0600, so another local
//! user cannot read a tenant's records from disk.
//!
//! Owns the modes; the broker creates its own directories and files through these too. Must
//! not widen a mode that exists already: only new files and directories get these modes.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Mode of every directory the data directory holds (and of itself, when Weir creates it).
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file in the data directory.
pub const FILE_MODE: u32 = 0o600;

/// `std::fs::create_dir_all`, creating each missing directory with `DIR_MODE`.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(path)
}

/// Open options that create a missing file with `FILE_MODE`.
pub fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.mode(FILE_MODE);
    options
}

/// `File::create` (write, create, truncate) with `FILE_MODE`.
pub fn create_file(path: &Path) -> io::Result<File> {
    options().write(true).create(true).truncate(true).open(path)
}
