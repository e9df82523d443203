//! Shared helpers for the black-box tests: run the `wikiwatch` binary as a
//! child process, read the address it prints, poll its HTTP endpoints; the
//! fixture and artifact paths. Everything is re-exported here, so tests say
//! `support::NAME`.

#![allow(dead_code)]

mod browser;
mod launch;
mod pg;
mod poll;
mod process;

pub use browser::*;
pub use launch::*;
pub use pg::*;
pub use poll::*;
pub use process::*;

use std::path::{Path, PathBuf};

/// The bundled recordings (`fixtures/` at the top of the repository).
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A file of the test-only fixtures (`tests/fixtures/NAME`), as a path string.
pub fn test_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// `target/test-artifacts/` (screenshots, downloads), created if missing.
pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir
}
