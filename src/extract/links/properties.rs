//! Properties of [`analyze_link`] over generated links: the invariants of
//! every result, hosts taken from the input, proxy and archive round trips.

use proptest::prelude::*;

use super::parse::{decode_once, is_scheme};
use super::*;

fn info(raw: &str) -> LinkInfo {
    analyze_link(raw, &LinkRules::default())
}

fn label() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9]{1,8}(-[a-zA-Z0-9]{1,8})?"
}

fn hostname() -> impl Strategy<Value = String> {
    (proptest::collection::vec(label(), 1..4), "[a-zA-Z]{2,6}")
        .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
        .prop_filter("not a wrapper host", |h| {
            let h = h.to_ascii_lowercase();
            !h.contains("archive") && !h.ends_with(DEFAULT_PROXY_SUFFIXES[0])
        })
}

fn check_invariants(raw: &str, got: &LinkInfo) -> Result<(), TestCaseError> {
    prop_assert_eq!(&got.raw, raw);
    prop_assert_eq!(&got.url, &decode_once(raw));
    if got.error.is_some() {
        prop_assert!(got.host.is_none() && got.domain.is_none() && got.wrapper.is_none());
    }
    prop_assert_eq!(got.host.is_some(), got.domain.is_some());
    if let (Some(h), Some(d)) = (&got.host, &got.domain) {
        prop_assert!(!h.is_empty());
        prop_assert!(!h.ends_with('.'));
        prop_assert!(h.is_ascii(), "host {:?}", h);
        prop_assert!(!h.bytes().any(|b| b.is_ascii_uppercase()), "host {:?}", h);
        prop_assert!(host_matches_domain(h, d), "{:?} / {:?}", h, d);
    }
    if let Some(s) = &got.scheme {
        prop_assert!(is_scheme(s) && !s.bytes().any(|b| b.is_ascii_uppercase()));
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_strings(s in any::<String>()) {
        let got = info(&s);
        check_invariants(&s, &got)?;
    }

    #[test]
    fn url_like_strings(s in "(https?|HTTP|ftp|mailto|irc|news)?(:|://|//)[a-zA-Z0-9.:@\\[\\]%/?#*_-]{0,30}(/web/[0-9*a-z_]{0,16}/[a-z0-9.:/%-]{0,20})?") {
        let got = info(&s);
        check_invariants(&s, &got)?;
    }

    /// The host of a plain ASCII link is the one written in it.
    #[test]
    fn host_comes_from_the_input(
        scheme in "(http|https|HTTPS|ftp|)",
        user in "([a-z]{1,5}@)?",
        host in hostname(),
        port in "(:[0-9]{1,4})?",
        path in "(/[a-zA-Z0-9._~-]{0,10}){0,3}",
        query in "(\\?[a-z0-9=&]{0,10})?",
    ) {
        let sep = if scheme.is_empty() { "//" } else { "://" };
        let raw = format!("{scheme}{sep}{user}{host}{port}{path}{query}");
        let got = info(&raw);
        prop_assert_eq!(got.error, None);
        let h = got.host.clone().unwrap_or_default();
        prop_assert_eq!(&h, &host.to_ascii_lowercase());
        prop_assert!(raw.to_ascii_lowercase().contains(&h));
        prop_assert_eq!(got.wrapper, None);
        let d = got.domain.unwrap_or_default();
        prop_assert!(host_matches_domain(&h, &d));
    }

    /// EZproxy encoding round-trips for valid host names.
    #[test]
    fn proxy_round_trip(host in hostname(), path in "(/[a-z0-9]{0,8}){0,2}") {
        let label = host.replace('-', "--").replace('.', "-");
        // `xn-a.b` encodes as `xn--a-b`, which the proxy host itself could
        // not carry: it would have to be valid punycode.
        prop_assume!(!label.get(..4).is_some_and(|x| x.eq_ignore_ascii_case("xn--")));
        let raw = format!("https://{label}.wikipedialibrary.idm.oclc.org{path}");
        let got = info(&raw);
        prop_assert_eq!(got.host, Some(host.to_ascii_lowercase()));
        prop_assert_eq!(got.wrapper.map(|w| w.kind), Some(WrapperKind::Proxy));
    }

    /// Archived URLs resolve to the archived host, in every path form.
    #[test]
    fn archive_round_trip(
        host in hostname(),
        scheme in "(http://|https://|//|)",
        form in 0usize..5,
        path in "(/[a-z0-9]{0,8}){0,2}",
    ) {
        let target = format!("{scheme}{host}{path}");
        let raw = match form {
            0 => format!("https://web.archive.org/web/20200101000000/{target}"),
            1 => format!("https://web.archive.org/web/2020id_/{target}"),
            2 => format!("http://wayback.archive.org/2020/{target}"),
            3 => format!("https://archive.ph/20200101000000/{target}"),
            _ => format!("https://web.archive.org/web/{}", if scheme.is_empty() { format!("http://{target}") } else { target.clone() }),
        };
        let got = info(&raw);
        prop_assert_eq!(got.host, Some(host.to_ascii_lowercase()), "{}", raw);
        prop_assert_eq!(got.wrapper.map(|w| w.kind), Some(WrapperKind::Archive));
    }
}
