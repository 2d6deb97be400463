//! The plans and their tests: the OpenID Foundation's RP certification plans (current suite
//! ids, old Python ids beside them), what our bundled provider does in each, and what a
//! conforming RP must answer. Source: `shared/reference/rp-conformance.md`.

use oidc_rp::CheckId;

/// A test plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plan {
    /// oidcc-client-basic-certification-test-plan.
    Basic,
    /// oidcc-client-config-certification-test-plan.
    Config,
    /// oidcc-client-dynamic-certification-test-plan.
    Dynamic,
    /// oidcc-client-formpost-basic-certification-test-plan.
    FormPostBasic,
    /// oidcc-client-rp-initiated-logout-rp-basic.
    RpInitiatedLogout,
    /// oidcc-client-front-channel-logout-rp-basic.
    FrontChannelLogout,
    /// oidcc-client-back-channel-logout-rp-basic.
    BackChannelLogout,
    /// oidcc-client-refreshtoken-test-plan.
    RefreshToken,
    /// Section 8's X2–X7 and X12–X15.
    Extra,
}

impl Plan {
    /// Every plan, in order.
    pub const ALL: [Plan; 9] = [
        Plan::Basic,
        Plan::Config,
        Plan::Dynamic,
        Plan::FormPostBasic,
        Plan::RpInitiatedLogout,
        Plan::FrontChannelLogout,
        Plan::BackChannelLogout,
        Plan::RefreshToken,
        Plan::Extra,
    ];

    /// The name used on the command line (and as the instance alias).
    pub fn name(self) -> &'static str {
        match self {
            Plan::Basic => "basic",
            Plan::Config => "config",
            Plan::Dynamic => "dynamic",
            Plan::FormPostBasic => "form-post-basic",
            Plan::RpInitiatedLogout => "rp-initiated-logout",
            Plan::FrontChannelLogout => "front-channel-logout",
            Plan::BackChannelLogout => "back-channel-logout",
            Plan::RefreshToken => "refresh-token",
            Plan::Extra => "extra",
        }
    }

    /// Parse a name.
    pub fn parse(name: &str) -> Option<Plan> {
        Plan::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// What the RP must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Complete the flow.
    Accept,
    /// Refuse, on this check.
    Reject(CheckId),
}

/// Which steps a test takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Discovery, login, ID token, userinfo.
    Login,
    /// Two logins (key rotation between them).
    LoginTwice,
    /// Login with offline_access, refresh, userinfo with the new token.
    Refresh,
    /// Login, then RP-initiated logout and the post-logout redirect.
    RpLogout,
    /// Login, logout, the front-channel iframe request.
    FrontLogout,
    /// Login, logout, the back-channel logout token.
    BackLogout,
}

/// Client and request settings of a test.
#[derive(Debug, Clone, Copy, Default)]
pub struct Knobs {
    /// Register the client dynamically (always in the dynamic plan).
    pub register: bool,
    /// `id_token_signed_response_alg`.
    pub client_alg: Option<&'static str>,
    /// `token_endpoint_auth_method`.
    pub auth: Option<&'static str>,
    /// `userinfo_signed_response_alg`.
    pub userinfo_alg: Option<&'static str>,
    /// Send the userinfo token in a form body.
    pub userinfo_body: bool,
    /// Send a request object by reference, signed with this alg.
    pub request_uri: Option<&'static str>,
    /// Ask for `name` with the `claims` parameter, in `id_token` or `userinfo`.
    pub claims: Option<&'static str>,
    /// Find the issuer with WebFinger: `acct` or `url`.
    pub webfinger: Option<&'static str>,
    /// The provider must have served the JWKS (at its random path) before userinfo.
    pub check_jwks_fetch: bool,
}

/// One test.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Current suite id (and the provider instance's path).
    pub id: &'static str,
    /// Old Python tool id.
    pub old: &'static str,
    /// The plans it belongs to.
    pub plans: &'static [Plan],
    /// The expected answer.
    pub expect: Expect,
    /// The steps.
    pub flow: Flow,
    /// Settings.
    pub knobs: Knobs,
    /// For tests where the suite allows either answer: which one we give, and why.
    pub note: &'static str,
}

const BASIC: &[Plan] = &[Plan::Basic, Plan::FormPostBasic];
const BASIC_CONFIG_DYNAMIC: &[Plan] = &[
    Plan::Basic,
    Plan::FormPostBasic,
    Plan::Config,
    Plan::Dynamic,
];
const CONFIG_DYNAMIC: &[Plan] = &[Plan::Config, Plan::Dynamic];
const REFRESH_EXTRA: &[Plan] = &[Plan::RefreshToken, Plan::Extra];

