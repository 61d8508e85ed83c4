//! Session traces: who worked when, how long, with how much CPU. Read from CSV or JSON, or
//! generated for a synthetic team.
//!
//! CSV: a header `user,start,duration,cpu`, then one session per line. `start` is RFC 3339
//! (`2026-03-02T08:15:00Z`) or Unix seconds; `duration` is seconds or a duration (`PT2H`,
//! `90m`); `cpu` is the share of one instance's CPU the session keeps busy, 0-1 (a percentage
//! such as `25%` is accepted too). JSON: an array of objects with the same fields, or
//! `{"sessions": [...]}`.

use crate::error::{Diagnostic, Error, Result};
use crate::spec::values::{parse_duration, parse_hhmm, parse_weekday};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// One session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    /// User name (placement affinity follows it).
    pub user: String,
    /// When the user asks for a session (Unix seconds).
    pub start: i64,
    /// How long the session lasts once it has an instance (seconds).
    pub duration: i64,
    /// Share of one instance's CPU it keeps busy (0-1).
    pub cpu: f64,
}

/// A session trace, sorted by start.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Trace {
    /// Sessions by start time.
    pub sessions: Vec<Session>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Num {
    Int(i64),
    Float(f64),
    Text(String),
}

#[derive(Deserialize)]
struct RawSession {
    user: String,
    start: Num,
    duration: Num,
    cpu: Num,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawTrace {
    List(Vec<RawSession>),
    Wrapped { sessions: Vec<RawSession> },
}

fn bad(path: String, rule: &str, msg: String) -> Diagnostic {
    Diagnostic::error(path, rule, msg)
}

impl RawSession {
    fn convert(self, path: &str, errs: &mut Vec<Diagnostic>) -> Option<Session> {
        let start = match &self.start {
            Num::Int(n) => Some(*n),
            Num::Float(f) if f.is_finite() => Some(*f as i64),
            Num::Text(t) => DateTime::parse_from_rfc3339(t.trim())
                .map(|d| d.timestamp())
                .ok()
                .or_else(|| t.trim().parse::<i64>().ok()),
            Num::Float(_) => None,
        };
        let duration = match &self.duration {
            Num::Int(n) => Some(*n),
            Num::Float(f) if f.is_finite() => Some(f.round() as i64),
            Num::Text(t) => t
                .trim()
                .parse::<i64>()
                .ok()
                .or_else(|| parse_duration(t).map(|d| d as i64)),
            Num::Float(_) => None,
        };
        let cpu = match &self.cpu {
            Num::Int(n) => Some(*n as f64),
            Num::Float(f) => Some(*f),
            Num::Text(t) => {
                let t = t.trim();
                match t.strip_suffix('%') {
                    Some(p) => p.trim().parse::<f64>().ok().map(|v| v / 100.0),
                    None => t.parse::<f64>().ok(),
                }
            }
        };
        let mut ok = true;
        if self.user.trim().is_empty() {
            errs.push(bad(
                format!("{path}.user"),
                "required",
                "the user is empty".into(),
            ));
            ok = false;
        }
        if start.is_none() {
            errs.push(bad(
                format!("{path}.start"),
                "datetime",
                "is not an RFC 3339 time (`2026-03-02T08:15:00Z`) or Unix seconds".into(),
            ));
            ok = false;
        }
        match duration {
            Some(d) if d > 0 => {}
            _ => {
                errs.push(bad(
                    format!("{path}.duration"),
                    "duration",
                    "is not a positive number of seconds or a duration such as `PT2H`".into(),
                ));
                ok = false;
            }
        }
        match cpu {
            Some(c) if c.is_finite() && (0.0..=1.0).contains(&c) => {}
            _ => {
                errs.push(bad(
                    format!("{path}.cpu"),
                    "range",
                    "is not a share of one instance's CPU between 0 and 1 (or 0-100 %)".into(),
                ));
                ok = false;
            }
        }
        ok.then(|| Session {
            user: self.user.trim().to_string(),
            start: start.unwrap_or_default(),
            duration: duration.unwrap_or_default(),
            cpu: cpu.unwrap_or_default(),
        })
    }
}

fn finish(raw: Vec<(String, RawSession)>) -> Result<Trace> {
    let mut errs = Vec::new();
    let mut sessions: Vec<Session> = raw
        .into_iter()
        .filter_map(|(p, r)| r.convert(&p, &mut errs))
        .collect();
    if !errs.is_empty() {
        errs.truncate(50);
        return Err(Error::Validation(crate::ValidationErrors {
            errors: errs,
            warnings: vec![],
        }));
    }
    sessions.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.user.cmp(&b.user)));
    Ok(Trace { sessions })
}

