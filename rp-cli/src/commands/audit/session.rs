//! prompt, max_age, id_token_hint, the claims parameter, and RP-initiated logout.

use super::code::Session;
use super::driver::{Ctx, Evidence, Verdict};
use super::flow::{self, AuthOpts};

const NO_SESSION_ERRORS: &[&str] = &[
    "login_required",
    "interaction_required",
    "consent_required",
    "account_selection_required",
];

const NATIVE: &str = "the provider requires the user's interaction for this native (loopback) client, which RFC 8252 §8.6 allows: silent answers cannot be tried with it";

/// Whether a provider refused prompt=none for a native client (a loopback redirect URI):
/// RFC 8252 §8.6 lets it insist on interaction, since any local app can claim the client.
fn native_needs_interaction(ctx: &Ctx, error: &str) -> bool {
    let loopback = url::Url::parse(&ctx.redirect).is_ok_and(|u| oidc_rp::http::is_loopback(&u));
    loopback && (error.contains("interaction_required") || error.contains("consent_required"))
}

/// Whether a walk stopped because the provider asked for the credentials.
fn asked_to_log_in(error: &str) -> bool {
    error.contains("asks for a login")
}

/// prompt=none without and with a session, prompt=login, max_age=0.
pub async fn prompts(ctx: &Ctx, s: &Session) {
    let none = AuthOpts {
        prompt: Some("none".into()),
        ..Default::default()
    };
    // Without a session.
    match ctx.browser() {
        Ok(fresh) => match flow::request(ctx, &ctx.client, &none) {
            Ok(p) => match flow::authorize(ctx, &fresh, &p, false).await {
                Ok(a) => {
                    let error = a.get("error").unwrap_or("");
                    ctx.verdict(
                        "prompt.none-no-session",
                        NO_SESSION_ERRORS.contains(&error)
                            && a.get("state") == Some(p.state.as_str()),
                        format!("{error}, with state"),
                        if error.is_empty() {
                            "no error for a browser without a session".to_string()
                        } else {
                            format!(
                                "error {error}, state {}",
                                if a.get("state") == Some(p.state.as_str()) {
                                    "echoed"
                                } else {
                                    "missing"
                                }
                            )
                        },
                        Some(a.evidence.clone()),
                    );
                    match (ctx.iss_advertised(), a.get("iss")) {
                        (_, Some(iss)) => ctx.verdict(
                            "prompt.none-iss",
                            iss == ctx.issuer,
                            "iss on the error response",
                            format!("iss is `{}`", crate::output::one_line(iss, 80)),
                            Some(a.evidence),
                        ),
                        (true, None) => ctx.record(
                            "prompt.none-iss",
                            Verdict::Fail,
                            "the metadata promises iss, the error response has none",
                            Some(a.evidence),
                        ),
                        (false, None) => ctx.record(
                            "prompt.none-iss",
                            Verdict::NotApplicable,
                            "iss not advertised",
                            Some(a.evidence),
                        ),
                    }
                }
                Err(e) => {
                    ctx.record(
                        "prompt.none-no-session",
                        Verdict::Fail,
                        format!(
                            "no error response at the redirect URI: {}",
                            crate::output::one_line(&e, 200)
                        ),
                        Some(Evidence {
                            sent: format!("GET {}", super::driver::redact_url(&p.url)),
                            received: crate::output::one_line(&e, 200),
                        }),
                    );
                    ctx.record(
                        "prompt.none-iss",
                        Verdict::CouldNotRun,
                        "no error response",
                        None,
                    );
                }
            },
            Err(e) => ctx.not_run(&["prompt.none-no-session", "prompt.none-iss"], &e),
        },
        Err(e) => ctx.not_run(&["prompt.none-no-session", "prompt.none-iss"], &e),
    }
    // With the session.
    match flow::code_flow(ctx, &s.browser, &ctx.client, &none, false).await {
        Ok(f) => ctx.record(
            "prompt.none-session",
            Verdict::Pass,
            "a code without any page",
            Some(f.arrived.evidence),
        ),
        Err(e) if native_needs_interaction(ctx, &e) => {
            ctx.record("prompt.none-session", Verdict::NotApplicable, NATIVE, None)
        }
        Err(e) => ctx.record("prompt.none-session", Verdict::Fail, e, None),
    }
    // prompt=login and max_age=0 must ask again.
    let login = AuthOpts {
        prompt: Some("login".into()),
        ..Default::default()
    };
    match flow::request(ctx, &ctx.client, &login) {
        Ok(p) => match flow::authorize(ctx, &s.browser, &p, false).await {
            Ok(a) => ctx.record(
                "prompt.login",
                Verdict::Fail,
                "answered from the session without asking",
                Some(a.evidence),
            ),
            Err(e) if asked_to_log_in(&e) => {
                ctx.record("prompt.login", Verdict::Pass, "the login form again", None)
            }
            Err(e) => ctx.record("prompt.login", Verdict::CouldNotRun, e, None),
        },
        Err(e) => ctx.record("prompt.login", Verdict::CouldNotRun, e, None),
    }
    let fresh = AuthOpts {
        max_age: Some(0),
        ..Default::default()
    };
    let asked = match flow::request(ctx, &ctx.client, &fresh) {
        Ok(p) => match flow::authorize(ctx, &s.browser, &p, false).await {
            Ok(_) => Some(false),
            Err(e) if asked_to_log_in(&e) => Some(true),
            Err(_) => None,
        },
        Err(_) => None,
    };
    let started = oidc_rp::time::unix_now();
    match flow::code_flow(ctx, &s.browser, &ctx.client, &fresh, true).await {
        Ok(f) => {
            let claims = f
                .id_token()
                .map(super::code::header_and_claims)
                .unwrap_or_default();
            let auth_time = f
                .id_token()
                .map(super::driver::jwt_claims)
                .and_then(|c| c.get("auth_time").and_then(|t| t.as_i64()));
            let ev = Some(Evidence {
                sent: f.arrived.evidence.sent.clone(),
                received: claims,
            });
            match (asked, auth_time) {
                (Some(false), _) => ctx.record(
                    "max-age.auth-time",
                    Verdict::Fail,
                    "max_age=0 was answered from the session without a new login",
                    ev,
                ),
                (_, None) => ctx.record(
                    "max-age.auth-time",
                    Verdict::Fail,
                    "no auth_time in the ID token, though max_age was sent",
                    ev,
                ),
                (_, Some(t)) if t + 5 < started => ctx.record(
                    "max-age.auth-time",
                    Verdict::Fail,
                    format!("auth_time is {} s before the new login", started - t),
                    ev,
                ),
                _ => ctx.record(
                    "max-age.auth-time",
                    Verdict::Pass,
                    "a new login, a fresh auth_time",
                    ev,
                ),
            }
        }
        Err(e) => ctx.record("max-age.auth-time", Verdict::Fail, e, None),
    }
}

