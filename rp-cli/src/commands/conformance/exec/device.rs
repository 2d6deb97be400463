//! The device plan's steps: device authorization, polling with a virtual clock, the ID token
//! and userinfo; then whether the RP paced its polls as RFC 8628 §3.5 requires.

use super::{Got, LoginResult};
use oidc_rp::RelyingParty;
use oidc_rp::device::{DevicePacer, DevicePoll, SLOW_DOWN_STEP};
use std::sync::Mutex;
use std::time::Duration;

/// What the RP did between polls: each wait, and each answer that was not tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Wait(Duration),
    Answer(DevicePoll),
}

/// Records instead of sleeping: the plan runs in milliseconds, and the waits the library
/// asked for are judged instead of measured.
#[derive(Default)]
struct VirtualClock(Mutex<Vec<Event>>);

impl DevicePacer for VirtualClock {
    fn wait(
        &self,
        duration: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Event::Wait(duration));
        Box::pin(async {})
    }

    fn polled(&self, poll: DevicePoll) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Event::Answer(poll));
    }
}

/// Whether every wait honoured the interval: the first one and those after
/// `authorization_pending` at least the interval, and each `slow_down` 5 s more from then on.
fn pacing_problem(events: &[Event], interval: Duration) -> Option<String> {
    let mut need = interval;
    for event in events {
        match event {
            Event::Wait(w) if *w < need => {
                return Some(format!(
                    "the RP polled after {} s where {} s were due (RFC 8628 §3.5)",
                    w.as_secs_f32(),
                    need.as_secs_f32()
                ));
            }
            Event::Wait(_) => {}
            Event::Answer(DevicePoll::SlowDown { .. }) => need += SLOW_DOWN_STEP,
            Event::Answer(_) => {}
        }
    }
    None
}

/// Log in with the device grant; the pacing verdict comes back as a side problem.
pub(super) async fn login(rp: &RelyingParty) -> Result<(LoginResult, Option<String>), Got> {
    let auth = rp
        .device_authorization(&oidc_rp::DeviceRequest::with_scopes([
            "openid", "profile", "email",
        ]))
        .await?;
    let clock = VirtualClock::default();
    let result = rp.complete_device(&auth, &clock).await;
    let events = clock.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let problem = pacing_problem(&events, auth.interval);
    let login = result?;
    let info = rp
        .userinfo(&login.tokens.access_token(), &login.id_token)
        .await?;
    Ok(((login, Some(info)), problem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_is_judged_against_the_interval_and_slow_down() {
        let s = Duration::from_secs;
        let ok = [
            Event::Wait(s(5)),
            Event::Answer(DevicePoll::SlowDown { interval: s(10) }),
            Event::Wait(s(10)),
        ];
        assert_eq!(pacing_problem(&ok, s(5)), None);
        let early = [Event::Wait(s(4))];
        assert!(pacing_problem(&early, s(5)).is_some());
        let ignored_slow_down = [
            Event::Wait(s(5)),
            Event::Answer(DevicePoll::SlowDown { interval: s(5) }),
            Event::Wait(s(5)),
        ];
        assert!(pacing_problem(&ignored_slow_down, s(5)).is_some());
    }
}
