//! The keyset cursor of every newest-first listing (hashtag edits, link
//! events): the last row's `(time_ms, id)`, passed back by the client as an
//! opaque `TIME_ID` token to get the next page.

/// Where the next page starts: after the row with this time and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub time_ms: i64,
    pub id: i64,
}

impl Cursor {
    /// The opaque continuation token: `TIME_ID` in base 10.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.time_ms, self.id)
    }

    /// Reads a token made by [`Cursor::encode`]; `None` for anything else.
    pub fn decode(s: &str) -> Option<Cursor> {
        let (t, i) = s.split_once('_')?;
        Some(Cursor {
            time_ms: t.parse().ok()?,
            id: i.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_others_are_refused() {
        let c = Cursor {
            time_ms: 1_700_000_000_000,
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for bad in ["", "12", "a_1", "1_b", "1_2_3"] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
