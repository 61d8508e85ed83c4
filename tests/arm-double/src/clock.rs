//! Simulated time. Every duration the double is configured with (provisioning times, poll
//! intervals, throttling refill, injected delays) is in *simulated* seconds; the clock maps
//! them to real time through the time scale, so a 90 s scale-set creation can take 90 ms.

use std::time::{Duration, Instant};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in simulated time, in nanoseconds since the double started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    /// Simulated seconds since start.
    pub fn secs(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// This time plus `secs` simulated seconds (negative values are treated as zero).
    pub fn plus(self, secs: f64) -> SimTime {
        SimTime(self.0.saturating_add((secs.max(0.0) * 1e9) as u64))
    }

    /// Seconds from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> f64 {
        self.0.saturating_sub(earlier.0) as f64 / 1e9
    }
}

/// Maps real time to simulated time.
#[derive(Debug, Clone)]
pub struct Clock {
    start: Instant,
    wall_start: OffsetDateTime,
    scale: f64,
}

impl Clock {
    /// A clock where one simulated second lasts `scale` real seconds.
    pub fn new(scale: f64) -> Self {
        Clock {
            start: Instant::now(),
            wall_start: OffsetDateTime::now_utc(),
            scale,
        }
    }

    /// Real seconds per simulated second.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        let real = self.start.elapsed().as_secs_f64();
        SimTime((real / self.scale * 1e9) as u64)
    }

    /// Real duration of `sim_secs` simulated seconds.
    pub fn real(&self, sim_secs: f64) -> Duration {
        Duration::from_secs_f64((sim_secs * self.scale).max(0.0))
    }

    /// Wall-clock date of a simulated time (simulated dates advance at simulated speed).
    pub fn wall(&self, t: SimTime) -> OffsetDateTime {
        self.wall_start + Duration::from_nanos(t.0)
    }

    /// ISO 8601 timestamp of a simulated time, as ARM writes them.
    pub fn stamp(&self, t: SimTime) -> String {
        stamp(self.wall(t))
    }
}

/// RFC 3339 timestamp in UTC.
pub fn stamp(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// ISO 8601 duration as ARM reports deployment durations, e.g. `PT22.8356799S`.
pub fn iso_duration(secs: f64) -> String {
    let secs = secs.max(0.0);
    let hours = (secs / 3600.0).floor();
    let minutes = ((secs - hours * 3600.0) / 60.0).floor();
    let rest = secs - hours * 3600.0 - minutes * 60.0;
    let mut out = String::from("PT");
    if hours > 0.0 {
        out.push_str(&format!("{hours}H"));
    }
    if minutes > 0.0 {
        out.push_str(&format!("{minutes}M"));
    }
    let mut s = format!("{rest:.7}");
    while s.contains('.') && (s.ends_with('0') || s.ends_with('.')) {
        s.pop();
    }
    out.push_str(&s);
    out.push('S');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_format_like_arm() {
        assert_eq!(iso_duration(22.8356799), "PT22.8356799S");
        assert_eq!(iso_duration(0.0), "PT0S");
        assert_eq!(iso_duration(3725.5), "PT1H2M5.5S");
    }

    #[test]
    fn sim_time_arithmetic() {
        let t = SimTime::default().plus(1.5);
        assert_eq!(t.secs(), 1.5);
        assert_eq!(t.plus(2.0).since(t), 2.0);
        assert_eq!(t.since(t.plus(1.0)), 0.0);
    }
}
