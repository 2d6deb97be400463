//! Time rules: the one path every time check goes through.
//!
//! JWT times are NumericDates (RFC 7519 §2): seconds since the epoch, integer or decimal. A
//! token carries whatever number its signer wrote, so a value such as `-9223372036854775808`
//! or `-9.2e28` must be refused as out of range, never saturated and then subtracted (which
//! overflows, and in a release build wraps into a verdict the rule never meant). Here:
//!
//! * [`numeric_date`] parses a claim and refuses anything outside
//!   0 ..= [`MAX_NUMERIC_DATE`] (the year 9999) with its own error;
//! * [`Clock`] holds "now" and the clock leeway, and does every comparison in 128-bit
//!   arithmetic, so no caller-supplied `now` or leeway can overflow either;
//! * each rule applies the leeway once, in one place: `exp` (RFC 7519 §4.1.4, OIDC Core
//!   §3.1.3.7 rule 9), `nbf` (RFC 7519 §4.1.5), `iat` (rule 10), `auth_time` with `max_age`
//!   (rule 13), and the logout token's age (Back-Channel Logout 1.0 §2.6).

use std::time::Duration;

/// The latest NumericDate accepted: 9999-12-31T23:59:59Z. Later (or negative) times are no
/// time a real token carries, and refusing them keeps every difference far from overflow.
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// Why a time claim could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    /// Not a JSON number.
    NotANumber,
    /// A number, but before 1970 or after the year 9999 (or not finite).
    OutOfRange,
}

impl TimeError {
    /// A message naming the claim.
    pub fn message(self, claim: &str) -> String {
        match self {
            TimeError::NotANumber => format!("{claim} is not a number"),
            TimeError::OutOfRange => format!(
                "{claim} is out of range: a NumericDate is between 0 (1970) and {MAX_NUMERIC_DATE} (the year 9999) (RFC 7519 §2)"
            ),
        }
    }
}

/// Parse the JSON text of a time claim (RFC 7519 §2: integer or decimal seconds; a fraction
/// is truncated towards zero).
pub fn numeric_date(json: &str) -> Result<i64, TimeError> {
    match serde_json::from_str::<serde_json::Number>(json) {
        Ok(n) => from_number(&n),
        // The parser refuses numbers beyond f64 (`1e400`): still a number, out of range.
        Err(_)
            if json
                .trim_start()
                .starts_with(|c: char| c == '-' || c.is_ascii_digit()) =>
        {
            Err(TimeError::OutOfRange)
        }
        Err(_) => Err(TimeError::NotANumber),
    }
}

/// A time claim from a parsed JSON value.
pub fn numeric_date_value(value: &serde_json::Value) -> Result<i64, TimeError> {
    match value {
        serde_json::Value::Number(n) => from_number(n),
        _ => Err(TimeError::NotANumber),
    }
}

fn from_number(n: &serde_json::Number) -> Result<i64, TimeError> {
    let t = if let Some(i) = n.as_i64() {
        i
    } else if n.as_u64().is_some() {
        return Err(TimeError::OutOfRange);
    } else {
        let f = n.as_f64().ok_or(TimeError::NotANumber)?;
        // Compare as floats before converting: `as` would saturate out-of-range values.
        if !f.is_finite() || f < 0.0 || f >= (MAX_NUMERIC_DATE as f64) + 1.0 {
            return Err(TimeError::OutOfRange);
        }
        f.trunc() as i64
    };
    if (0..=MAX_NUMERIC_DATE).contains(&t) {
        Ok(t)
    } else {
        Err(TimeError::OutOfRange)
    }
}

/// The current time and the clock leeway, for one validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    now: i64,
    leeway: i64,
}

impl Clock {
    /// A clock at `now` (`None`: the system clock) allowing `leeway` of skew.
    pub fn new(now: Option<i64>, leeway: Duration) -> Clock {
        Clock {
            now: now.unwrap_or_else(unix_now),
            leeway: i64::try_from(leeway.as_secs()).unwrap_or(i64::MAX),
        }
    }

    /// Now, in seconds since the epoch.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The leeway, in seconds.
    pub fn leeway(&self) -> i64 {
        self.leeway
    }

    /// Seconds from `t` to now (negative when `t` is in the future), saturated to `i64`.
    pub fn since(&self, t: i64) -> i64 {
        clamp(i128::from(self.now) - i128::from(t))
    }

