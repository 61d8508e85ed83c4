//! Fault injection: rules matched by method, path pattern and occurrence number.

use crate::error::ArmError;
use serde::{Deserialize, Serialize};

/// One scripted fault.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// HTTP method (`GET`, `PUT`, ...) or `*` (default).
    #[serde(default = "any_method")]
    pub method: String,
    /// Path pattern, case-insensitive; `*` matches any run of characters (including `/`).
    /// The query string is not part of the path.
    pub path: String,
    /// The first matching occurrence (1-based) on which the fault fires.
    #[serde(default = "one")]
    pub nth: u32,
    /// How many consecutive matching occurrences it fires on (0 = every one from `nth` on).
    #[serde(default = "one")]
    pub times: u32,
    /// What happens.
    pub action: FaultAction,
}

fn any_method() -> String {
    "*".into()
}

fn one() -> u32 {
    1
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultAction {
    /// 429 `SubscriptionRequestsThrottled` with `Retry-After`.
    Throttle {
        /// Simulated seconds (scaled).
        #[serde(default = "five")]
        retry_after_secs: f64,
    },
    /// 500 `InternalServerError` or 503 `ServiceUnavailable` (or another 5xx).
    ServerError {
        /// HTTP status (500 by default).
        #[serde(default = "five_hundred")]
        status: u16,
        /// Optional `Retry-After` (simulated seconds).
        #[serde(default)]
        retry_after_secs: Option<f64>,
    },
    /// Any status with an ARM error body.
    Error {
        /// HTTP status.
        status: u16,
        /// ARM error code.
        code: String,
        /// Message.
        #[serde(default)]
        message: String,
        /// Optional `Retry-After` (simulated seconds).
        #[serde(default)]
        retry_after_secs: Option<f64>,
    },
    /// Drop the connection without answering (TCP reset).
    ConnectionReset,
    /// The operation the request starts (or, for a resource inside a deployment, its
    /// provisioning) ends `Failed` with this error.
    OperationFailed {
        /// ARM error code.
        #[serde(default = "default_fail_code")]
        code: String,
        /// Message.
        #[serde(default = "default_fail_message")]
        message: String,
    },
    /// The operation the request starts ends `Canceled`.
    OperationCanceled,
    /// 401 `ExpiredAuthenticationToken`, whatever token was sent.
    ExpiredToken,
    /// A slow poll: the answer is delayed and/or carries a long `Retry-After`. On a request that
    /// starts an operation, every poll of that operation gets the `Retry-After`.
    SlowPoll {
        /// `Retry-After` to advertise (simulated seconds).
        #[serde(default)]
        retry_after_secs: Option<f64>,
        /// Delay before answering (simulated seconds).
        #[serde(default)]
        delay_secs: Option<f64>,
    },
}

fn five() -> f64 {
    5.0
}
fn five_hundred() -> u16 {
    500
}
fn default_fail_code() -> String {
    "InternalOperationError".into()
}
fn default_fail_message() -> String {
    "The operation failed (injected fault).".into()
}

impl FaultAction {
    /// Short name for the request record.
    pub fn name(&self) -> &'static str {
        match self {
            FaultAction::Throttle { .. } => "throttle",
            FaultAction::ServerError { .. } => "server_error",
            FaultAction::Error { .. } => "error",
            FaultAction::ConnectionReset => "connection_reset",
            FaultAction::OperationFailed { .. } => "operation_failed",
            FaultAction::OperationCanceled => "operation_canceled",
            FaultAction::ExpiredToken => "expired_token",
            FaultAction::SlowPoll { .. } => "slow_poll",
        }
    }

    /// Whether the fault decides the outcome of an operation rather than of the request.
    pub fn is_outcome(&self) -> bool {
        matches!(
            self,
            FaultAction::OperationFailed { .. } | FaultAction::OperationCanceled
        )
    }

    /// The operation outcome this fault forces, if it is an outcome fault.
    pub fn outcome(&self) -> Option<Outcome> {
        match self {
            FaultAction::OperationFailed { code, message } => Some(Outcome::Failed(ArmError::new(
                code.clone(),
                message.clone(),
            ))),
            FaultAction::OperationCanceled => Some(Outcome::Canceled),
            _ => None,
        }
    }
}

/// How an operation ends.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Succeeded.
    Succeeded,
    /// Failed with an error.
    Failed(ArmError),
    /// Canceled.
    Canceled,
}

