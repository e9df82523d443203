//! Whether SQLite's commits still reach the files on disk. A database file
//! that was deleted or replaced, or a write-ahead log that was deleted,
//! leaves the open connection writing to files nobody will read again: its
//! commits would be reported but lost. The writer checks before each batch
//! and refuses to write (the batch is retried, and the error shows in
//! `/api/status` and `/metrics`) until the process is restarted on a sound
//! file; nothing is lost, because the position only moves with durable rows.

use std::path::{Path, PathBuf};

use super::StoreError;

/// The identity of the database file, taken when the writer opened it.
pub(super) struct FileIdentity {
    db: PathBuf,
    wal: PathBuf,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl FileIdentity {
    pub(super) fn of(db: &Path) -> Result<FileIdentity, StoreError> {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        Ok(FileIdentity {
            db: db.to_owned(),
            wal: PathBuf::from(wal),
            #[cfg(unix)]
            inode: inode(db).map_err(|e| StoreError::Open {
                url: db.display().to_string(),
                reason: e.to_string(),
            })?,
        })
    }

    /// `Ok` while the files the connection writes are still the database.
    pub(super) fn check(&self) -> Result<(), StoreError> {
        let not_durable = |what: String| StoreError::NotDurable {
            path: self.db.display().to_string(),
            problem: what,
        };
        #[cfg(unix)]
        match inode(&self.db) {
            Ok(now) if now == self.inode => {}
            Ok(_) => return Err(not_durable("the database file was replaced".into())),
            Err(e) => return Err(not_durable(format!("the database file is gone ({e})"))),
        }
        if !self.wal.exists() {
            return Err(not_durable(format!(
                "its write-ahead log {} was deleted",
                self.wal.display()
            )));
        }
        Ok(())
    }
}

#[cfg(unix)]
fn inode(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}
