//! The one query-string parser of every HTTP route: [`Params`] holds the
//! pairs in order and its typed getters (flag, date, number, limit, enum
//! choice by a table of names, cursor) turn a bad value into
//! [`ApiError::BadRequest`], whose JSON names the parameter.

use chrono::NaiveDate;

use super::error::ApiError;

/// The query string as ordered pairs (repeated names allowed).
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

/// The accepted names of an enumerated parameter: each entry's names (the
/// first one is shown in error messages) and its value.
pub struct Choices<T: 'static> {
    pub entries: &'static [(&'static [&'static str], T)],
    /// Whether `JSON` matches `json`.
    pub fold_case: bool,
}

/// A handler argument: the request's query string.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Params, Self::Rejection> {
        Ok(Params::decode(parts.uri.query()))
    }
}

impl From<Vec<(String, String)>> for Params {
    fn from(pairs: Vec<(String, String)>) -> Params {
        Params(pairs)
    }
}

impl Params {
    /// Decodes a raw query string (`None`: no query).
    pub fn decode(q: Option<&str>) -> Params {
        Params(
            url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// Every value of `name`, split on `sep`, trimmed, without empties.
    pub fn list(&self, name: &str, sep: char) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(sep).map(str::trim).map(str::to_owned))
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The last non-empty value of `name`, trimmed.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// Whether `name` is present at all (even empty).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The query string without the named parameters and without empty
    /// values (for building links).
    pub fn without(&self, drop: &[&str]) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if !drop.contains(&k.as_str()) && !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }

    /// A parameter whose name is not in `known` (checked in order).
    pub fn unknown<'a>(&'a self, known: &[&[&str]]) -> Option<&'a str> {
        self.0
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| !known.iter().any(|set| set.contains(k)))
    }

    /// `true`/`false` (also `1`/`0`, `on`/`off`, `yes`/`no`, any case);
    /// absent is false.
    pub fn flag(&self, name: &'static str) -> Result<bool, ApiError> {
        Ok(self.choice(name, &FLAG)?.unwrap_or(false))
    }

    /// One of `choices`, or `None` when absent.
    pub fn choice<T: Copy>(
        &self,
        name: &'static str,
        choices: &Choices<T>,
    ) -> Result<Option<T>, ApiError> {
        let Some(v) = self.one(name) else {
            return Ok(None);
        };
        choices
            .find(v)
            .map(Some)
            .ok_or_else(|| ApiError::bad(name, choices.refusal(name, v)))
    }

    /// A whole number, or `None` when absent.
    pub fn int(&self, name: &'static str) -> Result<Option<i64>, ApiError> {
        self.one(name)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiError::bad(name, format!("{name} must be a whole number, not {v:?}"))
                })
            })
            .transpose()
    }

    /// `limit` from 1 to `max`, `default` when absent.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        self.bounded("limit", default, max)
    }

    /// A count from 1 to `max`, `default` when absent.
    pub fn bounded(
        &self,
        name: &'static str,
        default: usize,
        max: usize,
    ) -> Result<usize, ApiError> {
        match self.one(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::bad(name, format!("{name} must be a number from 1 to {max}"))
                }),
        }
    }

    /// A UTC day as `YYYY-MM-DD` → its first millisecond.
    pub fn date(&self, name: &'static str) -> Result<Option<i64>, ApiError> {
        let Some(v) = self.one(name) else {
            return Ok(None);
        };
        day_start(v).map(Some).ok_or_else(|| {
            ApiError::bad(
                name,
                format!("{name} must be a date as YYYY-MM-DD (UTC), not {v:?}"),
            )
        })
    }

    /// A UTC day (`2026-01-31`) or an ISO-8601 time → `(start, end)` of what
    /// was named, end exclusive.
    pub fn date_or_time(&self, name: &'static str) -> Result<Option<(i64, i64)>, ApiError> {
        let Some(v) = self.one(name) else {
            return Ok(None);
        };
        if let Some(start) = day_start(v) {
            return Ok(Some((start, start + DAY_MS)));
        }
        match crate::event::parse_dt_ms(v) {
            Some(ms) => Ok(Some((ms, ms + 1))),
            None => Err(ApiError::bad(
                name,
                format!("{name} must be a date as YYYY-MM-DD (UTC) or an ISO-8601 time, not {v:?}"),
            )),
        }
    }

    /// A continuation token `decode` accepts, or `None` when absent.
    pub fn cursor<C, E>(
        &self,
        name: &'static str,
        decode: impl Fn(&str) -> Result<C, E>,
    ) -> Result<Option<C>, ApiError> {
        self.one(name)
            .map(|c| {
                decode(c).map_err(|_| {
                    ApiError::bad(
                        name,
                        format!("{name} must be a continuation token from a previous answer"),
                    )
                })
            })
            .transpose()
    }
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

fn day_start(v: &str) -> Option<i64> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
}

const FLAG: Choices<bool> = Choices {
    entries: &[
        (&["true", "1", "on", "yes"], true),
        (&["false", "0", "off", "no"], false),
    ],
    fold_case: true,
};

impl<T: Copy> Choices<T> {
    /// The value named `v`.
    pub fn find(&self, v: &str) -> Option<T> {
        self.entries
            .iter()
            .find(|(names, _)| {
                names.iter().any(|n| {
                    if self.fold_case {
                        n.eq_ignore_ascii_case(v)
                    } else {
                        *n == v
                    }
                })
            })
            .map(|(_, t)| *t)
    }

    /// `name must be a, b or c, not "v"`.
    pub fn refusal(&self, name: &str, v: &str) -> String {
        let names: Vec<&str> = self
            .entries
            .iter()
            .filter_map(|(n, _)| n.first().copied())
            .collect();
        let list = match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            Some((last, _)) => (*last).to_owned(),
            None => String::new(),
        };
        format!("{name} must be {list}, not {v:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Ab {
        A,
        B,
    }
    const AB: Choices<Ab> = Choices {
        entries: &[(&["a", "alpha"], Ab::A), (&["b"], Ab::B)],
        fold_case: false,
    };

    #[test]
    fn getters_name_the_parameter() {
        let p = Params::decode(Some(
            "x=alpha&y=B&f=YES&n=-3&limit=0&d=2026-02-30&t=2026-01-01",
        ));
        assert_eq!(p.choice("x", &AB).unwrap(), Some(Ab::A));
        assert_eq!(p.choice("missing", &AB).unwrap(), None);
        assert!(p.flag("f").unwrap());
        assert_eq!(p.int("n").unwrap(), Some(-3));
        assert_eq!(
            p.date_or_time("t").unwrap().map(|(a, b)| b - a),
            Some(DAY_MS)
        );
        for (err, name) in [
            (p.choice("y", &AB).unwrap_err(), "y"),
            (p.limit(10, 100).unwrap_err(), "limit"),
            (p.date("d").unwrap_err(), "d"),
            (p.int("x").unwrap_err(), "x"),
        ] {
            match err {
                ApiError::BadRequest { parameter, .. } => assert_eq!(parameter, name),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            p.choice("y", &AB).unwrap_err().to_string(),
            "y must be a or b, not \"B\""
        );
    }
}
