//! Normalisation: a [`RawEvent`] of any stream and era becomes an owned
//! [`Event`]. Pure (no I/O); it calls into [`crate::extract`] for hashtags,
//! mentions, autocomments and the editor kind.

use std::borrow::Cow;

use crate::extract::{self, EditorKind, Rules};

use super::{
    Change, ChangeKind, Envelope, Event, LinksChange, PageLifecycle, Performer, RawEvent, RawLink,
    Stream, parse_dt_ms,
};

fn owned(c: &Option<Cow<'_, str>>) -> Option<String> {
    c.as_deref().map(str::to_owned)
}

/// `en.wikipedia.org` → `enwiki` for the families whose database names follow
/// the simple rule; used only when an event carries no database name.
pub fn dbname_from_host(host: &str) -> String {
    let special = [
        ("www.wikidata.org", "wikidatawiki"),
        ("wikidata.org", "wikidatawiki"),
        ("commons.wikimedia.org", "commonswiki"),
        ("meta.wikimedia.org", "metawiki"),
        ("species.wikimedia.org", "specieswiki"),
        ("www.mediawiki.org", "mediawikiwiki"),
        ("test.wikidata.org", "testwikidatawiki"),
        ("incubator.wikimedia.org", "incubatorwiki"),
        ("wikisource.org", "sourceswiki"),
    ];
    if let Some((_, db)) = special.iter().find(|(h, _)| *h == host) {
        return (*db).to_owned();
    }
    let mut parts = host.split('.');
    let (Some(lang), Some(family)) = (parts.next(), parts.next()) else {
        return host.to_owned();
    };
    let lang = lang.replace('-', "_");
    match family {
        "wikipedia" => format!("{lang}wiki"),
        "wikimedia" => format!("{lang}wiki"),
        other => format!("{lang}{other}"),
    }
}

impl<'a> RawEvent<'a> {
    /// The prefixed page title with spaces (the streams send the DB key with
    /// underscores).
    fn page_title_with_spaces(&self) -> String {
        self.page_title
            .as_deref()
            .unwrap_or_default()
            .replace('_', " ")
    }

    /// Which stream this event belongs to, from `meta.stream`, `$schema`,
    /// `meta.schema_uri`, or `meta.topic`, in that order.
    pub fn stream(&self) -> Stream {
        if let Some(s) = self.meta.stream.as_deref().and_then(Stream::from_name) {
            return s;
        }
        if let Some(s) = self.schema.as_deref().and_then(Stream::from_schema) {
            return s;
        }
        if let Some(s) = self
            .meta
            .schema_uri
            .as_deref()
            .and_then(Stream::from_schema)
        {
            return s;
        }
        if let Some(topic) = self.meta.topic.as_deref() {
            // `eqiad.mediawiki.recentchange`
            let name = topic.split_once('.').map_or(topic, |(_, rest)| rest);
            if let Some(s) = Stream::from_name(name) {
                return s;
            }
        }
        Stream::Other
    }

    fn envelope(&self, stream: Stream) -> Envelope {
        let dt_ms = self
            .meta
            .dt
            .as_deref()
            .and_then(parse_dt_ms)
            .or_else(|| self.timestamp.map(|s| s.saturating_mul(1000)))
            .unwrap_or(0);
        Envelope {
            stream,
            meta_id: self.meta.id.as_deref().unwrap_or_default().to_owned(),
            dt_ms,
            domain: self.meta.domain.as_deref().unwrap_or_default().to_owned(),
            topic: owned(&self.meta.topic),
            partition: self.meta.partition,
            offset: self.meta.offset,
        }
    }

    fn performer(&self) -> Option<Performer> {
        let p = self.performer.as_ref()?;
        let name = p.user_text.as_deref()?.to_owned();
        Some(Performer {
            name,
            id: p.user_id,
            bot: p.user_is_bot.unwrap_or(false),
            groups: p
                .user_groups
                .as_ref()
                .map(|g| g.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
            registration_ms: p.user_registration_dt.as_deref().and_then(parse_dt_ms),
            edit_count: p.user_edit_count,
        })
    }

    fn wiki_from_database(&self, envelope: &Envelope) -> String {
        match self.database.as_deref().or(self.wiki.as_deref()) {
            Some(db) => db.to_owned(),
            None => dbname_from_host(&envelope.domain),
        }
    }

    /// Builds the owned, normalised event.
    pub fn normalize(&self, rules: &Rules) -> Event {
        let stream = self.stream();
        let envelope = self.envelope(stream);
        match stream {
            Stream::Recentchange => Event::Recentchange(Box::new(self.change(envelope, rules))),
            Stream::PageLinksChange => {
                let collect = |links: &Option<Vec<RawLink<'_>>>, internal: &mut u32| {
                    let mut out = Vec::new();
                    for l in links.iter().flatten() {
                        if l.external {
                            out.push(l.link.to_string());
                        } else {
                            *internal += 1;
                        }
                    }
                    out
                };
                let mut internal = 0;
                let added = collect(&self.added_links, &mut internal);
                let removed = collect(&self.removed_links, &mut internal);
                Event::PageLinksChange(Box::new(LinksChange {
                    wiki: self.wiki_from_database(&envelope),
                    page_id: self.page_id,
                    page_title: self.page_title_with_spaces(),
                    page_namespace: self.page_namespace.unwrap_or(0),
                    rev_id: self.rev_id,
                    performer: self.performer(),
                    added,
                    removed,
                    internal_links: internal,
                    envelope,
                }))
            }
            Stream::PageDelete | Stream::PageUndelete => {
                let p = Box::new(PageLifecycle {
                    wiki: self.wiki_from_database(&envelope),
                    page_id: self.page_id,
                    page_title: self.page_title_with_spaces(),
                    page_namespace: self.page_namespace.unwrap_or(0),
                    rev_id: self.rev_id,
                    performer: self.performer(),
                    comment: self.comment.as_deref().unwrap_or_default().to_owned(),
                    envelope,
                });
                if stream == Stream::PageDelete {
                    Event::PageDelete(p)
                } else {
                    Event::PageUndelete(p)
                }
            }
            Stream::Other => Event::Other(envelope),
        }
    }

