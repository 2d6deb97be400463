//! The code flow, the ID token, userinfo, and what the provider must refuse on the way.

use super::driver::{Answer, Auth, Client, Ctx, Evidence, Verdict};
use super::flow::{self, AuthOpts, Flow, Pkce};
use oidc_rp::{CheckId, Error, VerifiedIdToken};
use oidc_rp_headless::Browser;

/// A signed-in browser and its first login.
pub struct Session {
    /// The browser with the provider's session.
    pub browser: Browser,
    /// The first login.
    pub flow: Flow,
    /// Its ID token, validated.
    pub id_token: Option<VerifiedIdToken>,
}

const ID_TOKEN_CHECKS: &[&str] = &[
    "idt.signature",
    "idt.iss",
    "idt.aud",
    "idt.times",
    "idt.nonce",
    "idt.sub",
    "idt.at-hash",
    "idt.kid",
];

/// The audit check a library check belongs to.
fn id_token_check(check: CheckId) -> &'static str {
    match check {
        CheckId::Issuer => "idt.iss",
        CheckId::Audience | CheckId::Azp => "idt.aud",
        CheckId::Expiry | CheckId::IssuedAt | CheckId::NotBefore => "idt.times",
        CheckId::Nonce => "idt.nonce",
        CheckId::Subject => "idt.sub",
        CheckId::AtHash => "idt.at-hash",
        CheckId::Key => "idt.kid",
        _ => "idt.signature",
    }
}

/// The first login and everything judged on it. `None`: the flow itself failed.
pub async fn login(ctx: &Ctx) -> Option<Session> {
    let browser = match ctx.browser() {
        Ok(b) => b,
        Err(e) => {
            ctx.record("code.login", Verdict::CouldNotRun, e, None);
            return None;
        }
    };
    let opts = AuthOpts {
        scope: "openid profile email".into(),
        ..Default::default()
    };
    let flow = match flow::code_flow(ctx, &browser, &ctx.client, &opts, true).await {
        Ok(f) => f,
        Err(e) => {
            ctx.record("code.login", Verdict::Fail, e, None);
            return None;
        }
    };
    ctx.record(
        "code.login",
        Verdict::Pass,
        "signed in, code redeemed",
        Some(flow.arrived.evidence.clone()),
    );
    let arrived = &flow.arrived;
    let ev = Some(arrived.evidence.clone());
    ctx.verdict(
        "code.state",
        arrived.get("state") == Some(flow.pending.state.as_str()) && arrived.count("state") == 1,
        "returned unchanged",
        format!("state came back as {:?}", arrived.get("state")),
        ev.clone(),
    );
    match (ctx.iss_advertised(), arrived.get("iss")) {
        (_, Some(iss)) if iss == ctx.issuer => {
            ctx.record("code.iss", Verdict::Pass, "the issuer", ev.clone())
        }
        (_, Some(iss)) => ctx.record(
            "code.iss",
            Verdict::Fail,
            format!(
                "iss is `{}`, not the issuer",
                crate::output::one_line(iss, 80)
            ),
            ev.clone(),
        ),
        (true, None) => ctx.record(
            "code.iss",
            Verdict::Fail,
            "advertised, but the response has no iss",
            ev.clone(),
        ),
        (false, None) => ctx.record(
            "code.iss",
            Verdict::NotApplicable,
            "not advertised, not sent",
            ev.clone(),
        ),
    }
    ctx.verdict(
        "code.single-code",
        arrived.count("code") == 1
            && arrived.get("access_token").is_none()
            && arrived.get("id_token").is_none(),
        "one code, no token in the front channel",
        "the response to response_type=code carried more than one code",
        ev,
    );
    token_response(ctx, &flow.tokens);
    let id_token = id_token(ctx, &flow, &ctx.client, flow.pending.nonce.as_deref()).await;
    if let (Some(id), Some(access)) = (&id_token, flow.access_token()) {
        userinfo(ctx, access, id).await;
    } else {
        ctx.not_run(
            &[
                "userinfo.get",
                "userinfo.post",
                "userinfo.sub",
                "userinfo.content-type",
                "scope.profile-email",
            ],
            "no validated login",
        );
    }
    Some(Session {
        browser,
        flow,
        id_token,
    })
}

