//! Microsoft Graph over HTTPS: single calls and `$batch`, with the token from
//! [`auth`](super::auth), pacing under Graph's write limits, and retries.
//!
//! Invariants (sync-engine.md sections 10.3, 10.4):
//! - Every write request (inside a `$batch` too) passes the [`Pacer`] first, which keeps the
//!   writes of any sliding window below the configured share of Graph's limit (3,000 writes per
//!   150 s per application and tenant); a 429 pauses every write for its `Retry-After` and
//!   lowers the pace by a tenth (adaptive), which then recovers slowly.
//! - A 429 is retried after `Retry-After` (exponential backoff when absent); 5xx answers,
//!   timeouts and dropped connections are retried with exponential backoff and full jitter,
//!   except for a request that may have been applied and is not idempotent (a create): that
//!   one comes back to the caller as [`Reply::ambiguous`], who checks by anchor before
//!   creating again.
//! - A batch holds at most 20 requests; answers are matched to requests by id, never by order.
//! - A 401 drops the cached token once and tries again.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use serde_json::{Value, json};

use super::auth::{AuthError, TokenSource};

/// The most requests Graph takes in one `$batch`.
pub const BATCH_LIMIT: usize = 20;

/// All causes of a `reqwest` error, joined (its `Display` alone hides the useful part).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Why a call failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Signing in failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Graph could not be reached even after the retries.
    #[error("Microsoft Graph at {url} could not be reached: {detail}")]
    Unreachable {
        /// The URL.
        url: String,
        /// What happened last.
        detail: String,
    },
    /// Graph answered something that is not Graph's protocol.
    #[error("Microsoft Graph answered something unexpected: {0}")]
    Protocol(String),
}

/// Graph's write limit that the pacer keeps under, and its share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WriteLimit {
    /// Requests per window (Graph: 3,000 per application and tenant).
    pub requests: u32,
    /// The window (Graph: 150 s).
    pub window: Duration,
    /// The share of the limit to use (0..1); the rest absorbs clock and latency differences.
    pub share: f64,
}

impl Default for WriteLimit {
    fn default() -> Self {
        Self {
            requests: 3000,
            window: Duration::from_secs(150),
            share: 0.96,
        }
    }
}

/// Retries of failed requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all (the first one included).
    pub attempts: u32,
    /// The first backoff; it doubles each time, with full jitter.
    pub base_delay: Duration,
    /// The longest backoff, and the longest `Retry-After` honoured as given.
    pub max_delay: Duration,
    /// Time allowed for one HTTP request.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(120),
            timeout: Duration::from_secs(60),
        }
    }
}

/// Counters for the run report and the benchmark.
#[derive(Debug, Default)]
pub struct Stats {
    /// HTTP requests sent (a `$batch` counts once).
    pub http_requests: AtomicU64,
    /// Graph requests (each request inside a `$batch` counts).
    pub graph_requests: AtomicU64,
    /// Write requests among them.
    pub writes: AtomicU64,
    /// Requests Graph answered 429.
    pub throttled: AtomicU64,
    /// Requests sent again (after 429, 5xx, timeouts).
    pub retries: AtomicU64,
}

impl Stats {
    /// (graph requests, writes, throttled, retries).
    pub fn snapshot(&self) -> (u64, u64, u64, u64) {
        (
            self.graph_requests.load(Ordering::Relaxed),
            self.writes.load(Ordering::Relaxed),
            self.throttled.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
        )
    }
}

/// Keeps writes under the limit: a sliding window of send times caps every window at the
/// quota, and a token bucket (at most one batch of burst, refilled at quota / window) spreads
/// the writes evenly, so a window shorter than Graph's never sees a burst either.
#[derive(Debug)]
pub struct Pacer {
    limit: WriteLimit,
    state: Mutex<PaceState>,
}

#[derive(Debug)]
struct PaceState {
    sent: std::collections::VecDeque<Instant>,
    /// Current quota per window (lowered by 429s, recovering).
    quota: f64,
    tokens: f64,
    refilled: Instant,
    paused_until: Option<Instant>,
    last_raise: Instant,
}

impl Pacer {
    /// A pacer for `limit`.
    pub fn new(limit: WriteLimit) -> Self {
        let quota = Self::target(&limit);
        let now = Instant::now();
        Self {
            limit,
            state: Mutex::new(PaceState {
                sent: Default::default(),
                quota,
                tokens: quota.min(BATCH_LIMIT as f64),
                refilled: now,
                paused_until: None,
                last_raise: now,
            }),
        }
    }

