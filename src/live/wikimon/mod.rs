//! WikiMon v2 compatibility: the JSON message hatnote's WikiMon sends for an
//! edit, so Listen to Wikipedia, rcmap and the mobile apps can be pointed at
//! wikiwatch unchanged.
//!
//! One message per edit (`action: "edit"`), page creation (`"new"`) and
//! new-user log event (`"newusers"`); nothing for other log types,
//! categorisation or external changes, as WikiMon v2. The keys, always all
//! present and sorted:
//!
//! `action, change_size, hashtags, is_anon, is_bot, is_minor, is_new,
//! is_unpatrolled, mentions, ns, page_title, parent_rev_id, parsed_summary,
//! rev_id, section, summary, url, user` (+ `geo_ip` for IP editors when a
//! GeoIP database is configured).
//!
//! Conventions (WikiMon v2, see `../shared/reference/wikimon.md`):
//!
//! - revision ids are strings; `rev_id` is the new revision and
//!   `parent_rev_id` the old one (v1 had them swapped), `null` when absent;
//! - `url` is `server_url + script_path + /index.php?diff=NEW&oldid=OLD`, or
//!   `?oldid=NEW` for a page creation, `""` without revisions;
//! - `change_size` is `length.new - length.old`, `length.new` for a page
//!   creation without an old length, `null` when a length is missing, and
//!   `0` for new-user events;
//! - `ns` is the canonical namespace name (`Main` for 0), or the number as a
//!   string when unknown (see [`super::namespaces`]);
//! - new-user events have `page_title: "Special:Log/newusers"` and the log
//!   action (`create`, `autocreate`, `byemail`, …) in `url`, which is what
//!   Listen to Wikipedia reads;
//! - `section` is `""` when the summary has no autocomment; Wikibase machine
//!   autocomments (`/* wbsetclaim-create:1||1 */`) are not sections (WikiMon
//!   reports them as one, a quirk we do not copy);
//! - `is_anon` is true for IP editors **and temporary accounts** (WikiMon
//!   v2's rule since the 2025 rollout: clients use it to tell logged-out
//!   editing from accounts). Only IP editors get `geo_ip`; a temporary
//!   account is never geolocated.
//!
//! Messages route by the event's `wiki` (database name), not `server_name`:
//! new-user events come from `auth.wikimedia.org` with `wiki: "enwiki"`.
//!
//! - [`message`]: the message for one event;
//! - [`languages`]: language -> wiki routing for `/v2/<lang>`;
//! - [`context`]: namespace names and GeoIP, shared by every message;
//! - [`namespaces`]: namespace names, built in and learnt per wiki;
//! - [`geoip`]: optional IP geolocation.

pub mod context;
pub mod geoip;
pub mod languages;
pub mod message;
pub mod namespaces;

pub use context::WikimonContext;
pub use languages::{languages, wiki_for_language};
pub use message::{WikimonMessage, diff_url, message};
