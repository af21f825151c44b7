//! The `dt` type of Entra Connect's expression language: a UTC date and time with the resolution
//! and range of .NET's `DateTime`, plus the conversions the function reference needs
//! (`CDate`, `FormatDateTime`, `DateAdd`, `DateFromNum`, `NumFromDate`, `Now`).
//!
//! Invariants: a [`DateTime`] always holds a tick count in `0..=DateTime::MAX.ticks()`, that is
//! 0001-01-01 00:00:00 to 9999-12-31 23:59:59.9999999 in the proleptic Gregorian calendar, in
//! UTC (there is no local time and no time-zone database: offsets in parsed text are applied and
//! forgotten). Every constructor validates and returns `None`/`Err` rather than producing an
//! out-of-range value, and nothing here panics, whatever the input (all arithmetic on external
//! values is checked). The calendar math is implemented here with no date crate.
//!
//! Choices made where Microsoft's documentation is silent (they mirror .NET or VBA where those
//! are known, and are otherwise conservative):
//!
//! - [`DateTime::parse`] (`CDate`) accepts only the forms listed on it; two-digit years,
//!   `dd/MM/yyyy`, month names, a time without a date and a bare `yyyyMMdd` are rejected rather
//!   than guessed. Fractions longer than seven digits are truncated (not rounded) to ticks. A
//!   time-zone designator needs a time; offsets are limited to ±14:00 as in .NET. With `AM`/`PM`
//!   the hour must be 1 to 12. Generalized time without a zone is taken as UTC.
//! - [`DateTime::format`] (`FormatDateTime`) uses the invariant culture's names and the `en-US`
//!   patterns for the one-character standard formats (the brief's `d` = `M/d/yyyy`, not the
//!   invariant `MM/dd/yyyy`); an empty format means `G`, as in .NET. As in .NET, an all-zero `F`
//!   group prints nothing and also removes a `.` immediately before it (`ss.FFF` of a whole
//!   second prints `05`, not `05.`).
//! - [`DateTime::add`] (`DateAdd`) keeps the time of day when adding months or years and clamps
//!   the day to the target month's length; interval names are matched case-insensitively but
//!   not trimmed.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

const TICKS_PER_SECOND: i64 = 10_000_000;
const TICKS_PER_MINUTE: i64 = 60 * TICKS_PER_SECOND;
const TICKS_PER_HOUR: i64 = 60 * TICKS_PER_MINUTE;
const TICKS_PER_DAY: i64 = 24 * TICKS_PER_HOUR;

/// Days from 0001-01-01 to January 1st of `year` (proleptic Gregorian).
const fn days_before_year(year: i64) -> i64 {
    let y = year - 1;
    y * 365 + y / 4 - y / 100 + y / 400
}

const fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Length of `month` (1..=12) of `year`; 0 for a month that does not exist.
const fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from January 1st to the first of `month` in `year`.
const fn days_before_month(year: i64, month: i64) -> i64 {
    let mut total = 0;
    let mut m = 1;
    while m < month {
        total += days_in_month(year, m);
        m += 1;
    }
    total
}

/// Days from 0001-01-01 to the given (already validated) date.
const fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    days_before_year(year) + days_before_month(year, month) + day - 1
}

/// Year and zero-based day of the year for a day count since 0001-01-01 (non-negative).
const fn year_from_days(days: i64) -> (i64, i64) {
    const DAYS_PER_400: i64 = 146_097;
    const DAYS_PER_100: i64 = 36_524;
    const DAYS_PER_4: i64 = 1_461;
    let n400 = days / DAYS_PER_400;
    let mut rest = days % DAYS_PER_400;
    // The last century of a 400-year cycle is one day longer: cap at 3 so its leap day stays.
    let mut n100 = rest / DAYS_PER_100;
    if n100 > 3 {
        n100 = 3;
    }
    rest -= n100 * DAYS_PER_100;
    let n4 = rest / DAYS_PER_4;
    rest %= DAYS_PER_4;
    // Likewise the fourth year of a four-year cycle holds the leap day.
    let mut n1 = rest / 365;
    if n1 > 3 {
        n1 = 3;
    }
    rest -= n1 * 365;
    (400 * n400 + 100 * n100 + 4 * n4 + n1 + 1, rest)
}

/// Month (1..=12) and day (1..=31) for a zero-based day of `year`.
const fn month_day(year: i64, day_of_year0: i64) -> (i64, i64) {
    let mut month = 1;
    let mut rest = day_of_year0;
    while month < 12 && rest >= days_in_month(year, month) {
        rest -= days_in_month(year, month);
        month += 1;
    }
    (month, rest + 1)
}

const MAX_TICKS: i64 = days_before_year(10_000) * TICKS_PER_DAY - 1;
const UNIX_EPOCH_TICKS: i64 = days_from_civil(1970, 1, 1) * TICKS_PER_DAY;
const FILETIME_EPOCH_TICKS: i64 = days_from_civil(1601, 1, 1) * TICKS_PER_DAY;

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// The one-character .NET standard formats supported, for error messages.
const STANDARD_FORMATS: &str = "d, D, f, F, g, G, m, M, o, O, r, R, s, t, T, u, U, y, Y";

/// The message of every `DateAdd` overflow.
const OUT_OF_RANGE: &str = "DateAdd: the result is outside the dates 0001-01-01 to 9999-12-31";

/// UTC date-time as .NET DateTime ticks: 100-ns intervals since 0001-01-01T00:00:00Z.
///
/// Always between [`DateTime::MIN`] and [`DateTime::MAX`]. Ordering is chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    ticks: i64,
}

/// The calendar fields of a [`DateTime`], as returned by [`DateTime::parts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Parts {
    /// Year, 1..=9999.
    pub year: u32,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of the month, 1..=31.
    pub day: u32,
    /// Hour, 0..=23.
    pub hour: u32,
    /// Minute, 0..=59.
    pub minute: u32,
    /// Second, 0..=59.
    pub second: u32,
    /// 100-ns ticks within the second, 0..=9_999_999.
    pub ticks_in_second: u32,
    /// Day of the week, 0 = Sunday .. 6 = Saturday (as .NET's `DayOfWeek`).
    pub weekday: u8,
    /// Day of the year, 1..=366.
    pub day_of_year: u16,
}

impl DateTime {
    /// 0001-01-01 00:00:00, the earliest representable value (tick 0).
    pub const MIN: DateTime = DateTime { ticks: 0 };
    /// 9999-12-31 23:59:59.9999999, the latest representable value.
    pub const MAX: DateTime = DateTime { ticks: MAX_TICKS };

    /// The date-time `t` ticks after 0001-01-01, or `None` when `t` is outside
    /// `0..=DateTime::MAX.ticks()`.
    pub fn from_ticks(t: i64) -> Option<Self> {
        (0..=MAX_TICKS)
            .contains(&t)
            .then_some(DateTime { ticks: t })
    }

    /// The number of 100-ns ticks since 0001-01-01 00:00:00 UTC (.NET `DateTime.Ticks`).
    pub fn ticks(self) -> i64 {
        self.ticks
    }

    /// The date-time with the given calendar fields, or `None` if any is out of range: year
    /// 1..=9999, month 1..=12, a day that exists in that month (leap years included), hour
    /// 0..=23, minute and second 0..=59, `nanos_100` (ticks within the second) 0..=9_999_999.
    pub fn from_parts(
        year: u32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        nanos_100: u32,
    ) -> Option<Self> {
        let (y, mo, d) = (i64::from(year), i64::from(month), i64::from(day));
        let valid = (1..=9999).contains(&y)
            && (1..=12).contains(&mo)
            && d >= 1
            && d <= days_in_month(y, mo)
            && hour < 24
            && minute < 60
            && second < 60
            && i64::from(nanos_100) < TICKS_PER_SECOND;
        if !valid {
            return None;
        }
        let ticks = days_from_civil(y, mo, d) * TICKS_PER_DAY
            + i64::from(hour) * TICKS_PER_HOUR
            + i64::from(minute) * TICKS_PER_MINUTE
            + i64::from(second) * TICKS_PER_SECOND
            + i64::from(nanos_100);
        Self::from_ticks(ticks)
    }

