//! Lenient field parsers: the upstream's numbers, booleans and change kinds
//! arrive as numbers, strings or nulls depending on the schema's era, and a
//! field of an unexpected type becomes `None` rather than failing the event.

use std::borrow::Cow;

use serde::Deserializer;

use super::ChangeKind;

/// What a lenient field found: any JSON value, classified without buffering
/// (serde's `untagged` would buffer every value and made parsing 3× slower).
enum Scalar<'a> {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(Cow<'a, str>),
    Nothing,
}

struct ScalarVisitor;

impl<'de> serde::de::Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Scalar::Nothing, Scalar::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Nothing)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Nothing)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nothing)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Scalar::Nothing)
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar<'de>, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

pub(super) fn change_kind<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ChangeKind>, D::Error> {
    Ok(match scalar(d)? {
        // MediaWiki's RC_EDIT, RC_NEW, RC_LOG, RC_EXTERNAL, RC_CATEGORIZE.
        Scalar::Int(0) => Some(ChangeKind::Edit),
        Scalar::Int(1) => Some(ChangeKind::New),
        Scalar::Int(3) => Some(ChangeKind::Log),
        Scalar::Int(5) => Some(ChangeKind::External),
        Scalar::Int(6) => Some(ChangeKind::Categorize),
        Scalar::Int(_) => Some(ChangeKind::Other),
        Scalar::Str(s) => Some(ChangeKind::parse(&s).unwrap_or(ChangeKind::Other)),
        _ => None,
    })
}

/// Accepts an integer, a numeric string, or null. A field of another type
/// becomes `None` instead of failing the whole event.
pub(super) fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match scalar(d)? {
        Scalar::Int(i) => Some(i),
        Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
        Scalar::Str(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Accepts a bool, 0/1, "true"/"false", or null.
pub(super) fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match scalar(d)? {
        Scalar::Bool(b) => Some(b),
        Scalar::Int(i) => Some(i != 0),
        Scalar::Str(s) => match &*s {
            "true" | "1" => Some(true),
            "false" | "0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    })
}
