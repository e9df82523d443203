//! Live feeds (issue 5). WikiMon v2 compatibility lives here: the message
//! format ([`wikimon`]), namespace names learnt per wiki ([`namespaces`]) and
//! optional IP geolocation ([`geoip`]).

pub mod geoip;
pub mod namespaces;
pub mod wikimon;