    /// The calendar fields of this date-time.
    pub fn parts(self) -> Parts {
        let days = self.ticks / TICKS_PER_DAY;
        let time = self.ticks % TICKS_PER_DAY;
        let (year, day_of_year0) = year_from_days(days);
        let (month, day) = month_day(year, day_of_year0);
        // All values are small and non-negative by the type's invariant, so the casts are exact.
        Parts {
            year: year as u32,
            month: month as u32,
            day: day as u32,
            hour: (time / TICKS_PER_HOUR) as u32,
            minute: (time % TICKS_PER_HOUR / TICKS_PER_MINUTE) as u32,
            second: (time % TICKS_PER_MINUTE / TICKS_PER_SECOND) as u32,
            ticks_in_second: (time % TICKS_PER_SECOND) as u32,
            // 0001-01-01 was a Monday.
            weekday: ((days + 1) % 7) as u8,
            day_of_year: (day_of_year0 + 1) as u16,
        }
    }

    /// `DateFromNum`: the date-time of a Windows FILETIME / AD Large Integer time (100-ns
    /// intervals since 1601-01-01 UTC, as in `pwdLastSet` or `accountExpires`). `None` for
    /// negative values and for values past 9999-12-31, such as AD's "never" (`i64::MAX`).
    pub fn from_filetime(ft: i64) -> Option<Self> {
        if ft < 0 {
            return None;
        }
        Self::from_ticks(ft.checked_add(FILETIME_EPOCH_TICKS)?)
    }

    /// `NumFromDate`: this date-time as a Windows FILETIME (100-ns intervals since 1601-01-01
    /// UTC), or `None` before 1601.
    pub fn to_filetime(self) -> Option<i64> {
        let ft = self.ticks - FILETIME_EPOCH_TICKS;
        (ft >= 0).then_some(ft)
    }

    /// The date-time `s` seconds after 1970-01-01 00:00:00 UTC (negative before), or `None`
    /// when that is outside the representable range.
    pub fn from_unix_seconds(s: i64) -> Option<Self> {
        Self::from_ticks(
            s.checked_mul(TICKS_PER_SECOND)?
                .checked_add(UNIX_EPOCH_TICKS)?,
        )
    }

    /// The current time (`Now`), truncated to ticks. Falls back to the Unix epoch if the system
    /// clock is set before 1970, and to [`DateTime::MAX`] if it is past 9999.
    pub fn now() -> Self {
        let unix_epoch = DateTime {
            ticks: UNIX_EPOCH_TICKS,
        };
        let Ok(since) = SystemTime::now().duration_since(UNIX_EPOCH) else {
            return unix_epoch;
        };
        let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
        let ticks = secs
            .checked_mul(TICKS_PER_SECOND)
            .and_then(|t| t.checked_add(i64::from(since.subsec_nanos() / 100)))
            .and_then(|t| t.checked_add(UNIX_EPOCH_TICKS));
        ticks.and_then(Self::from_ticks).unwrap_or(Self::MAX)
    }

    /// `CDate`: parses a date-time as admins and AD write it, returning UTC. Surrounding
    /// whitespace is ignored; anything not listed here, or an invalid date or time, is `None`.
    ///
    /// Accepted forms (`[]` = optional):
    /// - ISO dates: `yyyy-M-d` (also `yyyy/M/d`), then optionally `T` or spaces and a time.
    /// - US dates: `M/d/yyyy` (also `M-d-yyyy`), then optionally spaces and a time.
    /// - Times: `H:mm[:ss[.fraction]]`, the fraction with `.` or `,`, 1 or more digits
    ///   (beyond 7 truncated); then optionally `AM`/`PM` (any case, spaces allowed before it;
    ///   hour 1..=12, `12 AM` = midnight, `12 PM` = noon); then optionally a zone: `Z`, `UTC`,
    ///   `GMT`, or an offset `+hh:mm`, `+hhmm`, `+hh`, `+h` (or `-`), at most 14:00. The offset
    ///   is subtracted to give UTC: `2013-01-10 4:00 PM -8` is 2013-01-11 00:00:00.
    /// - AD generalized time: `yyyyMMddHHmmss[.fraction][Z|±hhmm]`, e.g. `20140905081453.0Z`.
    pub fn parse(s: &str) -> Option<Self> {
        let bytes = s.trim().as_bytes();
        let leading_digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut cur = Cursor { b: bytes, pos: 0 };
        let (local, offset) = if leading_digits == 14 {
            parse_generalized(&mut cur)?
        } else {
            parse_textual(&mut cur)?
        };
        if !cur.at_end() {
            return None;
        }
        Self::from_ticks(local.ticks.checked_sub(offset)?)
    }

    /// `FormatDateTime`: formats with a .NET date and time format string (invariant culture
    /// names, always UTC).
    ///
    /// A one-character string is a .NET standard format: `d` `M/d/yyyy`, `D`
    /// `dddd, MMMM d, yyyy`, `f` `dddd, MMMM d, yyyy h:mm tt`, `F`/`U`
    /// `dddd, MMMM d, yyyy h:mm:ss tt`, `g` `M/d/yyyy h:mm tt`, `G` `M/d/yyyy h:mm:ss tt`,
    /// `m`/`M` `MMMM d`, `o`/`O` `yyyy-MM-ddTHH:mm:ss.fffffffZ`, `r`/`R`
    /// `ddd, dd MMM yyyy HH:mm:ss GMT`, `s` `yyyy-MM-ddTHH:mm:ss`, `t` `h:mm tt`, `T`
    /// `h:mm:ss tt`, `u` `yyyy-MM-dd HH:mm:ssZ`, `y`/`Y` `MMMM yyyy`; any other single
    /// character is an error. The empty string means `G`.
    ///
    /// Longer strings are custom formats: `y` (year mod 100), `yy`, `yyy`+ (year padded to the
    /// count); `M`, `MM`, `MMM` (Jan), `MMMM` (January); `d`, `dd`, `ddd` (Mon), `dddd`
    /// (Monday); `h`, `hh` (12-hour); `H`, `HH`; `m`, `mm`; `s`, `ss`; `f`..`fffffff`
    /// (fraction digits); `F`..`FFFFFFF` (the same without trailing zeros; nothing at all, and
    /// no preceding `.`, when they are all zero); `t` (A/P), `tt` (AM/PM); `K` (`Z`); `z`
    /// (`+0`), `zz` (`+00`), `zzz` (`+00:00`); `g` (`A.D.`); `:` and `/`; `'...'` and `"..."`
    /// literals (a backslash escapes inside them); `\c` (literal `c`); `%c` (the single
    /// specifier `c`). Any other character is copied. Counts above 2 of `h`, `H`, `m`, `s`
    /// act as 2. `Err(message)` for more than 7 `f`/`F`, an unterminated quote, a trailing
    /// `\` or `%`, or an unsupported standard format.
    pub fn format(self, fmt: &str) -> Result<String, String> {
        let mut chars = fmt.chars();
        let pattern = match (chars.next(), chars.next()) {
            (None, _) => "M/d/yyyy h:mm:ss tt",
            (Some(c), None) => standard_pattern(c).ok_or_else(|| {
                format!(
                    "FormatDateTime: \"{fmt}\" is not a supported standard date format; a \
                     one-character format must be one of {STANDARD_FORMATS}"
                )
            })?,
            _ => fmt,
        };
        let mut out = String::with_capacity(pattern.len() + 8);
        self.format_custom(pattern, &mut out)
            .map_err(|why| format!("FormatDateTime: invalid format \"{fmt}\": {why}"))?;
        Ok(out)
    }

