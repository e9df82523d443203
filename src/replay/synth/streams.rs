//! The JSON of each synthetic stream's events (recentchange,
//! page-links-change, page-delete) in the exact shape of today's events:
//! `$schema`, `meta{…}`, then the stream's own fields.

use std::fmt::Write as _;

use super::random::Rng;
use super::vocabulary::{NAMESPACES, TITLES, WIKIS, Wiki, external_link, summary, title_for, user};

fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn uuid(rng: &mut Rng) -> String {
    let a = rng.next();
    let b = rng.next();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

fn write_meta(
    out: &mut String,
    rng: &mut Rng,
    uri: &str,
    dt: &str,
    domain: &str,
    stream: &str,
    offset: u64,
) {
    out.push_str(r#""meta":{"uri":"#);
    push_json_str(out, uri);
    let _ = write!(
        out,
        r#","request_id":"{}","id":"{}","dt":"{dt}","domain":"{domain}","stream":"{stream}","topic":"eqiad.{stream}","partition":0,"offset":{offset}}}"#,
        uuid(rng),
        uuid(rng)
    );
}

fn write_performer(out: &mut String, rng: &mut Rng, dt_ms: i64) {
    let (name, bot) = user(rng, dt_ms, 10.0);
    out.push_str(r#""performer":{"user_text":"#);
    push_json_str(out, &name);
    let registered = name.parse::<std::net::IpAddr>().is_err() && !name.starts_with('~');
    if registered {
        let reg_ms = dt_ms - (rng.below(5_000) as i64) * 86_400_000 - rng.below(86_400_000) as i64;
        let _ = write!(
            out,
            r#","user_groups":["*","user","autoconfirmed"{}],"user_is_bot":{bot},"user_id":{},"user_registration_dt":"{}","user_edit_count":{}}}"#,
            if bot { r#","bot""# } else { "" },
            1 + rng.below(50_000_000),
            crate::event::format_ms(reg_ms).replace(".000Z", "Z"),
            rng.below(200_000)
        );
    } else {
        out.push_str(r#","user_groups":["*"],"user_is_bot":false,"user_edit_count":0}"#);
    }
}

pub(super) fn recentchange(rng: &mut Rng, dt_ms: i64, offset: u64) -> String {
    let wiki = rng.weighted(WIKIS);
    let kind = *rng.weighted(&[("edit", 70u32), ("new", 8), ("log", 7), ("categorize", 15)]);
    let ns = if kind == "categorize" {
        14
    } else if wiki.db == "commonswiki" && rng.chance(60.0) {
        6
    } else {
        *rng.weighted(NAMESPACES)
    };
    let title = title_for(rng, ns, wiki);
    let (user, bot) = user(rng, dt_ms, 15.0);
    let comment = if kind == "categorize" {
        format!("[[:{}]] added to category", rng.pick(TITLES))
    } else {
        summary(rng, wiki)
    };
    let dt = crate::event::format_ms(dt_ms);
    let url_title = title.replace(' ', "_");
    let mut out = String::with_capacity(1200);
    out.push_str(r#"{"$schema":"/mediawiki/recentchange/1.0.0","#);
    write_meta(
        &mut out,
        rng,
        &format!("https://{}/wiki/{url_title}", wiki.domain),
        &dt,
        wiki.domain,
        "mediawiki.recentchange",
        offset,
    );
    let _ = write!(
        out,
        r#","id":{},"type":"{kind}","namespace":{ns},"title":"#,
        1 + rng.below(3_000_000_000)
    );
    push_json_str(&mut out, &title);
    out.push_str(r#","title_url":"#);
    push_json_str(
        &mut out,
        &format!("https://{}/wiki/{url_title}", wiki.domain),
    );
    out.push_str(r#","comment":"#);
    push_json_str(&mut out, &comment);
    let _ = write!(out, r#","timestamp":{},"user":"#, dt_ms / 1000);
    push_json_str(&mut out, &user);
    let _ = write!(out, r#","bot":{bot}"#);
    match kind {
        "edit" | "new" => {
            let new_rev = 1 + rng.below(2_000_000_000);
            let old_rev = new_rev.saturating_sub(1 + rng.below(1_000_000));
            let new_len = rng.below(200_000);
            let old_len = (new_len as i64 + rng.below(2_000) as i64 - 1_000).max(0);
            if kind == "new" {
                let _ = write!(
                    out,
                    r#","notify_url":"https://{}/w/index.php?oldid={new_rev}","minor":false,"patrolled":false,"length":{{"new":{new_len}}},"revision":{{"new":{new_rev}}}"#,
                    wiki.domain
                );
            } else {
                let _ = write!(
                    out,
                    r#","notify_url":"https://{}/w/index.php?diff={new_rev}&oldid={old_rev}","minor":{},"patrolled":{},"length":{{"old":{old_len},"new":{new_len}}},"revision":{{"old":{old_rev},"new":{new_rev}}}"#,
                    wiki.domain,
                    rng.chance(20.0),
                    rng.chance(50.0)
                );
            }
        }
        "log" => {
            let (log_type, action) = *rng.pick(&[
                ("newusers", "create"),
                ("upload", "upload"),
                ("delete", "delete"),
                ("move", "move"),
                ("patrol", "patrol"),
                ("thanks", "thank"),
                ("abusefilter", "hit"),
            ]);
            let _ = write!(
                out,
                r#","log_id":{},"log_type":"{log_type}","log_action":"{action}","log_params":[],"log_action_comment":"#,
                1 + rng.below(200_000_000)
            );
            push_json_str(&mut out, &format!("{action} {title}"));
        }
        _ => {}
    }
    let _ = write!(
        out,
        r#","server_url":"https://{d}","server_name":"{d}","server_script_path":"/w","wiki":"{}","parsedcomment":"#,
        wiki.db,
        d = wiki.domain
    );
    push_json_str(&mut out, &comment);
    out.push('}');
    out
}

fn page_target(rng: &mut Rng) -> (&'static Wiki, i64, i64, String) {
    let wiki = rng.weighted(WIKIS);
    let ns = *rng.weighted(NAMESPACES);
    // A small id space per wiki so deletions hit pages with known links.
    let page_id = 1 + rng.below(20_000) as i64;
    let title = format!("{} {}", TITLES[(page_id as usize) % TITLES.len()], page_id);
    (wiki, ns, page_id, title)
}

pub(super) fn links_change(rng: &mut Rng, dt_ms: i64, offset: u64, huge: bool) -> String {
    let (wiki, ns, page_id, title) = page_target(rng);
    let dt = crate::event::format_ms(dt_ms);
    let mut out = String::with_capacity(if huge { 2 << 20 } else { 1500 });
    out.push_str(r#"{"$schema":"/mediawiki/page/links-change/1.0.0","#);
    write_meta(
        &mut out,
        rng,
        &format!("https://{}/wiki/{}", wiki.domain, title.replace(' ', "_")),
        &dt,
        wiki.domain,
        "mediawiki.page-links-change",
        offset,
    );
    let _ = write!(
        out,
        r#","database":"{}","page_id":{page_id},"page_title":"#,
        wiki.db
    );
    push_json_str(&mut out, &title.replace(' ', "_"));
    let _ = write!(
        out,
        r#","page_namespace":{ns},"page_is_redirect":false,"rev_id":{}"#,
        1 + rng.below(2_000_000_000)
    );
    if !rng.chance(3.0) {
        out.push(',');
        write_performer(&mut out, rng, dt_ms);
    }
    let internal = format!("/wiki/{}", rng.pick(TITLES).replace(' ', "_"));
    out.push_str(r#","added_links":["#);
    let _ = write!(out, r#"{{"link":"#);
    push_json_str(&mut out, &internal);
    out.push_str(r#","external":false}"#);
    let externals = if huge {
        15_000 + rng.below(10_000)
    } else if rng.chance(45.0) {
        0
    } else {
        1 + rng.below(3)
    };
    for _ in 0..externals {
        out.push_str(r#",{"link":"#);
        push_json_str(&mut out, &external_link(rng));
        out.push_str(r#","external":true}"#);
    }
    out.push(']');
    if externals > 0 && rng.chance(20.0) {
        out.push_str(r#","removed_links":[{"link":"#);
        push_json_str(&mut out, &external_link(rng));
        out.push_str(r#","external":true}]"#);
    }
    out.push('}');
    out
}

pub(super) fn page_delete(rng: &mut Rng, dt_ms: i64, offset: u64) -> String {
    let (wiki, ns, page_id, title) = page_target(rng);
    let dt = crate::event::format_ms(dt_ms);
    let mut out = String::with_capacity(1200);
    out.push_str(r#"{"$schema":"/mediawiki/page/delete/1.0.0","#);
    write_meta(
        &mut out,
        rng,
        &format!("https://{}/wiki/{}", wiki.domain, title.replace(' ', "_")),
        &dt,
        wiki.domain,
        "mediawiki.page-delete",
        offset,
    );
    let _ = write!(out, r#","database":"{}","#, wiki.db);
    write_performer(&mut out, rng, dt_ms);
    let _ = write!(out, r#","page_id":{page_id},"page_title":"#);
    push_json_str(&mut out, &title.replace(' ', "_"));
    let _ = write!(
        out,
        r#","page_namespace":{ns},"page_is_redirect":false,"rev_id":{},"rev_count":{},"comment":"#,
        1 + rng.below(2_000_000_000),
        1 + rng.below(50)
    );
    let reason = *rng.pick::<&str>(&[
        "Spam",
        "[[WP:CSD#G11|G11]]: Unambiguous advertising",
        "Copyright violation",
        "Test page",
    ]);
    push_json_str(&mut out, reason);
    out.push('}');
    out
}