impl Trace {
    /// Parse CSV text (`user,start,duration,cpu`).
    pub fn from_csv(text: &str) -> Result<Trace> {
        let mut rd = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let mut raw = Vec::new();
        for (i, rec) in rd.deserialize::<RawSession>().enumerate() {
            let line = i + 2;
            match rec {
                Ok(r) => raw.push((format!("line {line}"), r)),
                Err(e) => {
                    return Err(Error::invalid(bad(
                        format!("line {line}"),
                        "trace-csv",
                        format!("{e} (expected the columns user,start,duration,cpu)"),
                    )));
                }
            }
        }
        finish(raw)
    }

    /// Parse JSON text.
    pub fn from_json(text: &str) -> Result<Trace> {
        let raw: RawTrace = serde_json::from_str(text).map_err(|e| {
            Error::invalid(bad(
                String::new(),
                "trace-json",
                format!("{e} (expected [{{\"user\", \"start\", \"duration\", \"cpu\"}}, …])"),
            ))
        })?;
        let list = match raw {
            RawTrace::List(l) | RawTrace::Wrapped { sessions: l } => l,
        };
        finish(
            list.into_iter()
                .enumerate()
                .map(|(i, r)| (format!("sessions[{i}]"), r))
                .collect(),
        )
    }

    /// Parse CSV or JSON, telling them apart by the first non-blank character.
    pub fn parse(text: &str) -> Result<Trace> {
        match text.trim_start().chars().next() {
            Some('[' | '{') => Self::from_json(text),
            _ => Self::from_csv(text),
        }
    }

    /// The trace as CSV (RFC 3339 UTC starts, whole seconds).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("user,start,duration,cpu\n");
        for s in &self.sessions {
            let t = Utc
                .timestamp_opt(s.start, 0)
                .single()
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_else(|| s.start.to_string());
            out.push_str(&format!("{},{t},{},{:.3}\n", s.user, s.duration, s.cpu));
        }
        out
    }

    /// First start and last end (Unix seconds).
    pub fn span(&self) -> Option<(i64, i64)> {
        let first = self.sessions.first()?.start;
        let last = self.sessions.iter().map(|s| s.start + s.duration).max()?;
        Some((first, last))
    }
}

/// A synthetic team: who works when, with lunch, weekends and long-running jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Team {
    /// Team members.
    pub users: u32,
    /// IANA or Windows time zone of the team.
    pub time_zone: String,
    /// First day `YYYY-MM-DD`.
    pub start_date: String,
    /// Number of days.
    pub days: u32,
    /// Working days (`monday` …).
    pub work_days: Vec<String>,
    /// Typical arrival `HH:MM`.
    pub work_start: String,
    /// Typical departure `HH:MM`.
    pub work_end: String,
    /// Share of people who stop for lunch (the lunch dip), 0-1.
    pub lunch_dip: f64,
    /// Chance that a person works on a given weekend day, 0-1.
    pub weekend_share: f64,
    /// Chance per person and working day of a long-running job started in the evening, 0-1.
    pub long_job_share: f64,
    /// Chance per person and working day of being away (leave, meetings, sick), 0-1.
    pub absence: f64,
    /// Random seed (the same seed gives the same trace).
    pub seed: u64,
}

impl Default for Team {
    fn default() -> Self {
        Self {
            users: 20,
            time_zone: "UTC".into(),
            start_date: "2026-01-05".into(),
            days: 28,
            work_days: ["monday", "tuesday", "wednesday", "thursday", "friday"]
                .map(String::from)
                .to_vec(),
            work_start: "08:30".into(),
            work_end: "17:30".into(),
            lunch_dip: 0.6,
            weekend_share: 0.05,
            long_job_share: 0.03,
            absence: 0.1,
            seed: 1,
        }
    }
}

