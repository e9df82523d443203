//! The external-link log's domain: the filter ([`filter`]), the rows and
//! reports with their in-memory aggregation ([`report`]) and the rule for
//! when the per-domain rollups answer a report ([`rollup`]). No SQL, no HTTP.

pub mod filter;
pub mod report;
pub mod rollup;