const fn case(id: &'static str, old: &'static str, plans: &'static [Plan], expect: Expect) -> Case {
    Case {
        id,
        old,
        plans,
        expect,
        flow: Flow::Login,
        knobs: Knobs {
            register: false,
            client_alg: None,
            auth: None,
            userinfo_alg: None,
            userinfo_body: false,
            request_uri: None,
            claims: None,
            webfinger: None,
            check_jwks_fetch: false,
        },
        note: "",
    }
}

const NONE_NOTE: &str = "either answer passes; the client registered id_token_signed_response_alg=none, the only way rp accepts an unsigned ID token, and only in the code flow from the token endpoint";

/// Every test of every plan.
pub fn catalogue() -> Vec<Case> {
    use Expect::{Accept, Reject};
    let mut all = vec![
        case("oidcc-client-test", "rp-response_type-code", BASIC, Accept),
        case(
            "oidcc-client-test-invalid-iss",
            "rp-id_token-issuer-mismatch",
            BASIC,
            Reject(CheckId::Issuer),
        ),
        case(
            "oidcc-client-test-missing-sub",
            "rp-id_token-sub",
            BASIC,
            Reject(CheckId::Subject),
        ),
        case(
            "oidcc-client-test-invalid-aud",
            "rp-id_token-aud",
            BASIC,
            Reject(CheckId::Audience),
        ),
        case(
            "oidcc-client-test-missing-iat",
            "rp-id_token-iat",
            BASIC,
            Reject(CheckId::IssuedAt),
        ),
        case(
            "oidcc-client-test-kid-absent-single-jwks",
            "rp-id_token-kid-absent-single-jwks",
            BASIC,
            Accept,
        ),
        Case {
            note: "either answer passes; rp refuses to guess among several keys of the token's type when the token names none",
            ..case(
                "oidcc-client-test-kid-absent-multiple-jwks",
                "rp-id_token-kid-absent-multiple-jwks",
                BASIC,
                Reject(CheckId::Key),
            )
        },
        Case {
            knobs: Knobs {
                client_alg: Some("RS256"),
                ..Knobs::default()
            },
            ..case(
                "oidcc-client-test-idtoken-sig-rs256",
                "rp-id_token-sig-rs256",
                BASIC,
                Accept,
            )
        },
        Case {
            knobs: Knobs {
                client_alg: Some("none"),
                ..Knobs::default()
            },
            note: NONE_NOTE,
            ..case(
                "oidcc-client-test-idtoken-sig-none",
                "rp-id_token-sig-none",
                BASIC_CONFIG_DYNAMIC,
                Accept,
            )
        },
        Case {
            knobs: Knobs {
                client_alg: Some("RS256"),
                ..Knobs::default()
            },
            ..case(
                "oidcc-client-test-invalid-sig-rs256",
                "rp-id_token-bad-sig-rs256",
                BASIC,
                Reject(CheckId::Signature),
            )
        },
        case(
            "oidcc-client-test-userinfo-invalid-sub",
            "rp-userinfo-bad-sub-claim",
            BASIC,
            Reject(CheckId::UserinfoSub),
        ),
        case(
            "oidcc-client-test-nonce-invalid",
            "rp-nonce-invalid",
            BASIC,
            Reject(CheckId::Nonce),
        ),
        case(
            "oidcc-client-test-scope-userinfo-claims",
            "rp-scope-userinfo-claims",
            BASIC,
            Accept,
        ),
        Case {
            knobs: Knobs {
                auth: Some("client_secret_basic"),
                ..Knobs::default()
            },
            ..case(
                "oidcc-client-test-client-secret-basic",
                "rp-token_endpoint-client_secret_basic",
                BASIC,
                Accept,
            )
        },
        // Config (and dynamic).
        case(
            "oidcc-client-test-discovery-openid-config",
            "rp-discovery-openid-configuration",
            CONFIG_DYNAMIC,
            Accept,
        ),
        Case {
            knobs: Knobs {
                check_jwks_fetch: true,
                ..Knobs::default()
            },
            ..case(
                "oidcc-client-test-discovery-jwks-uri-keys",
                "rp-discovery-jwks_uri-keys",
                CONFIG_DYNAMIC,
                Accept,
            )
        },
        case(
            "oidcc-client-test-discovery-issuer-mismatch",
            "rp-discovery-issuer-not-matching-config",
            CONFIG_DYNAMIC,
            Reject(CheckId::DiscoveryIssuer),
        ),
        case(
            "oidcc-client-test-signing-key-rotation-just-before-signing",
            "rp-key-rotation-op-sign-key-native",
            CONFIG_DYNAMIC,
            Accept,
        ),
        Case {
            flow: Flow::LoginTwice,
            ..case(
                "oidcc-client-test-signing-key-rotation",
                "rp-key-rotation-op-sign-key",
                CONFIG_DYNAMIC,
                Accept,
            )
        },
        // Dynamic only.
        Case {
            knobs: Knobs {
                webfinger: Some("acct"),
                ..Knobs::default()
            },
            ..case(
                "oidcc-client-test-discovery-webfinger-acct",
                "rp-discovery-webfinger-acct",
                &[Plan::Dynamic],
                Accept,
            )
        },
        Case {
            knobs: Knobs {
                webfinger: Some("url"),
                ..Knobs::default()
            },
            ..case(
                "oidcc-client-test-discovery-webfinger-url",
                "rp-discovery-webfinger-url",
                &[Plan::Dynamic],
                Accept,
            )
        },
        case(
            "oidcc-client-test-dynamic-registration",
            "rp-registration-dynamic",
            &[Plan::Dynamic],
            Accept,
        ),
        Case {
            knobs: Knobs {
                request_uri: Some("RS256"),
                ..Knobs::default()
            },
            ..case(
                "oidcc-client-test-request-uri-signed-rs256",
                "rp-request_uri-sig",
                &[Plan::Dynamic],
                Accept,
            )
        },
        Case {
            knobs: Knobs {
                request_uri: Some("none"),
                ..Knobs::default()
            },
            ..case(
                "oidcc-client-test-request-uri-signed-none",
                "rp-request_uri-unsigned",
                &[Plan::Dynamic],
                Accept,
            )
        },
        Case {
            knobs: Knobs {
                userinfo_alg: Some("RS256"),
                ..Knobs::default()
            },
            ..case(
                "oidcc-client-test-userinfo-signed",
                "rp-userinfo-sig",
                &[Plan::Dynamic],
                Accept,
            )
        },
        // RP-initiated, front- and back-channel logout.
        Case {
            flow: Flow::RpLogout,
            ..case(
                "oidcc-client-test-rp-init-logout",
                "rp-init-logout",
                &[Plan::RpInitiatedLogout],
                Accept,
            )
        },
        Case {
            flow: Flow::RpLogout,
            ..case(
                "oidcc-client-test-rp-init-logout-other-state",
                "rp-init-logout-other-state",
                &[Plan::RpInitiatedLogout],
                Reject(CheckId::LogoutState),
            )
        },
        Case {
            flow: Flow::RpLogout,
            ..case(
                "oidcc-client-test-rp-init-logout-no-state",
                "rp-init-logout-no-state",
                &[Plan::RpInitiatedLogout],
                Reject(CheckId::LogoutState),
            )
        },
        Case {
            flow: Flow::FrontLogout,
            ..case(
                "oidcc-client-test-rp-frontchannel-rpinitlogout",
                "rp-frontchannel-rpinitlogout",
                &[Plan::FrontChannelLogout],
                Accept,
            )
        },
        Case {
            flow: Flow::BackLogout,
            ..case(
                "oidcc-client-test-rp-backchannel-rpinitlogout",
                "rp-backchannel-rpinitlogout",
                &[Plan::BackChannelLogout],
                Accept,
            )
        },
        Case {
            flow: Flow::BackLogout,
            ..case(
                "oidcc-client-test-rp-backchannel-rpinitlogout-alg-none",
                "rp-backchannel-rpinitlogout-lt-alg-none",
                &[Plan::BackChannelLogout],
                Reject(CheckId::Algorithm),
            )
        },
        Case {
            flow: Flow::BackLogout,
            ..case(
                "oidcc-client-test-rp-backchannel-rpinitlogout-no-event",
                "rp-backchannel-rpinitlogout-lt-no-event",
                &[Plan::BackChannelLogout],
                Reject(CheckId::Events),
            )
        },
        Case {
            flow: Flow::BackLogout,
            ..case(
                "oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce",
                "rp-backchannel-rpinitlogout-lt-with-nonce",
                &[Plan::BackChannelLogout],
                Reject(CheckId::Nonce),
            )
        },
        Case {
            flow: Flow::BackLogout,
            ..case(
                "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg",
                "rp-backchannel-rpinitlogout-lt-wrong-alg",
                &[Plan::BackChannelLogout],
                Reject(CheckId::Algorithm),
            )
        },
        Case {
            flow: Flow::BackLogout,
            ..case(
                "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud",
                "rp-backchannel-rpinitlogout-lt-wrong-aud",
                &[Plan::BackChannelLogout],
                Reject(CheckId::Audience),
            )
        },
        Case {
            flow: Flow::BackLogout,
            ..case(
                "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event",
                "rp-backchannel-rpinitlogout-lt-wrong-event",
                &[Plan::BackChannelLogout],
                Reject(CheckId::Events),
            )
        },
        Case {
            flow: Flow::BackLogout,
            ..case(
                "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss",
                "rp-backchannel-rpinitlogout-lt-wrong-issuer",
                &[Plan::BackChannelLogout],
                Reject(CheckId::Issuer),
            )
        },
        // Refresh.
        Case {
            flow: Flow::Refresh,
            ..case(
                "oidcc-client-test-refresh-token",
                "(none)",
                &[Plan::RefreshToken],
                Accept,
            )
        },
        Case {
            flow: Flow::Refresh,
            ..case(
                "oidcc-client-test-refresh-token-invalid-issuer",
                "(none)",
                REFRESH_EXTRA,
                Reject(CheckId::Issuer),
            )
        },
        Case {
            flow: Flow::Refresh,
            ..case(
                "oidcc-client-test-refresh-token-invalid-sub",
                "(none)",
                REFRESH_EXTRA,
                Reject(CheckId::RefreshConsistency),
            )
        },
        // Extra: section 8.
        case(
            "oidcc-client-test-missing-aud",
            "(java only)",
            &[Plan::Extra],
            Reject(CheckId::Audience),
        ),
        // Extra: an ID token not valid before an hour from now (RFC 7519 §4.1.5).
        case(
            "rp-id_token-nbf-future",
            "(rp extra)",
            &[Plan::Extra],
            Reject(CheckId::NotBefore),
        ),
        Case {
            knobs: Knobs {
                client_alg: Some("HS256"),
                ..Knobs::default()
            },
            ..case(
                "oidcc-client-test-invalid-sig-hs256",
                "rp-id_token-bad-sig-hs256",
                &[Plan::Extra],
                Reject(CheckId::Signature),
            )
        },
        Case {
            knobs: Knobs {
                client_alg: Some("ES256"),
                ..Knobs::default()
            },
            ..case(
                "oidcc-client-test-invalid-sig-es256",
                "rp-id_token-bad-sig-es256",
                &[Plan::Extra],
                Reject(CheckId::Signature),
            )
        },
        Case {
            knobs: Knobs {
                client_alg: Some("HS256"),
                ..Knobs::default()
            },
            ..case(
                "rp-id_token-sig-hs256",
                "rp-id_token-sig-hs256",
                &[Plan::Extra],
                Accept,
            )
        },
        Case {
            knobs: Knobs {
                client_alg: Some("ES256"),
                ..Knobs::default()
            },
            ..case(
                "rp-id_token-sig-es256",
                "rp-id_token-sig-es256",
                &[Plan::Extra],
                Accept,
            )
        },
        case(
            "oidcc-client-test-userinfo-bearer-header",
            "rp-userinfo-bearer-header",
            &[Plan::Extra],
            Accept,
        ),
        Case {
            knobs: Knobs {
                userinfo_body: true,
                ..Knobs::default()
            },
            ..case(
                "oidcc-client-test-userinfo-bearer-body",
                "rp-userinfo-bearer-body",
                &[Plan::Extra],
                Accept,
            )
        },
        Case {
            knobs: Knobs {
                auth: Some("client_secret_post"),
                ..Knobs::default()
            },
            ..case(
                "rp-token_endpoint-client_secret_post",
                "rp-token_endpoint-client_secret_post",
                &[Plan::Extra],
                Accept,
            )
        },
        Case {
            knobs: Knobs {
                auth: Some("client_secret_jwt"),
                ..Knobs::default()
            },
            ..case(
                "rp-token_endpoint-client_secret_jwt",
                "rp-token_endpoint-client_secret_jwt",
                &[Plan::Extra],
                Accept,
            )
        },
        Case {
            knobs: Knobs {
                auth: Some("private_key_jwt"),
                register: true,
                ..Knobs::default()
            },
            ..case(
                "rp-token_endpoint-private_key_jwt",
                "rp-token_endpoint-private_key_jwt",
                &[Plan::Extra],
                Accept,
            )
        },
        Case {
            knobs: Knobs {
                claims: Some("id_token"),
                ..Knobs::default()
            },
            ..case(
                "rp-claims_request-id_token",
                "rp-claims_request-id_token",
                &[Plan::Extra],
                Accept,
            )
        },
        Case {
            knobs: Knobs {
                claims: Some("userinfo"),
                ..Knobs::default()
            },
            ..case(
                "rp-claims_request-userinfo",
                "rp-claims_request-userinfo",
                &[Plan::Extra],
                Accept,
            )
        },
    ];
    // The dynamic plan repeats config's tests, always with dynamic registration.
    for c in &mut all {
        if c.plans.contains(&Plan::Dynamic) && c.plans.len() == 1 {
            c.knobs.register = true;
        }
    }
    all
}

/// The runs of these plans: (plan, test), in catalogue order.
pub fn runs(plans: &[Plan]) -> Vec<(Plan, Case)> {
    let cases = catalogue();
    let mut out = Vec::new();
    for plan in plans {
        for c in &cases {
            if c.plans.contains(plan) {
                let mut c = *c;
                if *plan == Plan::Dynamic {
                    c.knobs.register = true;
                }
                out.push((*plan, c));
            }
        }
    }
    out
}
