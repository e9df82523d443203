//! Wrappers: library proxies (EZproxy) and web archives (Wayback Machine,
//! archive.today), recognised by host, and the target host or URL inside.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use super::host::{Hostname, normalize_host};
use super::info::{LinkRules, WrapperKind};
use super::parse::{after_authority, is_c0_or_space, is_scheme, locate, split_scheme};

const WAYBACK_HOSTS: &[&str] = &["web.archive.org", "wayback.archive.org"];

const ARCHIVE_TODAY_HOSTS: &[&str] = &[
    "archive.today",
    "archive.is",
    "archive.ph",
    "archive.li",
    "archive.vn",
    "archive.fo",
    "archive.md",
];

/// Where a wrapper points.
pub(super) enum Target<'a> {
    /// A proxy's decoded host.
    Host(String),
    /// An embedded URL.
    Url(Cow<'a, str>),
}

/// Detects a wrapper at `host` and resolves its target host.
pub(super) fn unwrap_at<'a>(
    url: &'a str,
    host: &str,
    rules: &LinkRules,
) -> Option<(WrapperKind, Target<'a>, Hostname)> {
    let (kind, target) = find_wrapper(url, host, rules)?;
    let target_host = match &target {
        Target::Host(h) => normalize_host(h).ok()??,
        Target::Url(u) => locate(u).1.ok()??,
    };
    target_host
        .plausible()
        .then_some((kind, target, target_host))
}

fn find_wrapper<'a>(
    url: &'a str,
    host: &str,
    rules: &LinkRules,
) -> Option<(WrapperKind, Target<'a>)> {
    if let Some(label) = proxy_label(host, rules) {
        if label == "login" {
            let target = ezproxy_login_target(after_authority(url))?;
            return Some((WrapperKind::Proxy, Target::Url(target)));
        }
        return Some((WrapperKind::Proxy, Target::Host(ezproxy_host(label))));
    }
    let rest = if WAYBACK_HOSTS.contains(&host) {
        wayback_target(after_authority(url))?
    } else if ARCHIVE_TODAY_HOSTS.contains(&host.strip_prefix("www.").unwrap_or(host)) {
        archive_today_target(after_authority(url))?
    } else {
        return None;
    };
    Some((WrapperKind::Archive, Target::Url(embedded_url(rest)?)))
}

/// The label just before a configured proxy suffix.
fn proxy_label<'h>(host: &'h str, rules: &LinkRules) -> Option<&'h str> {
    rules.proxy_suffixes.iter().find_map(|suffix| {
        let suffix = suffix.trim_matches('.');
        let cut = host.len().checked_sub(suffix.len() + 1)?;
        let (prefix, tail) = (host.get(..cut)?, host.get(cut..)?);
        let matches = !suffix.is_empty()
            && tail.starts_with('.')
            && tail[1..].eq_ignore_ascii_case(suffix)
            && !prefix.is_empty();
        matches.then(|| prefix.rsplit('.').next().unwrap_or(prefix))
    })
}

/// EZproxy host encoding: `-` stands for `.`, `--` for `-`.
fn ezproxy_host(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    let mut chars = label.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.next_if_eq(&'-').is_some() => out.push('-'),
            '-' => out.push('.'),
            c => out.push(c),
        }
    }
    out
}

/// `url=` takes the rest of the query verbatim (EZproxy reads it that way);
/// `qurl=` is one encoded parameter.
fn ezproxy_login_target(rest: &str) -> Option<Cow<'_, str>> {
    let query = rest.strip_prefix("/login?")?;
    let mut offset = 0;
    for param in query.split('&') {
        if param.starts_with("url=") {
            return Some(Cow::Borrowed(&query[offset + 4..]));
        }
        if let Some(v) = param.strip_prefix("qurl=") {
            return percent_decode_str(v).decode_utf8().ok();
        }
        offset += param.len() + 1;
    }
    None
}

/// The archived URL in a Wayback Machine path.
fn wayback_target(rest: &str) -> Option<&str> {
    let p = rest.strip_prefix('/')?;
    let (p, needs_timestamp) = match p.strip_prefix("web/") {
        Some(r) => (r, false),
        None => (p, true),
    };
    let (first, after) = p.split_once('/').unwrap_or((p, ""));
    let target = if is_wayback_timestamp(first) {
        after
    } else if needs_timestamp {
        return None;
    } else {
        p
    };
    // `example.com*` is a prefix search over the archive, not part of a host.
    Some(target.trim_end_matches('*'))
}

/// 1–14 digits and an optional flag (`*`, or two lower-case letters and `_`),
/// or `*` alone.
fn is_wayback_timestamp(seg: &str) -> bool {
    let digits = seg.bytes().take_while(u8::is_ascii_digit).count();
    let flag = &seg.as_bytes()[digits..];
    let flag_ok = match flag {
        [] => digits > 0,
        [b'*'] => true,
        [a, b, b'_'] => a.is_ascii_lowercase() && b.is_ascii_lowercase() && digits > 0,
        _ => false,
    };
    digits <= 14 && flag_ok
}

/// The archived URL in an archive.today path.
fn archive_today_target(rest: &str) -> Option<&str> {
    let (ts, after) = rest.strip_prefix('/')?.split_once('/')?;
    let b = ts.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let ok = match b.len() {
        14 => digits(0..14),
        // YYYY.MM.DD-HHMMSS
        17 => {
            digits(0..4)
                && b[4] == b'.'
                && digits(5..7)
                && b[7] == b'.'
                && digits(8..10)
                && b[10] == b'-'
                && digits(11..17)
        }
        _ => false,
    };
    ok.then_some(after)
}

/// An archived URL made absolute: decoded once more if its scheme's `:` is
/// still encoded, and given `http://` if it has no scheme.
fn embedded_url(s: &str) -> Option<Cow<'_, str>> {
    let s = s.trim_matches(is_c0_or_space);
    if s.is_empty() {
        return None;
    }
    let s: Cow<'_, str> = match s.split_once('%') {
        Some((scheme, tail))
            if is_scheme(scheme) && tail.get(..2).is_some_and(|h| h.eq_ignore_ascii_case("3a")) =>
        {
            percent_decode_str(s).decode_utf8().ok()?
        }
        _ => Cow::Borrowed(s),
    };
    let has_scheme = split_scheme(&s).is_some_and(|(_, rest)| rest.starts_with(['/', '\\']));
    Some(if has_scheme {
        s
    } else if s.starts_with("//") {
        Cow::Owned(format!("http:{s}"))
    } else {
        Cow::Owned(format!("http://{s}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wayback_timestamps() {
        for ts in [
            "2020",
            "20200101000000",
            "20200101000000id_",
            "2020*",
            "*",
            "1if_",
        ] {
            assert!(is_wayback_timestamp(ts), "{ts}");
        }
        for ts in [
            "",
            "id_",
            "202001010000001",
            "2020ID_",
            "2020x",
            "2020a_b",
            "http:",
        ] {
            assert!(!is_wayback_timestamp(ts), "{ts}");
        }
    }
}