fn token_response(ctx: &Ctx, tokens: &Answer) {
    let ev = Some(tokens.evidence.clone());
    ctx.verdict(
        "token.json",
        tokens.media_type() == "application/json",
        "application/json",
        format!("served as `{}`", tokens.media_type()),
        ev.clone(),
    );
    let cc = tokens
        .header("cache-control")
        .unwrap_or("")
        .to_ascii_lowercase();
    ctx.verdict(
        "token.no-store",
        cc.contains("no-store"),
        "no-store",
        format!(
            "Cache-Control is `{}`: tokens may be kept by caches",
            crate::output::one_line(&cc, 60)
        ),
        ev.clone(),
    );
    let kind = tokens.str("token_type").unwrap_or("");
    ctx.verdict(
        "token.type",
        tokens.str("access_token").is_some()
            && (kind.eq_ignore_ascii_case("bearer") || kind.eq_ignore_ascii_case("dpop")),
        format!("token_type {kind}"),
        format!("token_type is `{}`", crate::output::one_line(kind, 40)),
        ev.clone(),
    );
    ctx.verdict(
        "token.id-token",
        tokens.str("id_token").is_some(),
        "present",
        "no id_token for the openid scope",
        ev,
    );
}

/// Validate the flow's ID token; each library check maps to its audit check.
async fn id_token(
    ctx: &Ctx,
    flow: &Flow,
    client: &Client,
    nonce: Option<&str>,
) -> Option<VerifiedIdToken> {
    let Some(raw) = flow.id_token() else {
        ctx.not_run(ID_TOKEN_CHECKS, "no ID token");
        return None;
    };
    let ev = Some(Evidence {
        sent: "the ID token of the token response".into(),
        received: header_and_claims(raw),
    });
    match ctx
        .validate_id_token(raw, client, nonce, flow.access_token())
        .await
    {
        Ok(id) => {
            for check in ID_TOKEN_CHECKS {
                ctx.record(check, Verdict::Pass, "checked", ev.clone());
            }
            let sub_ok = id.subject.len() <= 255 && id.subject.is_ascii();
            ctx.verdict(
                "idt.sub",
                sub_ok,
                "present",
                "sub is longer than 255 characters or not ASCII",
                ev,
            );
            Some(id)
        }
        Err(Error::Validation(v)) => {
            let failed = id_token_check(v.check);
            for c in v.report.checks() {
                let id = id_token_check(c.id);
                if c.passed && id != failed {
                    ctx.record(id, Verdict::Pass, "checked", ev.clone());
                }
            }
            ctx.record(failed, Verdict::Fail, v.detail.clone(), ev.clone());
            ctx.not_run(ID_TOKEN_CHECKS, "validation stopped at an earlier check");
            None
        }
        Err(e) => {
            ctx.record("idt.signature", Verdict::Fail, e.to_string(), ev);
            ctx.not_run(ID_TOKEN_CHECKS, "the ID token could not be checked");
            None
        }
    }
}

