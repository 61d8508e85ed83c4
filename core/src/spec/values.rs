//! Small value parsers shared by validation, rendering and autoscale: durations, times of day,
//! weekdays, local date-times. Each returns `None` on bad input; callers report the field.

/// Parse a duration: ISO 8601 (`PT1M`, `PT1H30M`, `P1D`, `PT30S`, `P1W`) or a short form
/// (`90s`, `5m`, `5min`, `2h`, `1d`, `1w`). Returns whole seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let upper = s.to_ascii_uppercase();
    if let Some(rest) = upper.strip_prefix('P') {
        return parse_iso(rest);
    }
    let lower = s.to_ascii_lowercase();
    let digits_end = lower.find(|c: char| !c.is_ascii_digit())?;
    if digits_end == 0 {
        return None;
    }
    let n: u64 = lower[..digits_end].parse().ok()?;
    let unit = match &lower[digits_end..] {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return None,
    };
    n.checked_mul(unit)
}

fn parse_iso(rest: &str) -> Option<u64> {
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return None;
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    let mut total: u64 = 0;
    let mut any = false;
    let mut take = |part: &str, units: &[(char, u64)]| -> Option<()> {
        let mut num = String::new();
        let mut last_idx = 0usize;
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
            } else {
                let pos = units.iter().position(|(u, _)| *u == c)?;
                if pos < last_idx || num.is_empty() {
                    return None;
                }
                last_idx = pos + 1;
                let n: u64 = num.parse().ok()?;
                total = total.checked_add(n.checked_mul(units[pos].1)?)?;
                num.clear();
                any = true;
            }
        }
        if num.is_empty() { Some(()) } else { None }
    };
    take(date, &[('W', 604_800), ('D', 86_400)])?;
    if let Some(t) = time {
        take(t, &[('H', 3600), ('M', 60), ('S', 1)])?;
    }
    any.then_some(total)
}

/// Format seconds as an ISO 8601 duration (`PT5M`, `PT1H30M`, `P7D`) as Azure writes them.
pub fn format_iso_duration(secs: u64) -> String {
    if secs == 0 {
        return "PT0S".into();
    }
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let mut s = String::from("P");
    if days > 0 {
        s.push_str(&format!("{days}D"));
    }
    if rem > 0 {
        s.push('T');
        let (h, m, sec) = (rem / 3600, (rem % 3600) / 60, rem % 60);
        if h > 0 {
            s.push_str(&format!("{h}H"));
        }
        if m > 0 {
            s.push_str(&format!("{m}M"));
        }
        if sec > 0 {
            s.push_str(&format!("{sec}S"));
        }
    }
    s
}

/// Parse `HH:MM` (24 h). Returns (hour, minute).
pub fn parse_hhmm(s: &str) -> Option<(u8, u8)> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty()
        || h.len() > 2
        || m.len() != 2
        || !h.bytes().all(|b| b.is_ascii_digit())
        || !m.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

/// The seven days, Monday first, as Azure names them.
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Parse a weekday name (`monday`, `Mon`, `mon`, case-insensitive). Returns 0 = Monday … 6 = Sunday.
pub fn parse_weekday(s: &str) -> Option<usize> {
    let l = s.trim().to_ascii_lowercase();
    WEEKDAYS.iter().position(|d| {
        let d = d.to_ascii_lowercase();
        l == d || (l.len() == 3 && d.starts_with(&l))
    })
}

/// A local date-time `YYYY-MM-DDTHH:MM[:SS]` (no offset; the time zone is given separately).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDateTime {
    /// Year.
    pub year: i32,
    /// Month 1-12.
    pub month: u8,
    /// Day 1-31.
    pub day: u8,
    /// Hour 0-23.
    pub hour: u8,
    /// Minute 0-59.
    pub minute: u8,
    /// Second 0-59.
    pub second: u8,
}

