//! Refresh, introspection, revocation and the client-authentication hazards.

use super::code::Session;
use super::driver::{Answer, Auth, Client, Ctx, Evidence, Verdict, jwt_claims as claims};
use super::flow::{self, AuthOpts, Flow};
use oidc_rp::id_token::{self, IdTokenRules, NonceCheck};

const REFRESH: &[&str] = &[
    "refresh.grant",
    "refresh.id-token",
    "refresh.rotation",
    "refresh.reuse",
    "refresh.other-client",
    "refresh.auth-time-elsewhere",
];

/// A grant with a refresh token (offline_access, prompt=consent as OIDC Core §11 asks).
async fn offline(ctx: &Ctx, s: &Session) -> Result<Flow, String> {
    let opts = AuthOpts {
        scope: "openid offline_access".into(),
        prompt: Some("consent".into()),
        ..Default::default()
    };
    flow::code_flow(ctx, &s.browser, &ctx.client, &opts, true).await
}

async fn refresh(ctx: &Ctx, client: &Client, token: &str) -> Result<Answer, String> {
    let url = ctx.endpoint("token_endpoint").ok_or("no token_endpoint")?;
    ctx.post_as(
        &url,
        client,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
        Auth::Client,
    )
    .await
}

/// The refresh checks.
pub async fn refreshes(ctx: &Ctx, s: &Session) {
    let grant = match offline(ctx, s).await {
        Ok(f) => f,
        Err(e) => return ctx.not_run(REFRESH, &e),
    };
    let Some(first) = grant.refresh_token().map(str::to_string) else {
        ctx.not_applicable(
            REFRESH,
            "no refresh token was issued for offline_access (the client may not have the refresh_token grant)",
        );
        return;
    };
    let answer = match refresh(ctx, &ctx.client, &first).await {
        Ok(a) => a,
        Err(e) => return ctx.not_run(REFRESH, &e),
    };
    let ok = answer.status == 200 && answer.str("access_token").is_some();
    ctx.verdict(
        "refresh.grant",
        ok,
        "new tokens",
        "the refresh token was refused",
        Some(answer.evidence.clone()),
    );
    if !ok {
        return ctx.not_run(REFRESH, "the refresh failed");
    }
    let original = grant.id_token().map(claims).unwrap_or_default();
    // OIDC Core §12.2.
    match answer.str("id_token") {
        None => ctx.record(
            "refresh.id-token",
            Verdict::NotApplicable,
            "no new ID token (allowed)",
            Some(answer.evidence.clone()),
        ),
        Some(raw) => {
            let ev = Some(Evidence {
                sent: answer.evidence.sent.clone(),
                received: super::code::header_and_claims(raw),
            });
            let valid = validate_refreshed(ctx, raw, grant.pending.nonce.as_deref()).await;
            let new = claims(raw);
            let same: Vec<&str> = ["iss", "sub", "aud", "auth_time"]
                .into_iter()
                .filter(|c| new.get(*c) != original.get(*c))
                .collect();
            match valid {
                Err(e) => ctx.record("refresh.id-token", Verdict::Fail, e, ev),
                Ok(()) if same.is_empty() => ctx.record(
                    "refresh.id-token",
                    Verdict::Pass,
                    "iss, sub, aud and auth_time kept",
                    ev,
                ),
                Ok(()) => ctx.record(
                    "refresh.id-token",
                    Verdict::Fail,
                    format!("changed: {}", same.join(", ")),
                    ev,
                ),
            }
        }
    }
    let newest = answer.str("refresh_token").map(str::to_string);
    let rotated = newest.as_deref().is_some_and(|n| n != first);
    let public = ctx.client.secret.is_none();
    ctx.record(
        "refresh.rotation",
        match (rotated, public) {
            (true, _) => Verdict::Pass,
            (false, true) => Verdict::Fail,
            (false, false) => Verdict::Warning,
        },
        match (rotated, public) {
            (true, _) => "rotated",
            (false, true) => "a public client's refresh token is neither rotated nor bound to a key",
            (false, false) => "not rotated (allowed for a confidential client; a stolen refresh token stays usable)",
        },
        Some(answer.evidence.clone()),
    );
    let current = newest.clone().unwrap_or_else(|| first.clone());
    // Another client.
    match &ctx.second {
        None => ctx.not_applicable(&["refresh.other-client"], "needs --second-client"),
        Some(second) => match refresh(ctx, second, &current).await {
            Ok(a) => ctx.verdict(
                "refresh.other-client",
                a.status >= 400 && a.str("access_token").is_none(),
                "refused",
                "the second client refreshed the first client's grant",
                Some(a.evidence),
            ),
            Err(e) => ctx.record("refresh.other-client", Verdict::CouldNotRun, e, None),
        },
    }
    let current = auth_time_elsewhere(ctx, s, &current, &original).await;
    // Reuse of the first (rotated) token, last: it may revoke the grant.
    if !rotated {
        ctx.not_applicable(&["refresh.reuse"], "refresh tokens are not rotated");
        return;
    }
    match refresh(ctx, &ctx.client, &first).await {
        Ok(a) if a.status >= 400 => {
            let after = refresh(ctx, &ctx.client, &current).await;
            match after {
                Ok(b) if b.status >= 400 => ctx.record("refresh.reuse", Verdict::Pass, "refused, and the grant revoked", Some(a.evidence)),
                Ok(b) => ctx.record(
                    "refresh.reuse",
                    Verdict::Warning,
                    "the reused token is refused, but the grant lives on (its newest refresh token still works)",
                    Some(b.evidence),
                ),
                Err(e) => ctx.record("refresh.reuse", Verdict::CouldNotRun, e, None),
            }
        }
        Ok(a) => ctx.record(
            "refresh.reuse",
            Verdict::Fail,
            "a rotated refresh token was accepted again",
            Some(a.evidence),
        ),
        Err(e) => ctx.record("refresh.reuse", Verdict::CouldNotRun, e, None),
    }
}

