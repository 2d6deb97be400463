//! Test-only fault injection (feature `fault-injection`): turn a validation rule off to prove
//! that the conformance runner catches the weakened library. Without the feature every check
//! always runs and this module only has the always-false [`skipped`].

use crate::report::CheckId;

#[cfg(feature = "fault-injection")]
static DISABLED: std::sync::Mutex<Vec<CheckId>> = std::sync::Mutex::new(Vec::new());

/// Turn a rule off (process-wide) until [`reset`].
#[cfg(feature = "fault-injection")]
pub fn disable(check: CheckId) {
    DISABLED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(check);
}

/// Turn every rule back on.
#[cfg(feature = "fault-injection")]
pub fn reset() {
    DISABLED.lock().unwrap_or_else(|p| p.into_inner()).clear();
}

/// Whether a rule is turned off.
#[cfg(feature = "fault-injection")]
pub fn skipped(check: CheckId) -> bool {
    DISABLED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&check)
}

/// Whether a rule is turned off: never, without the `fault-injection` feature.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn skipped(_check: CheckId) -> bool {
    false
}
