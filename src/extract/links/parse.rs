//! Reading a link: MediaWiki's encoding undone once, then the scheme and host
//! by the WHATWG URL standard (`url` crate), `user@host` addresses for the
//! schemes that have them, and the authority as written.

use percent_encoding::percent_decode_str;
use url::{Host, Url};

use super::host::{Hostname, domain_name, normalize_host};

/// Schemes whose address is `user@host` with no `//`.
const ADDRESS_SCHEMES: &[&str] = &["mailto", "xmpp", "sip", "sips"];

/// Schemes the URL standard parses with full host processing.
const SPECIAL_SCHEMES: &[&str] = &["http", "https", "ws", "wss", "ftp", "file"];

/// Undoes MediaWiki's `wfUrlencode` once; keeps `raw` if the result would
/// not be UTF-8.
pub(super) fn decode_once(raw: &str) -> String {
    match percent_decode_str(raw).decode_utf8() {
        Ok(s) => s.into_owned(),
        Err(_) => raw.to_owned(),
    }
}

/// Characters the URL standard strips from both ends before parsing.
pub(super) fn is_c0_or_space(c: char) -> bool {
    c <= ' '
}

/// `("HTTPS", "//x/y")` from `HTTPS://x/y`, if the text before the first `:`
/// is a syntactically valid scheme.
pub(super) fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    is_scheme(scheme).then_some((scheme, rest))
}

/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`
pub(super) fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// The scheme and host of a decoded link.
pub(super) fn locate(s: &str) -> (Option<String>, Result<Option<Hostname>, String>) {
    let t = s.trim_matches(is_c0_or_space);
    if t.starts_with("//") {
        // Protocol-relative: any special scheme gives the same host rules.
        return (None, host_of(t, Url::parse(&format!("http:{t}"))));
    }
    let Some((scheme, rest)) = split_scheme(t) else {
        return (
            None,
            Err("not an absolute URL: no scheme and no leading //".into()),
        );
    };
    let scheme = scheme.to_ascii_lowercase();
    let host = if ADDRESS_SCHEMES.contains(&scheme.as_str()) {
        address_host(rest)
    } else {
        host_of(t, Url::parse(t))
    };
    (Some(scheme), host)
}

fn host_of(link: &str, parsed: Result<Url, url::ParseError>) -> Result<Option<Hostname>, String> {
    let u = parsed.map_err(|e| parse_error(link, e))?;
    match u.host() {
        None => Ok(None),
        Some(Host::Ipv4(a)) => Ok(Some(Hostname {
            name: a.to_string(),
            ip: true,
        })),
        Some(Host::Ipv6(a)) => Ok(Some(Hostname {
            name: a.to_string(),
            ip: true,
        })),
        Some(Host::Domain("")) => Ok(None),
        Some(Host::Domain(d)) if SPECIAL_SCHEMES.contains(&u.scheme()) => domain_name(d),
        // Other schemes get an opaque host, left as written (percent-encoded,
        // any case); give it the same treatment as a web host.
        Some(Host::Domain(d)) => {
            normalize_host(d).map_err(|e| format!("cannot parse host {d:?}: {e}"))
        }
    }
    .map(|h| h.filter(|h| !h.name.is_empty()))
}

/// Names the problem and, when there is one, the authority it was found in;
/// long authorities are cut short so one bad link cannot bloat the log.
fn parse_error(link: &str, e: url::ParseError) -> String {
    let authority = split_authority(link).0;
    if authority.is_empty() {
        return format!("cannot parse URL: {e}");
    }
    let cut = authority
        .char_indices()
        .nth(100)
        .map_or(authority.len(), |(i, _)| i);
    let ellipsis = if cut < authority.len() { "…" } else { "" };
    format!("cannot parse URL: {e} in {:?}{ellipsis}", &authority[..cut])
}

/// The host of `user@host` addresses (`mailto:`, `xmpp:`, `sip:`): the first
/// address, after its last `@`, without parameters or port.
fn address_host(rest: &str) -> Result<Option<Hostname>, String> {
    let addr = rest.split(['?', ';', ',']).next().unwrap_or_default();
    let Some((_, host)) = addr.rsplit_once('@') else {
        return Ok(None);
    };
    let host = host.trim();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if !h.starts_with('[') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    if host.is_empty() {
        return Ok(None);
    }
    normalize_host(host).map_err(|e| format!("invalid host {host:?} in address: {e}"))
}

/// Everything after the authority of a hierarchical URL: path, query and
/// fragment as written, unnormalised (dot segments in an archived URL must
/// not be resolved against the archive's path).
pub(super) fn after_authority(s: &str) -> &str {
    split_authority(s).1
}

/// The authority (`user@host:port`) of a hierarchical URL and what follows it.
fn split_authority(s: &str) -> (&str, &str) {
    let t = s.trim_matches(is_c0_or_space);
    let rest = split_scheme(t).map_or(t, |(_, r)| r);
    let rest = rest.trim_start_matches(['/', '\\']);
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    rest.split_at(end)
}
