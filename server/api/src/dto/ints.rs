//! Integers of REST requests as the OpenAPI document states them.
//!
//! JSON Schema's `integer` is any number without a fraction, so `5.0` is the integer 5 and
//! generated clients (or JavaScript) may send it so; serde alone reads only `5`. Each width is
//! the one the document gives: unsigned fields are `int64` (or `int32`) from 0, so a `u64`
//! field refuses values past `i64::MAX`, which JSON readers in other languages cannot hold.
//! Used with `#[serde(deserialize_with = ...)]` on request fields (bodies and queries); a
//! refusal is the usual `INVALID_REQUEST` naming the field. Must hold no other rule.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// Largest integer a JSON number written with a fraction part (`5.0`) can spell exactly.
const FLOAT_EXACT_MAX: f64 = 9_007_199_254_740_992.0; // 2^53

/// An integer type of a request field, with the range its OpenAPI schema states.
pub(crate) trait Whole: Sized {
    /// Smallest accepted value.
    const MIN: i128;
    /// Largest accepted value.
    const MAX: i128;
    /// The value, when it is one of `Self` (`check` has kept it within `MIN..=MAX`).
    fn from_i128(v: i128) -> Option<Self>;
}

macro_rules! whole {
    ($t:ty, $min:expr, $max:expr) => {
        impl Whole for $t {
            // `as` in a const (`i128::from` is not const): every bound below is an i32, i64,
            // u32 or u64 value, all of which i128 holds exactly.
            const MIN: i128 = $min as i128;
            const MAX: i128 = $max as i128;
            fn from_i128(v: i128) -> Option<Self> {
                <$t>::try_from(v).ok()
            }
        }
    };
}

whole!(i32, i32::MIN, i32::MAX);
whole!(i64, i64::MIN, i64::MAX);
whole!(u32, 0, u32::MAX);
whole!(u64, 0, i64::MAX);
whole!(usize, 0, i64::MAX);

/// Reads a whole number; `TEXT`: from a query string's text instead of a JSON number.
struct WholeVisitor<T, const TEXT: bool>(PhantomData<T>);

impl<T: Whole, const TEXT: bool> WholeVisitor<T, TEXT> {
    fn check<E: de::Error>(&self, v: i128, unexp: de::Unexpected<'_>) -> Result<T, E> {
        if (T::MIN..=T::MAX).contains(&v)
            && let Some(value) = T::from_i128(v)
        {
            return Ok(value);
        }
        Err(E::invalid_value(unexp, self))
    }
}

impl<T: Whole, const TEXT: bool> Visitor<'_> for WholeVisitor<T, TEXT> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an integer from {} to {}", T::MIN, T::MAX)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.check(i128::from(v), de::Unexpected::Signed(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.check(i128::from(v), de::Unexpected::Unsigned(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        if v.fract() != 0.0 || !v.is_finite() || v.abs() > FLOAT_EXACT_MAX {
            return Err(E::invalid_type(de::Unexpected::Float(v), &self));
        }
        // Exact: `v` is whole and within ±FLOAT_EXACT_MAX (checked just above).
        self.check(v as i128, de::Unexpected::Float(v))
    }

    /// Query strings: the plain decimal spelling only. In JSON a string is no number.
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        match v.parse::<i128>() {
            Ok(n) if TEXT => self.check(n, de::Unexpected::Str(v)),
            _ => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
        }
    }
}

/// A whole number of a JSON body, as `deserialize_with` wants it.
pub(crate) fn whole<'de, D: Deserializer<'de>, T: Whole>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(WholeVisitor::<T, false>(PhantomData))
}

struct Wrapped<T, const TEXT: bool>(T);

impl<'de, T: Whole, const TEXT: bool> Deserialize<'de> for Wrapped<T, TEXT> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WholeVisitor::<T, TEXT>(PhantomData))
            .map(Wrapped)
    }
}

/// An optional whole number of a JSON body (`null` or absent is `None`; give the field
/// `#[serde(default)]`).
pub(crate) fn optional<'de, D: Deserializer<'de>, T: Whole>(d: D) -> Result<Option<T>, D::Error> {
    Option::<Wrapped<T, false>>::deserialize(d).map(|o| o.map(|w| w.0))
}

/// An optional whole number of a query string (absent is `None`; give the field
/// `#[serde(default)]`).
pub(crate) fn query<'de, D: Deserializer<'de>, T: Whole>(d: D) -> Result<Option<T>, D::Error> {
    Option::<Wrapped<T, true>>::deserialize(d).map(|o| o.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::optional")]
        big: Option<u64>,
        #[serde(deserialize_with = "super::whole")]
        small: u32,
        #[serde(default, deserialize_with = "super::optional")]
        signed: Option<i64>,
    }

    fn parse(json: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn whole_floats_are_integers_and_ranges_are_the_documented_ones() {
        let b = parse(r#"{"small": 8388609.0, "big": 7, "signed": -3.0}"#).unwrap();
        assert_eq!((b.small, b.big, b.signed), (8_388_609, Some(7), Some(-3)));
        let b = parse(r#"{"small": 1, "big": null}"#).unwrap();
        assert_eq!((b.big, b.signed), (None, None));
        assert!(parse(r#"{"small": 1.5}"#).is_err());
        assert!(parse(r#"{"small": -1}"#).is_err());
        assert!(parse(r#"{"small": "1"}"#).is_err());
        assert!(parse(r#"{"small": 1, "big": 9223372036854775807}"#).is_ok());
        let past_int64 = parse(r#"{"small": 1, "big": 9223372036854775808}"#).unwrap_err();
        assert!(
            past_int64.to_string().contains("9223372036854775807"),
            "{past_int64}"
        );
        assert!(parse(r#"{"small": 1, "big": 1e300}"#).is_err());
    }

    #[derive(Debug, Deserialize)]
    struct Query {
        #[serde(default, deserialize_with = "super::query")]
        wait_ms: Option<u64>,
    }

    #[test]
    fn query_strings_take_plain_integers() {
        let parse = |q: &str| {
            let uri: axum::http::Uri = format!("/x?{q}").parse().unwrap();
            axum::extract::Query::<Query>::try_from_uri(&uri).map(|q| q.0.wait_ms)
        };
        assert_eq!(parse("wait_ms=25").unwrap(), Some(25));
        assert_eq!(parse("").unwrap(), None);
        for bad in [
            "wait_ms=9223372036854775808",
            "wait_ms=-1",
            "wait_ms=x",
            "wait_ms=1.0",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
