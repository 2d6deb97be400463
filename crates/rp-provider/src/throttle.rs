//! Brakes on guessing: after [`LIMIT`] failed attempts in a minute for one client (its secret
//! or assertion) or one user (the password), further attempts are refused for the rest of the
//! minute with HTTP 429 and `Retry-After`, the right secret included (otherwise guessing
//! would simply go on: 300 wrong secrets took 0.3 s). Successful use never counts, so load
//! tests and normal traffic are untouched.

use std::collections::HashMap;
use std::sync::Mutex;

/// Failures allowed per key and window.
pub const LIMIT: u32 = 10;
/// The window, in seconds.
pub const WINDOW: i64 = 60;
/// Keys tracked at most (the oldest windows are dropped first).
const CAPACITY: usize = 10_000;

/// Failed attempts per key, in fixed one-minute windows.
#[derive(Debug, Default)]
pub struct Throttle {
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl Throttle {
    /// `Err(seconds to wait)` when `key` used up its failures in the current window.
    pub fn check(&self, key: &str, now: i64) -> Result<(), i64> {
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match windows.get(key) {
            Some((start, count)) if now < start + WINDOW && *count >= LIMIT => {
                Err((start + WINDOW - now).max(1))
            }
            _ => Ok(()),
        }
    }

    /// Count a failed attempt of `key`.
    pub fn failed(&self, key: &str, now: i64) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= CAPACITY {
            windows.retain(|_, (start, _)| now < *start + WINDOW);
            if windows.len() >= CAPACITY {
                windows.clear();
            }
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now >= entry.0 + WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_a_minute_then_a_pause() {
        let t = Throttle::default();
        for _ in 0..LIMIT {
            assert!(t.check("client:c", 100).is_ok());
            t.failed("client:c", 100);
        }
        assert_eq!(t.check("client:c", 130), Err(30));
        assert!(t.check("client:other", 130).is_ok());
        assert!(t.check("client:c", 160).is_ok(), "a new window");
    }
}
