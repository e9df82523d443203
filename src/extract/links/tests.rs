//! Examples: hosts, domains and wrappers of links as they appear in the
//! stream, decoding, schemes, errors, configurable proxies, unwrapped targets.

use super::*;

fn info(raw: &str) -> LinkInfo {
    analyze_link(raw, &LinkRules::default())
}

/// (input, host, domain, wrapper (kind, host))
type Case<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<(WrapperKind, &'a str)>,
);

#[test]
fn hosts_domains_and_wrappers() {
    use WrapperKind::*;
    let tl = "wikipedialibrary.idm.oclc.org";
    let cases: &[Case] = &[
        (
            "https://test.com/testurl",
            Some("test.com"),
            Some("test.com"),
            None,
        ),
        (
            "HTTPS://TEST.COM/",
            Some("test.com"),
            Some("test.com"),
            None,
        ),
        ("//test.com/x", Some("test.com"), Some("test.com"), None),
        // The specification lists this host as `test.com`, but also says
        // `www-jstor-org` decodes to `www.jstor.org`: the decoded host keeps
        // its `www.`, and the registrable domain is `test.com`.
        (
            "https://www-test-com.wikipedialibrary.idm.oclc.org/",
            Some("www.test.com"),
            Some("test.com"),
            Some((Proxy, "www-test-com.wikipedialibrary.idm.oclc.org")),
        ),
        (
            "https://www-test-com.university.idm.oclc.org/",
            Some("www-test-com.university.idm.oclc.org"),
            Some("oclc.org"),
            None,
        ),
        (
            "https://gateway-proquest-com.wikipedialibrary.idm.oclc.org/openurl?x",
            Some("gateway.proquest.com"),
            Some("proquest.com"),
            Some((Proxy, "gateway-proquest-com.wikipedialibrary.idm.oclc.org")),
        ),
        (
            "https://www-some--site-com.wikipedialibrary.idm.oclc.org/a",
            Some("www.some-site.com"),
            Some("some-site.com"),
            Some((Proxy, "www-some--site-com.wikipedialibrary.idm.oclc.org")),
        ),
        (
            "https://WWW-JSTOR-ORG.WikipediaLibrary.idm.oclc.org/stable/1",
            Some("www.jstor.org"),
            Some("jstor.org"),
            Some((Proxy, "www-jstor-org.wikipedialibrary.idm.oclc.org")),
        ),
        // The proxy's own hosts are not wrappers.
        (
            "https://wikipedialibrary.idm.oclc.org/",
            Some(tl),
            Some("oclc.org"),
            None,
        ),
        (
            "https://login.wikipedialibrary.idm.oclc.org/menu",
            Some("login.wikipedialibrary.idm.oclc.org"),
            Some("oclc.org"),
            None,
        ),
        (
            "https://login.wikipedialibrary.idm.oclc.org/login?url=https://www.jstor.org/stable/1?a=b&c=d",
            Some("www.jstor.org"),
            Some("jstor.org"),
            Some((Proxy, "login.wikipedialibrary.idm.oclc.org")),
        ),
        (
            "https://login.wikipedialibrary.idm.oclc.org/login%3Fqurl%3Dhttps%253A%252F%252Fsearch.ebscohost.com%252Fx%26y%3D1",
            Some("search.ebscohost.com"),
            Some("ebscohost.com"),
            Some((Proxy, "login.wikipedialibrary.idm.oclc.org")),
        ),
        (
            "https://web.archive.org/web/20200101000000/https://test.com/",
            Some("test.com"),
            Some("test.com"),
            Some((Archive, "web.archive.org")),
        ),
        (
            "https://web.archive.org/web/20200101000000id_/http://www.bbc.co.uk/news",
            Some("www.bbc.co.uk"),
            Some("bbc.co.uk"),
            Some((Archive, "web.archive.org")),
        ),
        (
            "https://web.archive.org/web/2020*/example.com/x",
            Some("example.com"),
            Some("example.com"),
            Some((Archive, "web.archive.org")),
        ),
        (
            "https://web.archive.org/web/*/example.com*",
            Some("example.com"),
            Some("example.com"),
            Some((Archive, "web.archive.org")),
        ),
        (
            "https://web.archive.org/web/*/https://example.com/x",
            Some("example.com"),
            Some("example.com"),
            Some((Archive, "web.archive.org")),
        ),
        (
            "http://web.archive.org/web/https://example.com/x",
            Some("example.com"),
            Some("example.com"),
            Some((Archive, "web.archive.org")),
        ),
        (
            "https://web.archive.org/20200101000000/http://example.com/",
            Some("example.com"),
            Some("example.com"),
            Some((Archive, "web.archive.org")),
        ),
        (
            "https://wayback.archive.org/web/2016/http://sub.example.co.uk/",
            Some("sub.example.co.uk"),
            Some("example.co.uk"),
            Some((Archive, "wayback.archive.org")),
        ),
        (
            "https://web.archive.org/web/2020/example.com/x",
            Some("example.com"),
            Some("example.com"),
            Some((Archive, "web.archive.org")),
        ),
        (
            "https://web.archive.org/web/20200101000000/https%253A%252F%252Fexample.com%252Fa",
            Some("example.com"),
            Some("example.com"),
            Some((Archive, "web.archive.org")),
        ),
        (
            "https://web.archive.org/web/20200101000000/https:/example.com/a",
            Some("example.com"),
            Some("example.com"),
            Some((Archive, "web.archive.org")),
        ),
        (
            "https://web.archive.org/web/19990101000000/http://www.example.com:8080/../a",
            Some("www.example.com"),
            Some("example.com"),
            Some((Archive, "web.archive.org")),
        ),
        // Unparseable or implausible archive targets: a link to the archive.
        (
            "https://web.archive.org/web/2020/",
            Some("web.archive.org"),
            Some("archive.org"),
            None,
        ),
        (
            "https://web.archive.org/web/2020/foo",
            Some("web.archive.org"),
            Some("archive.org"),
            None,
        ),
        (
            "https://web.archive.org/web/2020/http://exa mple.com/",
            Some("web.archive.org"),
            Some("archive.org"),
            None,
        ),
        (
            "https://web.archive.org/details/foo.bar",
            Some("web.archive.org"),
            Some("archive.org"),
            None,
        ),
        (
            "https://archive.org/details/x",
            Some("archive.org"),
            Some("archive.org"),
            None,
        ),
        (
            "https://archive.ph/20230101120000/https://example.org/a",
            Some("example.org"),
            Some("example.org"),
            Some((Archive, "archive.ph")),
        ),
        (
            "http://archive.today/2019.05.01-101010/http://example.net/",
            Some("example.net"),
            Some("example.net"),
            Some((Archive, "archive.today")),
        ),
        (
            "https://www.archive.is/20230101120000/example.org",
            Some("example.org"),
            Some("example.org"),
            Some((Archive, "www.archive.is")),
        ),
        (
            "https://archive.ph/AbCdE",
            Some("archive.ph"),
            Some("archive.ph"),
            None,
        ),
        (
            "https://archive.ph/2023010112000/https://example.org/",
            Some("archive.ph"),
            Some("archive.ph"),
            None,
        ),
        // IDN, case, ports, trailing dots, IPs.
        (
            "http://xn--bcher-kva.example/",
            Some("xn--bcher-kva.example"),
            Some("xn--bcher-kva.example"),
            None,
        ),
        (
            "http://bücher.example/",
            Some("xn--bcher-kva.example"),
            Some("xn--bcher-kva.example"),
            None,
        ),
        (
            "http://b%C3%BCcher.example/",
            Some("xn--bcher-kva.example"),
            Some("xn--bcher-kva.example"),
            None,
        ),
        (
            "https://Example.COM.:8080/x",
            Some("example.com"),
            Some("example.com"),
            None,
        ),
        (
            "http://127.0.0.1:8080/",
            Some("127.0.0.1"),
            Some("127.0.0.1"),
            None,
        ),
        (
            "http://[2001:DB8:0::1]:80/",
            Some("2001:db8::1"),
            Some("2001:db8::1"),
            None,
        ),
        ("http://0x7f.1/", Some("127.0.0.1"), Some("127.0.0.1"), None),
        (
            "https://user:pw@www.Example.org/",
            Some("www.example.org"),
            Some("example.org"),
            None,
        ),
        // Public Suffix List, private section included.
        (
            "https://foo.blogspot.com/x",
            Some("foo.blogspot.com"),
            Some("foo.blogspot.com"),
            None,
        ),
        (
            "https://www.bbc.co.uk/",
            Some("www.bbc.co.uk"),
            Some("bbc.co.uk"),
            None,
        ),
        (
            "https://www.gov.uk/",
            Some("www.gov.uk"),
            Some("www.gov.uk"),
            None,
        ),
        ("https://co.uk/", Some("co.uk"), Some("co.uk"), None),
        (
            "http://localhost:8000/",
            Some("localhost"),
            Some("localhost"),
            None,
        ),
        (
            "https://a.b.example.unknowntld/",
            Some("a.b.example.unknowntld"),
            Some("example.unknowntld"),
            None,
        ),
        (
            "https://en.wikipedia.org/wiki/X",
            Some("en.wikipedia.org"),
            Some("wikipedia.org"),
            None,
        ),
        (
            "https://xn--e1afmkfd.xn--p1ai/",
            Some("xn--e1afmkfd.xn--p1ai"),
            Some("xn--e1afmkfd.xn--p1ai"),
            None,
        ),
        (
            "http://пример.рф/",
            Some("xn--e1afmkfd.xn--p1ai"),
            Some("xn--e1afmkfd.xn--p1ai"),
            None,
        ),
        // Other schemes.
        (
            "mailto:user@example.org?subject=x",
            Some("example.org"),
            Some("example.org"),
            None,
        ),
        (
            "MAILTO:a@Mail.Example.org,b@other.net",
            Some("mail.example.org"),
            Some("example.org"),
            None,
        ),
        ("mailto:?subject=x", None, None, None),
        ("mailto:nobody", None, None, None),
        (
            "xmpp:user@jabber.example.org",
            Some("jabber.example.org"),
            Some("example.org"),
            None,
        ),
        (
            "sip:alice@Atlanta.example.com:5060;transport=tcp",
            Some("atlanta.example.com"),
            Some("example.com"),
            None,
        ),
        (
            "ftp://ftp.Example.org/pub",
            Some("ftp.example.org"),
            Some("example.org"),
            None,
        ),
        ("news:comp.lang.rust", None, None, None),
        (
            "news://News.Example.org/comp.lang",
            Some("news.example.org"),
            Some("example.org"),
            None,
        ),
        (
            "irc://irc.libera.chat/#wikipedia",
            Some("irc.libera.chat"),
            Some("libera.chat"),
            None,
        ),
        (
            "IRC://Irc.Example.ORG:6667/",
            Some("irc.example.org"),
            Some("example.org"),
            None,
        ),
        (
            "ircs://bücher.example/",
            Some("xn--bcher-kva.example"),
            Some("xn--bcher-kva.example"),
            None,
        ),
        ("urn:isbn:0451450523", None, None, None),
        ("tel:+1-201-555-0123", None, None, None),
        ("geo:37.786971,-122.399677", None, None, None),
    ];
    for (input, host, domain, wrapper) in cases {
        let got = info(input);
        assert_eq!(got.error, None, "input {input:?}");
        assert_eq!(got.host.as_deref(), *host, "host of {input:?}");
        assert_eq!(got.domain.as_deref(), *domain, "domain of {input:?}");
        let w = got.wrapper.as_ref().map(|w| (w.kind, w.host.as_str()));
        assert_eq!(w, *wrapper, "wrapper of {input:?}");
    }
}

