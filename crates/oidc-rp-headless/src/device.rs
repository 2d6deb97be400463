//! The user's side of a device login (RFC 8628 §3.3), headless: open the verification page,
//! enter the user code, sign in, and approve (or deny), the way a person on another device
//! would. For CI and scripts that test a provider's device flow end to end.

use super::{
    Browser, Credentials, Fill, FormIndex, LoginError, MAX_STEPS, Step, build_submission,
    message_in,
};
use http::Method;
use oidc_rp::DeviceAuthorization;
use oidc_rp::error::{Error, Result, display_url, truncate};
use scraper::Html;
use url::Url;

/// What the user answers on the approval page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceDecision {
    /// Press the approving button.
    #[default]
    Approve,
    /// Press the refusing button.
    Deny,
}

/// Walk the verification pages of `auth` and answer with `decision`. Returns what the last
/// page says ("You may close this window", ...). The device, meanwhile, polls.
///
/// ```no_run
/// # async fn f(rp: &oidc_rp::RelyingParty, http: &oidc_rp::HttpClient) -> oidc_rp::Result<()> {
/// use oidc_rp_headless::{Browser, Credentials, DeviceDecision, approve_device};
/// let auth = rp.device_authorization(&oidc_rp::DeviceRequest::default()).await?;
/// let creds = Credentials { username: "alice".into(), password: "wonderland".into() };
/// let browser = Browser::new(http)?;
/// let (said, login) = tokio::join!(
///     approve_device(&browser, &auth, Some(&creds), DeviceDecision::Approve),
///     rp.complete_device(&auth, &oidc_rp::device::RealTime),
/// );
/// println!("{:?} / {}", said?, login?.id_token.subject);
/// # Ok(()) }
/// ```
pub async fn approve_device(
    browser: &Browser,
    auth: &DeviceAuthorization,
    credentials: Option<&Credentials>,
    decision: DeviceDecision,
) -> Result<Option<String>> {
    let start = auth
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&auth.verification_uri);
    let start = Url::parse(start).map_err(|e| Error::InvalidUrl {
        url: display_url(start),
        reason: e.to_string(),
    })?;
    let mut step = Step {
        method: Method::GET,
        url: start,
        form: Vec::new(),
    };
    let fill = Fill {
        user_code: Some(&auth.user_code),
        deny: decision == DeviceDecision::Deny,
    };
    let (mut logins, mut forms) = (0, 0);
    for _ in 0..MAX_STEPS {
        let (status, location, body) = browser
            .fetch(step.method.clone(), &step.url, &step.form)
            .await?;
        if status.is_redirection() {
            let location = location.ok_or_else(|| LoginError::Unsupported {
                url: display_url(step.url.as_str()),
                reason: format!("HTTP {} without a Location", status.as_u16()),
            })?;
            let next = step.url.join(&location).map_err(|e| Error::InvalidUrl {
                url: truncate(&location, 200),
                reason: e.to_string(),
            })?;
            let keep = matches!(status.as_u16(), 307 | 308);
            step = Step {
                method: if keep { step.method } else { Method::GET },
                url: next,
                form: if keep { step.form } else { Vec::new() },
            };
            continue;
        }
        let doc = Html::parse_document(&body);
        let index = FormIndex::build(&doc);
        if !status.is_success() && (logins == 0 || index.login_form().is_none()) {
            return Err(LoginError::HttpStatus {
                url: display_url(step.url.as_str()),
                status: status.as_u16(),
                message: message_in(&doc),
            }
            .into());
        }
        if let Some(form) = index.login_form() {
            if logins > 0 {
                return Err(LoginError::Rejected {
                    message: message_in(&doc),
                }
                .into());
            }
            let credentials = credentials.ok_or_else(|| LoginError::Unsupported {
                url: display_url(step.url.as_str()),
                reason: "the provider asks for a login and no credentials were given".into(),
            })?;
            logins += 1;
            step = build_submission(&step.url, &index, form, Some(credentials), fill)?;
            continue;
        }
        let is_error = super::ERROR_MARKUP
            .iter()
            .any(|s| doc.select(super::sel(s)).next().is_some());
        if is_error && forms > 0 {
            // A form that came back with an error: a wrong or expired code.
            return Err(LoginError::Refused {
                url: display_url(step.url.as_str()),
                message: message_in(&doc),
            }
            .into());
        }
        if index.forms.is_empty() {
            // The end: a page without a form. It must not be an error page.
            let message = message_in(&doc);
            if forms == 0 || is_error {
                return Err(LoginError::Unsupported {
                    url: display_url(step.url.as_str()),
                    reason: match message {
                        Some(m) => format!("the verification page stopped: \"{m}\""),
                        None => "the verification page has no form".into(),
                    },
                }
                .into());
            }
            return Ok(message);
        }
        forms += 1;
        if forms > 6 {
            return Err(LoginError::Unsupported {
                url: display_url(step.url.as_str()),
                reason: "more than six forms without reaching the end of the device login".into(),
            }
            .into());
        }
        let chosen = (0..index.forms.len())
            .max_by_key(|i| index.score(*i))
            .unwrap_or(0);
        step = build_submission(&step.url, &index, chosen, None, fill)?;
    }
    Err(LoginError::TooManySteps(MAX_STEPS).into())
}