/// The JOSE header and the claims of a JWT, for evidence.
pub fn header_and_claims(raw: &str) -> String {
    let mut parts = raw.split('.');
    let decode = |p: Option<&str>| {
        p.and_then(|p| rp_jose::b64::decode(p).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let header = decode(parts.next());
    let claims = decode(parts.next());
    crate::output::one_line(&format!("header {header} claims {claims}"), 400)
}

async fn userinfo(ctx: &Ctx, access: &str, id: &VerifiedIdToken) {
    let Some(url) = ctx.endpoint("userinfo_endpoint") else {
        ctx.not_applicable(
            &[
                "userinfo.get",
                "userinfo.post",
                "userinfo.sub",
                "userinfo.content-type",
                "userinfo.no-token",
                "userinfo.bad-token",
                "scope.profile-email",
            ],
            "no userinfo_endpoint",
        );
        return;
    };
    let bearer = [("authorization", format!("Bearer {access}"))];
    match ctx.send(axum::http::Method::GET, &url, &bearer, &[]).await {
        Ok(a) => {
            let ev = Some(a.evidence.clone());
            ctx.verdict(
                "userinfo.get",
                a.status == 200,
                "answered",
                format!("HTTP {}", a.status),
                ev.clone(),
            );
            let jwt = a.media_type() == "application/jwt";
            ctx.verdict(
                "userinfo.content-type",
                a.media_type() == "application/json" || jwt,
                a.media_type(),
                format!("served as `{}`", a.media_type()),
                ev.clone(),
            );
            let claims = if jwt {
                Some(super::driver::jwt_claims(&a.text))
            } else {
                a.json.clone()
            };
            let sub = claims
                .as_ref()
                .and_then(|c| c.get("sub"))
                .and_then(|s| s.as_str());
            ctx.verdict(
                "userinfo.sub",
                sub == Some(id.subject.as_str()),
                "equals the ID token's",
                format!(
                    "sub is {:?}, the ID token's is `{}`: a client must discard these claims",
                    sub, id.subject
                ),
                ev.clone(),
            );
            let has = |n: &str| claims.as_ref().and_then(|c| c.get(n)).is_some();
            let named = has("name") || has("preferred_username") || has("given_name");
            ctx.record(
                "scope.profile-email",
                if named && has("email") {
                    Verdict::Pass
                } else {
                    Verdict::Warning
                },
                if named && has("email") {
                    "profile and email claims present".to_string()
                } else {
                    "profile or email claims missing (the user may have none)".to_string()
                },
                ev,
            );
        }
        Err(e) => ctx.record("userinfo.get", Verdict::Fail, e, None),
    }
    match ctx.send(axum::http::Method::POST, &url, &bearer, &[]).await {
        Ok(a) => ctx.verdict(
            "userinfo.post",
            a.status == 200,
            "answered",
            format!("HTTP {}", a.status),
            Some(a.evidence),
        ),
        Err(e) => ctx.record("userinfo.post", Verdict::Fail, e, None),
    }
    unauthenticated_userinfo(ctx, &url).await;
}

async fn unauthenticated_userinfo(ctx: &Ctx, url: &url::Url) {
    match ctx.send(axum::http::Method::GET, url, &[], &[]).await {
        // RFC 6750 §3: the challenge is a MUST; §3.1: a request without credentials should
        // get 401 without an error code (some providers answer 400 invalid_request).
        Ok(a) => match (a.status, a.header("www-authenticate").is_some()) {
            (401, true) => ctx.record(
                "userinfo.no-token",
                Verdict::Pass,
                "401 with a challenge",
                Some(a.evidence),
            ),
            (_, true) if a.status >= 400 => ctx.record(
                "userinfo.no-token",
                Verdict::Warning,
                format!(
                    "HTTP {} with a challenge; a request without any credentials should get 401",
                    a.status
                ),
                Some(a.evidence),
            ),
            (status, _) => ctx.record(
                "userinfo.no-token",
                Verdict::Fail,
                format!("HTTP {status} without WWW-Authenticate"),
                Some(a.evidence),
            ),
        },
        Err(e) => ctx.record("userinfo.no-token", Verdict::Fail, e, None),
    }
    let forged = [(
        "authorization",
        "Bearer rp-audit-forged-token-0123456789".to_string(),
    )];
    match ctx.send(axum::http::Method::GET, url, &forged, &[]).await {
        Ok(a) => {
            let challenge = a.header("www-authenticate").unwrap_or("");
            let says =
                challenge.contains("invalid_token") || a.str("error") == Some("invalid_token");
            ctx.verdict(
                "userinfo.bad-token",
                a.status == 401 && says,
                "401 invalid_token",
                format!(
                    "HTTP {} (a forged token must get 401 with error=\"invalid_token\")",
                    a.status
                ),
                Some(a.evidence),
            )
        }
        Err(e) => ctx.record("userinfo.bad-token", Verdict::Fail, e, None),
    }
}

/// Requests that must succeed: no nonce, an unknown parameter, the scopes reordered.
pub async fn tolerances(ctx: &Ctx, s: &Session) {
    let no_nonce = AuthOpts {
        nonce: false,
        ..Default::default()
    };
    match flow::code_flow(ctx, &s.browser, &ctx.client, &no_nonce, true).await {
        Ok(f) => {
            let ok = match f.id_token() {
                Some(raw) => ctx
                    .validate_id_token(raw, &ctx.client, None, f.access_token())
                    .await
                    .map_err(|e| e.to_string()),
                None => Err("no ID token".into()),
            };
            match ok {
                Ok(_) => ctx.record(
                    "code.no-nonce",
                    Verdict::Pass,
                    "completed",
                    Some(f.arrived.evidence),
                ),
                Err(e) => ctx.record("code.no-nonce", Verdict::Fail, e, Some(f.arrived.evidence)),
            }
        }
        Err(e) => ctx.record("code.no-nonce", Verdict::Fail, e, None),
    }
    let unknown = AuthOpts {
        extra: vec![("rp_audit_unknown".into(), "ignored".into())],
        ..Default::default()
    };
    match flow::code_flow(ctx, &s.browser, &ctx.client, &unknown, true).await {
        Ok(f) => ctx.record(
            "code.unknown-parameter",
            Verdict::Pass,
            "ignored",
            Some(f.arrived.evidence),
        ),
        Err(e) => ctx.record("code.unknown-parameter", Verdict::Fail, e, None),
    }
    let reordered = AuthOpts {
        scope: "email openid profile".into(),
        ..Default::default()
    };
    match flow::code_flow(ctx, &s.browser, &ctx.client, &reordered, true).await {
        Ok(f) => ctx.record(
            "code.scope-order",
            Verdict::Pass,
            "accepted",
            Some(f.arrived.evidence),
        ),
        Err(e) => ctx.record("code.scope-order", Verdict::Fail, e, None),
    }
}

/// A redirect URI like the registered one but for another path.
fn variant(redirect: &str, path: &str) -> String {
    match url::Url::parse(redirect) {
        Ok(mut u) => {
            let p = format!("{}/{path}", u.path().trim_end_matches('/'));
            u.set_path(&p);
            u.to_string()
        }
        Err(_) => format!("{redirect}/{path}"),
    }
}

/// A fresh code for `client` in the signed-in browser.
async fn fresh_code(
    ctx: &Ctx,
    s: &Session,
    client: &Client,
    opts: &AuthOpts,
) -> Result<(flow::Pending, String), String> {
    let pending = flow::request(ctx, client, opts)?;
    let arrived = flow::authorize(ctx, &s.browser, &pending, true).await?;
    match arrived.get("code") {
        Some(code) => Ok((pending, code.to_string())),
        None => Err(format!(
            "no code: {}",
            arrived.get("error").unwrap_or("no error either")
        )),
    }
}

fn refused(a: &Answer) -> bool {
    a.status >= 400 && a.str("access_token").is_none()
}

/// What the provider must refuse.
pub async fn refusals(ctx: &Ctx, s: &Session) {
    redirects(ctx, s).await;
    code_reuse(ctx, s).await;
    pkce(ctx, s).await;
    // Another redirect_uri at the token endpoint.
    match fresh_code(ctx, s, &ctx.client, &AuthOpts::default()).await {
        Ok((p, code)) => match flow::redeem(
            ctx,
            &ctx.client,
            &code,
            &variant(&p.redirect, "rp-audit"),
            p.verifier.as_deref(),
            Auth::Client,
        )
        .await
        {
            Ok(a) => ctx.verdict(
                "refuse.redirect-mismatch",
                refused(&a),
                "refused",
                "tokens were issued for another redirect_uri",
                Some(a.evidence),
            ),
            Err(e) => ctx.record("refuse.redirect-mismatch", Verdict::CouldNotRun, e, None),
        },
        Err(e) => ctx.record("refuse.redirect-mismatch", Verdict::CouldNotRun, e, None),
    }
    // A wrong secret.
    if ctx.client.secret.is_none() {
        ctx.not_applicable(&["refuse.wrong-secret"], "the client is public");
    } else {
        match fresh_code(ctx, s, &ctx.client, &AuthOpts::default()).await {
            Ok((p, code)) => match flow::redeem(ctx, &ctx.client, &code, &p.redirect, p.verifier.as_deref(), Auth::WrongSecret).await {
                Ok(a) if a.status == 401 && a.str("error") == Some("invalid_client") => {
                    ctx.record("refuse.wrong-secret", Verdict::Pass, "401 invalid_client", Some(a.evidence))
                }
                Ok(a) if refused(&a) => ctx.record(
                    "refuse.wrong-secret",
                    Verdict::Warning,
                    format!("refused, but with HTTP {} {:?} (Basic credentials need 401 invalid_client)", a.status, a.str("error")),
                    Some(a.evidence),
                ),
                Ok(a) => ctx.record("refuse.wrong-secret", Verdict::Fail, "tokens were issued with a wrong client secret", Some(a.evidence)),
                Err(e) => ctx.record("refuse.wrong-secret", Verdict::CouldNotRun, e, None),
            },
            Err(e) => ctx.record("refuse.wrong-secret", Verdict::CouldNotRun, e, None),
        }
    }
    // Another client redeems the code.
    match &ctx.second {
        None => ctx.not_applicable(&["refuse.code-other-client"], "needs --second-client"),
        Some(second) => match fresh_code(ctx, s, &ctx.client, &AuthOpts::default()).await {
            Ok((p, code)) => match flow::redeem(
                ctx,
                second,
                &code,
                &p.redirect,
                p.verifier.as_deref(),
                Auth::Client,
            )
            .await
            {
                Ok(a) => ctx.verdict(
                    "refuse.code-other-client",
                    refused(&a),
                    "refused",
                    "the second client got tokens for the first client's code",
                    Some(a.evidence),
                ),
                Err(e) => ctx.record("refuse.code-other-client", Verdict::CouldNotRun, e, None),
            },
            Err(e) => ctx.record("refuse.code-other-client", Verdict::CouldNotRun, e, None),
        },
    }
}

async fn redirects(ctx: &Ctx, s: &Session) {
    let cases = [
        (
            "refuse.unregistered-redirect",
            "https://rp-audit.invalid/callback".to_string(),
            None,
        ),
        (
            "refuse.redirect-variant",
            variant(&ctx.redirect, "rp-audit"),
            None,
        ),
        (
            "refuse.unknown-client",
            ctx.redirect.clone(),
            Some(format!(
                "rp-audit-unknown-{}",
                oidc_rp::Secret::random(6).expose()
            )),
        ),
    ];
    for (id, redirect, client_id) in cases {
        let opts = AuthOpts {
            redirect: Some(redirect.clone()),
            client_id,
            ..Default::default()
        };
        let pending = match flow::request(ctx, &ctx.client, &opts) {
            Ok(p) => p,
            Err(e) => {
                ctx.record(id, Verdict::CouldNotRun, e, None);
                continue;
            }
        };
        match flow::authorize(ctx, &s.browser, &pending, true).await {
            Ok(arrived) => ctx.record(
                id,
                Verdict::Fail,
                format!(
                    "the browser was sent to {}{}",
                    crate::output::one_line(&redirect, 80),
                    if arrived.get("code").is_some() {
                        " with a code"
                    } else {
                        ""
                    }
                ),
                Some(arrived.evidence),
            ),
            Err(e) => ctx.record(
                id,
                Verdict::Pass,
                "refused without a redirect",
                Some(Evidence {
                    sent: format!("GET {}", super::driver::redact_url(&pending.url)),
                    received: crate::output::one_line(&e, 200),
                }),
            ),
        }
    }
    let opts = AuthOpts {
        response_type: "rp_audit_unsupported".into(),
        ..Default::default()
    };
    let id = "refuse.response-type";
    match flow::request(ctx, &ctx.client, &opts) {
        Ok(pending) => match flow::authorize(ctx, &s.browser, &pending, true).await {
            Ok(a)
                if a.get("error") == Some("unsupported_response_type")
                    && a.get("state") == Some(pending.state.as_str()) =>
            {
                ctx.record(
                    id,
                    Verdict::Pass,
                    "unsupported_response_type, with state",
                    Some(a.evidence),
                )
            }
            Ok(a) if a.get("code").is_some() => {
                ctx.record(id, Verdict::Fail, "a code was issued", Some(a.evidence))
            }
            Ok(a) => ctx.record(
                id,
                Verdict::Warning,
                format!(
                    "error {:?}, state {}",
                    a.get("error"),
                    if a.get("state") == Some(pending.state.as_str()) {
                        "echoed"
                    } else {
                        "missing"
                    }
                ),
                Some(a.evidence),
            ),
            Err(e) => ctx.record(
                id,
                Verdict::Warning,
                format!(
                    "an error page instead of an error response at the registered redirect URI: {e}"
                ),
                None,
            ),
        },
        Err(e) => ctx.record(id, Verdict::CouldNotRun, e, None),
    }
}

async fn code_reuse(ctx: &Ctx, s: &Session) {
    let (p, code) = match fresh_code(ctx, s, &ctx.client, &AuthOpts::default()).await {
        Ok(v) => v,
        Err(e) => {
            ctx.not_run(
                &[
                    "refuse.code-reuse",
                    "refuse.code-reuse-revokes",
                    "refuse.error-json",
                ],
                &e,
            );
            return;
        }
    };
    let first = match flow::redeem(
        ctx,
        &ctx.client,
        &code,
        &p.redirect,
        p.verifier.as_deref(),
        Auth::Client,
    )
    .await
    {
        Ok(a) if a.status == 200 => a,
        Ok(a) => {
            ctx.not_run(
                &[
                    "refuse.code-reuse",
                    "refuse.code-reuse-revokes",
                    "refuse.error-json",
                ],
                &a.evidence.received,
            );
            return;
        }
        Err(e) => {
            ctx.not_run(
                &[
                    "refuse.code-reuse",
                    "refuse.code-reuse-revokes",
                    "refuse.error-json",
                ],
                &e,
            );
            return;
        }
    };
    let second = match flow::redeem(
        ctx,
        &ctx.client,
        &code,
        &p.redirect,
        p.verifier.as_deref(),
        Auth::Client,
    )
    .await
    {
        Ok(a) => a,
        Err(e) => {
            ctx.not_run(
                &[
                    "refuse.code-reuse",
                    "refuse.code-reuse-revokes",
                    "refuse.error-json",
                ],
                &e,
            );
            return;
        }
    };
    ctx.verdict(
        "refuse.code-reuse",
        refused(&second) && second.str("error") == Some("invalid_grant"),
        "invalid_grant",
        if refused(&second) {
            format!("refused with {:?}, not invalid_grant", second.str("error"))
        } else {
            "the code was redeemed twice".into()
        },
        Some(second.evidence.clone()),
    );
    if refused(&second) {
        ctx.verdict(
            "refuse.error-json",
            second.media_type() == "application/json" && second.str("error").is_some(),
            "application/json with error",
            format!("the error came as `{}`", second.media_type()),
            Some(second.evidence.clone()),
        );
    } else {
        ctx.record(
            "refuse.error-json",
            Verdict::CouldNotRun,
            "no error response to look at",
            None,
        );
    }
    match (first.str("access_token"), ctx.endpoint("userinfo_endpoint")) {
        (Some(access), Some(url)) => {
            match ctx
                .send(
                    axum::http::Method::GET,
                    &url,
                    &[("authorization", format!("Bearer {access}"))],
                    &[],
                )
                .await
            {
                Ok(a) if a.status == 401 => ctx.record(
                    "refuse.code-reuse-revokes",
                    Verdict::Pass,
                    "the first access token was revoked",
                    Some(a.evidence),
                ),
                Ok(a) => ctx.record(
                    "refuse.code-reuse-revokes",
                    Verdict::Warning,
                    "the access token issued for the reused code still works at userinfo",
                    Some(a.evidence),
                ),
                Err(e) => ctx.record("refuse.code-reuse-revokes", Verdict::CouldNotRun, e, None),
            }
        }
        _ => ctx.record(
            "refuse.code-reuse-revokes",
            Verdict::CouldNotRun,
            "no access token or userinfo endpoint to try it at",
            None,
        ),
    }
}

async fn pkce(ctx: &Ctx, s: &Session) {
    let other = oidc_rp::Secret::random(32).expose().to_string();
    // A wrong verifier, then none.
    for (id, verifier) in [
        ("refuse.pkce-wrong", Some(other.as_str())),
        ("refuse.pkce-missing", None),
    ] {
        match fresh_code(ctx, s, &ctx.client, &AuthOpts::default()).await {
            Ok((p, code)) => {
                match flow::redeem(ctx, &ctx.client, &code, &p.redirect, verifier, Auth::Client)
                    .await
                {
                    Ok(a) => ctx.verdict(
                        id,
                        refused(&a),
                        "refused",
                        "tokens were issued",
                        Some(a.evidence),
                    ),
                    Err(e) => ctx.record(id, Verdict::CouldNotRun, e, None),
                }
            }
            Err(e) => ctx.record(id, Verdict::CouldNotRun, e, None),
        }
    }
    // Downgrade: no challenge, then a verifier.
    let id = "refuse.pkce-downgrade";
    let without = AuthOpts {
        pkce: Pkce::Without,
        ..Default::default()
    };
    match flow::request(ctx, &ctx.client, &without) {
        Ok(pending) => match flow::authorize(ctx, &s.browser, &pending, true).await {
            Ok(a) => match a.get("code") {
                None => ctx.record(
                    id,
                    Verdict::Pass,
                    "a request without PKCE is refused",
                    Some(a.evidence),
                ),
                Some(code) => match flow::redeem(
                    ctx,
                    &ctx.client,
                    code,
                    &pending.redirect,
                    Some(&other),
                    Auth::Client,
                )
                .await
                {
                    Ok(t) => ctx.verdict(
                        id,
                        refused(&t),
                        "the verifier without a challenge is refused",
                        "tokens were issued for a verifier the request never committed to",
                        Some(t.evidence),
                    ),
                    Err(e) => ctx.record(id, Verdict::CouldNotRun, e, None),
                },
            },
            Err(e) => ctx.record(
                id,
                Verdict::Pass,
                format!("a request without PKCE is refused: {e}"),
                None,
            ),
        },
        Err(e) => ctx.record(id, Verdict::CouldNotRun, e, None),
    }
    // plain.
    let id = "refuse.pkce-plain";
    let plain = AuthOpts {
        pkce: Pkce::Plain,
        ..Default::default()
    };
    let advertised = ctx
        .meta_list("code_challenge_methods_supported")
        .iter()
        .any(|m| m == "plain");
    match flow::request(ctx, &ctx.client, &plain) {
        Ok(pending) => match flow::authorize(ctx, &s.browser, &pending, true).await {
            Ok(a) if a.get("code").is_none() => {
                ctx.record(id, Verdict::Pass, "refused", Some(a.evidence))
            }
            Ok(a) if advertised => ctx.record(
                id,
                Verdict::Warning,
                "plain is advertised and accepted; S256 alone protects a code seen by an attacker",
                Some(a.evidence),
            ),
            Ok(a) => ctx.record(
                id,
                Verdict::Fail,
                "plain is accepted though not advertised",
                Some(a.evidence),
            ),
            Err(e) => ctx.record(id, Verdict::Pass, format!("refused: {e}"), None),
        },
        Err(e) => ctx.record(id, Verdict::CouldNotRun, e, None),
    }
}

/// Each advertised response type other than code, asked for once: none may be answered
/// unsupported_response_type (the client may not be registered for them: then it is not
/// counted).
pub async fn response_types(ctx: &Ctx, s: &Session) {
    let id = "meta.response-types";
    let mut tried = Vec::new();
    let mut unsupported = Vec::new();
    let mut evidence = None;
    for kind in ctx.meta_list("response_types_supported") {
        // `none` and extension types are not tried.
        if kind == "code"
            || kind
                .split(' ')
                .any(|w| !matches!(w, "code" | "id_token" | "token"))
        {
            continue;
        }
        let opts = AuthOpts {
            response_type: kind.clone(),
            ..Default::default()
        };
        let Ok(pending) = flow::request(ctx, &ctx.client, &opts) else {
            continue;
        };
        match flow::authorize(ctx, &s.browser, &pending, true).await {
            Ok(a) if a.get("error") == Some("unsupported_response_type") => {
                unsupported.push(kind.clone());
                evidence = Some(a.evidence);
            }
            Ok(a) if a.get("error").is_some() => {}
            Ok(_) => tried.push(kind.clone()),
            Err(_) => {}
        }
    }
    if !unsupported.is_empty() {
        ctx.record(
            id,
            Verdict::Fail,
            format!("advertised but not served: {}", unsupported.join(", ")),
            evidence,
        );
    } else if tried.is_empty() {
        ctx.record(
            id,
            Verdict::NotApplicable,
            "the client is registered for code only",
            None,
        );
    } else {
        ctx.record(
            id,
            Verdict::Pass,
            format!("served: code, {}", tried.join(", ")),
            None,
        );
    }
}