#[test]
fn decodes_once() {
    let raw =
        "https://www.jstor.org/action/doBasicSearch%3FQuery%3D%2522Tanya%2BTuzova%2522%26acc%3Don";
    let got = info(raw);
    assert_eq!(got.raw, raw);
    assert_eq!(
        got.url,
        "https://www.jstor.org/action/doBasicSearch?Query=%22Tanya+Tuzova%22&acc=on"
    );
    assert_eq!(got.host.as_deref(), Some("www.jstor.org"));
    // Without wfUrlencode's `%3F` the host would swallow the query.
    let got = info("https://example.com%3Fa%3Db");
    assert_eq!(got.url, "https://example.com?a=b");
    assert_eq!(got.host.as_deref(), Some("example.com"));
    // Invalid UTF-8 after one decode: `url` stays `raw`.
    let got = info("https://example.com/caf%E9");
    assert_eq!(got.url, "https://example.com/caf%E9");
    assert_eq!(got.host.as_deref(), Some("example.com"));
    // Proxy URLs keep their path.
    let got = info("https://gateway-proquest-com.wikipedialibrary.idm.oclc.org/openurl?x");
    assert_eq!(
        got.url,
        "https://gateway-proquest-com.wikipedialibrary.idm.oclc.org/openurl?x"
    );
}