impl LocalDateTime {
    /// Days since 1970-01-01 of the date part (proleptic Gregorian).
    pub fn days_from_epoch(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }
    /// Seconds since 1970-01-01T00:00:00 of this local time, read as if it were UTC.
    pub fn epoch_seconds(&self) -> i64 {
        self.days_from_epoch() * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
    /// `YYYY-MM-DDTHH:MM:SS`.
    pub fn to_iso(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Parse `YYYY-MM-DDTHH:MM[:SS]` (a trailing `Z` is accepted).
pub fn parse_local_datetime(s: &str) -> Option<LocalDateTime> {
    let s = s.trim().trim_end_matches('Z');
    let (date, time) = s.split_once('T').or_else(|| s.split_once(' '))?;
    let mut d = date.split('-');
    let year: i32 = d.next()?.parse().ok()?;
    let month: u8 = d.next()?.parse().ok()?;
    let day: u8 = d.next()?.parse().ok()?;
    if d.next().is_some()
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
    {
        return None;
    }
    let mut t = time.split(':');
    let hour: u8 = t.next()?.parse().ok()?;
    let minute: u8 = t.next()?.parse().ok()?;
    let second: u8 = match t.next() {
        Some(x) => x.parse().ok()?,
        None => 0,
    };
    if t.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(LocalDateTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// Days in a month.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT1M"), Some(60));
        assert_eq!(parse_duration("PT1H30M"), Some(5400));
        assert_eq!(parse_duration("P1D"), Some(86_400));
        assert_eq!(parse_duration("P7D"), Some(604_800));
        assert_eq!(parse_duration("P1W"), Some(604_800));
        assert_eq!(parse_duration("pt5m"), Some(300));
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("10min"), Some(600));
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("PT"), None);
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("PT5"), None);
        assert_eq!(parse_duration("PTM"), None);
        assert_eq!(parse_duration("PT5S5M"), None);
        assert_eq!(parse_duration("5 parsecs"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(format_iso_duration(300), "PT5M");
        assert_eq!(format_iso_duration(5400), "PT1H30M");
        assert_eq!(format_iso_duration(604_800), "P7D");
    }

    #[test]
    fn times_and_days() {
        assert_eq!(parse_hhmm("08:00"), Some((8, 0)));
        assert_eq!(parse_hhmm("8:30"), Some((8, 30)));
        assert_eq!(parse_hhmm("24:00"), None);
        assert_eq!(parse_hhmm("12:60"), None);
        assert_eq!(parse_hhmm("1200"), None);
        assert_eq!(parse_weekday("mon"), Some(0));
        assert_eq!(parse_weekday("Sunday"), Some(6));
        assert_eq!(parse_weekday("funday"), None);
        let t = parse_local_datetime("2026-12-24T18:00").unwrap();
        assert_eq!(t.to_iso(), "2026-12-24T18:00:00");
        assert!(parse_local_datetime("2026-02-30T00:00").is_none());
        assert_eq!(
            parse_local_datetime("1970-01-02T00:00:00")
                .unwrap()
                .epoch_seconds(),
            86_400
        );
    }
}

/// What a storage account key looks like, for errors and hints (never with the value).
pub const STORAGE_KEY_RULE: &str = "a storage account key is the base64 of 64 bytes: 88 \
                                    characters (letters, digits, `+`, `/`) ending in `==`";

/// Whether `s` has the form of a storage account key: the canonical base64 of 64 bytes
/// (88 characters of `A-Z a-z 0-9 + /`, the 86th one of `A Q g w`, then `==`). Every place a
/// key enters (a deploy-time environment variable, a script that delivers it, an instance
/// fetching it at boot) checks this form, so nothing else can travel as a key.
pub fn is_storage_account_key(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 88
        && b[..85]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        && matches!(b[85], b'A' | b'Q' | b'g' | b'w')
        && &b[86..] == b"=="
}

#[cfg(test)]
mod storage_key_tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn storage_keys() {
        let engine = base64::engine::general_purpose::STANDARD;
        for seed in 0..=255u8 {
            let bytes: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37) ^ seed).collect();
            assert!(is_storage_account_key(&engine.encode(&bytes)), "{seed}");
        }
        let good = engine.encode([7u8; 64]);
        assert!(is_storage_account_key(&good));
        for bad in [
            String::new(),
            engine.encode([7u8; 63]),
            engine.encode([7u8; 65]),
            format!("{good}\n"),
            format!("{}\n{}", &good[..40], &good[41..]),
            good.replace('H', "'"),
            format!("{}B==", &good[..85]),
            "a".repeat(88),
        ] {
            assert!(!is_storage_account_key(&bad), "{bad:?}");
        }
    }
}
