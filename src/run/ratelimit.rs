//! `--rate-limit N/s`: one limiter shared by every request of a run (the
//! send stage waits on it), hand-written and generated alike, so a shared
//! environment never sees more than the rate asked for.

use std::time::{Duration, Instant};

/// Spaces requests evenly: at most one per `interval`, across all workers.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: tokio::sync::Mutex<Option<Instant>>,
}

/// A `--rate-limit` value that is not `N/s`, `N/m` or `N` (per second).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a rate like 10/s, 120/m or 5 (per second), above 0")]
pub struct RateError(pub String);

impl RateLimiter {
    /// A limiter allowing `per_second` requests a second (> 0).
    pub fn per_second(per_second: f64) -> Option<RateLimiter> {
        (per_second.is_finite() && per_second > 0.0).then(|| RateLimiter {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: tokio::sync::Mutex::new(None),
        })
    }

    /// The spacing between two requests.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits until this request may go.
    pub async fn acquire(&self) {
        let wait = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = match *next {
                Some(t) if t > now => t,
                _ => now,
            };
            *next = Some(slot + self.interval);
            slot.saturating_duration_since(now)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

impl std::str::FromStr for RateLimiter {
    type Err = RateError;

    fn from_str(s: &str) -> Result<RateLimiter, RateError> {
        let bad = || RateError(s.to_string());
        let t = s.trim();
        let (n, per) = match t.split_once('/') {
            Some((n, "s" | "sec" | "second")) => (n, 1.0),
            Some((n, "m" | "min" | "minute")) => (n, 60.0),
            Some(_) => return Err(bad()),
            None => (t, 1.0),
        };
        let n: f64 = n.trim().parse().map_err(|_| bad())?;
        RateLimiter::per_second(n / per).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        let r: RateLimiter = "10/s".parse().expect("10/s");
        assert_eq!(r.interval(), Duration::from_millis(100));
        let r: RateLimiter = "120/m".parse().expect("120/m");
        assert_eq!(r.interval(), Duration::from_millis(500));
        let r: RateLimiter = "4".parse().expect("4");
        assert_eq!(r.interval(), Duration::from_millis(250));
        for bad in ["0/s", "-1", "x/s", "5/h", ""] {
            assert!(bad.parse::<RateLimiter>().is_err(), "{bad}");
        }
    }

    #[test]
    fn requests_are_spaced_across_tasks() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let limiter = std::sync::Arc::new(RateLimiter::per_second(50.0).expect("rate"));
            let started = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..4 {
                let l = limiter.clone();
                tasks.push(tokio::spawn(async move {
                    for _ in 0..3 {
                        l.acquire().await;
                    }
                }));
            }
            for t in tasks {
                t.await.expect("task");
            }
            // 12 requests at 50/s: the last goes out 11 intervals (220 ms) in.
            assert!(started.elapsed() >= Duration::from_millis(215));
        });
    }
}