    fn target(limit: &WriteLimit) -> f64 {
        (f64::from(limit.requests) * limit.share.clamp(0.05, 1.0)).max(1.0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PaceState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The most writes one batch may carry: a batch never exceeds the burst.
    pub fn max_batch(&self) -> usize {
        (self.lock().quota.floor() as usize).clamp(1, BATCH_LIMIT)
    }

    /// Waits until `n` more writes fit, and books them.
    pub async fn acquire(&self, n: usize) {
        if n == 0 {
            return;
        }
        loop {
            let wait = {
                let mut s = self.lock();
                let now = Instant::now();
                let window = self.limit.window;
                while s
                    .sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= window)
                {
                    s.sent.pop_front();
                }
                let target = Self::target(&self.limit);
                if s.quota < target && now.duration_since(s.last_raise) >= window {
                    s.quota = (s.quota * 1.05).min(target);
                    s.last_raise = now;
                }
                let burst = s.quota.floor().clamp(1.0, BATCH_LIMIT as f64);
                let rate = s.quota / window.as_secs_f64().max(0.001);
                let elapsed = now.duration_since(s.refilled).as_secs_f64();
                s.tokens = (s.tokens + elapsed * rate).min(burst);
                s.refilled = now;
                let need = (n as f64).min(burst);
                let quota = (s.quota.floor() as usize).max(n.min(BATCH_LIMIT));
                match s.paused_until {
                    Some(until) if until > now => Some(until - now),
                    _ if s.sent.len() + n <= quota && s.tokens >= need => {
                        s.paused_until = None;
                        s.tokens -= need;
                        for _ in 0..n {
                            s.sent.push_back(now);
                        }
                        None
                    }
                    _ => {
                        let for_tokens =
                            Duration::from_secs_f64(((need - s.tokens).max(0.0)) / rate);
                        let excess = (s.sent.len() + n).saturating_sub(quota);
                        let for_window = if excess == 0 {
                            Duration::ZERO
                        } else {
                            s.sent
                                .get(excess - 1)
                                .map_or(Duration::from_millis(10), |t| {
                                    window.saturating_sub(now.duration_since(*t))
                                })
                        };
                        Some(for_tokens.max(for_window))
                    }
                }
            };
            match wait {
                None => return,
                Some(d) => tokio::time::sleep(d.max(Duration::from_millis(1))).await,
            }
        }
    }

    /// Graph throttled a write: pause for `retry_after` and slow down.
    pub fn throttled(&self, retry_after: Duration) {
        let mut s = self.lock();
        let until = Instant::now() + retry_after;
        if s.paused_until.is_none_or(|p| p < until) {
            s.paused_until = Some(until);
        }
        s.quota = (s.quota * 0.9).max(1.0);
        s.last_raise = Instant::now();
    }
}

/// One answer of Graph: to a single call or to one request of a `$batch`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status; 0 when no answer came (timeout, dropped connection).
    pub status: u16,
    /// The JSON body (`Null` when there was none).
    pub body: Value,
    /// `Retry-After`, when given.
    pub retry_after: Option<Duration>,
}

impl Reply {
    /// Whether it succeeded.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// No answer, or a server error, to a request that may have been applied.
    pub fn ambiguous(&self) -> bool {
        self.status == 0 || self.status >= 500
    }