    /// Seconds from now to `t` (negative when `t` is past), saturated to `i64`.
    pub fn until(&self, t: i64) -> i64 {
        clamp(i128::from(t) - i128::from(self.now))
    }

    /// `exp` rule (RFC 7519 §4.1.4): the current time is before `exp`, allowing the leeway.
    pub fn before_expiry(&self, exp: i64) -> bool {
        i128::from(self.now) < i128::from(exp) + i128::from(self.leeway)
    }

    /// `iat` and `nbf` rules (RFC 7519 §4.1.5, §4.1.6): `t` is not later than now, allowing
    /// the leeway.
    pub fn not_after_now(&self, t: i64) -> bool {
        i128::from(t) <= i128::from(self.now) + i128::from(self.leeway)
    }

    /// Age rules (`max_age` with `auth_time`, a logout token's age): `t` is at most `max`
    /// seconds ago, allowing the leeway.
    pub fn within(&self, t: i64, max: u64) -> bool {
        i128::from(self.now) - i128::from(t) <= i128::from(max) + i128::from(self.leeway)
    }

    /// The last second at which a token issued at `t` (or expiring at `exp`) is still accepted
    /// by an age rule of `max` seconds: how long a replay cache must remember it.
    pub fn last_accepted(&self, t: i64, max: u64) -> i64 {
        clamp(i128::from(t) + i128::from(max) + i128::from(self.leeway))
    }

    /// The last second at which a token expiring at `exp` is still accepted.
    pub fn last_before_expiry(&self, exp: i64) -> i64 {
        clamp(i128::from(exp) + i128::from(self.leeway) - 1)
    }

    /// `", 60 s clock leeway"`, to make the leeway visible in every time check's report.
    pub fn note(&self) -> String {
        format!("{} s clock leeway", self.leeway)
    }
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// The current time in seconds since the epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_dates_in_range_only() {
        assert_eq!(numeric_date("1700000000"), Ok(1_700_000_000));
        assert_eq!(numeric_date("1700000000.9"), Ok(1_700_000_000));
        assert_eq!(numeric_date("0"), Ok(0));
        assert_eq!(numeric_date("1.7e9"), Ok(1_700_000_000));
        for bad in [
            "-1",
            "-9223372036854775808",
            "9223372036854775807",
            "18446744073709551615",
            "-9.2e28",
            "9.2e28",
            "1e400",
            "253402300800",
            "-0.5e-400",
        ] {
            let got = numeric_date(bad);
            // -0.5e-400 parses as -0.0, which is 0: in range.
            if bad == "-0.5e-400" {
                assert_eq!(got, Ok(0), "{bad}");
            } else {
                assert_eq!(got, Err(TimeError::OutOfRange), "{bad}");
            }
        }
        assert_eq!(numeric_date("\"1\""), Err(TimeError::NotANumber));
        assert_eq!(numeric_date("[1]"), Err(TimeError::NotANumber));
        assert_eq!(numeric_date("null"), Err(TimeError::NotANumber));
    }

    #[test]
    fn comparisons_never_overflow() {
        for now in [i64::MIN, -1, 0, 1_700_000_000, i64::MAX] {
            for leeway in [0, 60, u64::MAX] {
                let c = Clock::new(Some(now), Duration::from_secs(leeway));
                for t in [i64::MIN, 0, MAX_NUMERIC_DATE, i64::MAX] {
                    let _ = (
                        c.since(t),
                        c.until(t),
                        c.before_expiry(t),
                        c.not_after_now(t),
                    );
                    let _ = (c.within(t, u64::MAX), c.last_accepted(t, u64::MAX));
                    let _ = c.last_before_expiry(t);
                }
            }
        }
    }

    #[test]
    fn rules_apply_the_leeway_once() {
        let c = Clock::new(Some(1000), Duration::from_secs(60));
        assert!(c.before_expiry(941));
        assert!(!c.before_expiry(940));
        assert!(c.not_after_now(1060));
        assert!(!c.not_after_now(1061));
        assert!(c.within(1000 - 70, 10));
        assert!(!c.within(1000 - 71, 10));
        assert_eq!(c.last_accepted(1000, 600), 1660);
        assert_eq!(c.last_before_expiry(1000), 1059);
    }
}
