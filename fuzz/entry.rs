// The entry points of the fuzz targets, shared with the stable regression replay
// (`tests/tests/fuzz_regressions.rs` includes this file): each takes arbitrary bytes and must
// return, whatever they are, without a panic, a hang or unbounded memory.

#[allow(dead_code)]
pub mod entry {
    use oidc_rp::id_token::{self, IdTokenRules, NonceCheck};
    use oidc_rp::jwt::KeySource;
    use oidc_rp::keys::{JwksCache, JwksPolicy, KeySet};
    use oidc_rp::logout::{LogoutTokenRules, ReplayCache, validate_logout_token};
    use oidc_rp::{Alg, CallbackParams, HttpClient, HttpConfig, Secret};
    use std::sync::OnceLock;

    const ISSUER: &str = "https://op.example";
    const CLIENT: &str = "client";
    const SECRET: &str = "fuzzing-client-secret-0123456789abcdef";
    const ALGS: &[Alg] = &[Alg::RS256, Alg::ES256, Alg::EdDSA, Alg::HS256, Alg::PS256];

    /// A fixed key set: the fixture RSA key's public half and a fixed P-256 key.
    const JWKS: &str = r#"{"keys":[
      {"kty":"EC","crv":"P-256","kid":"ec","x":"VQ4tbWgU2fNsIHz8lVq3qBtnreULtSHnH1HhfanPQS8","y":"lTD6NnNHJieZtTBGyk8NXP9W6k6DsjSJEJvoZOKPYhg"},
      {"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    ]}"#;

    struct Fixed {
        jwks: JwksCache,
        http: HttpClient,
        runtime: tokio::runtime::Runtime,
    }

    fn fixed() -> &'static Fixed {
        static FIXED: OnceLock<Fixed> = OnceLock::new();
        FIXED.get_or_init(|| {
            let jwks = JwksCache::new(
                url::Url::parse("https://op.example/jwks").expect("a URL"),
                JwksPolicy::default(),
            );
            jwks.preload(KeySet::from_json(JWKS.as_bytes()).expect("the fixed JWKS"));
            Fixed {
                jwks,
                http: HttpClient::new(HttpConfig::default()),
                runtime: tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime"),
            }
        })
    }

    /// Full ID token validation (JWS parsing, algorithm, key, signature, every claim rule).
    pub fn id_token(data: &[u8]) {
        let Ok(raw) = std::str::from_utf8(data) else {
            return;
        };
        let f = fixed();
        let secret = Secret::new(SECRET);
        let rules = IdTokenRules {
            client_secret: Some(&secret),
            max_age: Some(300),
            access_token: Some("token"),
            code: Some("code"),
            ..IdTokenRules::new(ISSUER, CLIENT, ALGS, NonceCheck::Equals("nonce"))
        };
        let keys = KeySource {
            jwks: &f.jwks,
            http: &f.http,
        };
        let _ = f
            .runtime
            .block_on(id_token::validate(raw, &rules, keys, "ID token"));
    }

    /// Back-channel logout token validation.
    pub fn logout_token(data: &[u8]) {
        let Ok(raw) = std::str::from_utf8(data) else {
            return;
        };
        let f = fixed();
        let secret = Secret::new(SECRET);
        let rules = LogoutTokenRules {
            client_secret: Some(&secret),
            ..LogoutTokenRules::new(ISSUER, CLIENT, ALGS)
        };
        let replay = ReplayCache::new(16);
        let keys = KeySource {
            jwks: &f.jwks,
            http: &f.http,
        };
        let _ = f
            .runtime
            .block_on(validate_logout_token(raw, &rules, keys, &replay));
    }

    /// A JWKS document.
    pub fn jwks(data: &[u8]) {
        if let Ok(set) = KeySet::from_json(data) {
            for alg in ALGS {
                let _ = set.select(*alg, None);
                let _ = set.select(*alg, Some("ec"));
            }
        }
    }

    /// An authorization response: a query or form body, and a whole redirect URL.
    pub fn callback(data: &[u8]) {
        let _ = CallbackParams::parse(data);
        if let Ok(text) = std::str::from_utf8(data)
            && let Ok(url) = url::Url::parse(text)
        {
            let _ = CallbackParams::from_redirect_url(&url);
        }
    }

    /// Token, introspection-like and userinfo-like JSON responses.
    pub fn token_response(data: &[u8]) {
        let _ = serde_json::from_slice::<oidc_rp::TokenResponse>(data);
    }