    /// Graph's `error.code`.
    pub fn code(&self) -> &str {
        self.body
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Graph's `error.message`.
    pub fn message(&self) -> &str {
        self.body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The `error.details[].code` values (`ObjectConflict`, ...).
    pub fn detail_codes(&self) -> Vec<&str> {
        self.body
            .pointer("/error/details")
            .and_then(Value::as_array)
            .map(|d| {
                d.iter()
                    .filter_map(|x| x.get("code").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `HTTP 400 Request_BadRequest: message`, for reports.
    pub fn describe(&self) -> String {
        if self.status == 0 {
            return format!("no answer ({})", self.message());
        }
        let code = self.code();
        let message = self.message();
        if code.is_empty() && message.is_empty() {
            format!("HTTP {}", self.status)
        } else {
            format!("HTTP {} {code}: {message}", self.status)
        }
    }

    fn transport(detail: String) -> Self {
        Self {
            status: 0,
            body: json!({"error": {"code": "transport", "message": detail}}),
            retry_after: None,
        }
    }
}

/// One request of a `$batch` (or a single call).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// GET, POST, PATCH, PUT, DELETE.
    pub method: &'static str,
    /// Relative to the version root (`/users/{id}`), or a full URL (a nextLink).
    pub url: String,
    /// The JSON body.
    pub body: Option<Value>,
    /// Whether sending it twice does no harm (everything but creates).
    pub idempotent: bool,
    /// Extra headers (`ConsistencyLevel: eventual`).
    pub headers: Vec<(&'static str, String)>,
}

impl Request {
    /// A GET.
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: "GET",
            url: url.into(),
            body: None,
            idempotent: true,
            headers: Vec::new(),
        }
    }

    /// A write with a JSON body (`POST` creates are not idempotent; see [`Request::create`]).
    pub fn write(method: &'static str, url: impl Into<String>, body: Option<Value>) -> Self {
        Self {
            method,
            url: url.into(),
            body,
            idempotent: true,
            headers: Vec::new(),
        }
    }

    /// A create: a POST that must not be repeated blindly.
    pub fn create(url: impl Into<String>, body: Value) -> Self {
        Self {
            method: "POST",
            url: url.into(),
            body: Some(body),
            idempotent: false,
            headers: Vec::new(),
        }
    }

    /// With `ConsistencyLevel: eventual` (advanced queries).
    pub fn eventual(mut self) -> Self {
        self.headers.push(("ConsistencyLevel", "eventual".into()));
        self
    }

    fn is_write(&self) -> bool {
        self.method != "GET"
    }
}

/// A Microsoft Graph client.
#[derive(Debug)]
pub struct GraphClient {
    http: reqwest::Client,
    base: String,
    tokens: TokenSource,
    pacer: Pacer,
    retry: RetryPolicy,
    /// Counters.
    pub stats: Stats,
}

impl GraphClient {
    /// A client for the Graph version root `base` (`https://graph.microsoft.com/v1.0`).
    pub fn new(
        http: reqwest::Client,
        base: String,
        tokens: TokenSource,
        limit: WriteLimit,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            tokens,
            pacer: Pacer::new(limit),
            retry,
            stats: Stats::default(),
        }
    }

    /// The version root.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with("https://") || url.starts_with("http://") {
            url.to_string()
        } else {
            format!("{}{}", self.base, url)
        }
    }

    /// The path of an absolute URL under the version root (for nextLinks inside a batch).
    fn relative(&self, url: &str) -> String {
        url.strip_prefix(&self.base)
            .map_or_else(|| url.to_string(), str::to_string)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .retry
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.retry.max_delay);
        let mut b = [0u8; 8];
        if getrandom::fill(&mut b).is_err() {
            return cap;
        }
        let r = u64::from_le_bytes(b) as f64 / u64::MAX as f64;
        // Full jitter, but never less than a tenth of the cap.
        cap.mul_f64(0.1 + 0.9 * r)
    }

    fn retry_delay(&self, reply: &Reply, attempt: u32) -> Duration {
        match reply.retry_after {
            Some(d) => d.min(self.retry.max_delay.max(Duration::from_secs(1))),
            None => self.backoff(attempt),
        }
    }

    /// One call, retried as the module says; an ambiguous create comes back as it is.
    pub async fn call(&self, req: Request) -> Result<Reply, CallError> {
        let mut attempt = 0;
        let mut reauthenticated = false;
        loop {
            if req.is_write() {
                self.pacer.acquire(1).await;
                self.stats.writes.fetch_add(1, Ordering::Relaxed);
            }
            self.stats.graph_requests.fetch_add(1, Ordering::Relaxed);
            let reply = self.send_once(&req).await?;
            attempt += 1;
            if reply.status == 401 && !reauthenticated {
                reauthenticated = true;
                self.tokens.invalidate().await;
                continue;
            }
            if reply.status == 429 {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                let d = self.retry_delay(&reply, attempt);
                if req.is_write() {
                    self.pacer.throttled(d);
                }
                if attempt < self.retry.attempts {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(d).await;
                    continue;
                }
                return Ok(reply);
            }
            if reply.ambiguous() && req.idempotent && attempt < self.retry.attempts {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(self.backoff(attempt)).await;
                continue;
            }
            return Ok(reply);
        }
    }

