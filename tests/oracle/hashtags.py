#!/usr/bin/env python3
"""An independent implementation of wikiwatch's hashtag rules, used to derive
the expected counts asserted by tests/it/ingest_e2e.rs from the real recordings.

Usage: hashtags.py FILE... -> prints "edits uses" for non-bot recentchange
events (Wikidata included), de-duplicated by meta.id."""
import json, sys, unicodedata

OPENERS = set('("\'“‘«「『【，、。：；！？,;:!?')
EXCLUDED = {"redirect", "weiterleitung", "redirection", "redirección", "doorverwijzing",
            "redirecionamento", "omdirigering", "if", "ifeq", "iferror", "ifexist", "ifexpr",
            "switch", "invoke", "rs", "default", "mw", "flickr2commons", "quickstatements"}

def is_letter(c): return unicodedata.category(c).startswith('L')
def is_tag_char(c):
    cat = unicodedata.category(c)
    return cat[0] in 'LM' or cat in ('Nd', 'Pc') or c in '\u200c\u200d'
def is_cjk_single(c):
    o = ord(c)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x3FFFF
            or 0xF900 <= o <= 0xFAFF or 0x3040 <= o <= 0x30FF or 0xAC00 <= o <= 0xD7A3
            or 0x31F0 <= o <= 0x31FF)

def strip_autocomments(s):
    out, i = [], 0
    while True:
        j = s.find('/*', i)
        if j < 0: out.append(s[i:]); break
        k = s.find('*/', j + 2)
        if k < 0: out.append(s[i:]); break
        out.append(s[i:j]); out.append(' '); i = k + 2
    return ''.join(out)

def hashtags(summary):
    s = strip_autocomments(summary)
    tags, keys = [], set()
    for i, c in enumerate(s):
        if c not in '#＃': continue
        if i > 0 and not (s[i-1].isspace() or s[i-1] in OPENERS): continue
        j = i + 1
        while j < len(s):
            ch = s[j]
            if is_tag_char(ch): j += 1; continue
            if ch == '·' and j > i + 1 and is_letter(s[j-1]) and j + 1 < len(s) and is_letter(s[j+1]): j += 1; continue
            break
        tag = s[i+1:j]
        if not tag or not any(is_letter(ch) for ch in tag): continue
        if len(tag) == 1 and not is_cjk_single(tag): continue
        if len(tag) > 128: continue
        key = unicodedata.normalize('NFC', tag).lower()
        if key in EXCLUDED: continue
        if key.startswith('temporary_batch_') and len(key) == 29 and key[16:].isascii() and key[16:].isdigit(): continue
        if key in keys: continue
        keys.add(key); tags.append(tag)
    return tags

def events(path):
    text = open(path, encoding='utf-8').read()
    if path.endswith('.events'):
        for line in text.splitlines():
            if line.startswith('data: '): yield json.loads(line[6:])
    else:
        try:
            v = json.loads(text)
            yield from (v if isinstance(v, list) else [v])
        except json.JSONDecodeError:
            for line in text.splitlines():
                if line.strip(): yield json.loads(line)

seen, edits, uses = set(), 0, 0
for path in sys.argv[1:]:
    for ev in events(path):
        ev = ev.get('data', ev)
        meta = ev.get('meta', {})
        stream = meta.get('stream') or ev.get('$schema') or meta.get('schema_uri') or ''
        if 'recentchange' not in stream: continue
        if meta.get('id') in seen: continue
        seen.add(meta.get('id'))
        if ev.get('bot'): continue
        t = hashtags(ev.get('comment') or '')
        if t: edits += 1; uses += len(t)
print(edits, uses)