    fn change(&self, envelope: Envelope, rules: &Rules) -> Change {
        let server_name = self
            .server_name
            .as_deref()
            .or(self.meta.domain.as_deref())
            .unwrap_or_default()
            .to_owned();
        let wiki = match self.wiki.as_deref() {
            Some(w) => w.to_owned(),
            None => dbname_from_host(&server_name),
        };
        let summary = self.comment.as_deref().unwrap_or_default().to_owned();
        let tags = extract::hashtags(&summary, &rules.hashtags);
        let auto = extract::autocomment(&summary);
        let user = owned(&self.user);
        let editor = user
            .as_deref()
            .map(extract::editor_kind)
            .unwrap_or(EditorKind::Named);
        Change {
            wiki,
            server_url: self
                .server_url
                .as_deref()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("https://{server_name}")),
            script_path: self
                .server_script_path
                .as_deref()
                .unwrap_or("/w")
                .to_owned(),
            server_name,
            rc_id: self.id,
            change_kind: self.kind.unwrap_or(ChangeKind::Other),
            namespace: self.namespace.unwrap_or(0),
            title: self.title.as_deref().unwrap_or_default().to_owned(),
            user,
            editor,
            bot: self.bot.unwrap_or(false),
            minor: self.minor.unwrap_or(false),
            patrolled: self.patrolled,
            length_old: self.length.as_ref().and_then(|l| l.old),
            length_new: self.length.as_ref().and_then(|l| l.new),
            rev_old: self.revision.as_ref().and_then(|r| r.old),
            rev_new: self.revision.as_ref().and_then(|r| r.new),
            log_id: self.log_id,
            log_type: owned(&self.log_type),
            log_action: owned(&self.log_action),
            hashtags: tags.tags,
            hashtags_too_long: tags.too_long,
            mentions: extract::mentions(&summary),
            section: auto.section,
            machine_comment: auto.machine,
            parsed_summary: auto.rest,
            summary,
            envelope,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse;

    #[test]
    fn type_may_be_a_number_and_numbers_may_be_strings() {
        let raw = br#"{"$schema":"/mediawiki/recentchange/1.0.1","meta":{"id":"x","dt":"2023-07-29T07:51:39Z","domain":"en.wikipedia.org"},"type":1,"namespace":"4","title":"T","wiki":"enwiki","length":{"new":22}}"#;
        let Event::Recentchange(c) = parse(raw, &Rules::default()).unwrap() else {
            panic!("not a recentchange")
        };
        assert_eq!(c.change_kind, ChangeKind::New);
        assert_eq!(c.namespace, 4);
        assert_eq!(c.size_change(), Some(22));
    }

    #[test]
    fn legacy_schema_uri_and_nulls() {
        let raw = br#"{"meta":{"schema_uri":"mediawiki/recentchange/1","id":"a","dt":"2018-03-07T16:16:17+00:00","domain":"www.wikidata.org"},"id":null,"type":"log","revision":{"old":null,"new":5},"server_name":"www.wikidata.org"}"#;
        let Event::Recentchange(c) = parse(raw, &Rules::default()).unwrap() else {
            panic!("not a recentchange")
        };
        assert_eq!(c.rc_id, None);
        assert_eq!(c.rev_old, None);
        assert_eq!(c.wiki, "wikidatawiki");
    }

    #[test]
    fn dbnames_from_hosts() {
        assert_eq!(dbname_from_host("en.wikipedia.org"), "enwiki");
        assert_eq!(dbname_from_host("fr.wikisource.org"), "frwikisource");
        assert_eq!(dbname_from_host("zh-yue.wikipedia.org"), "zh_yuewiki");
        assert_eq!(dbname_from_host("www.wikidata.org"), "wikidatawiki");
    }
}
