//! Retry policy (sans-IO): given what happened to an attempt, decide whether and when to try
//! again.
//!
//! ARM rules (see `../shared/docs/AZURE-FACTS.md`, "ARM protocol"): retry on 408, 429, 5xx and
//! on any error response carrying `Retry-After`; honour `Retry-After` exactly; otherwise back off
//! exponentially with jitter. Every retry counts against a total time budget and an attempt
//! limit; a wait that would overrun the budget is not shortened, the call gives up instead.

use std::time::Duration;

/// Retry settings of the client.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First back-off delay (doubles each retry, with jitter).
    pub initial_backoff: Duration,
    /// Largest back-off delay.
    pub max_backoff: Duration,
    /// Total time allowed for one call including its retries and waits.
    pub budget: Duration,
    /// Wait after a 429 without `Retry-After` (ARM's default is 60 s).
    pub default_retry_after: Duration,
    /// Timeout of one attempt (connect + request + response).
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 8,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            budget: Duration::from_secs(600),
            default_retry_after: Duration::from_secs(60),
            attempt_timeout: Duration::from_secs(120),
        }
    }
}

/// What an attempt produced, as far as retrying is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    /// A response arrived.
    Response {
        /// HTTP status.
        status: u16,
        /// `Retry-After` of the response.
        retry_after: Option<Duration>,
    },
    /// The connection failed or was reset before a complete response.
    Transport,
    /// The attempt timed out.
    Timeout,
    /// A failure that will not go away by retrying (e.g. an untrusted certificate).
    Permanent,
}

impl AttemptOutcome {
    /// Whether the outcome is worth retrying at all.
    pub fn is_retryable(&self) -> bool {
        match self {
            AttemptOutcome::Response {
                status,
                retry_after,
            } => {
                matches!(status, 408 | 429 | 500..=599) || (*status >= 400 && retry_after.is_some())
            }
            AttemptOutcome::Transport | AttemptOutcome::Timeout => true,
            AttemptOutcome::Permanent => false,
        }
    }
}

/// The policy's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum RetryDecision {
    /// Wait `delay`, then try again.
    Retry {
        /// How long to wait.
        delay: Duration,
        /// Whether the delay came from the service (`Retry-After`).
        from_service: bool,
    },
    /// Do not retry: the outcome is final (success, a non-retryable error, or the budget or
    /// attempt limit is spent).
    Stop {
        /// True when a retryable outcome was abandoned for lack of budget or attempts.
        exhausted: bool,
    },
}

impl RetryPolicy {
    /// Decides after attempt number `retries_done + 1`, `elapsed` after the call started.
    /// `rng` draws the jitter (seed it in tests).
    pub fn decide(
        &self,
        outcome: &AttemptOutcome,
        retries_done: u32,
        elapsed: Duration,
        rng: &mut fastrand::Rng,
    ) -> RetryDecision {
        if !outcome.is_retryable() {
            return RetryDecision::Stop { exhausted: false };
        }
        if retries_done >= self.max_retries {
            return RetryDecision::Stop { exhausted: true };
        }
        let (delay, from_service) = match outcome {
            AttemptOutcome::Response {
                retry_after: Some(d),
                ..
            } => (*d, true),
            AttemptOutcome::Response { status: 429, .. } => (self.default_retry_after, false),
            _ => (self.backoff(retries_done, rng), false),
        };
        if elapsed.saturating_add(delay) > self.budget {
            return RetryDecision::Stop { exhausted: true };
        }
        RetryDecision::Retry {
            delay,
            from_service,
        }
    }

    /// Exponential back-off with "equal jitter": half the nominal delay plus a random part of
    /// the other half, so retries of many clients spread out but never collapse to zero.
    pub fn backoff(&self, retries_done: u32, rng: &mut fastrand::Rng) -> Duration {
        let factor = 2u32.saturating_pow(retries_done.min(20));
        let nominal = self
            .initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        let half = nominal / 2;
        let jitter_ns = rng.u64(0..=half.as_nanos().min(u64::MAX as u128) as u64);
        half + Duration::from_nanos(jitter_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, ra: Option<u64>) -> AttemptOutcome {
        AttemptOutcome::Response {
            status,
            retry_after: ra.map(Duration::from_secs),
        }
    }

    #[test]
    fn which_outcomes_are_retried() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(resp(s, None).is_retryable(), "{s}");
        }
        for s in [200, 201, 202, 204, 400, 401, 403, 404, 409, 412] {
            assert!(!resp(s, None).is_retryable(), "{s}");
        }
        // Any error response carrying Retry-After is retried, a 2xx with it is not.
        assert!(resp(409, Some(5)).is_retryable());
        assert!(!resp(202, Some(5)).is_retryable());
        assert!(AttemptOutcome::Transport.is_retryable());
        assert!(AttemptOutcome::Timeout.is_retryable());
        assert!(!AttemptOutcome::Permanent.is_retryable());
    }

    #[test]
    fn retry_after_is_honoured_exactly() {
        let p = RetryPolicy::default();
        let mut rng = fastrand::Rng::with_seed(7);
        assert_eq!(
            p.decide(&resp(429, Some(17)), 0, Duration::ZERO, &mut rng),
            RetryDecision::Retry {
                delay: Duration::from_secs(17),
                from_service: true
            }
        );
        assert_eq!(
            p.decide(&resp(503, Some(0)), 3, Duration::from_secs(5), &mut rng),
            RetryDecision::Retry {
                delay: Duration::ZERO,
                from_service: true
            }
        );
        // 429 without Retry-After waits ARM's default.
        assert_eq!(
            p.decide(&resp(429, None), 0, Duration::ZERO, &mut rng),
            RetryDecision::Retry {
                delay: Duration::from_secs(60),
                from_service: false
            }
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let p = RetryPolicy::default();
        let mut rng = fastrand::Rng::with_seed(42);
        for n in 0..12u32 {
            let nominal = Duration::from_secs(1u64 << n.min(20)).min(p.max_backoff);
            for _ in 0..50 {
                let d = p.backoff(n, &mut rng);
                assert!(d >= nominal / 2 && d <= nominal, "n={n} d={d:?}");
            }
        }
        // The jitter really varies.
        let a: Vec<_> = (0..10).map(|_| p.backoff(3, &mut rng)).collect();
        assert!(a.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn budget_and_attempts_limit_retries() {
        let p = RetryPolicy {
            budget: Duration::from_secs(30),
            max_retries: 3,
            ..Default::default()
        };
        let mut rng = fastrand::Rng::with_seed(1);
        // A Retry-After that would overrun the budget is not shortened: give up.
        assert_eq!(
            p.decide(&resp(429, Some(25)), 0, Duration::from_secs(10), &mut rng),
            RetryDecision::Stop { exhausted: true }
        );
        assert!(matches!(
            p.decide(&resp(429, Some(20)), 0, Duration::from_secs(10), &mut rng),
            RetryDecision::Retry { .. }
        ));
        assert_eq!(
            p.decide(&resp(500, None), 3, Duration::ZERO, &mut rng),
            RetryDecision::Stop { exhausted: true }
        );
        assert_eq!(
            p.decide(&resp(404, None), 0, Duration::ZERO, &mut rng),
            RetryDecision::Stop { exhausted: false }
        );
    }
}