    async fn send_once(&self, req: &Request) -> Result<Reply, CallError> {
        let token = self.tokens.token().await?;
        let url = self.absolute(&req.url);
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|e| CallError::Protocol(e.to_string()))?;
        let mut rb = self
            .http
            .request(method, &url)
            .bearer_auth(&*token)
            .timeout(self.retry.timeout);
        for (k, v) in &req.headers {
            rb = rb.header(*k, v);
        }
        if let Some(b) = &req.body {
            rb = rb.json(b);
        }
        self.stats.http_requests.fetch_add(1, Ordering::Relaxed);
        let r = match rb.send().await {
            Ok(r) => r,
            Err(e) => return Ok(Reply::transport(error_chain(&e))),
        };
        let status = r.status().as_u16();
        let retry_after = retry_after(r.headers().get("retry-after"));
        let text = match r.text().await {
            Ok(t) => t,
            Err(e) => return Ok(Reply::transport(error_chain(&e))),
        };
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Reply {
            status,
            body,
            retry_after,
        })
    }

    /// Every page of a collection (following `@odata.nextLink`), as one list.
    pub async fn get_all(&self, first: Request) -> Result<Vec<Value>, CallError> {
        let mut out = Vec::new();
        let mut next = Some(first);
        while let Some(req) = next.take() {
            let reply = self.call(req.clone()).await?;
            if !reply.ok() {
                return Err(CallError::Protocol(format!(
                    "GET {}: {}",
                    req.url,
                    reply.describe()
                )));
            }
            if let Some(items) = reply.body.get("value").and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            }
            if let Some(link) = reply.body.get("@odata.nextLink").and_then(Value::as_str) {
                let mut r = Request::get(link);
                r.headers = req.headers.clone();
                next = Some(r);
            }
        }
        Ok(out)
    }

    /// Sends requests in `$batch`es of at most 20; one reply per request, in request order.
    /// Throttled and failed idempotent requests are retried as single calls would be; a create
    /// without an answer comes back ambiguous.
    pub async fn batch(&self, requests: &[Request]) -> Result<Vec<Reply>, CallError> {
        let mut replies: Vec<Option<Reply>> = vec![None; requests.len()];
        let mut attempts = vec![0u32; requests.len()];
        let mut todo: Vec<usize> = (0..requests.len()).collect();
        while !todo.is_empty() {
            let mut again = Vec::new();
            let mut wait = Duration::ZERO;
            let size = if todo.iter().any(|i| requests[*i].is_write()) {
                self.pacer.max_batch()
            } else {
                BATCH_LIMIT
            };
            for chunk in todo.chunks(size) {
                if chunk.len() == 1 {
                    // One request: no batch envelope.
                    let i = chunk[0];
                    replies[i] = Some(self.call(requests[i].clone()).await?);
                    continue;
                }
                let writes = chunk.iter().filter(|i| requests[**i].is_write()).count();
                self.pacer.acquire(writes).await;
                self.stats
                    .writes
                    .fetch_add(writes as u64, Ordering::Relaxed);
                self.stats
                    .graph_requests
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                let answers = self.send_batch(requests, chunk).await?;
                for (&i, reply) in chunk.iter().zip(answers) {
                    attempts[i] += 1;
                    let retry = if reply.status == 429 {
                        self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                        let d = self.retry_delay(&reply, attempts[i]);
                        if requests[i].is_write() {
                            self.pacer.throttled(d);
                        }
                        wait = wait.max(d);
                        true
                    } else if reply.ambiguous() && requests[i].idempotent {
                        wait = wait.max(self.backoff(attempts[i]));
                        true
                    } else {
                        false
                    };
                    if retry && attempts[i] < self.retry.attempts {
                        self.stats.retries.fetch_add(1, Ordering::Relaxed);
                        again.push(i);
                    } else {
                        replies[i] = Some(reply);
                    }
                }
            }
            if !again.is_empty() {
                tokio::time::sleep(wait).await;
            }
            todo = again;
        }
        Ok(replies
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Reply::transport("no answer".into())))
            .collect())
    }

    /// One `$batch` call; replies in `chunk` order. A transport failure or a failed envelope
    /// becomes that failure for every request in it.
    async fn send_batch(
        &self,
        requests: &[Request],
        chunk: &[usize],
    ) -> Result<Vec<Reply>, CallError> {
        let body: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(n, &i)| {
                let r = &requests[i];
                let mut item = json!({
                    "id": (n + 1).to_string(),
                    "method": r.method,
                    "url": self.relative(&r.url),
                });
                let mut headers = serde_json::Map::new();
                for (k, v) in &r.headers {
                    headers.insert((*k).to_string(), Value::String(v.clone()));
                }
                if let Some(b) = &r.body {
                    headers.insert("Content-Type".into(), "application/json".into());
                    item["body"] = b.clone();
                }
                if !headers.is_empty() {
                    item["headers"] = Value::Object(headers);
                }
                item
            })
            .collect();
        let envelope = Request::write("POST", "/$batch", Some(json!({ "requests": body })));
        let mut reauthenticated = false;
        let reply = loop {
            let r = self.send_once(&envelope).await?;
            if r.status == 401 && !reauthenticated {
                reauthenticated = true;
                self.tokens.invalidate().await;
                continue;
            }
            break r;
        };
        if !reply.ok() {
            // The envelope itself failed (throttled, 5xx, no answer): every request shares it.
            return Ok(vec![reply; chunk.len()]);
        }
        let mut out = vec![
            Reply::transport("the batch answer did not include this request".into());
            chunk.len()
        ];
        let items = reply
            .body
            .get("responses")
            .and_then(Value::as_array)
            .ok_or_else(|| CallError::Protocol("a $batch answer without 'responses'".into()))?;
        for item in items {
            let Some(n) = item
                .get("id")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|n| (1..=chunk.len()).contains(n))
            else {
                continue;
            };
            let status = item.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
            let headers = item.get("headers");
            let retry_after = headers
                .and_then(|h| {
                    h.as_object().and_then(|m| {
                        m.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                            .map(|(_, v)| v.clone())
                    })
                })
                .and_then(|v| match v {
                    Value::String(s) => s.trim().parse::<u64>().ok(),
                    Value::Number(n) => n.as_u64(),
                    _ => None,
                })
                .map(Duration::from_secs);
            out[n - 1] = Reply {
                status,
                body: item.get("body").cloned().unwrap_or(Value::Null),
                retry_after,
            };
        }
        Ok(out)
    }
}