    /// A third-party login initiation and a response type.
    pub fn initiation(data: &[u8]) {
        let policy = oidc_rp::initiate::InitiationPolicy {
            issuers: vec![ISSUER.into()],
            target_origins: vec!["https://app.example".into()],
        };
        let _ = oidc_rp::initiate::InitiatedLogin::parse(data, &policy);
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = oidc_rp::ResponseType::parse(text);
            let _ = rp_provider::response_type::ResponseKinds::parse(text);
        }
    }

    /// The bundled provider's parameter parsing (authorization query, token form).
    pub fn provider_params(data: &[u8]) {
        let _ = rp_provider::params::parse_params(data);
    }

    /// The flags byte of the targets that take one: bit 0, 1 and 2 pick a variant.
    fn split(data: &[u8]) -> (u8, &[u8]) {
        match data.split_first() {
            Some((flags, rest)) => (*flags, rest),
            None => (0, data),
        }
    }

    /// A discovery document (OpenID or RFC 8414), then the relying party built on it.
    pub fn discovery(data: &[u8]) {
        let (flags, body) = split(data);
        let content_type = if flags & 2 == 0 {
            "application/json"
        } else {
            "text/html"
        };
        let Ok(meta) =
            oidc_rp::fuzzing::discovery_document(content_type, body, ISSUER, flags & 1 == 1)
        else {
            return;
        };
        let f = fixed();
        let _ = oidc_rp::RelyingParty::new(
            f.http.clone(),
            std::sync::Arc::new(meta),
            oidc_rp::ClientConfig::confidential(CLIENT, SECRET),
        );
    }

    /// A userinfo response: JSON or a signed JWT (by content type), with or without a
    /// registered signing algorithm.
    pub fn userinfo(data: &[u8]) {
        let (flags, body) = split(data);
        let content_type = if flags & 1 == 0 {
            "application/json"
        } else {
            "application/jwt"
        };
        let signed_alg = (flags & 2 == 2).then_some(Alg::HS256);
        let f = fixed();
        let secret = Secret::new(SECRET);
        let keys = KeySource {
            jwks: &f.jwks,
            http: &f.http,
        };
        let _ = f.runtime.block_on(oidc_rp::fuzzing::userinfo_response(
            content_type,
            body,
            ISSUER,
            CLIENT,
            (flags & 4 == 0).then_some("sub"),
            signed_alg,
            Some(&secret),
            keys,
        ));
    }

    /// An introspection response: JSON (RFC 7662) and signed (RFC 9701).
    pub fn introspection(data: &[u8]) {
        let _ = serde_json::from_slice::<oidc_rp::IntrospectionResponse>(data);
        let f = fixed();
        let secret = Secret::new(SECRET);
        let keys = KeySource {
            jwks: &f.jwks,
            http: &f.http,
        };
        let _ = f
            .runtime
            .block_on(oidc_rp::fuzzing::introspection_jwt_response(
                "application/token-introspection+jwt",
                data,
                ISSUER,
                CLIENT,
                ALGS,
                Some(&secret),
                keys,
            ));
    }

    /// The headless driver's reading of an arbitrary page: forms, buttons, frames, messages.
    pub fn headless_page(data: &[u8]) {
        let Ok(body) = std::str::from_utf8(data) else {
            return;
        };
        let page = url::Url::parse("http://127.0.0.1:9/authorize").expect("a fixed URL");
        let _ = oidc_rp_headless::fuzz_page(&page, body);
    }

    /// The CLI's files: a cached profile, a cookie jar, the configuration file.
    pub fn cache_file(data: &[u8]) {
        if let Ok(profile) = rp_cli::cache::parse_profile(data, "default") {
            let _ = profile.tokens.access();
            let _ = serde_json::to_vec(&profile);
        }
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = oidc_rp_headless::CookieJar::from_json(text);
            let _ = rp_cli::config::parse(text);
        }
    }

    struct Provider {
        op: std::sync::Arc<rp_provider::op::Op>,
        runtime: tokio::runtime::Runtime,
    }

    fn provider() -> &'static Provider {
        static PROVIDER: OnceLock<Provider> = OnceLock::new();
        PROVIDER.get_or_init(|| Provider {
            op: std::sync::Arc::new(
                rp_provider::op::Op::new(
                    "http://127.0.0.1:1",
                    &rp_provider::fixtures::Fixtures::embedded(),
                )
                .expect("the embedded provider"),
            ),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime"),
        })
    }

    /// The bundled provider's dynamic registration (RFC 7591) of an arbitrary body.
    pub fn provider_registration(data: &[u8]) {
        let p = provider();
        let _ = p.runtime.block_on(rp_provider::registration::register(
            axum::extract::State(p.op.clone()),
            axum::body::Bytes::copy_from_slice(data),
        ));
    }

    /// The bundled provider's request object verification (RFC 9101), for a client that
    /// registered a signing algorithm and for one that must sign (pushed requests).
    pub fn provider_request_object(data: &[u8]) {
        let Ok(jwt) = std::str::from_utf8(data) else {
            return;
        };
        use rp_provider::request_object::{Signing, verify};
        let p = provider();
        for (client, signing) in [
            ("rp-jar", Signing::AsRegistered),
            ("rp-fapi", Signing::Signed),
            ("rp-demo", Signing::Exactly("none")),
        ] {
            if let Some(c) = p.op.client(client) {
                let _ = verify(&p.op, &c, jwt, signing);
            }
        }
    }

    /// Every entry point, by target name (for the regression replay).
    pub fn by_name(name: &str) -> Option<fn(&[u8])> {
        Some(match name {
            "id_token" => id_token,
            "logout_token" => logout_token,
            "jwks" => jwks,
            "callback" => callback,
            "token_response" => token_response,
            "initiation" => initiation,
            "provider_params" => provider_params,
            "discovery" => discovery,
            "userinfo" => userinfo,
            "introspection" => introspection,
            "headless_page" => headless_page,
            "cache_file" => cache_file,
            "provider_registration" => provider_registration,
            "provider_request_object" => provider_request_object,
            _ => return None,
        })
    }
}
