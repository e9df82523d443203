//! The rollup planning rule: which link reports the per-domain rollups
//! (`link_domain_days`, `link_domain_keys`, `link_domain_present`,
//! `link_domain_adders`, kept in step with `link_events` by triggers on both
//! backends) answer exactly.
//!
//! A report over one registrable domain reads a few thousand rollup rows and
//! walks one index for each ranked list, instead of every event of the
//! domain (a large publisher has millions). The rollups only know the
//! domain, the day, the provenance, whether the link was wrapped, and the
//! user, wiki and page; a filter on anything else (action, wiki, namespace,
//! user, bots, editor kind, account age, edit count, dates, page) returns
//! `None` from [`RollupPlan::for_filter`] and the backend scans the log, so
//! no filter is ever lost to the pre-aggregation. The answer is the same
//! either way; `tests/links_rollup.rs` checks that on both backends. The
//! queries a plan runs are built by the store (`crate::store::links`).

use super::filter::{LinkFilter, LinkMatch, Provenance, Tristate};

/// A report the rollups can answer: one registrable domain, optionally some
/// provenances, and the wrapper choice.
#[derive(Debug, Clone)]
pub struct RollupPlan {
    pub domain: String,
    /// `None`: every provenance (the `*` rows of `link_domain_keys`).
    pub provenances: Option<Vec<Provenance>>,
    pub wrappers: Tristate,
}

/// Which ranked list of `link_domain_keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupDim {
    User,
    Wiki,
    Page,
}

impl RollupPlan {
    /// The plan for `filter`, or `None` when the rollups cannot answer it
    /// exactly (the caller scans the log instead).
    pub fn for_filter(filter: &LinkFilter) -> Option<RollupPlan> {
        let [
            LinkMatch::Domain {
                domain,
                registrable: true,
            },
        ] = filter.matchers.as_slice()
        else {
            return None;
        };
        let plain = filter.actions.is_empty()
            && filter.wikis.is_empty()
            && filter.namespaces.is_empty()
            && filter.users.is_empty()
            && filter.bots == Tristate::Include
            && filter.editor_kinds.is_empty()
            && filter.min_account_age_days.is_none()
            && filter.max_account_age_days.is_none()
            && filter.min_edit_count.is_none()
            && filter.max_edit_count.is_none()
            && filter.from_ms.is_none()
            && filter.until_ms.is_none()
            && filter.page.is_none();
        plain.then(|| RollupPlan {
            domain: domain.clone(),
            provenances: (!filter.provenances.is_empty()).then(|| filter.provenances.clone()),
            wrappers: filter.wrappers,
        })
    }

    /// One row per key when a single provenance (or all) is asked for: the
    /// ranking index then gives the order without grouping.
    pub fn one_row_per_key(&self) -> bool {
        self.provenances.as_ref().is_none_or(|p| p.len() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain_filter() -> LinkFilter {
        LinkFilter {
            matchers: vec![LinkMatch::domain("jstor.org").expect("valid")],
            ..Default::default()
        }
    }

    #[test]
    fn only_plain_registrable_domain_filters_use_rollups() {
        let f = domain_filter();
        assert!(RollupPlan::for_filter(&f).is_some());
        let mut sub = f.clone();
        sub.matchers = vec![LinkMatch::domain("www.jstor.org").expect("valid")];
        assert!(RollupPlan::for_filter(&sub).is_none());
        let mut ns = f.clone();
        ns.namespaces = vec![0];
        assert!(RollupPlan::for_filter(&ns).is_none());
        let mut dated = f.clone();
        dated.from_ms = Some(0);
        assert!(RollupPlan::for_filter(&dated).is_none());
        let mut two = f;
        two.matchers
            .push(LinkMatch::domain("doi.org").expect("valid"));
        assert!(RollupPlan::for_filter(&two).is_none());
    }
}