#[test]
fn schemes() {
    let cases = [
        ("https://test.com/", Some("https")),
        ("HTTP://test.com/", Some("http")),
        ("//test.com/", None),
        ("mailto:a@b.org", Some("mailto")),
        ("news:comp.lang", Some("news")),
        ("ftp://x.org", Some("ftp")),
        (
            "https://web.archive.org/web/2020/http://example.com/",
            Some("https"),
        ),
        ("http://", Some("http")),
        ("example.com/x", None),
    ];
    for (input, scheme) in cases {
        assert_eq!(info(input).scheme.as_deref(), scheme, "{input:?}");
    }
}

#[test]
fn errors_keep_the_link() {
    let cases = [
        ("http://", "empty host"),
        ("https://exa mple.com", "\"exa mple.com\""),
        ("http://[::1", "invalid IPv6 address"),
        ("example.com/x", "no scheme"),
        ("", "no scheme"),
        ("http://./", "empty host"),
        ("mailto:a@exa mple.org", "invalid"),
        ("https://exa%20mple.com/", "\"exa mple.com\""),
        ("https://a..b/", "empty label"),
        ("https://%E2%80%8B.com/", "empty label"),
        ("https://example.com:99999/", "invalid port number"),
    ];
    for (raw, problem) in cases {
        let got = info(raw);
        let err = got.error.clone().unwrap_or_default();
        assert!(err.contains(problem), "{raw:?}: {err:?}");
        assert_eq!(got.raw, raw);
        assert_eq!(
            (got.host, got.domain, got.wrapper),
            (None, None, None),
            "{raw:?}"
        );
    }
}

