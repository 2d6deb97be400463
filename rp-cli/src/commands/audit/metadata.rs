//! Discovery and keys: the document as served, and the key set it names.

use super::driver::{Ctx, Evidence, Verdict};
use serde_json::Value;
use url::Url;

/// Endpoint members whose URLs must be https.
const ENDPOINTS: &[&str] = &[
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "registration_endpoint",
    "end_session_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
    "pushed_authorization_request_endpoint",
    "device_authorization_endpoint",
    "check_session_iframe",
];

/// Fetch and judge the discovery document; fills `ctx.meta`. `false`: nothing else can run.
pub async fn discovery(ctx: &mut Ctx) -> bool {
    let Ok(issuer) = Url::parse(&ctx.issuer) else {
        ctx.record("meta.fetch", Verdict::Fail, "the issuer is not a URL", None);
        return false;
    };
    let (url, _) = oidc_rp::discovery::metadata_urls(&issuer);
    let answer = match ctx.send(axum::http::Method::GET, &url, &[], &[]).await {
        Ok(a) => a,
        Err(e) => {
            ctx.record(
                "meta.fetch",
                Verdict::Fail,
                format!("the request failed: {e}"),
                None,
            );
            return false;
        }
    };
    let ev = Some(answer.evidence.clone());
    let Some(Value::Object(doc)) = answer.json.clone().filter(|_| answer.status == 200) else {
        ctx.record(
            "meta.fetch",
            Verdict::Fail,
            "no JSON object was served there",
            ev,
        );
        return false;
    };
    let json_type = matches!(answer.media_type().as_str(), "application/json");
    ctx.record(
        "meta.fetch",
        Verdict::Pass,
        "served, a JSON object",
        ev.clone(),
    );
    ctx.meta = doc;
    let cache = answer.header("cache-control").is_some() || answer.header("expires").is_some();
    match (json_type, cache) {
        (true, true) => ctx.record(
            "meta.cache",
            Verdict::Pass,
            "application/json, with caching headers",
            ev.clone(),
        ),
        (false, _) => ctx.record(
            "meta.cache",
            Verdict::Fail,
            format!("served as `{}`, not application/json", answer.media_type()),
            ev.clone(),
        ),
        (true, false) => ctx.record(
            "meta.cache",
            Verdict::Warning,
            "no Cache-Control or Expires: clients cannot tell how long to keep it",
            ev.clone(),
        ),
    }
    let found = ctx.meta_str("issuer").unwrap_or("").to_string();
    ctx.verdict(
        "meta.issuer",
        found == ctx.issuer,
        "exactly the issuer",
        format!(
            "issuer is `{}`, not `{}`; clients must refuse the document",
            crate::output::one_line(&found, 100),
            ctx.issuer
        ),
        ev.clone(),
    );
    let required = [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ];
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|m| !ctx.meta.contains_key(*m))
        .collect();
    ctx.verdict(
        "meta.required",
        missing.is_empty(),
        "all present",
        format!("missing: {}", missing.join(", ")),
        ev.clone(),
    );
    let insecure: Vec<String> = ENDPOINTS
        .iter()
        .filter_map(|m| {
            let u = Url::parse(ctx.meta_str(m)?).ok()?;
            (u.scheme() != "https" && !oidc_rp::http::is_loopback(&u))
                .then(|| format!("{m} = {}", crate::output::one_line(u.as_str(), 80)))
        })
        .collect();
    ctx.verdict(
        "meta.https",
        insecure.is_empty(),
        "every endpoint is https (or loopback)",
        format!("not https: {}", insecure.join(", ")),
        ev.clone(),
    );
    let algs = ctx.meta_list("id_token_signing_alg_values_supported");
    ctx.verdict(
        "meta.rs256",
        algs.iter().any(|a| a == "RS256"),
        "RS256 advertised",
        format!("advertised: {}", algs.join(", ")),
        ev.clone(),
    );
    let types = ctx.meta_list("response_types_supported");
    ctx.verdict(
        "meta.code",
        types.iter().any(|t| t == "code"),
        "code supported",
        format!("response types: {}", types.join(", ")),
        ev.clone(),
    );
    let methods = ctx.meta_list("code_challenge_methods_supported");
    if methods.iter().any(|m| m == "S256") {
        ctx.record(
            "meta.pkce",
            Verdict::Pass,
            format!("advertised: {}", methods.join(", ")),
            ev.clone(),
        );
    } else if methods.is_empty() {
        ctx.record("meta.pkce", Verdict::Warning, "code_challenge_methods_supported is absent: clients cannot tell whether PKCE is supported", ev.clone());
    } else {
        ctx.record(
            "meta.pkce",
            Verdict::Fail,
            format!("S256 is not among {}", methods.join(", ")),
            ev.clone(),
        );
    }
    let iss = ctx.iss_advertised();
    ctx.record(
        "meta.iss-parameter",
        if iss { Verdict::Pass } else { Verdict::Warning },
        if iss {
            "advertised"
        } else {
            "not advertised: clients talking to several providers cannot detect mix-up attacks"
        },
        ev.clone(),
    );
    let scopes = ctx.meta_list("scopes_supported");
    if scopes.is_empty() {
        ctx.record(
            "meta.scopes",
            Verdict::Warning,
            "scopes_supported is absent",
            ev.clone(),
        );
    } else {
        ctx.verdict(
            "meta.scopes",
            scopes.iter().any(|s| s == "openid"),
            "openid listed",
            format!("openid is not among {}", scopes.join(", ")),
            ev,
        );
    }
    ctx.keys();
    true
}

