//! The session-management plan's steps (OpenID Connect Session Management 1.0): after the
//! login, the RP's page would poll the provider's `check_session_iframe` with
//! `client_id session_state` (§4.1); the runner has no script engine, so it posts the same
//! message to the test instance's `/_conformance/check_session`, which answers as the iframe's
//! script does, for this browser's cookies. Then the RP-initiated logout, a poll that must see
//! `changed`, and the silent re-check (§5) that must end the session.

use super::{Ctx, Got, POST_LOGOUT, REDIRECT, records};
use oidc_rp::session_management::{EndReason, Recheck, SessionStatus, check_message};
use oidc_rp::{AuthorizationRequest, Login, LogoutRequest, RelyingParty};
use oidc_rp_headless::{self as headless, Browser};

/// The steps; `Ok(Some(problem))` when the RP completed but missed a step of the protocol.
pub(super) async fn run(
    ctx: &Ctx<'_>,
    rp: &RelyingParty,
    browser: &Browser,
    login: &Login,
) -> Result<Option<String>, Got> {
    if rp
        .metadata()
        .additional_metadata()
        .check_session_iframe
        .is_none()
    {
        return Ok(Some("discovery has no check_session_iframe".into()));
    }
    let Some(state) = login.session_state.as_deref() else {
        return Ok(Some(
            "the authorization response had no session_state".into(),
        ));
    };
    let message = check_message(&rp.client().client_id, state);
    match poll(ctx, browser, &message).await? {
        SessionStatus::Unchanged => {}
        other => {
            return Ok(Some(format!(
                "before the logout the provider said {other:?}"
            )));
        }
    }

    let (url, txn) = rp.end_session_url(&LogoutRequest {
        id_token_hint: Some(login.id_token.raw.clone()),
        post_logout_redirect_uri: Some(POST_LOGOUT.into()),
        ..Default::default()
    })?;
    let arrival = headless::walk(browser, &url, POST_LOGOUT, None).await?;
    txn.check_redirect(&arrival.params())?;

    match poll(ctx, browser, &message).await? {
        SessionStatus::Changed => {}
        other => {
            return Ok(Some(format!(
                "after the logout the provider said {other:?}"
            )));
        }
    }
    // §5: on `changed`, a prompt=none request with the old ID token as the hint.
    let request = oidc_rp::session_management::recheck_request(
        AuthorizationRequest {
            response_type: ctx.case.response_type,
            ..AuthorizationRequest::with_scopes(["openid"])
        },
        Some(login.id_token.raw.expose()),
    );
    let (url, txn) = rp.authorization_url(&request, REDIRECT)?;
    let result = headless::complete(rp, browser, &url, &txn, None).await;
    let problem = match Recheck::judge(result, &login.id_token.subject)? {
        Recheck::Ended(EndReason::Provider(_)) => None,
        Recheck::Ended(EndReason::OtherUser(_)) => {
            Some("the re-check signed in another user after the logout".into())
        }
        Recheck::Continues(_) => Some("the session went on after the provider's logout".into()),
    };
    // The suite's rule: polls on both sides of the logout.
    let record = records(ctx.http, &ctx.issuer).await;
    let at = |p: &str| record.iter().position(|(_, q)| q == p);
    let polls: Vec<usize> = record
        .iter()
        .enumerate()
        .filter(|(_, (_, p))| p == "/_conformance/check_session")
        .map(|(i, _)| i)
        .collect();
    let logout = at("/end_session");
    let both_sides =
        logout.is_some_and(|l| polls.iter().any(|&i| i < l) && polls.iter().any(|&i| i > l));
    Ok(problem.or_else(|| {
        (!both_sides).then(|| "the session was not polled both before and after the logout".into())
    }))
}

/// One poll: what the provider's iframe would answer this browser.
async fn poll(ctx: &Ctx<'_>, browser: &Browser, message: &str) -> Result<SessionStatus, Got> {
    let url = url::Url::parse(&format!("{}/_conformance/check_session", ctx.issuer))
        .map_err(|e| Got::Rejected(None, e.to_string()))?;
    let origin = url::Url::parse(REDIRECT)
        .map(|u| u.origin().ascii_serialization())
        .map_err(|e| Got::Rejected(None, e.to_string()))?;
    let (status, body) = browser
        .post_form(
            &url,
            &[
                ("message".to_string(), message.to_string()),
                ("origin".to_string(), origin),
            ],
        )
        .await?;
    SessionStatus::parse(body.trim())
        .filter(|_| status.is_success())
        .ok_or_else(|| Got::Rejected(None, format!("the session check answered {status}")))
}
