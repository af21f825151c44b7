//! Fault injection: throttling at Microsoft Graph's published limits (scalable in time and
//! quota), random 503/504 answers, added latency and dropped connections.
//!
//! Invariants: throttling is a sliding window per scope, at Graph's published identity and access
//! limits: writes per app+tenant 3,000 per 150 s, writes per tenant (all apps) 18,000 per 5 min,
//! writes per app (all tenants) 35,000 per 5 min, reads per app+tenant 3,500 per 10 s. Each is
//! scaled by `throttle_scale` in both quota and window, so the sustained rate stays the published
//! one while tests can hit a limit with a handful of requests; `time_scale` shortens the windows
//! alone (Graph's quotas, faster time: 0.1 = 3,000 writes per 15 s), for benchmarks that run at
//! the published limits without waiting for them. A request is counted in every
//! scope or in none (a throttled request is not counted); `Retry-After` is the whole seconds
//! until the full window frees a slot (at least 1). The emulator holds one tenant, so the
//! all-tenants scope of an app counts that tenant only; it is kept so the limits read as Graph
//! publishes them.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::error::GraphError;
use super::util::random_unit;

/// Fault settings (CLI flags, `POST /_emulator/faults`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Apply Graph's throttling limits.
    pub throttle: bool,
    /// Multiply the limits' quotas and windows by this (1.0 = Graph's published limits).
    pub throttle_scale: f64,
    /// Multiply the limits' windows alone by this (1.0 = real time).
    pub time_scale: f64,
    /// Fraction of Graph requests answered 503 or 504 (0..1).
    pub fail_rate: f64,
    /// Milliseconds added to every Graph request.
    pub latency_ms: u64,
    /// Fraction of Graph requests whose connection is dropped without an answer (0..1).
    pub drop_rate: f64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            throttle: true,
            throttle_scale: 1.0,
            time_scale: 1.0,
            fail_rate: 0.0,
            latency_ms: 0,
            drop_rate: 0.0,
        }
    }
}

/// Which callers share a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// One application in this tenant.
    AppTenant,
    /// Every application in this tenant.
    Tenant,
    /// One application in every tenant.
    App,
}

/// (name, scope, quota, window seconds).
const LIMITS_WRITE: &[(&str, Scope, usize, f64)] = &[
    ("app-tenant-writes", Scope::AppTenant, 3000, 150.0),
    ("tenant-writes", Scope::Tenant, 18_000, 300.0),
    ("app-writes", Scope::App, 35_000, 300.0),
];
const LIMITS_READ: &[(&str, Scope, usize, f64)] =
    &[("app-tenant-reads", Scope::AppTenant, 3500, 10.0)];

/// Live fault state.
#[derive(Debug, Default)]
pub struct Faults {
    /// Current settings.
    pub config: FaultConfig,
    windows: HashMap<String, VecDeque<Instant>>,
}

impl Faults {
    /// New state with these settings.
    pub fn new(config: FaultConfig) -> Self {
        Self {
            config,
            windows: HashMap::new(),
        }
    }

    /// Replace the settings and forget the windows.
    pub fn set(&mut self, config: FaultConfig) {
        self.config = config;
        self.windows.clear();
    }

    /// Random 503/504, if drawn.
    pub fn random_failure(&self) -> Option<GraphError> {
        if self.config.fail_rate > 0.0 && random_unit() < self.config.fail_rate {
            if random_unit() < 0.5 {
                let mut e = GraphError::new(503, "serviceNotAvailable", "Service Unavailable");
                e.retry_after = Some(1);
                Some(e)
            } else {
                Some(GraphError::new(504, "UnknownError", "Gateway Timeout"))
            }
        } else {
            None
        }
    }

    /// Whether to drop this connection.
    pub fn drop_connection(&self) -> bool {
        self.config.drop_rate > 0.0 && random_unit() < self.config.drop_rate
    }

    /// Count one request for `app` and answer 429 when a window is full.
    pub fn throttle(&mut self, app: &str, write: bool) -> Result<(), GraphError> {
        if !self.config.throttle {
            return Ok(());
        }
        let scale = if self.config.throttle_scale > 0.0 {
            self.config.throttle_scale
        } else {
            1.0
        };
        let now = Instant::now();
        let limits = if write { LIMITS_WRITE } else { LIMITS_READ };
        let mut keys = Vec::new();
        for (name, scope, quota, window) in limits {
            let quota = ((*quota as f64) * scale).round().max(1.0) as usize;
            let time = if self.config.time_scale > 0.0 {
                self.config.time_scale
            } else {
                1.0
            };
            let window = Duration::from_secs_f64((window * scale * time).max(0.001));
            let key = match scope {
                Scope::Tenant => name.to_string(),
                Scope::AppTenant | Scope::App => format!("{name}:{app}"),
            };
            let q = self.windows.entry(key.clone()).or_default();
            while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
                q.pop_front();
            }
            if q.len() >= quota {
                let wait = q
                    .front()
                    .map_or(window, |t| window.saturating_sub(now.duration_since(*t)));
                return Err(GraphError::throttled(
                    wait.as_secs_f64().ceil().max(1.0) as u64
                ));
            }
            keys.push(key);
        }
        for k in keys {
            self.windows.entry(k).or_default().push_back(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_write_limit_throttles_and_recovers() {
        let mut f = Faults::new(FaultConfig {
            throttle_scale: 0.001,
            ..FaultConfig::default()
        });
        // 3000 * 0.001 = 3 writes per 0.15 s.
        for _ in 0..3 {
            assert!(f.throttle("app", true).is_ok());
        }
        let e = f.throttle("app", true).unwrap_err();
        assert_eq!((e.status, e.retry_after), (429, Some(1)));
        assert!(f.throttle("other-app", true).is_ok(), "per-app window");
        std::thread::sleep(Duration::from_millis(200));
        assert!(f.throttle("app", true).is_ok());
    }

    #[test]
    fn time_scale_keeps_the_quota_and_shortens_the_window() {
        let mut f = Faults::new(FaultConfig {
            time_scale: 0.001,
            ..FaultConfig::default()
        });
        // Graph's 3000 writes, per 0.15 s instead of 150 s.
        for _ in 0..3000 {
            assert!(f.throttle("app", true).is_ok());
        }
        assert_eq!(f.throttle("app", true).unwrap_err().status, 429);
        std::thread::sleep(Duration::from_millis(200));
        assert!(f.throttle("app", true).is_ok());
    }

    #[test]
    fn the_tenant_wide_write_limit_spans_applications() {
        let mut f = Faults::new(FaultConfig {
            throttle_scale: 0.001,
            ..FaultConfig::default()
        });
        // Scaled: 3 writes per app per 0.15 s, 18 per tenant per 0.3 s. Six applications each
        // stay within their own window and together fill the tenant's.
        for app in 0..6 {
            for _ in 0..3 {
                assert!(f.throttle(&format!("app-{app}"), true).is_ok());
            }
        }
        let e = f.throttle("app-6", true).unwrap_err();
        assert_eq!(
            e.status, 429,
            "an application that never wrote is throttled"
        );
        assert!(e.retry_after.is_some_and(|s| s >= 1));
        assert!(f.throttle("app-6", false).is_ok(), "reads are not writes");
    }
}
