//! External links: which site a link points at.
//!
//! The page-links-change stream reports each external link added to or
//! removed from a page. wikiwatch logs them by host and by registrable domain
//! so that "every link to jstor.org" is one query, whether the link was
//! written as `http://www.jstor.org/…`, reached through a library proxy, or
//! archived by the Wayback Machine.
//!
//! # Fields of [`LinkInfo`]
//!
//! - `raw`: the link exactly as the stream delivered it. MediaWiki
//!   percent-encodes links with `wfUrlencode` before sending them, so `?`,
//!   `=`, `&`, `%` and non-ASCII characters arrive encoded.
//! - `url`: `raw` percent-decoded **once**, which undoes `wfUrlencode`:
//!   `…doBasicSearch%3FQuery%3D%2522Tanya%2BTuzova%2522` becomes
//!   `…doBasicSearch?Query=%22Tanya+Tuzova%22`. It is never decoded twice, and
//!   `+` stays `+`. If decoding would produce invalid UTF-8 (the link was not
//!   really `wfUrlencode`d), `url` is `raw` unchanged rather than a lossy copy.
//! - `scheme`: the scheme in lower case (`https`, `mailto`, `ftp`, `news`, …).
//!   Protocol-relative links (`//host/path`) have no scheme: `None`, but their
//!   host is still extracted. For wrapped links it is the scheme of the
//!   wrapper URL as written. It is filled in even when the rest of the link
//!   cannot be parsed, whenever a scheme can be recognised.
//! - `host`: the host of the **effective target** (for a wrapped link, the
//!   archived or proxied site), in ASCII lower case, internationalised names
//!   in punycode (`bücher.example` → `xn--bcher-kva.example`), without port,
//!   user info or trailing dot. IPv4 addresses are dotted decimal (WHATWG URL
//!   rules also turn `0x7f.1` into `127.0.0.1`); IPv6 addresses are written
//!   **without brackets** in the compressed form (`[2001:DB8:0::1]` →
//!   `2001:db8::1`). For `mailto:`, `xmpp:`, `sip:` and `sips:` the host is
//!   the domain of the first address (`mailto:user@example.org?subject=x` →
//!   `example.org`). Links with no host (`news:comp.lang.rust`,
//!   `mailto:?subject=x`) have `None` and no error.
//! - `domain`: the registrable domain of `host` by the Public Suffix List,
//!   private section included (`foo.blogspot.com` stays whole,
//!   `www.bbc.co.uk` → `bbc.co.uk`, `www.gov.uk` stays whole because `gov.uk`
//!   is a suffix). An unknown top-level domain counts as a suffix of one label
//!   (the list's default `*` rule). An IP address, or a host that is itself a
//!   public suffix (`co.uk`, `localhost`), is its own domain.
//! - `wrapper`: set when the link goes through a library proxy or a web
//!   archive (below); its `host` is the wrapper's own host.
//! - `error`: why the link could not be parsed (`http://`, `https://exa
//!   mple.com`, `http://[::1`, a port above 65535, a link with neither a
//!   scheme nor a leading `//`, a host with an empty label such as `a..b`).
//!   The link is still kept, with `raw`, `url` and `scheme` where one is
//!   recognisable, and `host`/`domain` are `None`. Parsing follows the WHATWG
//!   URL standard (the `url` crate), so what browsers accept is accepted.
//!
//! # Wrappers
//!
//! **Library proxies** (EZproxy, as used by The Wikipedia Library): a host
//! ending in `.` + one of [`LinkRules::proxy_suffixes`] (by default
//! `wikipedialibrary.idm.oclc.org`). The label just before the suffix is the
//! target host with `.` written as `-` and a literal `-` written as `--`:
//! `www-jstor-org.wikipedialibrary.idm.oclc.org` → `www.jstor.org`,
//! `www-some--site-com` → `www.some-site.com`. EZproxy's starting-point form
//! `login.<suffix>/login?url=<target>` (or `qurl=<encoded target>`) is
//! unwrapped too. The same OCLC host under another institution's suffix
//! (`university.idm.oclc.org`) is not a proxy unless configured.
//!
//! **Web archives**: the Wayback Machine (`web.archive.org`,
//! `wayback.archive.org`) as `/web/<timestamp>[flag]/<url>`, `/web/<url>`
//! and `/<timestamp>[flag]/<url>`, where the timestamp is 1 to 14 digits and
//! the flag is `*` or two lower-case letters and `_` (`id_`, `if_`, `im_`,
//! …), and a trailing `*` (a prefix search, `/web/*/example.com*`) is not
//! part of the target; and archive.today (`archive.today`, `.is`, `.ph`,
//! `.li`, `.vn`, `.fo`, `.md`, with or without `www.`) as `/<timestamp>/<url>`,
//! where the timestamp is 14 digits or `YYYY.MM.DD-HHMMSS`. The archived URL may lack a scheme
//! (`example.com/x` is read as `http://example.com/x`) or be percent-encoded
//! once more (`https%3A%2F%2Fexample.com`), which is then decoded once.
//!
//! Only one level is unwrapped. A wrapper whose target cannot be parsed, or
//! whose target host is neither an IP address nor a name with a dot (so
//! `web.archive.org/web/2020/foo` or the EZproxy login host itself), is
//! treated as an ordinary link to the wrapper: `host` and `domain` are the
//! wrapper's, `wrapper` is `None`, and there is no error.
//! [`unwrap_url`] exposes the target URL itself.
//!
//! # Matching hosts
//!
//! Filters match on label boundaries, never on raw string suffixes:
//! `apa.org` matches `apa.org` and `x.apa.org` but not `iaapa.org`
//! ([`host_matches_domain`]). [`reversed_host`] writes a host right to left
//! (`org.example.www.`) so that a label-boundary match becomes a prefix
//! match, which an index can serve.

