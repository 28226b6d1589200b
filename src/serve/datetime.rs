//! The date-time handling EnableNow needs: lenient parsing, UTC output that
//! keeps the client's fractional-second precision.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// An instant as stored: UTC seconds and nanoseconds, plus how many fractional
/// digits the client wrote, so the share echoes the precision it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub secs: i64,
    pub nanos: u32,
    pub frac_digits: u8,
}

impl Stamp {
    /// Now, with full precision (used for comparisons, never echoed).
    pub fn now() -> Stamp {
        let now = OffsetDateTime::now_utc();
        Stamp {
            secs: now.unix_timestamp(),
            nanos: now.nanosecond(),
            frac_digits: 9,
        }
    }

    /// Now plus `days`, in whole seconds: a server-chosen default has no
    /// client precision to keep, and whole seconds read best.
    pub fn days_from_now(days: i64) -> Stamp {
        let now = OffsetDateTime::now_utc();
        Stamp {
            secs: now
                .unix_timestamp()
                .saturating_add(days.saturating_mul(86_400)),
            nanos: 0,
            frac_digits: 0,
        }
    }

    /// Now truncated to whole seconds.
    pub fn now_whole() -> Stamp {
        Stamp::days_from_now(0)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.f]` followed by `Z`, `±HH:MM` or nothing
    /// (the spec's pattern); the naive form is taken as UTC because the
    /// field is defined in UTC. Impossible dates and times are refused.
    pub fn parse(s: &str) -> Option<Stamp> {
        let f = Fields::parse(s)?;
        let date = Date::from_calendar_date(
            f.year as i32,
            Month::try_from(f.month as u8).ok()?,
            f.day as u8,
        )
        .ok()?;
        let time =
            Time::from_hms_nano(f.hour as u8, f.minute as u8, f.second as u8, f.nanos).ok()?;
        let offset = UtcOffset::from_whole_seconds(f.offset_secs).ok()?;
        let dt = PrimitiveDateTime::new(date, time).assume_offset(offset);
        // Refuse instants whose UTC form leaves the four-digit years we can write back.
        dt.checked_to_offset(UtcOffset::UTC)?;
        Some(Stamp {
            secs: dt.unix_timestamp(),
            nanos: f.nanos,
            frac_digits: f.frac_digits,
        })
    }

    /// Like [`Stamp::parse`], but fields past their range carry over as a
    /// lenient calendar does (30 February is 2 March, hour 24 is midnight of
    /// the next day): the `impossible-dates-roll-over` variant's reading.
    pub fn parse_rolling(s: &str) -> Option<Stamp> {
        let f = Fields::parse(s)?;
        let months = f.month as i32 - 1;
        let year = f.year as i32 + months.div_euclid(12);
        let month = Month::try_from((months.rem_euclid(12) + 1) as u8).ok()?;
        let first = Date::from_calendar_date(year, month, 1).ok()?;
        let base = PrimitiveDateTime::new(first, Time::MIDNIGHT)
            .assume_utc()
            .unix_timestamp();
        let secs = base
            + (i64::from(f.day) - 1) * 86_400
            + i64::from(f.hour) * 3_600
            + i64::from(f.minute) * 60
            + i64::from(f.second)
            - i64::from(f.offset_secs);
        let utc = OffsetDateTime::from_unix_timestamp(secs).ok()?;
        (0..=9999).contains(&utc.year()).then_some(Stamp {
            secs,
            nanos: f.nanos,
            frac_digits: f.frac_digits,
        })
    }

    /// Writes the instant as RFC 3339 at `offset_minutes` from UTC (`Z` for 0),
    /// with exactly `frac_digits` fractional digits.
    pub fn format(&self, offset_minutes: i16) -> String {
        let utc = OffsetDateTime::from_unix_timestamp(self.secs)
            .ok()
            .and_then(|t| t.replace_nanosecond(self.nanos).ok());
        let Some(utc) = utc else {
            return String::new();
        };
        let local = UtcOffset::from_whole_seconds(i32::from(offset_minutes) * 60)
            .ok()
            .and_then(|o| utc.checked_to_offset(o));
        let (t, offset_minutes) = match local {
            Some(t) => (t, offset_minutes),
            None => (utc, 0),
        };
        let mut out = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        if self.frac_digits > 0 {
            let all = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(&all[..usize::from(self.frac_digits.min(9))]);
        }
        if offset_minutes == 0 {
            out.push('Z');
        } else {
            let sign = if offset_minutes < 0 { '-' } else { '+' };
            let m = offset_minutes.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", m / 60, m % 60));
        }
        out
    }

    /// Epoch milliseconds, as mycloud writes times.
    pub fn epoch_millis(&self) -> i64 {
        self.secs
            .saturating_mul(1000)
            .saturating_add(i64::from(self.nanos / 1_000_000))
    }

    /// From epoch milliseconds, keeping millisecond precision.
    pub fn from_epoch_millis(ms: i64) -> Stamp {
        Stamp {
            secs: ms.div_euclid(1000),
            nanos: (ms.rem_euclid(1000) as u32) * 1_000_000,
            frac_digits: 3,
        }
    }
}

/// Parses `b[from..to]` as ASCII decimal digits.
/// The numbers of a date-time in the spec's syntax, not yet checked
/// against the calendar.
struct Fields {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    frac_digits: u8,
    offset_secs: i32,
}

impl Fields {
    fn parse(s: &str) -> Option<Fields> {
        let b = s.as_bytes();
        if b.len() < 19 {
            return None;
        }
        if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let mut rest = &b[19..];
        let (mut nanos, mut frac_digits) = (0u32, 0u8);
        if let Some((b'.', after)) = rest.split_first() {
            let n = after.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            // Nanoseconds are the finest we keep; further digits are dropped.
            let kept = n.min(9);
            nanos = digits(after, 0, kept)? * 10u32.pow(9 - kept as u32);
            frac_digits = kept as u8;
            rest = &after[n..];
        }
        let offset_secs: i32 = match rest {
            [] | [b'Z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let oh = digits(&[*h1, *h2], 0, 2)?;
                let om = digits(&[*m1, *m2], 0, 2)?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let v = (oh * 3600 + om * 60) as i32;
                if *sign == b'-' { -v } else { v }
            }
            _ => return None,
        };
        Some(Fields {
            year: digits(b, 0, 4)?,
            month: digits(b, 5, 7)?,
            day: digits(b, 8, 10)?,
            hour: digits(b, 11, 13)?,
            minute: digits(b, 14, 16)?,
            second: digits(b, 17, 19)?,
            nanos,
            frac_digits,
            offset_secs,
        })
    }
}

fn digits(b: &[u8], from: usize, to: usize) -> Option<u32> {
    let part = b.get(from..to)?;
    let mut v: u32 = 0;
    for c in part {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::Stamp;

    #[test]
    fn parses_and_formats_utc() {
        let cases = [
            ("2026-04-30T12:00:00", "2026-04-30T12:00:00Z"),
            ("2026-04-30T12:00:00Z", "2026-04-30T12:00:00Z"),
            ("2026-04-30T14:00:00+02:00", "2026-04-30T12:00:00Z"),
            ("2026-04-30T12:00:00.500Z", "2026-04-30T12:00:00.500Z"),
            (
                "2026-04-30T11:30:00.1234567-00:30",
                "2026-04-30T12:00:00.1234567Z",
            ),
        ];
        for (input, want) in cases {
            let s = Stamp::parse(input);
            assert_eq!(s.map(|s| s.format(0)).as_deref(), Some(want), "{input}");
        }
        let s = Stamp::parse("2026-04-30T12:00:00Z");
        assert_eq!(
            s.map(|s| s.format(120)).as_deref(),
            Some("2026-04-30T14:00:00+02:00")
        );
    }

    #[test]
    fn rolling_parse_carries_impossible_fields_over() {
        let feb30 = Stamp::parse_rolling("2099-02-30T12:00:00Z").unwrap();
        assert_eq!(feb30, Stamp::parse("2099-03-02T12:00:00Z").unwrap());
        let h24 = Stamp::parse_rolling("2099-05-01T24:00:00Z").unwrap();
        assert_eq!(h24, Stamp::parse("2099-05-02T00:00:00Z").unwrap());
        let m13 = Stamp::parse_rolling("2099-13-01T12:00:00").unwrap();
        assert_eq!(m13, Stamp::parse("2100-01-01T12:00:00Z").unwrap());
        assert!(Stamp::parse_rolling("next tuesday").is_none());
        assert!(Stamp::parse_rolling("9999-12-31T24:00:00Z").is_none());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "2026-04-30",
            "2026-04-30 12:00:00",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-04-30T24:00:00Z",
            "2026-04-30T12:00:00.Z",
            "2026-04-30T12:00:00+0200",
            "2026-04-30T12:00:00Zjunk",
            "2026-04-30t12:00:00Z",
            "2026-04-30T12:00:00z",
            "9999-12-31T23:59:59-01:00",
            "tomorrow",
        ] {
            assert_eq!(Stamp::parse(bad), None, "{bad}");
        }
    }
}