    /// `DateAdd`: adds `n` intervals (negative to subtract). Intervals, case-insensitive:
    /// `yyyy` years, `q` quarters, `m` months, `y` / `d` / `w` days (as VBA: day of year and
    /// weekday add days), `ww` weeks, `h` hours, `n` minutes, `s` seconds. Month-based
    /// intervals keep the time of day and clamp the day to the month's length (Jan 31 + 1 month
    /// is Feb 28 or 29). `Err` with a readable message for an unknown interval or a result
    /// outside 0001-01-01 to 9999-12-31.
    pub fn add(self, interval: &str, n: i64) -> Result<Self, String> {
        let out_of_range = || OUT_OF_RANGE.to_string();
        match interval.to_ascii_lowercase().as_str() {
            "yyyy" => self.add_months(n.checked_mul(12).ok_or_else(out_of_range)?),
            "q" => self.add_months(n.checked_mul(3).ok_or_else(out_of_range)?),
            "m" => self.add_months(n),
            "y" | "d" | "w" => self.add_ticks(n, TICKS_PER_DAY),
            "ww" => self.add_ticks(n, 7 * TICKS_PER_DAY),
            "h" => self.add_ticks(n, TICKS_PER_HOUR),
            "n" => self.add_ticks(n, TICKS_PER_MINUTE),
            "s" => self.add_ticks(n, TICKS_PER_SECOND),
            _ => Err(format!(
                "DateAdd: unknown interval \"{interval}\"; use yyyy (years), q (quarters), \
                 m (months), y, d or w (days), ww (weeks), h (hours), n (minutes) or s (seconds)"
            )),
        }
    }

    fn add_ticks(self, n: i64, unit: i64) -> Result<Self, String> {
        n.checked_mul(unit)
            .and_then(|delta| self.ticks.checked_add(delta))
            .and_then(Self::from_ticks)
            .ok_or_else(|| OUT_OF_RANGE.to_string())
    }

    fn add_months(self, n: i64) -> Result<Self, String> {
        let p = self.parts();
        let month_index = i64::from(p.year) * 12 + i64::from(p.month) - 1;
        let target = month_index
            .checked_add(n)
            .ok_or_else(|| OUT_OF_RANGE.to_string())?;
        let (year, month) = (target.div_euclid(12), target.rem_euclid(12) + 1);
        if !(1..=9999).contains(&year) {
            return Err(OUT_OF_RANGE.to_string());
        }
        let day = i64::from(p.day).min(days_in_month(year, month));
        let time = self.ticks % TICKS_PER_DAY;
        Self::from_ticks(days_from_civil(year, month, day) * TICKS_PER_DAY + time)
            .ok_or_else(|| OUT_OF_RANGE.to_string())
    }

    /// Appends the custom format `pattern` to `out`; `Err(reason)` for a malformed pattern.
    fn format_custom(self, pattern: &str, out: &mut String) -> Result<(), String> {
        let p = self.parts();
        // The pattern's characters, on the stack for the usual short patterns (a pattern has
        // no more characters than bytes).
        let mut stack = ['\0'; 48];
        let mut heap = Vec::new();
        let chars: &[char] = if pattern.len() <= stack.len() {
            let mut n = 0;
            for (slot, c) in stack.iter_mut().zip(pattern.chars()) {
                *slot = c;
                n += 1;
            }
            stack.get(..n).unwrap_or_default()
        } else {
            heap.extend(pattern.chars());
            &heap
        };
        let mut i = 0;
        while let Some(&ch) = chars.get(i) {
            let run = chars
                .get(i..)
                .map_or(1, |rest| rest.iter().take_while(|&&c| c == ch).count());
            let mut consumed = run;
            match ch {
                'y' if run <= 2 => push_number(out, p.year % 100, run),
                'y' => push_number(out, p.year, run),
                'M' if run <= 2 => push_number(out, p.month, run),
                'M' => push_name(out, &MONTH_NAMES, p.month as usize - 1, run == 3),
                'd' if run <= 2 => push_number(out, p.day, run),
                'd' => push_name(out, &DAY_NAMES, usize::from(p.weekday), run == 3),
                'h' => push_number(out, (p.hour + 11) % 12 + 1, run.min(2)),
                'H' => push_number(out, p.hour, run.min(2)),
                'm' => push_number(out, p.minute, run.min(2)),
                's' => push_number(out, p.second, run.min(2)),
                'f' | 'F' => {
                    if run > 7 {
                        return Err(format!("at most 7 '{ch}' may be used for a fraction"));
                    }
                    let mut value = p.ticks_in_second;
                    for _ in run..7 {
                        value /= 10;
                    }
                    let mut digits = String::new();
                    push_number(&mut digits, value, run);
                    if ch == 'f' {
                        out.push_str(&digits);
                    } else {
                        let trimmed = digits.trim_end_matches('0');
                        if trimmed.is_empty() {
                            if out.ends_with('.') {
                                out.pop();
                            }
                        } else {
                            out.push_str(trimmed);
                        }
                    }
                }
                't' => {
                    let designator = if p.hour < 12 { "AM" } else { "PM" };
                    out.push_str(if run == 1 {
                        designator.get(..1).unwrap_or(designator)
                    } else {
                        designator
                    });
                }
                'z' => out.push_str(match run {
                    1 => "+0",
                    2 => "+00",
                    _ => "+00:00",
                }),
                'g' => out.push_str("A.D."),
                'K' => {
                    out.push('Z');
                    consumed = 1;
                }
                '\'' | '"' => consumed = push_quoted(chars, i, out)?,
                '%' => match chars.get(i + 1) {
                    Some(&next) if next != '%' => {
                        self.format_custom(&next.to_string(), out)?;
                        consumed = 2;
                    }
                    _ => return Err("'%' must be followed by a format character".to_string()),
                },
                '\\' => match chars.get(i + 1) {
                    Some(&next) => {
                        out.push(next);
                        consumed = 2;
                    }
                    None => return Err("a '\\' at the end escapes nothing".to_string()),
                },
                _ => {
                    out.push(ch);
                    consumed = 1;
                }
            }
            i += consumed;
        }
        Ok(())
    }
}

/// The custom pattern of a one-character .NET standard format (`en-US` patterns).
fn standard_pattern(c: char) -> Option<&'static str> {
    Some(match c {
        'd' => "M/d/yyyy",
        'D' => "dddd, MMMM d, yyyy",
        'f' => "dddd, MMMM d, yyyy h:mm tt",
        'F' | 'U' => "dddd, MMMM d, yyyy h:mm:ss tt",
        'g' => "M/d/yyyy h:mm tt",
        'G' => "M/d/yyyy h:mm:ss tt",
        'm' | 'M' => "MMMM d",
        'o' | 'O' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        'r' | 'R' => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        's' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        't' => "h:mm tt",
        'T' => "h:mm:ss tt",
        'u' => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        'y' | 'Y' => "MMMM yyyy",
        _ => return None,
    })
}

/// Appends `value` zero-padded to at least `width` digits.
fn push_number(out: &mut String, value: u32, width: usize) {
    // Padded by hand: `format!` widths above `u16::MAX` panic, and `width` comes from the user.
    let digits = value.to_string();
    out.extend(std::iter::repeat_n('0', width.saturating_sub(digits.len())));
    out.push_str(&digits);
}

/// Appends `names[index]`, or its first three letters when `abbreviated`.
fn push_name(out: &mut String, names: &[&str], index: usize, abbreviated: bool) {
    let name = names.get(index).copied().unwrap_or_default();
    out.push_str(if abbreviated {
        name.get(..3).unwrap_or(name)
    } else {
        name
    });
}