mod host;
mod info;
mod parse;
mod wrappers;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

pub use host::{MAX_HOST_LEN, host_matches_domain, reversed_host};
pub use info::{DEFAULT_PROXY_SUFFIXES, LinkInfo, LinkRules, Unwrapped, Wrapper, WrapperKind};

use parse::{after_authority, decode_once, locate};
use wrappers::{Target, unwrap_at};

/// Analyses one external link as delivered by page-links-change.
pub fn analyze_link(raw: &str, rules: &LinkRules) -> LinkInfo {
    let url = decode_once(raw);
    let (scheme, located) = locate(&url);
    let mut info = LinkInfo {
        raw: raw.to_owned(),
        url: String::new(),
        scheme,
        host: None,
        domain: None,
        wrapper: None,
        error: None,
    };
    match located {
        Err(e) => info.error = Some(e),
        Ok(None) => {}
        Ok(Some(host)) if host.name.len() > MAX_HOST_LEN => {
            info.error = Some(format!(
                "host of {} characters: DNS allows at most {MAX_HOST_LEN}",
                host.name.len()
            ));
        }
        Ok(Some(mut host)) => {
            if let Some((kind, _, target)) = unwrap_at(&url, &host.name, rules)
                && target.name.len() <= MAX_HOST_LEN
            {
                let outer = std::mem::replace(&mut host, target);
                info.wrapper = Some(Wrapper {
                    kind,
                    host: outer.name,
                });
            }
            info.domain = Some(host.domain());
            info.host = Some(host.name);
        }
    }
    info.url = url;
    info
}

/// The site behind a proxy or archive URL. `url` is a decoded link
/// ([`LinkInfo::url`]). `None` when it is not a wrapper or its target cannot
/// be parsed.
pub fn unwrap_url(url: &str, rules: &LinkRules) -> Option<Unwrapped> {
    let (scheme, located) = locate(url);
    let host = located.ok()??;
    let (kind, target, target_host) = unwrap_at(url, &host.name, rules)?;
    let target = match target {
        Target::Url(u) => u.into_owned(),
        Target::Host(_) => {
            let scheme = scheme.as_deref().unwrap_or("https");
            format!("{scheme}://{}{}", target_host.name, after_authority(url))
        }
    };
    Some(Unwrapped {
        kind,
        wrapper_host: host.name,
        target,
        target_host: target_host.name,
    })
}