impl FaultRule {
    /// Checks values serde cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.path.is_empty() {
            return Err("path must not be empty (use \"*\" for every path)".into());
        }
        if self.nth == 0 {
            return Err("nth is 1-based and must be >= 1".into());
        }
        let bad_secs = |v: f64| !(v >= 0.0 && v.is_finite());
        match &self.action {
            FaultAction::Throttle { retry_after_secs } if bad_secs(*retry_after_secs) => {
                Err("retry_after_secs must be >= 0".into())
            }
            FaultAction::ServerError { status, .. } if !(500..600).contains(status) => {
                Err(format!("server_error status must be 5xx, got {status}"))
            }
            FaultAction::Error { status, .. } if !(400..600).contains(status) => {
                Err(format!("error status must be 4xx or 5xx, got {status}"))
            }
            FaultAction::SlowPoll {
                retry_after_secs,
                delay_secs,
            } if retry_after_secs.is_some_and(bad_secs) || delay_secs.is_some_and(bad_secs) => {
                Err("slow_poll seconds must be >= 0".into())
            }
            _ => Ok(()),
        }
    }

    /// Whether the rule's method and path pattern match.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method))
            && glob(&self.path.to_ascii_lowercase(), &path.to_ascii_lowercase())
    }
}

/// `*`-glob match over the whole text.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// A rule with its counters.
#[derive(Clone, Debug, Serialize)]
pub struct RuleState {
    /// The rule.
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Matching requests seen so far.
    pub matched: u32,
    /// Times it fired.
    pub fired: u32,
}

/// The live fault script.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FaultScript {
    /// Rules in priority order.
    pub rules: Vec<RuleState>,
}

impl FaultScript {
    /// A script from rules.
    pub fn new(rules: Vec<FaultRule>) -> Self {
        FaultScript {
            rules: rules
                .into_iter()
                .map(|rule| RuleState {
                    rule,
                    matched: 0,
                    fired: 0,
                })
                .collect(),
        }
    }

    /// Counts a request against every matching rule and returns the first one that fires.
    /// With `outcome_only`, only operation-outcome rules are considered (used for the
    /// provisioning of resources inside a deployment).
    pub fn check(&mut self, method: &str, path: &str, outcome_only: bool) -> Option<FaultAction> {
        let mut fired = None;
        for r in &mut self.rules {
            if outcome_only && !r.rule.action.is_outcome() {
                continue;
            }
            if !r.rule.matches(method, path) {
                continue;
            }
            r.matched += 1;
            let n = r.matched;
            let in_window = n >= r.rule.nth && (r.rule.times == 0 || n < r.rule.nth + r.rule.times);
            if in_window && fired.is_none() {
                r.fired += 1;
                fired = Some(r.rule.action.clone());
            }
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_a_shell_star() {
        assert!(glob("*", "/anything/at/all"));
        assert!(glob(
            "/subscriptions/*/resourcegroups/rg",
            "/subscriptions/abc/resourcegroups/rg"
        ));
        assert!(glob("*/deployments/*", "/s/x/deployments/d1"));
        assert!(!glob("*/deployments/*/operations", "/s/x/deployments/d1"));
        assert!(glob("*deallocate", "/a/b/deallocate"));
        assert!(!glob("/a", "/a/b"));
    }

    #[test]
    fn occurrence_window() {
        let mut s = FaultScript::new(vec![FaultRule {
            method: "GET".into(),
            path: "*/x".into(),
            nth: 2,
            times: 2,
            action: FaultAction::ConnectionReset,
        }]);
        let fired: Vec<bool> = (0..5)
            .map(|_| s.check("get", "/A/X", false).is_some())
            .collect();
        assert_eq!(fired, [false, true, true, false, false]);
        assert!(s.check("PUT", "/a/x", false).is_none());
        assert_eq!(s.rules[0].matched, 5);
        assert_eq!(s.rules[0].fired, 2);
    }

    #[test]
    fn rules_deserialise_with_defaults() {
        let r: FaultRule = serde_json::from_str(
            r#"{"path": "*", "action": {"kind": "server_error", "status": 503}}"#,
        )
        .unwrap();
        assert_eq!(r.method, "*");
        assert_eq!((r.nth, r.times), (1, 1));
        let bad: Result<FaultRule, _> =
            serde_json::from_str(r#"{"path": "*", "action": {"kind": "explode"}}"#);
        assert!(bad.is_err());
    }
}
