//! The README's option table against `wikiwatch help run`: `--help` is the
//! single source, so every flag the table lists exists with the same
//! environment variable and default, and every flag `run` takes is in the
//! table.

use std::collections::HashMap;
use std::process::Command;

/// Per flag: its environment variable and its default, from `help run`.
fn help_options() -> HashMap<String, (Option<String>, Option<String>)> {
    let out = Command::new(env!("CARGO_BIN_EXE_wikiwatch"))
        .args(["help", "run"])
        .output()
        .expect("run wikiwatch help run");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("help is UTF-8");
    // An option is its flag line and, when clap puts the help on the next
    // lines (it does when the flags are long), the lines up to the next flag.
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in text.lines().map(str::trim_start) {
        let flag_line = line.strip_prefix("-h, ").unwrap_or(line);
        if let Some(rest) = flag_line.strip_prefix("--") {
            let flag = format!("--{}", rest.split_whitespace().next().unwrap_or_default());
            entries.push((flag, line.to_owned()));
        } else if let Some((_, help)) = entries.last_mut() {
            help.push(' ');
            help.push_str(line);
        }
    }
    let mut options = HashMap::new();
    for (flag, help) in entries {
        let bracket = |key: &str| {
            let start = help.find(&format!("[{key}: "))? + key.len() + 3;
            let end = start + help[start..].find(']')?;
            Some(help[start..end].trim_end_matches('=').to_owned())
        };
        options.insert(flag, (bracket("env"), bracket("default")));
    }
    options
}

/// Rows of the README's option table: (flags, envs, default), a row's cells
/// split at ` / ` where one row documents two flags.
fn readme_rows() -> Vec<(String, String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let table = readme
        .split("| flag | env | default | meaning |")
        .nth(1)
        .expect("the README has the option table");
    let mut rows = Vec::new();
    for line in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let [flags, envs, defaults, ..] = cells.as_slice() else {
            panic!("a short row in the option table: {line}");
        };
        let flags: Vec<&str> = flags.split(" / ").collect();
        let envs: Vec<&str> = envs.split(" / ").collect();
        let defaults: Vec<&str> = defaults.split(" / ").collect();
        let mut previous_env = String::new();
        for (i, flag) in flags.iter().enumerate() {
            let flag = flag
                .trim_matches('`')
                .split_whitespace()
                .next()
                .unwrap_or_default();
            let env = envs
                .get(i)
                .or(envs.first())
                .unwrap_or(&"")
                .trim_matches('`');
            // `WIKIWATCH_LIVE_WINDOW_SECS` / `_MAX`: the second shares the prefix.
            let env = match env.strip_prefix('_') {
                Some(suffix) => {
                    let prefix = previous_env.rsplit_once('_').map_or("", |(p, _)| p);
                    format!("{prefix}_{suffix}")
                }
                None => env.to_owned(),
            };
            previous_env = env.clone();
            let default = defaults.get(i).or(defaults.first()).unwrap_or(&"");
            rows.push((flag.to_owned(), env, default.trim_matches('`').to_owned()));
        }
    }
    rows
}

#[test]
fn readme_option_table_matches_help_run() {
    let help = help_options();
    let rows = readme_rows();
    assert!(rows.len() >= 20, "found only {} rows", rows.len());
    for (flag, env, default) in &rows {
        let Some((help_env, help_default)) = help.get(flag) else {
            panic!("the README lists {flag}, which `wikiwatch help run` does not have");
        };
        assert_eq!(
            help_env.as_deref(),
            Some(env.as_str()),
            "{flag}: environment variable"
        );
        if let Some(help_default) = help_default {
            assert_eq!(
                help_default, default,
                "{flag}: the README's default differs from --help"
            );
        }
    }
    for flag in help.keys() {
        if flag == "--help" || flag == "--config" {
            continue;
        }
        assert!(
            rows.iter().any(|(f, _, _)| f == flag),
            "`wikiwatch help run` has {flag}, which the README's table leaves out"
        );
    }
}
