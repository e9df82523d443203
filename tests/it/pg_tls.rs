//! `sslmode` on PostgreSQL URLs, through the CLI (`wikiwatch dump`, which
//! opens and migrates the store) and `wikiwatch run`'s `/api/status`:
//! - disable and prefer connect to the test server;
//! - require fails with an error naming sslmode when the server does not
//!   offer TLS (a fake server that answers the TLS request with "N");
//! - with the TLS-enabled test server (scripts/with-postgres makes a CA and a
//!   server certificate when openssl is present): require, verify-ca and
//!   verify-full connect, and verify-full refuses a server whose certificate
//!   does not chain to the given root;
//! - the password never appears in errors, logs or `/api/status`.

use crate::support;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use support::{pg_database, replay, run, status, wait_for};

const SECRET: &str = "Hunter2SecretPw";

fn wikiwatch(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wikiwatch"))
        .args(args)
        .output()
        .expect("run wikiwatch")
}

/// The test database URL with a password (the test server trusts loopback,
/// so any password is accepted and none is checked) and `extra` options.
fn with_password(url: &str, extra: &str) -> String {
    let u = url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{SECRET}@"),
        1,
    );
    if extra.is_empty() {
        u
    } else {
        format!("{u}?{extra}")
    }
}

fn dump_ok(url: &str) -> bool {
    let out = wikiwatch(&["dump", "--db", url]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(SECRET), "password in stderr: {stderr}");
    if !out.status.success() {
        eprintln!("dump --db failed: {stderr}");
    }
    out.status.success()
}

#[tokio::test]
async fn disable_and_prefer_connect_and_require_names_sslmode_on_a_server_without_tls() {
    let Some(db) = pg_database().await else {
        return;
    };
    assert!(dump_ok(&with_password(&db, "sslmode=disable")));
    assert!(dump_ok(&with_password(&db, "sslmode=prefer")));
    assert!(dump_ok(&with_password(&db, "")));

    // A server that declines TLS, as a PostgreSQL built without it does.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut request = [0u8; 8];
            if s.read_exact(&mut request).is_ok() {
                let _ = s.write_all(b"N");
            }
            // Then nothing: the client must give up on its own.
        }
    });
    let url = format!("postgres://postgres:{SECRET}@127.0.0.1:{port}/x?sslmode=require");
    let out = wikiwatch(&["dump", "--db", &url]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sslmode=require"), "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");

    let out = wikiwatch(&["dump", "--db", &format!("{db}?sslmode=sometimes")]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sslmode"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn require_and_verify_modes_connect_over_tls_and_verify_checks_the_root() {
    let Some(db) = pg_database().await else {
        return;
    };
    let Ok(root) = std::env::var("WIKIWATCH_TEST_PG_ROOTCERT") else {
        eprintln!("note: the test server has no TLS (no openssl?); TLS variant skipped");
        return;
    };
    assert!(dump_ok(&with_password(&db, "sslmode=require")));
    assert!(dump_ok(&with_password(
        &db,
        &format!("sslmode=verify-ca&sslrootcert={root}")
    )));
    // The certificate names 127.0.0.1 and localhost.
    assert!(dump_ok(&with_password(
        &db,
        &format!("sslmode=verify-full&sslrootcert={root}")
    )));
    assert!(dump_ok(&with_password(
        &db.replacen("127.0.0.1", "localhost", 1),
        &format!("sslmode=verify-full&sslrootcert={root}")
    )));
    // The system's roots do not include the test CA.
    let out = wikiwatch(&["dump", "--db", &with_password(&db, "sslmode=verify-full")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sslmode=verify-full"), "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");
}

#[tokio::test]
async fn the_password_never_appears_in_status_or_logs() {
    let Some(db) = pg_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let up = replay(&["--pace", "fast"], dir.path());
    let url = with_password(&db, "sslmode=prefer&pool_max=4");
    // The app's own batch interval (200 ms), not the tests' usual 50 ms.
    let mut app = run(&up, &url, &["--batch-max-ms", "200"], dir.path());
    let s = wait_for("status", Duration::from_secs(60), || async {
        status(&app).await
    })
    .await;
    let text = s.to_string();
    assert!(text.contains("postgres"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    app.terminate();
    let log = app.log();
    assert!(!log.contains(SECRET), "password in the log: {log}");
}