/// id_token_hint and the claims parameter.
pub async fn hints(ctx: &Ctx, s: &Session) {
    let Some(raw) = s.flow.id_token() else {
        ctx.not_run(&["hint.same-user", "hint.forged"], "no ID token");
        return;
    };
    let with_hint = |hint: &str| AuthOpts {
        prompt: Some("none".into()),
        extra: vec![("id_token_hint".into(), hint.into())],
        ..Default::default()
    };
    match flow::code_flow(ctx, &s.browser, &ctx.client, &with_hint(raw), false).await {
        Ok(f) => {
            let same = match (f.id_token(), &s.id_token) {
                (Some(t), Some(first)) => ctx
                    .validate_id_token(t, &ctx.client, f.pending.nonce.as_deref(), f.access_token())
                    .await
                    .map(|id| id.subject == first.subject)
                    .unwrap_or(false),
                _ => false,
            };
            ctx.verdict(
                "hint.same-user",
                same,
                "completed for the hinted user",
                "completed, but not for the hinted user",
                Some(f.arrived.evidence),
            );
        }
        Err(e) if native_needs_interaction(ctx, &e) => {
            ctx.record("hint.same-user", Verdict::NotApplicable, NATIVE, None)
        }
        Err(e) => ctx.record("hint.same-user", Verdict::Fail, e, None),
    }
    // The signature's last characters changed.
    let forged = {
        let cut = raw.len().saturating_sub(4);
        let tail = if raw.ends_with("AAAA") {
            "BBBB"
        } else {
            "AAAA"
        };
        format!("{}{tail}", &raw[..cut])
    };
    match flow::request(ctx, &ctx.client, &with_hint(&forged)) {
        Ok(p) => match flow::authorize(ctx, &s.browser, &p, false).await {
            Ok(a) if a.get("code").is_some() => ctx.record(
                "hint.forged",
                Verdict::Warning,
                "a hint the provider never issued was accepted (or ignored) and the session's user signed in",
                Some(a.evidence),
            ),
            Ok(a) => ctx.record("hint.forged", Verdict::Pass, format!("refused: {}", a.get("error").unwrap_or("an error")), Some(a.evidence)),
            Err(e) => ctx.record("hint.forged", Verdict::Pass, format!("refused: {}", crate::output::one_line(&e, 120)), None),
        },
        Err(e) => ctx.record("hint.forged", Verdict::CouldNotRun, e, None),
    }
    // The claims parameter.
    if ctx.meta.get("claims_parameter_supported") != Some(&serde_json::Value::Bool(true)) {
        ctx.not_applicable(
            &["claims.parameter"],
            "claims_parameter_supported is not true",
        );
        return;
    }
    let claims = AuthOpts {
        extra: vec![(
            "claims".into(),
            r#"{"id_token":{"email":{"essential":true}}}"#.into(),
        )],
        ..Default::default()
    };
    match flow::code_flow(ctx, &s.browser, &ctx.client, &claims, true).await {
        Ok(f) => {
            let shown = f
                .id_token()
                .map(super::code::header_and_claims)
                .unwrap_or_default();
            ctx.verdict(
                "claims.parameter",
                shown.contains("\"email\""),
                "email in the ID token",
                "the ID token has no email though the claims parameter asked for it",
                Some(Evidence {
                    sent: f.arrived.evidence.sent.clone(),
                    received: shown,
                }),
            );
        }
        Err(e) => ctx.record("claims.parameter", Verdict::Fail, e, None),
    }
}