/// Appends the quoted literal starting at `chars[start]` (the quote); returns the number of
/// characters it spans, closing quote included.
fn push_quoted(chars: &[char], start: usize, out: &mut String) -> Result<usize, String> {
    let quote = chars.get(start).copied().unwrap_or('\'');
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(format!("the quote {quote} is not closed")),
            Some(&c) if c == quote => return Ok(i + 1 - start),
            Some('\\') => match chars.get(i + 1) {
                Some(&escaped) => {
                    out.push(escaped);
                    i += 2;
                }
                None => return Err(format!("the quote {quote} is not closed")),
            },
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// A read position in the (trimmed, ASCII-matched) text being parsed.
struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// Consumes `word` (ASCII, any case) if it comes next and is not followed by a letter.
    fn eat_word(&mut self, word: &str) -> bool {
        let end = self.pos + word.len();
        let hit = self
            .b
            .get(self.pos..end)
            .is_some_and(|s| s.eq_ignore_ascii_case(word.as_bytes()))
            && !self.b.get(end).is_some_and(u8::is_ascii_alphabetic);
        if hit {
            self.pos = end;
        }
        hit
    }

    fn skip_spaces(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Reads `min..=max` (max ≤ 9) decimal digits; returns the value and the digit count.
    fn number(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let mut value = 0u32;
        let mut count = 0;
        while count < max {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    value = value * 10 + u32::from(c - b'0');
                    self.pos += 1;
                    count += 1;
                }
                _ => break,
            }
        }
        (count >= min).then_some((value, count))
    }

    /// Reads one or more fraction digits (after the separator) as ticks, truncating after 7.
    fn fraction(&mut self) -> Option<u32> {
        let mut value = 0u32;
        let mut count = 0usize;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            if count < 7 {
                value = value * 10 + u32::from(c - b'0');
            }
            count += 1;
            self.pos += 1;
        }
        if count == 0 {
            return None;
        }
        for _ in count..7 {
            value *= 10;
        }
        Some(value)
    }

    /// An optional zone designator: the offset from UTC in ticks (0 when there is none).
    /// `None` when one is started but malformed or beyond ±14:00.
    fn zone(&mut self) -> Option<i64> {
        let sign = match self.peek() {
            Some(b'Z' | b'z') => {
                self.pos += 1;
                return Some(0);
            }
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => {
                // Not a zone: leave the text for the caller's end-of-input check.
                let _ = self.eat_word("UTC") || self.eat_word("GMT");
                return Some(0);
            }
        };
        self.pos += 1;
        let (hours, hour_digits) = self.number(1, 2)?;
        let minutes = if self.eat(b':')
            || (hour_digits == 2 && self.peek().is_some_and(|c| c.is_ascii_digit()))
        {
            self.number(2, 2)?.0
        } else {
            0
        };
        let total = i64::from(hours) * 60 + i64::from(minutes);
        (minutes < 60 && total <= 14 * 60).then_some(sign * total * TICKS_PER_MINUTE)
    }
}

/// Parses `yyyyMMddHHmmss[.fraction][zone]`: the local date-time and its offset in ticks.
fn parse_generalized(cur: &mut Cursor<'_>) -> Option<(DateTime, i64)> {
    let (year, _) = cur.number(4, 4)?;
    let mut fields = [0u32; 5];
    for field in &mut fields {
        *field = cur.number(2, 2)?.0;
    }
    let [month, day, hour, minute, second] = fields;
    let fraction = if cur.eat(b'.') || cur.eat(b',') {
        cur.fraction()?
    } else {
        0
    };
    let offset = cur.zone()?;
    let local = DateTime::from_parts(year, month, day, hour, minute, second, fraction)?;
    Some((local, offset))
}

/// Parses an ISO or US date with an optional time, AM/PM and zone: the local date-time and its
/// offset in ticks.
fn parse_textual(cur: &mut Cursor<'_>) -> Option<(DateTime, i64)> {
    let (first, first_digits) = cur.number(1, 4)?;
    let separator = cur.peek().filter(|c| matches!(c, b'-' | b'/'))?;
    cur.pos += 1;
    let (second_field, _) = cur.number(1, 2)?;
    if !cur.eat(separator) {
        return None;
    }
    let (year, month, day) = match first_digits {
        4 => (first, second_field, cur.number(1, 2)?.0),
        1 | 2 => (cur.number(4, 4)?.0, first, second_field),
        _ => return None,
    };
    if cur.at_end() {
        let local = DateTime::from_parts(year, month, day, 0, 0, 0, 0)?;
        return Some((local, 0));
    }
    if !(cur.eat(b'T') || cur.eat(b't')) && cur.skip_spaces() == 0 {
        return None;
    }
    let (mut hour, _) = cur.number(1, 2)?;
    if !cur.eat(b':') {
        return None;
    }
    let (minute, _) = cur.number(2, 2)?;
    let (mut second, mut fraction) = (0, 0);
    if cur.eat(b':') {
        second = cur.number(2, 2)?.0;
        if cur.eat(b'.') || cur.eat(b',') {
            fraction = cur.fraction()?;
        }
    }
    let before_designator = cur.pos;
    cur.skip_spaces();
    let pm = if cur.eat_word("AM") {
        Some(false)
    } else if cur.eat_word("PM") {
        Some(true)
    } else {
        cur.pos = before_designator;
        None
    };
    if let Some(pm) = pm {
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour = hour % 12 + if pm { 12 } else { 0 };
    }
    cur.skip_spaces();
    let offset = cur.zone()?;
    let local = DateTime::from_parts(year, month, day, hour, minute, second, fraction)?;
    Some((local, offset))
}

