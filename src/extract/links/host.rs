//! Hosts: a normalised host name or IP address, its registrable domain by the
//! Public Suffix List, and label-boundary matching of hosts against domains.

use url::Host;

/// A normalised host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hostname {
    pub(super) name: String,
    pub(super) ip: bool,
}

impl Hostname {
    /// Whether this can be a real target rather than a stray path segment.
    pub(super) fn plausible(&self) -> bool {
        self.ip || self.name.contains('.')
    }

    /// The registrable domain: the host itself for an IP address or a public suffix.
    pub(super) fn domain(&self) -> String {
        if self.ip {
            return self.name.clone();
        }
        psl::domain_str(&self.name).unwrap_or(&self.name).to_owned()
    }
}

/// The longest host name DNS can carry (RFC 1035). Longer ones cannot
/// resolve, and keeping them out of the host and domain columns keeps every
/// index entry small (PostgreSQL refuses b-tree entries over about 2.7 kB).
pub const MAX_HOST_LEN: usize = 253;

/// `www.example.org` → `org.example.www.`
///
/// One trailing dot on the input is ignored, so `example.org.` gives the same
/// result as `example.org`.
pub fn reversed_host(host: &str) -> String {
    let host = host.strip_suffix('.').unwrap_or(host);
    let mut s = String::with_capacity(host.len() + 1);
    for label in host.rsplit('.') {
        s.push_str(label);
        s.push('.');
    }
    s
}

/// Whether `host` is `domain` or a subdomain of it, on label boundaries and
/// ignoring ASCII case and a trailing dot on either side: `apa.org` matches
/// `apa.org` and `x.apa.org`, not `iaapa.org`; `test.com` does not match
/// `test.com.evil.example`.
pub fn host_matches_domain(host: &str, domain: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).as_bytes();
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let domain = domain.strip_prefix('.').unwrap_or(domain).as_bytes();
    if domain.is_empty() || host.len() < domain.len() {
        return false;
    }
    let (head, tail) = host.split_at(host.len() - domain.len());
    tail.eq_ignore_ascii_case(domain) && (head.is_empty() || head.last() == Some(&b'.'))
}

/// Parses a bare host with the URL standard's host rules (IDNA, lower case,
/// IPv4 forms, `[IPv6]`).
pub(super) fn normalize_host(h: &str) -> Result<Option<Hostname>, String> {
    match Host::parse(h).map_err(|e| e.to_string())? {
        Host::Domain(d) => domain_name(&d),
        Host::Ipv4(a) => Ok(Some(Hostname {
            name: a.to_string(),
            ip: true,
        })),
        Host::Ipv6(a) => Ok(Some(Hostname {
            name: a.to_string(),
            ip: true,
        })),
    }
}

/// A domain host without its trailing dots; an error for an empty label.
pub(super) fn domain_name(d: &str) -> Result<Option<Hostname>, String> {
    let name = d.trim_end_matches('.');
    if name.is_empty() {
        return Err(format!("empty host {d:?}"));
    }
    // The URL standard tolerates `a..b` and `.com` (also what an ignored
    // character such as U+200B leaves behind), but no registrable domain
    // can be computed for them.
    if name.starts_with('.') || name.contains("..") {
        return Err(format!("empty label in host {d:?}"));
    }
    Ok(Some(Hostname {
        name: name.to_owned(),
        ip: false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversed_hosts() {
        assert_eq!(reversed_host("www.example.org"), "org.example.www.");
        assert_eq!(reversed_host("www.example.org."), "org.example.www.");
        assert_eq!(reversed_host("localhost"), "localhost.");
        // Label-boundary prefix matching on reversed hosts.
        let apa = reversed_host("apa.org");
        assert!(reversed_host("x.apa.org").starts_with(&apa));
        assert!(!reversed_host("iaapa.org").starts_with(&apa));
    }

    #[test]
    fn domain_matching() {
        let cases = [
            ("apa.org", "apa.org", true),
            ("x.apa.org", "apa.org", true),
            ("a.b.apa.org", "apa.org", true),
            ("iaapa.org", "apa.org", false),
            ("apa.org", "x.apa.org", false),
            ("test.com.evil.example", "test.com", false),
            ("WWW.Apa.ORG", "apa.org", true),
            ("apa.org.", "apa.org", true),
            ("x.apa.org", ".apa.org", true),
            ("apa.org", "", false),
            ("", "apa.org", false),
            ("org", "apa.org", false),
            (".apa.org", "apa.org", true),
        ];
        for (host, domain, want) in cases {
            assert_eq!(
                host_matches_domain(host, domain),
                want,
                "{host:?} {domain:?}"
            );
        }
    }
}