/// RP-initiated logout, in a browser of its own (it ends the session).
pub async fn logout(ctx: &Ctx) {
    let ids = [
        "logout.redirect",
        "logout.unregistered",
        "logout.session-ended",
    ];
    let Some(end) = ctx.endpoint("end_session_endpoint") else {
        ctx.not_applicable(&ids, "no end_session_endpoint");
        return;
    };
    let browser = match ctx.browser() {
        Ok(b) => b,
        Err(e) => return ctx.not_run(&ids, &e),
    };
    let login = match flow::code_flow(ctx, &browser, &ctx.client, &AuthOpts::default(), true).await
    {
        Ok(f) => f,
        Err(e) => return ctx.not_run(&ids, &e),
    };
    let Some(hint) = login.id_token() else {
        return ctx.not_run(&ids, "no ID token for id_token_hint");
    };
    let url = |target: &str, state: &str| {
        let mut u = end.clone();
        u.query_pairs_mut()
            .append_pair("id_token_hint", hint)
            .append_pair("client_id", &ctx.client.id)
            .append_pair("post_logout_redirect_uri", target)
            .append_pair("state", state);
        u
    };
    // An unregistered target first (the session must survive a refusal).
    let evil = "https://rp-audit.invalid/logged-out";
    let u = url(evil, "rp-audit-state");
    let sent = format!("GET {}", super::driver::redact_url(&u));
    match oidc_rp_headless::walk(&browser, &u, evil, None).await {
        Ok(_) => ctx.record(
            "logout.unregistered",
            Verdict::Fail,
            "the browser was sent to an unregistered post_logout_redirect_uri",
            Some(Evidence {
                sent,
                received: format!("redirected to {evil}"),
            }),
        ),
        Err(e) => ctx.record(
            "logout.unregistered",
            Verdict::Pass,
            "not redirected there",
            Some(Evidence {
                sent,
                received: crate::output::one_line(&e.to_string(), 200),
            }),
        ),
    }
    let state = oidc_rp::Secret::random(12).expose().to_string();
    let u = url(&ctx.post_logout, &state);
    let sent = format!("GET {}", super::driver::redact_url(&u));
    match oidc_rp_headless::walk(&browser, &u, &ctx.post_logout, None).await {
        Ok(a) => {
            let params: Vec<(String, String)> = url::form_urlencoded::parse(&a.params())
                .into_owned()
                .collect();
            let back = params
                .iter()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.as_str());
            ctx.verdict(
                "logout.redirect",
                back == Some(state.as_str()),
                "redirected with the state",
                format!("redirected, but state came back as {back:?}"),
                Some(Evidence {
                    sent,
                    received: format!(
                        "redirected to {} with {}",
                        ctx.post_logout,
                        super::driver::redact_pairs(&params)
                    ),
                }),
            );
        }
        Err(e) => {
            ctx.record(
                "logout.redirect",
                Verdict::Fail,
                format!("not redirected to the registered post_logout_redirect_uri: {e}"),
                Some(Evidence {
                    sent,
                    received: crate::output::one_line(&e.to_string(), 200),
                }),
            );
        }
    }
    let none = AuthOpts {
        prompt: Some("none".into()),
        ..Default::default()
    };
    match flow::request(ctx, &ctx.client, &none) {
        Ok(p) => match flow::authorize(ctx, &browser, &p, false).await {
            Ok(a) if a.get("code").is_some() => ctx.record(
                "logout.session-ended",
                Verdict::Fail,
                "prompt=none still signs the user in",
                Some(a.evidence),
            ),
            Ok(a) => ctx.record(
                "logout.session-ended",
                Verdict::Pass,
                a.get("error").unwrap_or("an error").to_string(),
                Some(a.evidence),
            ),
            Err(e) => ctx.record(
                "logout.session-ended",
                Verdict::Pass,
                format!("no session: {}", crate::output::one_line(&e, 120)),
                None,
            ),
        },
        Err(e) => ctx.record("logout.session-ended", Verdict::CouldNotRun, e, None),
    }
}
