//! The device authorization grant (RFC 8628) against the bundled provider over loopback: the
//! user's side driven headless while the library polls, and each way a device login ends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_rp::device::{DevicePacer, DevicePoll};
use oidc_rp::{
    CheckId, ClientConfig, DeviceError, DeviceRequest, Error, HttpClient, HttpConfig, RelyingParty,
};
use oidc_rp_headless::{Browser, Credentials, DeviceDecision, approve_device};
use std::sync::Mutex;
use std::time::Duration;

async fn provider(interval: i64) -> rp_provider::RunningProvider {
    rp_provider::start(rp_provider::ProviderConfig {
        device_interval: interval,
        ..Default::default()
    })
    .await
    .expect("provider")
}

async fn rp(issuer: &str) -> (HttpClient, RelyingParty) {
    let http = HttpClient::new(HttpConfig::default());
    let rp = RelyingParty::discover(
        &http,
        issuer,
        ClientConfig::confidential("rp-demo", "rp-demo-secret"),
    )
    .await
    .expect("discover");
    (http, rp)
}

fn alice() -> Credentials {
    Credentials {
        username: "alice".into(),
        password: "wonderland".into(),
    }
}

/// Records every wait and poll answer; waits for real (the provider measures the interval).
#[derive(Default)]
struct Recorder {
    waits: Mutex<Vec<Duration>>,
    polls: Mutex<Vec<DevicePoll>>,
}

impl DevicePacer for Recorder {
    fn wait(
        &self,
        duration: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        self.waits.lock().unwrap().push(duration);
        Box::pin(tokio::time::sleep(duration))
    }
    fn polled(&self, poll: DevicePoll) {
        self.polls.lock().unwrap().push(poll);
    }
}

#[tokio::test]
async fn a_device_login_approved_elsewhere_is_validated_like_any_login() {
    let op = provider(0).await;
    let (http, rp) = rp(op.issuer()).await;
    let auth = rp
        .device_authorization(&DeviceRequest::with_scopes(["openid", "profile"]))
        .await
        .expect("device authorization");
    assert_eq!(auth.user_code.len(), 9, "XXXX-XXXX: {}", auth.user_code);
    assert!(auth.verification_uri.starts_with(op.issuer()));
    assert!(
        format!("{auth:?}").contains("redacted"),
        "device code leaked"
    );
    let pacer = Recorder::default();
    let browser = Browser::new(&http).unwrap();
    let creds = alice();
    let (said, login) = tokio::join!(
        approve_device(&browser, &auth, Some(&creds), DeviceDecision::Approve),
        rp.complete_device(&auth, &pacer),
    );
    assert!(
        said.expect("approved")
            .unwrap_or_default()
            .contains("approved")
    );
    let login = login.expect("login");
    assert_eq!(login.id_token.subject, "248289761001", "alice's sub");
    let device = login
        .report
        .checks()
        .iter()
        .find(|c| c.id == CheckId::DeviceGrant)
        .expect("device grant check");
    assert!(device.passed, "{device:?}");
    for rule in [
        CheckId::Signature,
        CheckId::AtHash,
        CheckId::Nonce,
        CheckId::Audience,
    ] {
        assert!(
            login
                .report
                .checks()
                .iter()
                .any(|c| c.id == rule && c.passed),
            "{rule:?} missing from the report"
        );
    }
    // The floor holds even though the provider asked for no wait at all.
    assert!(
        pacer
            .waits
            .lock()
            .unwrap()
            .iter()
            .all(|w| *w >= oidc_rp::device::MIN_INTERVAL)
    );
}

#[tokio::test]
async fn a_denied_device_login_ends_with_access_denied() {
    let op = provider(0).await;
    let (http, rp) = rp(op.issuer()).await;
    let auth = rp
        .device_authorization(&DeviceRequest::default())
        .await
        .unwrap();
    let browser = Browser::new(&http).unwrap();
    let (creds, pacer) = (alice(), Recorder::default());
    let (said, login) = tokio::join!(
        approve_device(&browser, &auth, Some(&creds), DeviceDecision::Deny),
        rp.complete_device(&auth, &pacer),
    );
    said.expect("the refusal page");
    let err = login.expect_err("denied");
    assert!(matches!(err, Error::Device(DeviceError::Denied)), "{err:?}");
    assert_eq!(err.check(), Some(CheckId::DeviceGrant));
}

#[tokio::test]
async fn polling_too_fast_is_slowed_down_and_the_client_complies() {
    // The provider asks for 1 s; a pacer that waits less provokes slow_down, after which the
    // library must wait 5 s more (RFC 8628 §3.5).
    struct Impatient(Mutex<Vec<Duration>>);
    impl DevicePacer for Impatient {
        fn wait(
            &self,
            duration: Duration,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
            self.0.lock().unwrap().push(duration);
            Box::pin(async {})
        }
    }
    let op = provider(1).await;
    let (_, rp) = rp(op.issuer()).await;
    let auth = rp
        .device_authorization(&DeviceRequest::default())
        .await
        .unwrap();
    assert_eq!(auth.interval, Duration::from_secs(1));
    let pacer = Impatient(Mutex::new(Vec::new()));
    // Nobody approves: the second poll comes at once and is told to slow down; the third
    // is pending again; stop it there by expiring the wait budget.
    let run = tokio::time::timeout(
        Duration::from_millis(500),
        rp.complete_device(&auth, &pacer),
    );
    let _ = run.await;
    let waits = pacer.0.lock().unwrap().clone();
    assert!(waits.len() >= 3, "{waits:?}");
    assert_eq!(waits[0], Duration::from_secs(1));
    assert_eq!(
        waits[1],
        Duration::from_secs(1),
        "after the first pending poll"
    );
    assert_eq!(
        waits[2],
        Duration::from_secs(6),
        "after slow_down: {waits:?}"
    );
}

#[tokio::test]
async fn a_device_code_is_not_polled_past_its_expiry() {
    let op = provider(0).await;
    let (_, rp) = rp(op.issuer()).await;
    let mut auth = rp
        .device_authorization(&DeviceRequest::default())
        .await
        .unwrap();
    auth.expires_in = Duration::from_millis(700);
    let started = std::time::Instant::now();
    let err = rp
        .complete_device(&auth, &Recorder::default())
        .await
        .expect_err("expired");
    assert!(
        matches!(err, Error::Device(DeviceError::Expired { .. })),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_wrong_user_code_is_refused_on_the_page() {
    let op = provider(0).await;
    let (http, rp) = rp(op.issuer()).await;
    let mut auth = rp
        .device_authorization(&DeviceRequest::default())
        .await
        .unwrap();
    auth.user_code = "BCDF-GHJK".into();
    auth.verification_uri_complete = None;
    let browser = Browser::new(&http).unwrap();
    let err = approve_device(&browser, &auth, Some(&alice()), DeviceDecision::Approve)
        .await
        .expect_err("a made-up code");
    assert!(err.to_string().contains("not valid"), "{err}");
}

#[tokio::test]
async fn a_device_code_belongs_to_its_client() {
    let op = provider(0).await;
    let (http, rp) = rp(op.issuer()).await;
    let auth = rp
        .device_authorization(&DeviceRequest::default())
        .await
        .unwrap();
    let other = RelyingParty::discover(&http, op.issuer(), ClientConfig::public("rp-public"))
        .await
        .unwrap();
    let mut stolen = auth.clone();
    stolen.client_id = "rp-public".into();
    let err = other
        .complete_device(&stolen, &Recorder::default())
        .await
        .expect_err("another client's code");
    assert!(err.to_string().contains("invalid_grant"), "{err}");
}