#[test]
fn proxy_suffixes_are_configurable() {
    let rules = LinkRules {
        proxy_suffixes: vec![".University.idm.oclc.org".into(), String::new()],
    };
    let got = analyze_link("https://www-test-com.university.idm.oclc.org/", &rules);
    assert_eq!(got.host.as_deref(), Some("www.test.com"));
    assert_eq!(got.wrapper.map(|w| w.kind), Some(WrapperKind::Proxy));
    let got = analyze_link(
        "https://www-test-com.wikipedialibrary.idm.oclc.org/",
        &rules,
    );
    assert_eq!(got.wrapper, None);
    // An empty suffix matches nothing.
    let got = analyze_link("https://a-b.c/", &rules);
    assert_eq!(got.host.as_deref(), Some("a-b.c"));
    let none = LinkRules {
        proxy_suffixes: vec![],
    };
    let got = analyze_link("https://www-test-com.wikipedialibrary.idm.oclc.org/", &none);
    assert_eq!(got.wrapper, None);
}

#[test]
fn unwrapped_targets() {
    let rules = LinkRules::default();
    let u = unwrap_url("https://web.archive.org/web/2020/example.com/x", &rules).unwrap();
    assert_eq!(u.kind, WrapperKind::Archive);
    assert_eq!(u.wrapper_host, "web.archive.org");
    assert_eq!(u.target, "http://example.com/x");
    assert_eq!(u.target_host, "example.com");
    let u = unwrap_url(
        "https://web.archive.org/web/20200101000000id_/http://www.bbc.co.uk/news?a=1#f",
        &rules,
    )
    .unwrap();
    assert_eq!(u.target, "http://www.bbc.co.uk/news?a=1#f");
    let u = unwrap_url(
        "https://gateway-proquest-com.wikipedialibrary.idm.oclc.org/openurl?x",
        &rules,
    )
    .unwrap();
    assert_eq!(u.kind, WrapperKind::Proxy);
    assert_eq!(u.target, "https://gateway.proquest.com/openurl?x");
    assert_eq!(
        unwrap_url("https://example.com/web/2020/x.org", &rules),
        None
    );
    assert_eq!(unwrap_url("not a url", &rules), None);
}
