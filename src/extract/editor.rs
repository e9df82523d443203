//! Editor kind: who made an edit, judged from the user name alone.
//!
//! - [`EditorKind::Ip`]: the name is an IPv4 or IPv6 address, as MediaWiki
//!   records logged-out edits on wikis without temporary accounts. IPv6 is
//!   matched in any letter case (MediaWiki writes it in upper case, e.g.
//!   `2001:558:6045:A3:E1A1:5BB4:B0B6:E2D9`).
//! - [`EditorKind::Temp`]: a temporary account, which replaced IP editing on
//!   Wikimedia wikis from 2024–2025. Their names are `~`, a four-digit year,
//!   `-`, digits, `-`, digits: `~2025-12345-67`, `~2025-1-1`. Only ASCII digits
//!   count, and nothing may follow.
//! - [`EditorKind::Named`]: everything else, including bots.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EditorKind {
    Ip,
    Temp,
    Named,
}

impl EditorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EditorKind::Ip => "ip",
            EditorKind::Temp => "temp",
            EditorKind::Named => "named",
        }
    }
}

/// Classifies a user name.
pub fn editor_kind(user: &str) -> EditorKind {
    if is_temporary(user) {
        EditorKind::Temp
    } else if looks_like_ip(user) && user.parse::<std::net::IpAddr>().is_ok() {
        EditorKind::Ip
    } else {
        EditorKind::Named
    }
}

/// A cheap pre-check so ordinary names skip the address parser.
fn looks_like_ip(user: &str) -> bool {
    !user.is_empty()
        && user.len() <= 45
        && user
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
}

/// `~YYYY-N+-N+`.
fn is_temporary(user: &str) -> bool {
    let Some(rest) = user.strip_prefix('~') else {
        return false;
    };
    let mut parts = rest.split('-');
    let (Some(year), Some(a), Some(b), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    year.len() == 4 && digits(year) && digits(a) && digits(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use EditorKind::*;
    use proptest::prelude::*;

    #[test]
    fn table() {
        let cases = [
            ("127.0.0.1", Ip),
            ("192.168.0.254", Ip),
            ("2001:558:6045:A3:E1A1:5BB4:B0B6:E2D9", Ip),
            ("2001:558:6045:a3:e1a1:5bb4:b0b6:e2d9", Ip),
            ("2001:DB8::1", Ip),
            ("::1", Ip),
            ("~2025-12345-67", Temp),
            ("~2026-93757-24", Temp),
            ("~2025-1-1", Temp),
            ("~2025-12345", Named),
            ("~25-12345-67", Named),
            ("~2025-12345-67-8", Named),
            ("~2025-12345-", Named),
            ("~2025--67", Named),
            ("~2025-١٢-67", Named),
            ("2025-12345-67", Named),
            ("~2025-12345-67 ", Named),
            ("*Unregistered 5", Named),
            ("Jimbo Wales", Named),
            ("Cafe", Named),
            ("ABBA", Named),
            ("1.2.3", Named),
            ("256.1.1.1", Named),
            ("", Named),
            ("~", Named),
            ("QuickStatementsBot", Named),
        ];
        for (name, want) in cases {
            assert_eq!(editor_kind(name), want, "{name:?}");
        }
    }

    #[test]
    fn as_str_matches_serde() {
        for k in [Ip, Temp, Named] {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = editor_kind(&s);
        }

        #[test]
        fn every_temp_pattern_is_temp(y in 0u32..10000, a in 0u64..10_000_000, b in 0u32..1000) {
            let name = format!("~{y:04}-{a}-{b}");
            prop_assert_eq!(editor_kind(&name), Temp);
        }

        #[test]
        fn every_address_is_ip(ip in any::<std::net::IpAddr>()) {
            prop_assert_eq!(editor_kind(&ip.to_string()), Ip);
            prop_assert_eq!(editor_kind(&ip.to_string().to_uppercase()), Ip);
        }
    }
}
