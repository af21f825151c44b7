//! `Interval`: a duration written the way admins write it in the config file (`30m`, `1h30m`,
//! `7d`).
//!
//! Invariants: an interval is a whole number of seconds; parsing accepts one or more
//! `<number><unit>` parts with units `s`, `m`, `h`, `d` (each unit at most once, largest first)
//! and nothing else; `Display` writes the canonical, shortest form, so `parse(display(x)) == x`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A whole-second duration with a human spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    secs: u64,
}

/// Why a string is not an interval.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a duration: write a number with a unit, e.g. '90s', '30m', '1h30m' or '7d'")]
pub struct IntervalError(pub String);

const UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

impl Interval {
    /// An interval of `n` seconds.
    pub const fn from_secs(n: u64) -> Self {
        Self { secs: n }
    }

    /// An interval of `n` minutes.
    pub const fn from_minutes(n: u64) -> Self {
        Self { secs: n * 60 }
    }

    /// An interval of `n` days.
    pub const fn from_days(n: u64) -> Self {
        Self { secs: n * 86_400 }
    }

    /// Length in seconds.
    pub const fn as_secs(self) -> u64 {
        self.secs
    }

    /// As a `std::time::Duration`.
    pub const fn as_duration(self) -> Duration {
        Duration::from_secs(self.secs)
    }
}

impl FromStr for Interval {
    type Err = IntervalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || IntervalError(s.to_string());
        let text = s.trim();
        if text.is_empty() {
            return Err(err());
        }
        let mut total: u64 = 0;
        let mut number = String::new();
        let mut next_unit = 0; // index into UNITS: units must come largest first, once each
        for c in text.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let pos = UNITS.iter().position(|(u, _)| *u == c).ok_or_else(err)?;
            if number.is_empty() || pos < next_unit {
                return Err(err());
            }
            let n: u64 = number.parse().map_err(|_| err())?;
            total = n
                .checked_mul(UNITS[pos].1)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(err)?;
            number.clear();
            next_unit = pos + 1;
        }
        if !number.is_empty() {
            return Err(err());
        }
        Ok(Self { secs: total })
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secs == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.secs;
        for (unit, size) in UNITS {
            if rest >= size {
                write!(f, "{}{}", rest / size, unit)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_admin_spellings() {
        assert_eq!("30m".parse::<Interval>().unwrap().as_secs(), 1800);
        assert_eq!("1h30m".parse::<Interval>().unwrap().as_secs(), 5400);
        assert_eq!("7d".parse::<Interval>().unwrap().as_secs(), 604_800);
        assert_eq!("90s".parse::<Interval>().unwrap().to_string(), "1m30s");
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "",
            "30",
            "m",
            "30x",
            "1m1h",
            "1h1h",
            "-5m",
            "1.5h",
            "99999999999999999999d",
        ] {
            let e = bad.parse::<Interval>().unwrap_err();
            assert_eq!(e.0, bad);
        }
        assert_eq!(
            "30".parse::<Interval>().unwrap_err().to_string(),
            "'30' is not a duration: write a number with a unit, e.g. '90s', '30m', '1h30m' or '7d'"
        );
    }

    proptest! {
        #[test]
        fn display_round_trips(secs in 0u64..10_000_000_000) {
            let i = Interval::from_secs(secs);
            prop_assert_eq!(i.to_string().parse::<Interval>().unwrap(), i);
        }

        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = s.parse::<Interval>();
        }
    }
}