/// Generate a synthetic trace for a team.
pub fn generate(team: &Team) -> Result<Trace> {
    let mut errs = Vec::new();
    let tz = super::super::autoscale::engine::time_zone(&team.time_zone);
    if tz.is_none() {
        errs.push(bad(
            "time_zone".into(),
            "time-zone",
            format!("`{}` is not a known time zone", team.time_zone),
        ));
    }
    let start = NaiveDate::parse_from_str(&team.start_date, "%Y-%m-%d").ok();
    if start.is_none() {
        errs.push(bad(
            "start_date".into(),
            "date",
            "is not `YYYY-MM-DD`".into(),
        ));
    }
    let ws = parse_hhmm(&team.work_start);
    let we = parse_hhmm(&team.work_end);
    if ws.is_none() || we.is_none() || ws >= we {
        errs.push(bad(
            "work_start".into(),
            "time-order",
            "working hours must be `HH:MM` with start before end".into(),
        ));
    }
    let mut work = [false; 7];
    for (i, d) in team.work_days.iter().enumerate() {
        match parse_weekday(d) {
            Some(n) => work[n] = true,
            None => errs.push(bad(
                format!("work_days[{i}]"),
                "weekday",
                format!("`{d}` is not a day"),
            )),
        }
    }
    for (f, v) in [
        ("lunch_dip", team.lunch_dip),
        ("weekend_share", team.weekend_share),
        ("long_job_share", team.long_job_share),
        ("absence", team.absence),
    ] {
        if !(0.0..=1.0).contains(&v) {
            errs.push(bad(
                f.into(),
                "range",
                format!("{v} is not between 0 and 1"),
            ));
        }
    }
    if team.users == 0 || team.users > 100_000 || team.days == 0 || team.days > 3660 {
        errs.push(bad(
            "users".into(),
            "range",
            "users must be 1-100000 and days 1-3660".into(),
        ));
    }
    let (Some(tz), Some(start), Some((wsh, wsm)), Some((weh, wem)), true) =
        (tz, start, ws, we, errs.is_empty())
    else {
        return Err(Error::Validation(crate::ValidationErrors {
            errors: errs,
            warnings: vec![],
        }));
    };
    let mut rng = ChaCha8Rng::seed_from_u64(team.seed);
    let day_start = f64::from(u32::from(wsh) * 60 + u32::from(wsm));
    let day_end = f64::from(u32::from(weh) * 60 + u32::from(wem));
    // Box-Muller normal deviate.
    let normal = |rng: &mut ChaCha8Rng, sd: f64| {
        let u1: f64 = rng.random::<f64>().max(1e-12);
        let u2: f64 = rng.random();
        sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let mut sessions = Vec::new();
    let width = team.users.to_string().len().max(3);
    // Per-person habits: early or late, heavy or light CPU.
    let people: Vec<(String, f64, f64)> = (0..team.users)
        .map(|i| {
            let shift = normal(&mut rng, 30.0);
            let heavy = if rng.random::<f64>() < 0.2 {
                0.45
            } else {
                0.12
            };
            (format!("user{:0width$}", i + 1), shift, heavy)
        })
        .collect();
    let local = |date: NaiveDate, minute: f64| -> i64 {
        let m = minute.clamp(0.0, 24.0 * 60.0 - 1.0) as u32;
        let naive =
            date.and_time(NaiveTime::from_hms_opt(m / 60, m % 60, 0).unwrap_or(NaiveTime::MIN));
        tz.from_local_datetime(&naive).earliest().map_or_else(
            || Utc.from_utc_datetime(&naive).timestamp(),
            |t| t.timestamp(),
        )
    };
    let cpu =
        |rng: &mut ChaCha8Rng, base: f64| (base * (0.5 + rng.random::<f64>())).clamp(0.01, 1.0);
    for d in 0..team.days {
        let date = start + Duration::days(i64::from(d));
        let workday = work[date.weekday().num_days_from_monday() as usize];
        for (user, shift, heavy) in &people {
            let mut push = |s: i64, e: i64, c: f64| {
                if e - s >= 300 {
                    sessions.push(Session {
                        user: user.clone(),
                        start: s,
                        duration: e - s,
                        cpu: c,
                    });
                }
            };
            if workday {
                if rng.random::<f64>() < team.absence {
                    continue;
                }
                let arrive = day_start + shift + normal(&mut rng, 20.0);
                let leave = day_end + shift + normal(&mut rng, 40.0);
                let lunch = 12.0 * 60.0 + normal(&mut rng, 20.0);
                if rng.random::<f64>() < team.lunch_dip
                    && lunch > arrive + 60.0
                    && lunch + 60.0 < leave
                {
                    let back = lunch + 45.0 + rng.random::<f64>() * 30.0;
                    push(
                        local(date, arrive),
                        local(date, lunch),
                        cpu(&mut rng, *heavy),
                    );
                    push(local(date, back), local(date, leave), cpu(&mut rng, *heavy));
                } else {
                    push(
                        local(date, arrive),
                        local(date, leave),
                        cpu(&mut rng, *heavy),
                    );
                }
                if rng.random::<f64>() < team.long_job_share {
                    let s = local(date, leave - 10.0);
                    let hours = 4.0 + rng.random::<f64>() * 10.0;
                    push(
                        s,
                        s + (hours * 3600.0) as i64,
                        0.5 + 0.4 * rng.random::<f64>(),
                    );
                }
            } else if rng.random::<f64>() < team.weekend_share {
                let s = 9.0 * 60.0 + rng.random::<f64>() * 9.0 * 60.0;
                let len = 60.0 + rng.random::<f64>() * 150.0;
                push(
                    local(date, s),
                    local(date, (s + len).min(23.0 * 60.0 + 59.0)),
                    cpu(&mut rng, *heavy),
                );
            }
        }
    }
    sessions.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.user.cmp(&b.user)));
    Ok(Trace { sessions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json() {
        let t = Trace::from_csv(
            "user,start,duration,cpu\n# comment\nbob,2026-03-02T09:00:00Z,PT2H,25%\nann,1772442000,3600,0.5\n",
        )
        .unwrap();
        assert_eq!(t.sessions.len(), 2);
        assert_eq!(t.sessions[0].user, "ann");
        assert_eq!(t.sessions[1].duration, 7200);
        assert!((t.sessions[1].cpu - 0.25).abs() < 1e-9);
        let back = Trace::from_csv(&t.to_csv()).unwrap();
        assert_eq!(back, t);
        let j = Trace::parse(r#"{"sessions": [{"user": "x", "start": "2026-03-02T09:00:00Z", "duration": 60, "cpu": 1}]}"#).unwrap();
        assert_eq!(j.sessions[0].start, 1_772_442_000);
        let err = Trace::from_csv("user,start,duration,cpu\nbob,yesterday,-5,2\n").unwrap_err();
        let paths: Vec<_> = err
            .validation()
            .unwrap()
            .errors
            .iter()
            .map(|d| d.path.clone())
            .collect();
        assert_eq!(paths, ["line 2.start", "line 2.duration", "line 2.cpu"]);
        assert!(Trace::from_csv("who,when\na,b\n").is_err());
    }

    #[test]
    fn generator_is_deterministic_and_shaped() {
        let team = Team {
            users: 50,
            days: 14,
            time_zone: "W. Europe Standard Time".into(),
            ..Team::default()
        };
        let a = generate(&team).unwrap();
        assert_eq!(a, generate(&team).unwrap());
        assert_ne!(
            a,
            generate(&Team {
                seed: 2,
                ..team.clone()
            })
            .unwrap()
        );
        // 10 working days × 50 people, most with two sessions (lunch).
        assert!(
            a.sessions.len() > 600 && a.sessions.len() < 1300,
            "{}",
            a.sessions.len()
        );
        // Most sessions start between 06:00 and 15:00 UTC (07:00-16:00 in Berlin in January).
        let daytime = a
            .sessions
            .iter()
            .filter(|s| (6..15).contains(&((s.start % 86_400) / 3600)))
            .count();
        assert!(daytime * 10 > a.sessions.len() * 8);
        assert!(
            generate(&Team {
                time_zone: "Mars".into(),
                ..Team::default()
            })
            .is_err()
        );
    }
}