async fn validate_refreshed(ctx: &Ctx, raw: &str, nonce: Option<&str>) -> Result<(), String> {
    let jwks = ctx.jwks.as_ref().ok_or("no key set")?;
    let algs: Vec<oidc_rp::Alg> = ctx
        .meta_list("id_token_signing_alg_values_supported")
        .iter()
        .filter_map(|a| oidc_rp::Alg::parse(a))
        .collect();
    let rules = IdTokenRules {
        client_secret: ctx.client.secret.as_ref(),
        ..IdTokenRules::new(
            &ctx.issuer,
            &ctx.client.id,
            &algs,
            match nonce {
                Some(n) => NonceCheck::IfPresent(n),
                None => NonceCheck::NotExpected,
            },
        )
    };
    id_token::validate(
        raw,
        &rules,
        oidc_rp::jwt::KeySource {
            jwks,
            http: &ctx.http,
        },
        "refreshed ID token",
    )
    .await
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// Log in again elsewhere (the second client, or this one with prompt=login), then refresh:
/// the refreshed ID token must keep the original auth_time. Returns the newest refresh token.
async fn auth_time_elsewhere(
    ctx: &Ctx,
    s: &Session,
    current: &str,
    original: &serde_json::Value,
) -> String {
    let id = "refresh.auth-time-elsewhere";
    let Some(before) = original.get("auth_time").and_then(|t| t.as_i64()) else {
        ctx.record(
            id,
            Verdict::NotApplicable,
            "the original ID token has no auth_time",
            None,
        );
        return current.to_string();
    };
    // auth_time has one-second resolution: let a second pass so a new login shows.
    while oidc_rp::time::unix_now() <= before {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let elsewhere = ctx.second.clone().unwrap_or_else(|| ctx.client.clone());
    let again = AuthOpts {
        prompt: Some("login".into()),
        ..Default::default()
    };
    if let Err(e) = flow::code_flow(ctx, &s.browser, &elsewhere, &again, true).await {
        ctx.record(
            id,
            Verdict::CouldNotRun,
            format!("the second login failed: {e}"),
            None,
        );
        return current.to_string();
    }
    match refresh(ctx, &ctx.client, current).await {
        Ok(a) => {
            let newest = a.str("refresh_token").unwrap_or(current).to_string();
            match a.str("id_token").map(claims) {
                None => ctx.record(
                    id,
                    Verdict::NotApplicable,
                    "no new ID token on refresh",
                    Some(a.evidence),
                ),
                Some(c) => {
                    let after = c.get("auth_time").and_then(|t| t.as_i64());
                    ctx.verdict(
                        id,
                        after == Some(before),
                        "auth_time kept",
                        format!(
                            "auth_time moved from {before} to {} after a login at {}",
                            after.map_or("none".to_string(), |a| a.to_string()),
                            if ctx.second.is_some() {
                                "the second client"
                            } else {
                                "this client"
                            }
                        ),
                        Some(Evidence {
                            sent: a.evidence.sent.clone(),
                            received: super::code::header_and_claims(
                                a.str("id_token").unwrap_or(""),
                            ),
                        }),
                    );
                }
            }
            newest
        }
        Err(e) => {
            ctx.record(id, Verdict::CouldNotRun, e, None);
            current.to_string()
        }
    }
}

/// Introspection and revocation, on grants of their own.
pub async fn introspection_and_revocation(ctx: &Ctx, s: &Session) {
    let introspect = ctx.endpoint("introspection_endpoint");
    let revoke = ctx.endpoint("revocation_endpoint");
    let flow = match flow::code_flow(ctx, &s.browser, &ctx.client, &AuthOpts::default(), true).await
    {
        Ok(f) => f,
        Err(e) => {
            return ctx.not_run(
                &[
                    "introspect.auth",
                    "introspect.active",
                    "revoke.auth",
                    "revoke.works",
                    "revoke.inactive",
                ],
                &e,
            );
        }
    };
    let access = flow.access_token().unwrap_or("").to_string();
    match &introspect {
        None => ctx.not_applicable(
            &["introspect.auth", "introspect.active"],
            "no introspection_endpoint",
        ),
        Some(url) => {
            match ctx
                .post_as(url, &ctx.client, &[("token", &access)], Auth::Nothing)
                .await
            {
                Ok(a) => ctx.verdict(
                    "introspect.auth",
                    a.status == 401
                        || (a.status == 400
                            && a.json.as_ref().and_then(|j| j.get("active")).is_none()),
                    format!("refused (HTTP {})", a.status),
                    "answered a caller that did not authenticate",
                    Some(a.evidence),
                ),
                Err(e) => ctx.record("introspect.auth", Verdict::CouldNotRun, e, None),
            }
            match ctx.post_as(url, &ctx.client, &[("token", &access)], Auth::Client).await {
                Ok(a) if a.status == 200 => ctx.verdict(
                    "introspect.active",
                    a.json.as_ref().and_then(|j| j.get("active")) == Some(&serde_json::Value::Bool(true)),
                    "active",
                    "a live access token is reported inactive",
                    Some(a.evidence),
                ),
                Ok(a) => ctx.record(
                    "introspect.active",
                    Verdict::Warning,
                    format!("HTTP {}: the client may not introspect (some providers allow only resource servers)", a.status),
                    Some(a.evidence),
                ),
                Err(e) => ctx.record("introspect.active", Verdict::CouldNotRun, e, None),
            }
        }
    }
    let Some(revoke) = revoke else {
        return ctx.not_applicable(
            &["revoke.auth", "revoke.works", "revoke.inactive"],
            "no revocation_endpoint",
        );
    };
    match ctx
        .post_as(
            &revoke,
            &ctx.client,
            &[("token", &access), ("token_type_hint", "access_token")],
            Auth::Nothing,
        )
        .await
    {
        Ok(a) if a.status == 200 && ctx.client.secret.is_some() => {
            // It may have revoked the token: judge inactivity on another grant below.
            ctx.record(
                "revoke.auth",
                Verdict::Fail,
                "revoked for a caller that did not authenticate",
                Some(a.evidence),
            )
        }
        Ok(a) if ctx.client.secret.is_none() => ctx.record(
            "revoke.auth",
            Verdict::NotApplicable,
            "a public client authenticates with client_id alone",
            Some(a.evidence),
        ),
        Ok(a) => ctx.record(
            "revoke.auth",
            Verdict::Pass,
            format!("refused (HTTP {})", a.status),
            Some(a.evidence),
        ),
        Err(e) => ctx.record("revoke.auth", Verdict::CouldNotRun, e, None),
    }
    // Revoke an access token, then look for it.
    match flow::code_flow(ctx, &s.browser, &ctx.client, &AuthOpts::default(), true).await {
        Ok(f) => {
            let token = f.access_token().unwrap_or("");
            match ctx
                .post_as(
                    &revoke,
                    &ctx.client,
                    &[("token", token), ("token_type_hint", "access_token")],
                    Auth::Client,
                )
                .await
            {
                Ok(r) if r.status == 200 => {
                    let mut alive = Vec::new();
                    let mut ev = r.evidence.clone();
                    if let Some(url) = &introspect
                        && let Ok(a) = ctx
                            .post_as(url, &ctx.client, &[("token", token)], Auth::Client)
                            .await
                        && a.status == 200
                        && a.json.as_ref().and_then(|j| j.get("active"))
                            != Some(&serde_json::Value::Bool(false))
                    {
                        alive.push("introspection says active");
                        ev = a.evidence;
                    }
                    if let Some(url) = ctx.endpoint("userinfo_endpoint")
                        && let Ok(a) = ctx
                            .send(
                                axum::http::Method::GET,
                                &url,
                                &[("authorization", format!("Bearer {token}"))],
                                &[],
                            )
                            .await
                        && a.status == 200
                    {
                        alive.push("userinfo answers");
                        ev = a.evidence;
                    }
                    ctx.verdict(
                        "revoke.inactive",
                        alive.is_empty(),
                        "inactive everywhere",
                        format!("after revocation: {}", alive.join(", ")),
                        Some(ev),
                    );
                }
                Ok(r) => ctx.record(
                    "revoke.inactive",
                    Verdict::Fail,
                    format!("revocation answered HTTP {}", r.status),
                    Some(r.evidence),
                ),
                Err(e) => ctx.record("revoke.inactive", Verdict::CouldNotRun, e, None),
            }
        }
        Err(e) => ctx.record("revoke.inactive", Verdict::CouldNotRun, e, None),
    }
    // Revoke a refresh token, then use it.
    match offline(ctx, s).await {
        Ok(f) => match f.refresh_token() {
            None => ctx.record(
                "revoke.works",
                Verdict::NotApplicable,
                "no refresh token issued",
                None,
            ),
            Some(rt) => match ctx
                .post_as(
                    &revoke,
                    &ctx.client,
                    &[("token", rt), ("token_type_hint", "refresh_token")],
                    Auth::Client,
                )
                .await
            {
                Ok(r) if r.status == 200 => match refresh(ctx, &ctx.client, rt).await {
                    Ok(a) => ctx.verdict(
                        "revoke.works",
                        a.status >= 400,
                        "revoked: the refresh token is refused",
                        "the revoked refresh token still works",
                        Some(a.evidence),
                    ),
                    Err(e) => ctx.record("revoke.works", Verdict::CouldNotRun, e, None),
                },
                Ok(r) => ctx.record(
                    "revoke.works",
                    Verdict::Fail,
                    format!("revocation answered HTTP {}", r.status),
                    Some(r.evidence),
                ),
                Err(e) => ctx.record("revoke.works", Verdict::CouldNotRun, e, None),
            },
        },
        Err(e) => ctx.record("revoke.works", Verdict::CouldNotRun, e, None),
    }
}

/// Client authentication as clients send it.
pub async fn hazards(ctx: &Ctx, s: &Session) {
    let needs_encoding = |t: &str| {
        t.bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || b"-._*".contains(&b)))
    };
    let secret = ctx.client.secret.as_ref().map(|s| s.expose().to_string());
    match &secret {
        None => ctx.not_applicable(
            &["hazard.basic-encoding", "hazard.post-auth"],
            "the client is public",
        ),
        Some(secret) => {
            if needs_encoding(&ctx.client.id) || needs_encoding(secret) {
                // The first login already used form-encoded Basic credentials.
                ctx.verdict(
                    "hazard.basic-encoding",
                    s.flow.tokens.status == 200,
                    "form-encoded Basic credentials accepted",
                    "refused",
                    Some(s.flow.tokens.evidence.clone()),
                );
            } else {
                ctx.record(
                    "hazard.basic-encoding",
                    Verdict::NotApplicable,
                    "the client's id and secret have no character that needs encoding (use such a client to test it)",
                    None,
                );
            }
            let methods = ctx.meta_list("token_endpoint_auth_methods_supported");
            if !methods.iter().any(|m| m == "client_secret_post") {
                ctx.record(
                    "hazard.post-auth",
                    Verdict::NotApplicable,
                    "client_secret_post is not advertised",
                    None,
                );
                return;
            }
            let pending = flow::request(ctx, &ctx.client, &AuthOpts::default());
            let result = match pending {
                Ok(p) => match flow::authorize(ctx, &s.browser, &p, true).await {
                    Ok(a) => match a.get("code") {
                        Some(code) => {
                            flow::redeem(
                                ctx,
                                &ctx.client,
                                code,
                                &p.redirect,
                                p.verifier.as_deref(),
                                Auth::Post,
                            )
                            .await
                        }
                        None => Err("no code".into()),
                    },
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            match result {
                Ok(a) if a.status == 200 => ctx.record("hazard.post-auth", Verdict::Pass, "accepted", Some(a.evidence)),
                // A provider may hold each client to its registered method.
                Ok(a) => ctx.record(
                    "hazard.post-auth",
                    Verdict::NotApplicable,
                    "advertised, but this client is held to another method (use a client_secret_post client to test it)",
                    Some(a.evidence),
                ),
                Err(e) => ctx.record("hazard.post-auth", Verdict::CouldNotRun, e, None),
            }
        }
    }
}
