//! A server the bench measures from outside: `wikiwatch replay-server` or
//! `wikiwatch run` started from this same binary as a child process, its
//! address read from the `listening on` line, its memory read from `/proc`,
//! and killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::error::BenchError;

pub(crate) struct ChildServer {
    child: Child,
    /// `HOST:PORT` it listens on.
    pub(crate) addr: String,
}

impl ChildServer {
    /// Starts `wikiwatch ARGS…` and waits (up to a minute) for its address.
    pub(crate) fn start(args: &[&str]) -> Result<ChildServer, BenchError> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| BenchError::Server("no stdout from the child".into()))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(a) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(a.trim().to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| BenchError::Server(format!("{args:?} did not start")))?;
        Ok(ChildServer { child, addr })
    }

    /// `wikiwatch run` ingesting `upstream` into `db` on a free loopback
    /// port, with text logs, then `extra`.
    pub(crate) fn run(upstream: &str, db: &str, extra: &[&str]) -> Result<ChildServer, BenchError> {
        let mut args = vec![
            "run",
            "--upstream",
            upstream,
            "--db",
            db,
            "--listen",
            "127.0.0.1:0",
            "--contact",
            "wikiwatch bench",
            "--log-format",
            "text",
        ];
        args.extend_from_slice(extra);
        ChildServer::start(&args)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, in MiB.
    pub(crate) fn rss_mib(&self) -> Option<f64> {
        proc_status_mib(self.pid(), "VmRSS:")
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proc_status_mib(pid: u32, field: &str) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