fn retry_after(h: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    let s = h?.to_str().ok()?.trim();
    s.parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_pacer_spreads_writes_and_keeps_every_window_under_its_share() {
        let p = Pacer::new(WriteLimit {
            requests: 100,
            window: Duration::from_secs(10),
            share: 0.9,
        });
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..30 {
            p.acquire(10).await;
            times.push(start.elapsed());
        }
        // One batch of burst, then 9 writes per second.
        assert!(
            times[1] < Duration::from_millis(5),
            "two batches of burst: {times:?}"
        );
        assert!(times[2] >= Duration::from_millis(1100), "{times:?}");
        for w in 0..times.len() {
            let end = times[w] + Duration::from_secs(10);
            let in_window = times[w..].iter().take_while(|t| **t < end).count() * 10;
            assert!(
                in_window <= 90,
                "{in_window} writes in a window from {:?}",
                times[w]
            );
        }
        let rate = 290.0 / times[29].as_secs_f64();
        assert!(rate > 8.5, "close to the allowed 9/s: {rate}");
        assert_eq!(p.max_batch(), 20);
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_pauses_and_slows_down() {
        let p = Pacer::new(WriteLimit {
            requests: 100,
            window: Duration::from_secs(10),
            share: 1.0,
        });
        p.throttled(Duration::from_secs(3));
        let start = Instant::now();
        p.acquire(1).await;
        assert!(start.elapsed() >= Duration::from_secs(3));
        assert!(p.lock().quota < 100.0);
    }

    #[test]
    fn replies_describe_graph_errors() {
        let r = Reply {
            status: 400,
            body: json!({"error": {"code": "Request_BadRequest", "message": "Another object with the same value for property userPrincipalName already exists.", "details": [{"code": "ObjectConflict", "target": "userPrincipalName"}]}}),
            retry_after: None,
        };
        assert_eq!(r.detail_codes(), vec!["ObjectConflict"]);
        assert!(
            r.describe()
                .starts_with("HTTP 400 Request_BadRequest: Another object")
        );
        assert!(!r.ambiguous());
        assert!(Reply::transport("timed out".into()).ambiguous());
    }
}