impl fmt::Display for DateTime {
    /// `yyyy-MM-dd HH:mm:ss`, followed by `.fffffff` only when there are sub-second ticks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.parts();
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            p.year, p.month, p.day, p.hour, p.minute, p.second
        )?;
        if p.ticks_in_second != 0 {
            write!(f, ".{:07}", p.ticks_in_second)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dt(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime {
        DateTime::from_parts(y, mo, d, h, mi, s, 0).unwrap()
    }

    fn parse(s: &str) -> DateTime {
        DateTime::parse(s).unwrap_or_else(|| panic!("{s:?} should parse"))
    }

    fn fmt(d: DateTime, f: &str) -> String {
        d.format(f)
            .unwrap_or_else(|e| panic!("{f:?} should format: {e}"))
    }

    /// 2007-12-25 (a Tuesday) 14:05:09.0123456
    fn sample() -> DateTime {
        DateTime::from_parts(2007, 12, 25, 14, 5, 9, 123_456).unwrap()
    }

    #[test]
    fn constants() {
        assert_eq!(DateTime::MIN.ticks(), 0);
        assert_eq!(DateTime::MAX.ticks(), 3_155_378_975_999_999_999);
        assert_eq!(
            DateTime::MAX,
            DateTime::from_parts(9999, 12, 31, 23, 59, 59, 9_999_999).unwrap()
        );
        assert_eq!(DateTime::MIN, dt(1, 1, 1, 0, 0, 0));
        assert_eq!(UNIX_EPOCH_TICKS, 621_355_968_000_000_000);
        assert_eq!(FILETIME_EPOCH_TICKS, 504_911_232_000_000_000);
        assert_eq!(DateTime::from_ticks(-1), None);
        assert_eq!(DateTime::from_ticks(MAX_TICKS + 1), None);
        assert_eq!(DateTime::from_ticks(i64::MIN), None);
        assert_eq!(DateTime::from_ticks(42).unwrap().ticks(), 42);
    }

    #[test]
    fn parts_and_weekdays() {
        let p = sample().parts();
        assert_eq!(
            p,
            Parts {
                year: 2007,
                month: 12,
                day: 25,
                hour: 14,
                minute: 5,
                second: 9,
                ticks_in_second: 123_456,
                weekday: 2,
                day_of_year: 359,
            }
        );
        assert_eq!(DateTime::MIN.parts().weekday, 1); // Monday
        assert_eq!(dt(2012, 1, 1, 0, 0, 0).parts().weekday, 0); // Sunday
        assert_eq!(dt(1970, 1, 1, 0, 0, 0).parts().weekday, 4); // Thursday
        assert_eq!(DateTime::MAX.parts().weekday, 5); // Friday
        assert_eq!(DateTime::MAX.parts().day_of_year, 365);
        assert_eq!(dt(2000, 12, 31, 0, 0, 0).parts().day_of_year, 366);
        assert_eq!(dt(2024, 3, 1, 0, 0, 0).parts().day_of_year, 61);
    }

    #[test]
    fn leap_years_and_validation() {
        assert!(DateTime::from_parts(2000, 2, 29, 0, 0, 0, 0).is_some());
        assert!(DateTime::from_parts(2024, 2, 29, 0, 0, 0, 0).is_some());
        assert!(DateTime::from_parts(1900, 2, 29, 0, 0, 0, 0).is_none());
        assert!(DateTime::from_parts(2023, 2, 29, 0, 0, 0, 0).is_none());
        assert!(DateTime::from_parts(2001, 2, 30, 0, 0, 0, 0).is_none());
        assert!(DateTime::from_parts(2001, 4, 31, 0, 0, 0, 0).is_none());
        assert!(DateTime::from_parts(2001, 13, 1, 0, 0, 0, 0).is_none());
        assert!(DateTime::from_parts(2001, 0, 1, 0, 0, 0, 0).is_none());
        assert!(DateTime::from_parts(2001, 1, 0, 0, 0, 0, 0).is_none());
        assert!(DateTime::from_parts(0, 1, 1, 0, 0, 0, 0).is_none());
        assert!(DateTime::from_parts(10_000, 1, 1, 0, 0, 0, 0).is_none());
        assert!(DateTime::from_parts(2001, 1, 1, 24, 0, 0, 0).is_none());
        assert!(DateTime::from_parts(2001, 1, 1, 0, 60, 0, 0).is_none());
        assert!(DateTime::from_parts(2001, 1, 1, 0, 0, 60, 0).is_none());
        assert!(DateTime::from_parts(2001, 1, 1, 0, 0, 0, 10_000_000).is_none());
        assert!(DateTime::from_parts(u32::MAX, u32::MAX, u32::MAX, 0, 0, 0, 0).is_none());
    }

    #[test]
    fn every_day_follows_the_previous_one() {
        let mut prev = DateTime::MIN.parts();
        assert_eq!((prev.year, prev.month, prev.day), (1, 1, 1));
        let last_day = MAX_TICKS / TICKS_PER_DAY;
        for days in 1..=last_day {
            let p = DateTime::from_ticks(days * TICKS_PER_DAY).unwrap().parts();
            let next_day_same_month = p.year == prev.year
                && p.month == prev.month
                && p.day == prev.day + 1
                && p.day_of_year == prev.day_of_year + 1;
            let next_month = p.year == prev.year
                && p.month == prev.month + 1
                && p.day == 1
                && p.day_of_year == prev.day_of_year + 1
                && i64::from(prev.day) == days_in_month(i64::from(prev.year), prev.month.into());
            let next_year = p.year == prev.year + 1
                && p.month == 1
                && p.day == 1
                && p.day_of_year == 1
                && prev.month == 12
                && prev.day == 31;
            assert!(
                next_day_same_month || next_month || next_year,
                "{prev:?} -> {p:?}"
            );
            assert_eq!(p.weekday, (prev.weekday + 1) % 7);
            prev = p;
        }
        assert_eq!((prev.year, prev.month, prev.day), (9999, 12, 31));
    }

    #[test]
    fn filetime_documented_vector() {
        let d = DateTime::from_filetime(129_699_324_000_000_000).unwrap();
        assert_eq!(d, dt(2012, 1, 1, 23, 0, 0));
        assert_eq!(d.to_filetime(), Some(129_699_324_000_000_000));
    }

    #[test]
    fn filetime_edges() {
        assert_eq!(DateTime::from_filetime(0), Some(dt(1601, 1, 1, 0, 0, 0)));
        assert_eq!(dt(1601, 1, 1, 0, 0, 0).to_filetime(), Some(0));
        assert_eq!(DateTime::from_filetime(i64::MAX), None);
        assert_eq!(DateTime::from_filetime(-1), None);
        assert_eq!(DateTime::from_filetime(i64::MIN), None);
        assert_eq!(DateTime::MIN.to_filetime(), None);
        assert_eq!(
            DateTime::from_parts(1600, 12, 31, 23, 59, 59, 9_999_999)
                .unwrap()
                .to_filetime(),
            None
        );
        let max_ft = DateTime::MAX.to_filetime().unwrap();
        assert_eq!(DateTime::from_filetime(max_ft), Some(DateTime::MAX));
        assert_eq!(DateTime::from_filetime(max_ft + 1), None);
        let when_created = parse("20140905081453.0Z");
        let ft = when_created.to_filetime().unwrap();
        assert_eq!(DateTime::from_filetime(ft), Some(when_created));
    }

    #[test]
    fn unix_seconds_and_now() {
        assert_eq!(
            DateTime::from_unix_seconds(0),
            Some(dt(1970, 1, 1, 0, 0, 0))
        );
        assert_eq!(
            DateTime::from_unix_seconds(1_700_000_000),
            Some(dt(2023, 11, 14, 22, 13, 20))
        );
        assert_eq!(
            DateTime::from_unix_seconds(-86_400),
            Some(dt(1969, 12, 31, 0, 0, 0))
        );
        assert_eq!(DateTime::from_unix_seconds(i64::MAX), None);
        assert_eq!(DateTime::from_unix_seconds(i64::MIN), None);
        assert_eq!(
            DateTime::from_unix_seconds(-62_135_596_800),
            Some(DateTime::MIN)
        );
        assert_eq!(DateTime::from_unix_seconds(-62_135_596_801), None);
        assert_eq!(
            DateTime::from_unix_seconds(253_402_300_799).map(|d| d.parts().year),
            Some(9999)
        );
        assert_eq!(DateTime::from_unix_seconds(253_402_300_800), None);
        let now = DateTime::now();
        assert!(now > dt(2020, 1, 1, 0, 0, 0));
        assert!(now < DateTime::MAX);
    }

    #[test]
    fn display() {
        assert_eq!(dt(2012, 1, 1, 23, 0, 0).to_string(), "2012-01-01 23:00:00");
        assert_eq!(sample().to_string(), "2007-12-25 14:05:09.0123456");
        assert_eq!(DateTime::MIN.to_string(), "0001-01-01 00:00:00");
        assert_eq!(DateTime::MAX.to_string(), "9999-12-31 23:59:59.9999999");
    }

    #[test]
    fn parse_iso() {
        assert_eq!(parse("2001-01-01"), dt(2001, 1, 1, 0, 0, 0));
        assert_eq!(parse("2012-01-01 23:00:00"), dt(2012, 1, 1, 23, 0, 0));
        assert_eq!(parse("2012-01-01T23:00:00"), dt(2012, 1, 1, 23, 0, 0));
        assert_eq!(parse("2012-01-01t23:00"), dt(2012, 1, 1, 23, 0, 0));
        assert_eq!(parse("2012-1-2 3:04"), dt(2012, 1, 2, 3, 4, 0));
        assert_eq!(parse("2012/01/02"), dt(2012, 1, 2, 0, 0, 0));
        assert_eq!(parse("2012-01-01T23:00:00Z"), dt(2012, 1, 1, 23, 0, 0));
        assert_eq!(parse("2012-01-01T23:00:00z"), dt(2012, 1, 1, 23, 0, 0));
        assert_eq!(parse("2012-01-01 23:00:00 UTC"), dt(2012, 1, 1, 23, 0, 0));
        assert_eq!(parse("2012-01-01 23:00:00 gmt"), dt(2012, 1, 1, 23, 0, 0));
        assert_eq!(
            parse("2012-01-01T23:00:00.1234567"),
            DateTime::from_parts(2012, 1, 1, 23, 0, 0, 1_234_567).unwrap()
        );
        assert_eq!(
            parse("2012-01-01T23:00:00.5Z"),
            DateTime::from_parts(2012, 1, 1, 23, 0, 0, 5_000_000).unwrap()
        );
        assert_eq!(
            parse("2012-01-01T23:00:00,25"),
            DateTime::from_parts(2012, 1, 1, 23, 0, 0, 2_500_000).unwrap()
        );
        // Beyond 7 digits: truncated.
        assert_eq!(
            parse("2012-01-01T23:00:00.123456789Z"),
            DateTime::from_parts(2012, 1, 1, 23, 0, 0, 1_234_567).unwrap()
        );
        assert_eq!(
            parse("2012-01-01T23:00:00+05:30"),
            dt(2012, 1, 1, 17, 30, 0)
        );
        assert_eq!(parse("2012-01-01T23:00:00+0530"), dt(2012, 1, 1, 17, 30, 0));
        assert_eq!(parse("2012-01-01T23:00:00-0800"), dt(2012, 1, 2, 7, 0, 0));
        assert_eq!(parse("2012-01-01T23:00:00-08"), dt(2012, 1, 2, 7, 0, 0));
        assert_eq!(parse("2012-01-01 23:00:00 -8"), dt(2012, 1, 2, 7, 0, 0));
        assert_eq!(parse("2012-01-01 23:00:00 +14:00"), dt(2012, 1, 1, 9, 0, 0));
        assert_eq!(parse("  \t2001-01-01 \n"), dt(2001, 1, 1, 0, 0, 0));
        assert_eq!(parse("0001-01-01"), DateTime::MIN);
        assert_eq!(parse("9999-12-31T23:59:59.9999999Z"), DateTime::MAX);
    }

    #[test]
    fn parse_us() {
        assert_eq!(parse("12/25/2007"), dt(2007, 12, 25, 0, 0, 0));
        assert_eq!(parse("1/2/2007"), dt(2007, 1, 2, 0, 0, 0));
        assert_eq!(parse("12-25-2007"), dt(2007, 12, 25, 0, 0, 0));
        assert_eq!(parse("12/25/2007 13:45:10"), dt(2007, 12, 25, 13, 45, 10));
        assert_eq!(parse("12/25/2007 1:45 PM"), dt(2007, 12, 25, 13, 45, 0));
        assert_eq!(parse("12/25/2007 1:45:10 pm"), dt(2007, 12, 25, 13, 45, 10));
    }

    #[test]
    fn parse_twelve_hour_clock() {
        // Documented: CDate("2013-01-10 4:00 PM -8") is 2013-01-11 12:00 AM.
        assert_eq!(parse("2013-01-10 4:00 PM -8"), dt(2013, 1, 11, 0, 0, 0));
        assert_eq!(parse("2013-01-10 12:00 AM"), dt(2013, 1, 10, 0, 0, 0));
        assert_eq!(parse("2013-01-10 12:00 PM"), dt(2013, 1, 10, 12, 0, 0));
        assert_eq!(parse("2013-01-10 12:30:15 am"), dt(2013, 1, 10, 0, 30, 15));
        assert_eq!(parse("2013-01-10 11:59 PM"), dt(2013, 1, 10, 23, 59, 0));
        assert_eq!(parse("2013-01-10 1:00AM"), dt(2013, 1, 10, 1, 0, 0));
        assert_eq!(parse("2013-01-10 1:00 AM Z"), dt(2013, 1, 10, 1, 0, 0));
        assert_eq!(parse("2013-01-10 1:00 AM +01:00"), dt(2013, 1, 10, 0, 0, 0));
        assert_eq!(DateTime::parse("2013-01-10 0:00 AM"), None);
        assert_eq!(DateTime::parse("2013-01-10 13:00 PM"), None);
        assert_eq!(DateTime::parse("2013-01-10 1:00 AMX"), None);
    }

    #[test]
    fn parse_generalized_time() {
        assert_eq!(parse("20140905081453.0Z"), dt(2014, 9, 5, 8, 14, 53));
        assert_eq!(parse("20140905081453Z"), dt(2014, 9, 5, 8, 14, 53));
        assert_eq!(parse("20140905081453"), dt(2014, 9, 5, 8, 14, 53));
        assert_eq!(
            parse("20140905081453.25Z"),
            DateTime::from_parts(2014, 9, 5, 8, 14, 53, 2_500_000).unwrap()
        );
        assert_eq!(parse("20140905081453.0+0200"), dt(2014, 9, 5, 6, 14, 53));
        assert_eq!(parse("20140905081453-0100"), dt(2014, 9, 5, 9, 14, 53));
        assert_eq!(DateTime::parse("20140230081453.0Z"), None);
        assert_eq!(DateTime::parse("20141305081453.0Z"), None);
        assert_eq!(DateTime::parse("20140905251453.0Z"), None);
        assert_eq!(DateTime::parse("201409050814531.0Z"), None);
        assert_eq!(DateTime::parse("20140905081453.Z"), None);
        assert_eq!(DateTime::parse("20140905081453.0ZZ"), None);
        assert_eq!(DateTime::parse("20140905081453 Z"), None);
    }

    #[test]
    fn parse_offsets_crossing_the_range() {
        assert_eq!(DateTime::parse("0001-01-01 00:00 +01:00"), None);
        assert_eq!(DateTime::parse("9999-12-31 23:00 -01:00"), None);
        assert_eq!(parse("0001-01-01 01:00 +01:00"), DateTime::MIN);
    }

    #[test]
    fn parse_rejects_malformed() {
        for s in [
            "",
            "   ",
            "x",
            "2001",
            "2001-01",
            "2001-01-",
            "2001-02-30",
            "1900-02-29",
            "2001-13-01",
            "2001-00-10",
            "2001-01-01 25:00",
            "2001-01-01 24:00",
            "2001-01-01 23:60",
            "2001-01-01 23:59:60",
            "2001-01-01 23",
            "2001-01-01 23:5",
            "2001-01-01 23:00:5",
            "2001-01-01 23:00:00.",
            "2001-01-01T",
            "2001-01-01X23:00",
            "2001-01-0123:00",
            "2001-01/01",
            "2001.01.01",
            "0000-01-01",
            "10000-01-01",
            "12/25/07",
            "13/25/2007",
            "25/12/2007",
            "12/25/20071",
            "123/25/2007",
            "2001-01-01 12:00 +15:00",
            "2001-01-01 12:00 +05:60",
            "2001-01-01 12:00 +",
            "2001-01-01 12:00 +5:3",
            "2001-01-01 12:00 +830",
            "2001-01-01 12:00 Z Z",
            "2001-01-01 12:00 UTCX",
            "2001-01-01Z",
            "2001-01-01 -8",
            "4:00 PM",
            "20140905",
            "Monday, January 1, 2001",
            "２００１-01-01",
            "2001-01-01 12:00 PM PM",
        ] {
            assert_eq!(DateTime::parse(s), None, "{s:?} should be rejected");
        }
    }

    #[test]
    fn format_documented_vectors() {
        assert_eq!(fmt(parse("12/25/2007"), "yyyy-MM-dd"), "2007-12-25");
        assert_eq!(
            fmt(parse("20140905081453.0Z"), "yyyyMMddHHmmss.0Z"),
            "20140905081453.0Z"
        );
        let d = DateTime::from_filetime(129_699_324_000_000_000).unwrap();
        assert_eq!(fmt(d, "yyyyMMddHHmmss.0Z"), "20120101230000.0Z");
    }

    #[test]
    fn format_year() {
        let d = sample();
        assert_eq!(fmt(d, "y|"), "7|");
        assert_eq!(fmt(d, "yy"), "07");
        assert_eq!(fmt(d, "yyy"), "2007");
        assert_eq!(fmt(d, "yyyy"), "2007");
        assert_eq!(fmt(d, "yyyyy"), "02007");
        // Widths beyond what `format!` allows are padded too.
        let long = fmt(d, &"y".repeat(70_000));
        assert_eq!(long.len(), 70_000);
        assert!(long.ends_with("0002007"));
        let early = dt(5, 1, 1, 0, 0, 0);
        assert_eq!(fmt(early, "y|yy|yyy|yyyy"), "5|05|005|0005");
        assert_eq!(fmt(dt(2010, 1, 1, 0, 0, 0), "y|"), "10|");
    }

    #[test]
    fn format_month_and_day() {
        let d = sample();
        assert_eq!(fmt(d, "M|MM|MMM|MMMM|MMMMM"), "12|12|Dec|December|December");
        assert_eq!(fmt(d, "d|dd|ddd|dddd|ddddd"), "25|25|Tue|Tuesday|Tuesday");
        let early = dt(2001, 2, 3, 0, 0, 0);
        assert_eq!(fmt(early, "M|MM|MMM|MMMM"), "2|02|Feb|February");
        assert_eq!(fmt(early, "d|dd|ddd|dddd"), "3|03|Sat|Saturday");
        let names: Vec<String> = (1..=12)
            .map(|m| fmt(dt(2001, m, 1, 0, 0, 0), "MMM"))
            .collect();
        assert_eq!(
            names.join(" "),
            "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"
        );
        let days: Vec<String> = (1..=7)
            .map(|day| fmt(dt(2012, 1, day, 0, 0, 0), "dddd"))
            .collect();
        assert_eq!(
            days.join(" "),
            "Sunday Monday Tuesday Wednesday Thursday Friday Saturday"
        );
    }

    #[test]
    fn format_time_of_day() {
        let d = sample();
        assert_eq!(fmt(d, "H|HH|h|hh|hhh"), "14|14|2|02|02");
        assert_eq!(fmt(d, "m|mm|mmm|s|ss|sss"), "5|05|05|9|09|09");
        assert_eq!(fmt(d, "t|tt|ttt"), "P|PM|PM");
        let midnight = dt(2001, 1, 1, 0, 7, 0);
        assert_eq!(fmt(midnight, "h:mm tt|H|t"), "12:07 AM|0|A");
        let noon = dt(2001, 1, 1, 12, 0, 0);
        assert_eq!(fmt(noon, "h tt|HH"), "12 PM|12");
        assert_eq!(fmt(dt(2001, 1, 1, 23, 0, 0), "hh tt"), "11 PM");
    }

    #[test]
    fn format_fractions() {
        let d = sample(); // .0123456
        assert_eq!(fmt(d, "f|ff|fff|ffff"), "0|01|012|0123");
        assert_eq!(fmt(d, "fffff|ffffff|fffffff"), "01234|012345|0123456");
        assert_eq!(fmt(d, "F|FF|FFF|FFFF"), "|01|012|0123");
        assert_eq!(fmt(d, "FFFFF|FFFFFF|FFFFFFF"), "01234|012345|0123456");
        let half = DateTime::from_parts(2001, 1, 1, 0, 0, 1, 5_000_000).unwrap();
        assert_eq!(fmt(half, "ss.FFFFFFF"), "01.5");
        assert_eq!(fmt(half, "ss.fffffff"), "01.5000000");
        let whole = dt(2001, 1, 1, 0, 0, 1);
        // As .NET: an all-zero F group prints nothing and drops the '.' just before it.
        assert_eq!(fmt(whole, "ss.FFF"), "01");
        assert_eq!(fmt(whole, "ss.FFF'x'"), "01x");
        assert_eq!(fmt(whole, "ss,FFF"), "01,");
        assert_eq!(fmt(whole, "ss.fff"), "01.000");
        assert!(d.format("ffffffff").is_err());
        assert!(d.format("FFFFFFFF").is_err());
    }

    #[test]
    fn format_zones_and_era() {
        let d = sample();
        assert_eq!(fmt(d, "K|z|zz|zzz|zzzz"), "Z|+0|+00|+00:00|+00:00");
        assert_eq!(fmt(d, "KK"), "ZZ");
        assert_eq!(fmt(d, "g yyyy"), "A.D. 2007");
        assert_eq!(fmt(d, "gg"), "A.D.");
    }

    #[test]
    fn format_literals() {
        let d = sample();
        assert_eq!(fmt(d, "HH:mm"), "14:05");
        assert_eq!(fmt(d, "M/d"), "12/25");
        assert_eq!(fmt(d, "'yyyy' yyyy"), "yyyy 2007");
        assert_eq!(fmt(d, "\"at\" HH"), "at 14");
        assert_eq!(fmt(d, "'it''s' d"), "its 25");
        assert_eq!(fmt(d, "'a\\'b' d"), "a'b 25");
        assert_eq!(fmt(d, "\\y\\e\\a\\r yyyy"), "year 2007");
        assert_eq!(fmt(d, "%d"), "25");
        assert_eq!(fmt(d, "%M"), "12");
        assert_eq!(fmt(d, "%y"), "7");
        assert_eq!(fmt(d, "d%d"), "2525");
        assert_eq!(fmt(d, "[yyyy] #0 é→"), "[2007] #0 é→");
        assert_eq!(fmt(d, "yyyyMMddHHmmss.0Z"), "20071225140509.0Z");
    }

    #[test]
    fn format_errors() {
        let d = sample();
        for bad in [
            "'abc", "\"abc", "yyyy 'x", "yyyy\\", "%", "d%", "%%", "%'", "'a\\",
        ] {
            let err = d.format(bad).unwrap_err();
            assert!(err.contains("FormatDateTime"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn standard_formats() {
        let d = sample();
        let cases = [
            ("d", "12/25/2007"),
            ("D", "Tuesday, December 25, 2007"),
            ("f", "Tuesday, December 25, 2007 2:05 PM"),
            ("F", "Tuesday, December 25, 2007 2:05:09 PM"),
            ("U", "Tuesday, December 25, 2007 2:05:09 PM"),
            ("g", "12/25/2007 2:05 PM"),
            ("G", "12/25/2007 2:05:09 PM"),
            ("", "12/25/2007 2:05:09 PM"),
            ("m", "December 25"),
            ("M", "December 25"),
            ("o", "2007-12-25T14:05:09.0123456Z"),
            ("O", "2007-12-25T14:05:09.0123456Z"),
            ("r", "Tue, 25 Dec 2007 14:05:09 GMT"),
            ("R", "Tue, 25 Dec 2007 14:05:09 GMT"),
            ("s", "2007-12-25T14:05:09"),
            ("t", "2:05 PM"),
            ("T", "2:05:09 PM"),
            ("u", "2007-12-25 14:05:09Z"),
            ("y", "December 2007"),
            ("Y", "December 2007"),
        ];
        for (f, expected) in cases {
            assert_eq!(fmt(d, f), expected, "format {f:?}");
        }
        let early = dt(5, 3, 4, 6, 7, 8);
        assert_eq!(fmt(early, "o"), "0005-03-04T06:07:08.0000000Z");
        assert_eq!(fmt(early, "d"), "3/4/0005");
        for bad in ["K", "z", "x", "h", "H", "0", ":", "é"] {
            let err = d.format(bad).unwrap_err();
            assert!(err.contains("d, D, f, F, g, G"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn standard_formats_parse_back() {
        let d = sample();
        for f in [
            "o",
            "O",
            "s",
            "u",
            "d",
            "g",
            "G",
            "yyyy-MM-dd HH:mm:ss.FFFFFFF K",
        ] {
            let text = fmt(d, f);
            assert!(DateTime::parse(&text).is_some(), "{f:?} gave {text:?}");
        }
        assert_eq!(parse(&fmt(d, "G")), dt(2007, 12, 25, 14, 5, 9));
    }

    #[test]
    fn add_documented_vector() {
        assert_eq!(parse("2001-01-01").add("m", 3), Ok(dt(2001, 4, 1, 0, 0, 0)));
    }

    #[test]
    fn add_intervals() {
        let d = dt(2001, 1, 31, 10, 20, 30);
        assert_eq!(d.add("yyyy", 2), Ok(dt(2003, 1, 31, 10, 20, 30)));
        assert_eq!(d.add("q", 1), Ok(dt(2001, 4, 30, 10, 20, 30)));
        assert_eq!(d.add("m", 1), Ok(dt(2001, 2, 28, 10, 20, 30)));
        assert_eq!(d.add("m", -1), Ok(dt(2000, 12, 31, 10, 20, 30)));
        assert_eq!(d.add("m", -13), Ok(dt(1999, 12, 31, 10, 20, 30)));
        assert_eq!(d.add("m", 0), Ok(d));
        assert_eq!(d.add("y", 1), Ok(dt(2001, 2, 1, 10, 20, 30)));
        assert_eq!(d.add("d", 1), Ok(dt(2001, 2, 1, 10, 20, 30)));
        assert_eq!(d.add("w", -31), Ok(dt(2000, 12, 31, 10, 20, 30)));
        assert_eq!(d.add("ww", 1), Ok(dt(2001, 2, 7, 10, 20, 30)));
        assert_eq!(d.add("h", 14), Ok(dt(2001, 2, 1, 0, 20, 30)));
        assert_eq!(d.add("n", -21), Ok(dt(2001, 1, 31, 9, 59, 30)));
        assert_eq!(d.add("s", 30), Ok(dt(2001, 1, 31, 10, 21, 0)));
        assert_eq!(d.add("YYYY", 1), Ok(dt(2002, 1, 31, 10, 20, 30)));
        assert_eq!(d.add("Q", 1), d.add("q", 1));
        assert_eq!(d.add("WW", 1), d.add("ww", 1));
        let fraction = DateTime::from_parts(2001, 1, 31, 0, 0, 0, 42).unwrap();
        assert_eq!(fraction.add("m", 1).unwrap().parts().ticks_in_second, 42);
    }

    #[test]
    fn add_leap_years() {
        let leap_day = dt(2024, 2, 29, 0, 0, 0);
        assert_eq!(leap_day.add("yyyy", 1), Ok(dt(2025, 2, 28, 0, 0, 0)));
        assert_eq!(leap_day.add("yyyy", 4), Ok(dt(2028, 2, 29, 0, 0, 0)));
        assert_eq!(leap_day.add("yyyy", -124), Ok(dt(1900, 2, 28, 0, 0, 0)));
        assert_eq!(leap_day.add("yyyy", -24), Ok(dt(2000, 2, 29, 0, 0, 0)));
        assert_eq!(dt(2024, 1, 31, 0, 0, 0).add("m", 1), Ok(leap_day));
        assert_eq!(dt(2024, 2, 28, 0, 0, 0).add("d", 1), Ok(leap_day));
        assert_eq!(
            dt(2023, 2, 28, 0, 0, 0).add("d", 1),
            Ok(dt(2023, 3, 1, 0, 0, 0))
        );
    }

    #[test]
    fn add_errors() {
        let d = dt(2001, 1, 1, 0, 0, 0);
        for (interval, n) in [
            ("yyyy", 8000),
            ("yyyy", -2001),
            ("yyyy", i64::MAX),
            ("q", i64::MIN),
            ("m", i64::MAX),
            ("m", i64::MIN),
            ("d", 3_000_000),
            ("d", i64::MAX),
            ("ww", i64::MIN),
            ("s", i64::MAX),
            ("h", -20_000_000),
        ] {
            let err = d.add(interval, n).unwrap_err();
            assert!(
                err.contains("0001-01-01 to 9999-12-31"),
                "{interval} {n}: {err}"
            );
        }
        assert!(DateTime::MAX.add("s", 1).is_err());
        assert!(DateTime::MIN.add("s", -1).is_err());
        assert_eq!(
            dt(9999, 12, 31, 0, 0, 0).add("m", 0),
            Ok(dt(9999, 12, 31, 0, 0, 0))
        );
        assert!(dt(9999, 12, 1, 0, 0, 0).add("m", 1).is_err());
        assert_eq!(DateTime::MIN.add("m", 0), Ok(DateTime::MIN));
        assert!(DateTime::MIN.add("m", -1).is_err());
        for bad in ["x", "", "days", " d", "yy", "mm"] {
            let err = d.add(bad, 1).unwrap_err();
            assert!(err.contains("unknown interval"), "{bad:?}: {err}");
        }
    }

    fn any_datetime() -> impl Strategy<Value = DateTime> {
        (0..=MAX_TICKS).prop_map(|t| DateTime::from_ticks(t).unwrap())
    }

    proptest! {
        #[test]
        fn parts_round_trip(t in 0..=MAX_TICKS) {
            let d = DateTime::from_ticks(t).unwrap();
            let p = d.parts();
            let back = DateTime::from_parts(
                p.year, p.month, p.day, p.hour, p.minute, p.second, p.ticks_in_second,
            );
            prop_assert_eq!(back, Some(d));
            prop_assert_eq!(i64::from(p.weekday), (t / TICKS_PER_DAY + 1) % 7);
            let jan1 = DateTime::from_parts(p.year, 1, 1, 0, 0, 0, 0).unwrap();
            prop_assert_eq!(
                i64::from(p.day_of_year),
                (t - jan1.ticks()) / TICKS_PER_DAY + 1
            );
        }

        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            let _ = DateTime::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_date_like_text(s in "[0-9 :./,TtZzAaPpMm+-]{0,30}") {
            if let Some(d) = DateTime::parse(&s) {
                prop_assert!(d <= DateTime::MAX);
            }
        }

        #[test]
        fn format_never_panics(d in any_datetime(), f in ".{0,30}") {
            let _ = d.format(&f);
        }

        #[test]
        fn format_never_panics_on_specifiers(
            d in any_datetime(),
            f in "[yMdhHmsfFtzKg:/'\"\\\\%. x]{0,20}",
        ) {
            let _ = d.format(&f);
        }

        #[test]
        fn round_trip_format(d in any_datetime()) {
            prop_assert_eq!(DateTime::parse(&d.format("o").unwrap()), Some(d));
            prop_assert_eq!(DateTime::parse(&d.to_string()), Some(d));
        }

        #[test]
        fn filetime_round_trip(d in any_datetime()) {
            match d.to_filetime() {
                Some(ft) => prop_assert_eq!(DateTime::from_filetime(ft), Some(d)),
                None => prop_assert!(d < DateTime::from_parts(1601, 1, 1, 0, 0, 0, 0).unwrap()),
            }
        }

        #[test]
        fn add_days_matches_ticks(d in any_datetime(), n in -4_000_000i64..4_000_000) {
            let expected = DateTime::from_ticks(d.ticks() + n * TICKS_PER_DAY);
            prop_assert_eq!(d.add("d", n).ok(), expected);
        }

        #[test]
        fn add_months_keeps_time_and_clamps(d in any_datetime(), n in -120_000i64..120_000) {
            if let Ok(r) = d.add("m", n) {
                let (p, q) = (d.parts(), r.parts());
                prop_assert_eq!(d.ticks() % TICKS_PER_DAY, r.ticks() % TICKS_PER_DAY);
                prop_assert!(q.day <= p.day);
                prop_assert!(q.day == p.day || q.day >= 28);
                let months = |x: Parts| i64::from(x.year) * 12 + i64::from(x.month);
                prop_assert_eq!(months(q) - months(p), n);
            }
        }
    }
}
