//! Subscription token buckets and the `x-ms-ratelimit-remaining-subscription-*` headers.

use crate::clock::SimTime;
use crate::config::{Bucket, Throttling};

/// Request class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// GET/HEAD.
    Reads,
    /// PUT/PATCH/POST.
    Writes,
    /// DELETE.
    Deletes,
}

impl Class {
    /// The class of an HTTP method.
    pub fn of(method: &str) -> Class {
        match method {
            "GET" | "HEAD" => Class::Reads,
            "DELETE" => Class::Deletes,
            _ => Class::Writes,
        }
    }

    /// Its remaining-count header.
    pub fn header(self) -> &'static str {
        match self {
            Class::Reads => "x-ms-ratelimit-remaining-subscription-reads",
            Class::Writes => "x-ms-ratelimit-remaining-subscription-writes",
            Class::Deletes => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }

    /// Word used in the throttling message.
    pub fn word(self) -> &'static str {
        match self {
            Class::Reads => "read",
            Class::Writes => "write",
            Class::Deletes => "delete",
        }
    }
}

#[derive(Clone, Debug)]
struct TokenBucket {
    tokens: f64,
    last: SimTime,
    conf: Bucket,
}

impl TokenBucket {
    fn refill(&mut self, now: SimTime) {
        let dt = now.since(self.last);
        self.tokens =
            (self.tokens + dt * self.conf.refill_per_sec).min(f64::from(self.conf.capacity));
        self.last = now.max(self.last);
    }
}

/// The three buckets of the subscription.
#[derive(Clone, Debug)]
pub struct Buckets {
    reads: TokenBucket,
    writes: TokenBucket,
    deletes: TokenBucket,
}

impl Buckets {
    /// Full buckets.
    pub fn new(t: &Throttling, now: SimTime) -> Self {
        let b = |conf: Bucket| TokenBucket {
            tokens: f64::from(conf.capacity),
            last: now,
            conf,
        };
        Buckets {
            reads: b(t.reads),
            writes: b(t.writes),
            deletes: b(t.deletes),
        }
    }

    /// Applies new sizes, keeping current fill (capped).
    pub fn reconfigure(&mut self, t: &Throttling, now: SimTime) {
        for (b, conf) in [
            (&mut self.reads, t.reads),
            (&mut self.writes, t.writes),
            (&mut self.deletes, t.deletes),
        ] {
            b.refill(now);
            b.conf = conf;
            b.tokens = b.tokens.min(f64::from(conf.capacity));
        }
    }

    fn bucket(&mut self, c: Class) -> &mut TokenBucket {
        match c {
            Class::Reads => &mut self.reads,
            Class::Writes => &mut self.writes,
            Class::Deletes => &mut self.deletes,
        }
    }

    /// Takes a token. `Ok(remaining)`, or `Err(seconds until one is available)` when empty and
    /// `enforce` is set.
    pub fn take(&mut self, c: Class, now: SimTime, enforce: bool) -> Result<u32, f64> {
        let b = self.bucket(c);
        b.refill(now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(b.tokens.floor() as u32)
        } else if enforce {
            Err((1.0 - b.tokens) / b.conf.refill_per_sec)
        } else {
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_drain_and_refill() {
        let t = Throttling {
            writes: Bucket {
                capacity: 2,
                refill_per_sec: 1.0,
            },
            ..Throttling::default()
        };
        let mut b = Buckets::new(&t, SimTime::default());
        let t0 = SimTime::default();
        assert_eq!(b.take(Class::Writes, t0, true), Ok(1));
        assert_eq!(b.take(Class::Writes, t0, true), Ok(0));
        let wait = b.take(Class::Writes, t0, true).unwrap_err();
        assert!((wait - 1.0).abs() < 1e-9);
        assert_eq!(b.take(Class::Writes, t0.plus(1.0), true), Ok(0));
        assert_eq!(b.take(Class::Reads, t0, true), Ok(249));
    }
}
