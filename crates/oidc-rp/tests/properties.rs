//! Property tests (proptest): values survive the authorization URL and the callback parsing
//! unchanged, with nothing injected; base64url round trips.
#![allow(clippy::unwrap_used)]

use oidc_rp::{
    AuthorizationRequest, CallbackParams, ClientConfig, HttpClient, HttpConfig, RelyingParty,
};
use proptest::prelude::*;

fn rp() -> RelyingParty {
    let metadata: oidc_rp::discovery::ProviderMetadata =
        serde_json::from_value(serde_json::json!({
            "issuer": "https://op.example",
            "authorization_endpoint": "https://op.example/authorize?tenant=a",
            "token_endpoint": "https://op.example/token",
            "jwks_uri": "https://op.example/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }))
        .unwrap();
    RelyingParty::new(
        HttpClient::new(HttpConfig::default()),
        std::sync::Arc::new(metadata),
        ClientConfig::confidential("client", "secret"),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any login_hint, acr value and extra parameter value comes back from the URL's query
    /// exactly, once, and no parameter appears that was not sent (no `&`/`=`/`#` injection).
    #[test]
    fn authorization_parameters_survive_the_url(
        hint in any::<String>(),
        acr in "[^ ]{1,40}",
        extra in any::<String>(),
    ) {
        let rp = rp();
        let request = AuthorizationRequest {
            login_hint: Some(hint.clone()),
            acr_values: vec![acr.clone()],
            extra: vec![("x_extra".into(), extra.clone())],
            ..AuthorizationRequest::with_scopes(["openid"])
        };
        let (url, _) = rp.authorization_url(&request, "http://127.0.0.1:9/cb").unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |k: &str| pairs.iter().filter(|(n, _)| n == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
        prop_assert_eq!(get("login_hint"), vec![hint]);
        prop_assert_eq!(get("acr_values"), vec![acr]);
        prop_assert_eq!(get("x_extra"), vec![extra]);
        prop_assert_eq!(get("tenant"), vec!["a".to_string()]);
        let names: std::collections::BTreeSet<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
        let expected: std::collections::BTreeSet<&str> = [
            "tenant", "response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
            "code_challenge", "code_challenge_method", "login_hint", "acr_values", "x_extra",
        ].into_iter().collect();
        prop_assert_eq!(names, expected);
        prop_assert_eq!(pairs.len(), 12);
        prop_assert!(url.fragment().is_none());
    }

    /// Whatever a callback's values are, form encoding then parsing gives them back.
    #[test]
    fn callback_values_survive_parsing(
        code in any::<String>(),
        state in any::<String>(),
        iss in any::<String>(),
        description in any::<String>(),
    ) {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", &code)
            .append_pair("state", &state)
            .append_pair("iss", &iss)
            .append_pair("error_description", &description)
            .finish();
        let p = CallbackParams::parse(form.as_bytes()).unwrap();
        let got = p.code.unwrap();
        prop_assert_eq!(got.expose(), code.as_str());
        prop_assert_eq!(p.state.unwrap(), state);
        prop_assert_eq!(p.iss.unwrap(), iss);
        prop_assert_eq!(p.error_description.unwrap(), description);
    }

    /// base64url without padding round-trips any bytes, and never produces `+`, `/` or `=`.
    #[test]
    fn base64url_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = rp_jose::b64::encode(&bytes);
        prop_assert!(!text.contains(['+', '/', '=']));
        prop_assert_eq!(rp_jose::b64::decode(&text).unwrap(), bytes);
    }
}
