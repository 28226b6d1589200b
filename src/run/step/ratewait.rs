//! Waiting out rate limits in the send stage: a 429 or 503 with a
//! `Retry-After` the run may wait for (at most `--max-retry-wait`) is
//! waited for and resent, for idempotent methods only (a POST might have
//! been acted on, so it is never repeated).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::Method;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Every rate-limit wait of a run, counted as the steps take them (setup,
/// teardown and retried attempts included), for the run summary.
#[derive(Debug, Default)]
pub(crate) struct WaitTally {
    count: AtomicUsize,
    micros: AtomicU64,
}

impl WaitTally {
    pub fn add(&self, wait: Duration) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX);
        self.micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The number of waits and the seconds waited so far.
    pub fn totals(&self) -> crate::event::RateWaits {
        crate::event::RateWaits {
            count: self.count.load(Ordering::Relaxed),
            seconds: self.micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

/// Most waits per request: a server that keeps saying "later" fails the
/// step instead of holding the run.
pub(super) const MAX_WAITS: usize = 3;

/// Whether a method may be sent twice with the same effect (RFC 9110 9.2.2).
pub(super) fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// How long to wait before resending, when the response asks for it and
/// the wait is within `max`; `None` means take the response as it is.
pub(super) fn wait_for(status: u16, headers: &HeaderMap, max: Duration) -> Option<Duration> {
    if status != 429 && status != 503 {
        return None;
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    let wait = parse_retry_after(value, SystemTime::now())?;
    (wait <= max).then_some(wait)
}

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 10.2.3); a
/// date in the past is no wait.
pub(super) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let at = SystemTime::from(date);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// What a step records about its waits: `429 Retry-After 1s: waited 1.0 s
/// and resent` per wait.
pub(super) fn describe(waits: &[(u16, Duration)]) -> String {
    let parts: Vec<String> = waits
        .iter()
        .map(|(status, d)| format!("{status} with Retry-After: waited {:.1} s", d.as_secs_f64()))
        .collect();
    format!("{}; resent {} time(s)", parts.join(", "), waits.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        // Sun, 06 Nov 1994 08:49:37 GMT is epoch 784111777.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn the_tally_sums_waits() {
        let t = WaitTally::default();
        t.add(Duration::from_millis(1500));
        t.add(Duration::from_secs(2));
        let got = t.totals();
        assert_eq!(got.count, 2);
        assert!((got.seconds - 3.5).abs() < 1e-9, "{}", got.seconds);
    }

    #[test]
    fn waits_only_for_429_and_503_within_the_bound() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "1".parse().expect("header"));
        let max = Duration::from_secs(30);
        assert_eq!(wait_for(429, &h, max), Some(Duration::from_secs(1)));
        assert_eq!(wait_for(503, &h, max), Some(Duration::from_secs(1)));
        assert_eq!(wait_for(500, &h, max), None);
        assert_eq!(wait_for(429, &h, Duration::from_millis(500)), None);
        assert_eq!(wait_for(429, &HeaderMap::new(), max), None);
        assert!(idempotent(&Method::GET) && !idempotent(&Method::POST));
    }
}