/// Fetch and judge the key set.
pub async fn jwks(ctx: &Ctx) {
    let ids = [
        "jwks.fetch",
        "jwks.public-only",
        "jwks.rsa-size",
        "jwks.unique-kid",
        "jwks.use-alg",
        "jwks.key-for-alg",
    ];
    let Some(url) = ctx.endpoint("jwks_uri") else {
        ctx.not_run(&ids, "the metadata has no usable jwks_uri");
        return;
    };
    let answer = match ctx.send(axum::http::Method::GET, &url, &[], &[]).await {
        Ok(a) => a,
        Err(e) => {
            ctx.record(
                "jwks.fetch",
                Verdict::Fail,
                format!("the request failed: {e}"),
                None,
            );
            return;
        }
    };
    let ev = Some(Evidence {
        sent: answer.evidence.sent.clone(),
        received: format!("HTTP {} {}", answer.status, answer.media_type()),
    });
    let keys: Vec<serde_json::Map<String, Value>> = answer
        .json
        .as_ref()
        .and_then(|v| v.get("keys"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|k| k.as_object().cloned()).collect())
        .unwrap_or_default();
    if answer.status != 200 || keys.is_empty() {
        ctx.record(
            "jwks.fetch",
            Verdict::Fail,
            "no JSON key set with keys",
            Some(answer.evidence),
        );
        return;
    }
    ctx.record(
        "jwks.fetch",
        Verdict::Pass,
        format!("{} key(s)", keys.len()),
        ev.clone(),
    );
    let s = |k: &serde_json::Map<String, Value>, m: &str| {
        k.get(m).and_then(Value::as_str).unwrap_or("").to_string()
    };
    let private: Vec<String> = keys
        .iter()
        .filter(|k| {
            ["d", "p", "q", "dp", "dq", "qi", "k"]
                .iter()
                .any(|m| k.contains_key(*m))
        })
        .map(|k| s(k, "kid"))
        .collect();
    ctx.verdict(
        "jwks.public-only",
        private.is_empty(),
        "public members only",
        format!("private key members published (kid {})", private.join(", ")),
        ev.clone(),
    );
    let weak: Vec<String> = keys
        .iter()
        .filter(|k| s(k, "kty") == "RSA")
        .filter_map(|k| {
            let n = rp_jose::b64::decode(&s(k, "n")).ok()?;
            let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
            (bits < 2048).then(|| format!("{} ({bits} bits)", s(k, "kid")))
        })
        .collect();
    ctx.verdict(
        "jwks.rsa-size",
        weak.is_empty(),
        "no RSA key under 2048 bits",
        format!("weak RSA keys: {}", weak.join(", ")),
        ev.clone(),
    );
    let mut kids: Vec<String> = keys
        .iter()
        .map(|k| s(k, "kid"))
        .filter(|k| !k.is_empty())
        .collect();
    let with_kid = kids.len();
    kids.sort();
    kids.dedup();
    if with_kid < keys.len() && keys.len() > 1 {
        ctx.record(
            "jwks.unique-kid",
            Verdict::Warning,
            "several keys, not all with a kid: clients must guess",
            ev.clone(),
        );
    } else {
        ctx.verdict(
            "jwks.unique-kid",
            kids.len() == with_kid,
            "each kid names one key",
            "two keys share a kid",
            ev.clone(),
        );
    }
    let inconsistent: Vec<String> = keys
        .iter()
        .filter(|k| {
            let (kty, alg, usage) = (s(k, "kty"), s(k, "alg"), s(k, "use"));
            let alg_ok = alg.is_empty()
                || match kty.as_str() {
                    "RSA" => {
                        alg.starts_with("RS") || alg.starts_with("PS") || alg.starts_with("RSA")
                    }
                    "EC" => alg.starts_with("ES") || alg.starts_with("ECDH"),
                    "OKP" => alg == "EdDSA" || alg.starts_with("ECDH"),
                    _ => true,
                };
            let use_ok = usage.is_empty() || usage == "sig" || usage == "enc";
            !(alg_ok && use_ok)
        })
        .map(|k| {
            format!(
                "{} ({} {} {})",
                s(k, "kid"),
                s(k, "kty"),
                s(k, "alg"),
                s(k, "use")
            )
        })
        .collect();
    ctx.verdict(
        "jwks.use-alg",
        inconsistent.is_empty(),
        "use and alg agree with each key's type",
        format!("inconsistent keys: {}", inconsistent.join(", ")),
        ev.clone(),
    );
    let lacking: Vec<String> = ctx
        .meta_list("id_token_signing_alg_values_supported")
        .into_iter()
        .filter(|alg| {
            let kty = match alg.get(..2) {
                Some("RS") | Some("PS") => "RSA",
                Some("ES") => "EC",
                _ if alg == "EdDSA" => "OKP",
                _ => return false,
            };
            !keys
                .iter()
                .any(|k| s(k, "kty") == kty && s(k, "use") != "enc")
        })
        .collect();
    ctx.verdict(
        "jwks.key-for-alg",
        lacking.is_empty(),
        "a key for every advertised algorithm",
        format!("no signing key for {}", lacking.join(", ")),
        ev,
    );
}
