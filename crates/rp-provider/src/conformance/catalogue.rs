//! The one catalogue of conformance tests: for each test id of the OpenID Foundation's RP
//! certification plans (and rp's extra tests), the plans it belongs to, what the test
//! provider does wrong, which client and request settings it needs, and what a conforming RP
//! must answer. The provider reads it to make its instances; `rp conformance` reads it to run
//! and judge them. Adding a test is one entry here (and, for a new kind of misbehaviour, its
//! hook in `instance.rs`). Background: `docs/conformance.md`.

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
    /// rp's own: the device authorization grant (RFC 8628), which the suite has no RP
    /// plan for.
    Device,
    /// fapi2-security-profile-final-client-test-plan (private_key_jwt, DPoP, plain
    /// responses): the tests a client observes without mTLS or JARM.
    Fapi2,
    /// Tests the suite has outside the certification plans (and rp's own).
    Extra,
    /// oidcc-client-implicit-certification-test-plan (`id_token`, `id_token token`).
    Implicit,
    /// oidcc-client-hybrid-certification-test-plan (`code id_token`, `code token`,
    /// `code id_token token`).
    Hybrid,
    /// oidcc-client-formpost-implicit-certification-test-plan.
    FormPostImplicit,
    /// oidcc-client-formpost-hybrid-certification-test-plan.
    FormPostHybrid,
    /// oidcc-client-test-3rd-party-init-login-test-plan.
    ThirdPartyInitLogin,
    /// oidcc-client-rp-session-management-rp-{basic,implicit,hybrid}.
    SessionManagement,
}

impl Plan {
    /// Every plan, in order.
    pub const ALL: [Plan; 17] = [
        Plan::Basic,
        Plan::Config,
        Plan::Dynamic,
        Plan::FormPostBasic,
        Plan::Implicit,
        Plan::Hybrid,
        Plan::FormPostImplicit,
        Plan::FormPostHybrid,
        Plan::ThirdPartyInitLogin,
        Plan::SessionManagement,
        Plan::RpInitiatedLogout,
        Plan::FrontChannelLogout,
        Plan::BackChannelLogout,
        Plan::RefreshToken,
        Plan::Device,
        Plan::Fapi2,
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
            Plan::Device => "device",
            Plan::Fapi2 => "fapi2",
            Plan::Extra => "extra",
            Plan::Implicit => "implicit",
            Plan::Hybrid => "hybrid",
            Plan::FormPostImplicit => "form-post-implicit",
            Plan::FormPostHybrid => "form-post-hybrid",
            Plan::ThirdPartyInitLogin => "3rd-party-init-login",
            Plan::SessionManagement => "session-management",
        }
    }

    /// The response types a plan runs its tests with (each test once per type it applies
    /// to), as the suite's plan variants do.
    pub fn response_types(self) -> &'static [&'static str] {
        match self {
            Plan::Implicit | Plan::FormPostImplicit => &["id_token", "id_token token"],
            Plan::Hybrid | Plan::FormPostHybrid => {
                &["code id_token", "code token", "code id_token token"]
            }
            // One run per variant of the suite's plan: basic, implicit, hybrid.
            Plan::SessionManagement => &["code", "id_token token", "code id_token"],
            _ => &["code"],
        }
    }

    /// Whether the responses come in a form post.
    pub fn form_post(self) -> bool {
        matches!(
            self,
            Plan::FormPostBasic | Plan::FormPostImplicit | Plan::FormPostHybrid
        )
    }

    /// Parse a name.
    pub fn parse(name: &str) -> Option<Plan> {
        Plan::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// What a conforming RP must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Complete the flow.
    Accept,
    /// Refuse, on the check of this name (as `oidc-rp` names its checks: `iss`, `nonce`, ...).
    Reject(&'static str),
}

/// Which steps a test takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flow {
    /// Discovery, login, ID token, userinfo.
    #[default]
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
    /// A device login (RFC 8628): device authorization, polling, ID token, userinfo.
    Device,
    /// A login started by the provider at the client's `initiate_login_uri` (OIDC Core §4).
    ThirdParty,
    /// Session Management 1.0: login, poll the provider's session check (`unchanged`),
    /// RP-initiated logout, poll again (`changed`), the silent re-check ends the session.
    SessionManagement,
}

/// The client's registration, for the provider's static client and an RP that registers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientSettings {
    /// `id_token_signed_response_alg` (RS256 when absent).
    pub alg: Option<&'static str>,
    /// `token_endpoint_auth_method` (client_secret_basic when absent).
    pub auth: Option<&'static str>,
    /// `userinfo_signed_response_alg`.
    pub userinfo_alg: Option<&'static str>,
    /// A request object by reference, signed with this algorithm, is required.
    pub request_uri: Option<&'static str>,
    /// A FAPI 2.0 client: private_key_jwt with the fixture key, pushed requests only,
    /// DPoP-bound tokens (the RP runs with its FAPI 2.0 switch on).
    pub fapi: bool,
    /// The RP asks for JARM (`response_mode=query.jwt`).
    pub jarm: bool,
}

/// What the RP does in a test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RpSettings {
    /// Register the client dynamically (always in the dynamic plan).
    pub register: bool,
    /// Send the userinfo token in a form body.
    pub userinfo_body: bool,
    /// Ask for `name` with the `claims` parameter, in `id_token` or `userinfo`.
    pub claims: Option<&'static str>,
    /// Find the issuer with WebFinger: `acct` or `url` (the issuer then has a random suffix).
    pub webfinger: Option<&'static str>,
    /// The provider must have served the JWKS (at its random path) before userinfo.
    pub check_jwks_fetch: bool,
}

/// How the ID token's claims are altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClaimMutation {
    /// Left alone.
    #[default]
    None,
    /// `iss` + "1".
    InvalidIss,
    /// `sub` removed.
    MissingSub,
    /// `aud` = client_id + "1".
    InvalidAud,
    /// `aud` removed.
    MissingAud,
    /// `iat` removed.
    MissingIat,
    /// `nonce` + "1".
    InvalidNonce,
    /// `nbf` an hour ahead (RFC 7519 §4.1.5).
    FutureNbf,
    /// `exp` an hour ago.
    Expired,
    /// `exp` removed.
    MissingExp,
    /// `iss` removed.
    MissingIss,
    /// `nonce` removed.
    MissingNonce,
    /// `aud` a second, untrusted audience beside the client (and no `azp`).
    SecondaryAud,
    /// `aud` the client, as a one-element array (RFC 7519 §4.1.3 allows either).
    AudAsArray,
    /// `at_hash` + "1".
    InvalidAtHash,
    /// `at_hash` removed.
    MissingAtHash,
    /// `c_hash` + "1".
    InvalidCHash,
    /// `c_hash` removed.
    MissingCHash,
}

/// How a parameter of the authorization response (`iss`, `state`) is altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseParam {
    /// Sent as it should be.
    #[default]
    Keep,
    /// The value + "INVALID".
    Invalid,
    /// Left out.
    Removed,
}

/// How a successful token response is altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenResponseMutation {
    /// It is not.
    #[default]
    None,
    /// `expires_in` left out (RFC 6749 §5.1: RECOMMENDED, not required).
    NoExpiresIn,
    /// `token_type` in inverted case (`dPoP`, `bEARER`: RFC 6749 §5.1, case-insensitive).
    InvertedTokenType,
}

/// The JWKS the instance publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JwksMode {
    /// One key per algorithm, with kids.
    #[default]
    Normal,
    /// One key per type, no kids (and no kid in the JWS header).
    NoKidSingle,
    /// Three keys per type, no kids.
    NoKidMultiple,
}

/// When the signing keys change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rotation {
    /// Never.
    #[default]
    None,
    /// New keys just before each ID token is signed.
    BeforeSigning,
    /// New keys on the second authorization request.
    SecondAuthorization,
}

/// How the ID token of a refresh response is altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefreshMutation {
    /// Left alone.
    #[default]
    None,
    /// Another `iss`.
    InvalidIss,
    /// Another `sub`.
    InvalidSub,
}

/// How logout misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogoutMutation {
    /// It does not.
    #[default]
    None,
    /// The post-logout `state` + "_INVALID".
    OtherState,
    /// The post-logout `state` dropped.
    NoState,
    /// Logout token signed `alg: none`.
    AlgNone,
    /// Logout token without `events`.
    NoEvent,
    /// Logout token with a `nonce`.
    Nonce,
    /// Logout token signed with another algorithm than the client's.
    WrongAlg,
    /// Logout token `aud` + "INVALID".
    WrongAud,
    /// Logout token with another event.
    WrongEvent,
    /// Logout token `iss` + "INVALID".
    WrongIss,
}

/// How the token endpoint answers device code polls (RFC 8628 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceMutation {
    /// Tokens at the first poll (the instance's user approves at once).
    #[default]
    None,
    /// `authorization_pending` for the first two polls.
    Pending,
    /// `slow_down` at the first poll.
    SlowDown,
    /// `access_denied`.
    Denied,
    /// `expired_token`.
    Expired,
}

/// How a JARM response is altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JarmMutation {
    /// It is not.
    #[default]
    None,
    /// `iss` + "INVALID".
    InvalidIss,
    /// `iss` removed.
    MissingIss,
    /// `aud` + "INVALID".
    InvalidAud,
    /// `aud` removed.
    MissingAud,
    /// `exp` an hour ago.
    Expired,
    /// `exp` removed.
    MissingExp,
    /// The signature corrupted.
    InvalidSig,
    /// Unsigned (`alg: none`).
    AlgNone,
}

/// Where userinfo takes the access token.
pub use crate::misbehaviour::TokenPlaces as Bearer;

/// What the test provider does differently from a well-behaved OP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Behaviour {
    /// ID token claim mutation (token endpoint).
    pub claims: ClaimMutation,
    /// Corrupt the ID token signature (every byte XOR 0x5A, as the Java suite does).
    pub corrupt_signature: bool,
    /// The JWKS.
    pub jwks: JwksMode,
    /// Discovery advertises RS256 only.
    pub only_rs256: bool,
    /// Key rotation.
    pub rotation: Rotation,
    /// A random `jwks_uri` path.
    pub random_jwks_uri: bool,
    /// Discovery names another issuer.
    pub issuer_mismatch: bool,
    /// Userinfo answers with another `sub`.
    pub userinfo_sub_mismatch: bool,
    /// Where userinfo takes the token.
    pub bearer: Bearer,
    /// The scope must name profile, email, phone or address.
    pub require_scope_claims: bool,
    /// Refresh ID token mutation.
    pub refresh: RefreshMutation,
    /// Logout misbehaviour.
    pub logout: LogoutMutation,
    /// Device code poll answers.
    pub device: DeviceMutation,
    /// The authorization response's `iss` parameter (RFC 9207).
    pub response_iss: ResponseParam,
    /// The authorization response's `state`.
    pub response_state: ResponseParam,
    /// The token response.
    pub token_response: TokenResponseMutation,
    /// Userinfo, as a DPoP resource, demands a fresh nonce once, with the scheme spelt
    /// `dpop` (RFC 9449 §9).
    pub resource_nonce_alt_scheme: bool,
    /// The authorization request is refused without a `nonce` (the suite's
    /// nonce-unless-code-flow test: the RP must send one whenever it is not the code flow).
    pub require_nonce: bool,
    /// The ID token unsigned (`alg: none`) whatever the client registered.
    pub null_alg: bool,
    /// No DPoP nonce demanded.
    pub no_dpop_nonce: bool,
    /// JARM response mutation.
    pub jarm: JarmMutation,
}

/// One test.
#[derive(Debug, Clone, Copy)]
pub struct TestCase {
    /// The current suite id (and the provider instance's path).
    pub id: &'static str,
    /// The id of the older Python suite.
    pub old: &'static str,
    /// The plans it belongs to.
    pub plans: &'static [Plan],
    /// What a conforming RP must do.
    pub expect: Expect,
    /// The steps.
    pub flow: Flow,
    /// The client's registration.
    pub client: ClientSettings,
    /// What the RP does.
    pub rp: RpSettings,
    /// What the provider does wrong.
    pub op: Behaviour,
    /// For tests where the suite accepts either answer: which one rp gives, and why.
    pub note: &'static str,
    /// The response type of this run (`code` outside the implicit and hybrid plans).
    pub response_type: &'static str,
    /// The response types the test applies to (empty: every one of its plan's).
    pub only_types: &'static [&'static str],
}

fn t(id: &'static str, old: &'static str, plans: &'static [Plan]) -> TestCase {
    TestCase {
        id,
        old,
        plans,
        expect: Expect::Accept,
        flow: Flow::Login,
        client: ClientSettings::default(),
        rp: RpSettings::default(),
        op: Behaviour::default(),
        note: "",
        response_type: "code",
        only_types: &[],
    }
}

impl TestCase {
    fn reject(mut self, check: &'static str) -> Self {
        self.expect = Expect::Reject(check);
        self
    }
    fn flow(mut self, flow: Flow) -> Self {
        self.flow = flow;
        self
    }
    fn alg(mut self, alg: &'static str) -> Self {
        self.client.alg = Some(alg);
        self
    }
    fn auth(mut self, method: &'static str) -> Self {
        self.client.auth = Some(method);
        self
    }
    fn op(mut self, change: impl FnOnce(&mut Behaviour)) -> Self {
        change(&mut self.op);
        self
    }
    fn rp(mut self, change: impl FnOnce(&mut RpSettings)) -> Self {
        change(&mut self.rp);
        self
    }
    fn client(mut self, change: impl FnOnce(&mut ClientSettings)) -> Self {
        change(&mut self.client);
        self
    }
    fn note(mut self, note: &'static str) -> Self {
        self.note = note;
        self
    }
    fn only(mut self, types: &'static [&'static str]) -> Self {
        self.only_types = types;
        self
    }
}

const BASIC_CONFIG_DYNAMIC: &[Plan] = &[
    Plan::Basic,
    Plan::FormPostBasic,
    Plan::Config,
    Plan::Dynamic,
];
const CONFIG_DYNAMIC: &[Plan] = &[Plan::Config, Plan::Dynamic];
const DYNAMIC: &[Plan] = &[Plan::Dynamic];
const REFRESH: &[Plan] = &[Plan::RefreshToken];
const REFRESH_EXTRA: &[Plan] = &[Plan::RefreshToken, Plan::Extra];
const RP_LOGOUT: &[Plan] = &[Plan::RpInitiatedLogout];
const FRONT: &[Plan] = &[Plan::FrontChannelLogout];
const BACK: &[Plan] = &[Plan::BackChannelLogout];
const EXTRA: &[Plan] = &[Plan::Extra];
const DEVICE: &[Plan] = &[Plan::Device];
const FAPI2: &[Plan] = &[Plan::Fapi2];
/// The implicit and hybrid plans, and their form-post variants.
const FRONT_ALL: &[Plan] = &[
    Plan::Implicit,
    Plan::Hybrid,
    Plan::FormPostImplicit,
    Plan::FormPostHybrid,
];
const HYBRID_ONLY: &[Plan] = &[Plan::Hybrid, Plan::FormPostHybrid];
/// The basic tests the implicit and hybrid plans share.
const BASIC_FRONT: &[Plan] = &[
    Plan::Basic,
    Plan::FormPostBasic,
    Plan::Implicit,
    Plan::Hybrid,
    Plan::FormPostImplicit,
    Plan::FormPostHybrid,
];
const BASIC_HYBRID: &[Plan] = &[
    Plan::Basic,
    Plan::FormPostBasic,
    Plan::Hybrid,
    Plan::FormPostHybrid,
];
/// Types that return an access token with a front-channel ID token (at_hash required).
const AT_HASH_TYPES: &[&str] = &["id_token token", "code id_token token"];
/// Types that return a code with a front-channel ID token (c_hash required).
const C_HASH_TYPES: &[&str] = &["code id_token", "code id_token token"];
/// Types whose access token lets the RP call userinfo.
const USERINFO_TYPES: &[&str] = &[
    "code",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
];

fn fapi(id: &'static str) -> TestCase {
    let mut test = t(id, "(fapi2)", FAPI2);
    test.client.fapi = true;
    test.client.alg = Some("ES256");
    test
}

const NONE_NOTE: &str = "either answer passes; the client registered id_token_signed_response_alg=none, the only way rp accepts an unsigned ID token, and only in the code flow from the token endpoint";

/// Every test, in order.
pub fn catalogue() -> Vec<TestCase> {
    use ClaimMutation as C;
    use DeviceMutation as D;
    use JarmMutation as J;
    use LogoutMutation as L;
    use RefreshMutation as R;
    use ResponseParam as P;
    use TokenResponseMutation as T;
    vec![
        // Basic (and form post basic).
        t("oidcc-client-test", "rp-response_type-code", BASIC_FRONT),
        t("oidcc-client-test-invalid-iss", "rp-id_token-issuer-mismatch", BASIC_FRONT)
            .reject("iss")
            .op(|b| b.claims = C::InvalidIss),
        t("oidcc-client-test-missing-sub", "rp-id_token-sub", BASIC_FRONT)
            .reject("sub")
            .op(|b| b.claims = C::MissingSub),
        t("oidcc-client-test-invalid-aud", "rp-id_token-aud", BASIC_FRONT)
            .reject("aud")
            .op(|b| b.claims = C::InvalidAud),
        t("oidcc-client-test-missing-iat", "rp-id_token-iat", BASIC_FRONT)
            .reject("iat")
            .op(|b| b.claims = C::MissingIat),
        t("oidcc-client-test-kid-absent-single-jwks", "rp-id_token-kid-absent-single-jwks", BASIC_FRONT)
            .op(|b| b.jwks = JwksMode::NoKidSingle),
        t("oidcc-client-test-kid-absent-multiple-jwks", "rp-id_token-kid-absent-multiple-jwks", BASIC_FRONT)
            .reject("key")
            .op(|b| b.jwks = JwksMode::NoKidMultiple)
            .note("either answer passes; rp refuses to guess among several keys of the token's type when the token names none"),
        t("oidcc-client-test-idtoken-sig-rs256", "rp-id_token-sig-rs256", BASIC_FRONT)
            .alg("RS256")
            .op(|b| b.only_rs256 = true),
        t("oidcc-client-test-idtoken-sig-none", "rp-id_token-sig-none", BASIC_CONFIG_DYNAMIC)
            .alg("none")
            .note(NONE_NOTE),
        t("oidcc-client-test-invalid-sig-rs256", "rp-id_token-bad-sig-rs256", BASIC_FRONT)
            .alg("RS256")
            .reject("signature")
            .op(|b| b.corrupt_signature = true),
        t("oidcc-client-test-userinfo-invalid-sub", "rp-userinfo-bad-sub-claim", BASIC_FRONT)
            .only(USERINFO_TYPES)
            .reject("userinfo sub")
            .op(|b| b.userinfo_sub_mismatch = true),
        t("oidcc-client-test-nonce-invalid", "rp-nonce-invalid", BASIC_FRONT)
            .reject("nonce")
            .op(|b| b.claims = C::InvalidNonce),
        t("oidcc-client-test-scope-userinfo-claims", "rp-scope-userinfo-claims", BASIC_FRONT)
            .op(|b| b.require_scope_claims = true),
        t("oidcc-client-test-client-secret-basic", "rp-token_endpoint-client_secret_basic", BASIC_HYBRID)
            .auth("client_secret_basic"),
        // Config (and dynamic).
        t("oidcc-client-test-discovery-openid-config", "rp-discovery-openid-configuration", CONFIG_DYNAMIC),
        t("oidcc-client-test-discovery-jwks-uri-keys", "rp-discovery-jwks_uri-keys", CONFIG_DYNAMIC)
            .rp(|r| r.check_jwks_fetch = true)
            .op(|b| b.random_jwks_uri = true),
        t("oidcc-client-test-discovery-issuer-mismatch", "rp-discovery-issuer-not-matching-config", CONFIG_DYNAMIC)
            .reject("discovery issuer")
            .op(|b| b.issuer_mismatch = true),
        t("oidcc-client-test-signing-key-rotation-just-before-signing", "rp-key-rotation-op-sign-key-native", CONFIG_DYNAMIC)
            .op(|b| b.rotation = Rotation::BeforeSigning),
        t("oidcc-client-test-signing-key-rotation", "rp-key-rotation-op-sign-key", CONFIG_DYNAMIC)
            .flow(Flow::LoginTwice)
            .op(|b| b.rotation = Rotation::SecondAuthorization),
        // Dynamic only.
        t("oidcc-client-test-discovery-webfinger-acct", "rp-discovery-webfinger-acct", DYNAMIC)
            .rp(|r| r.webfinger = Some("acct")),
        t("oidcc-client-test-discovery-webfinger-url", "rp-discovery-webfinger-url", DYNAMIC)
            .rp(|r| r.webfinger = Some("url")),
        t("oidcc-client-test-dynamic-registration", "rp-registration-dynamic", DYNAMIC),
        t("oidcc-client-test-request-uri-signed-rs256", "rp-request_uri-sig", DYNAMIC)
            .client(|c| c.request_uri = Some("RS256")),
        t("oidcc-client-test-request-uri-signed-none", "rp-request_uri-unsigned", DYNAMIC)
            .client(|c| c.request_uri = Some("none")),
        t("oidcc-client-test-userinfo-signed", "rp-userinfo-sig", DYNAMIC)
            .client(|c| c.userinfo_alg = Some("RS256")),
        // RP-initiated, front- and back-channel logout.
        t("oidcc-client-test-rp-init-logout", "rp-init-logout", RP_LOGOUT).flow(Flow::RpLogout),
        t("oidcc-client-test-rp-init-logout-other-state", "rp-init-logout-other-state", RP_LOGOUT)
            .flow(Flow::RpLogout)
            .reject("post-logout state")
            .op(|b| b.logout = L::OtherState),
        t("oidcc-client-test-rp-init-logout-no-state", "rp-init-logout-no-state", RP_LOGOUT)
            .flow(Flow::RpLogout)
            .reject("post-logout state")
            .op(|b| b.logout = L::NoState),
        t("oidcc-client-test-rp-frontchannel-rpinitlogout", "rp-frontchannel-rpinitlogout", FRONT)
            .flow(Flow::FrontLogout),
        t("oidcc-client-test-rp-backchannel-rpinitlogout", "rp-backchannel-rpinitlogout", BACK)
            .flow(Flow::BackLogout),
        t("oidcc-client-test-rp-backchannel-rpinitlogout-alg-none", "rp-backchannel-rpinitlogout-lt-alg-none", BACK)
            .flow(Flow::BackLogout)
            .reject("alg")
            .op(|b| b.logout = L::AlgNone),
        t("oidcc-client-test-rp-backchannel-rpinitlogout-no-event", "rp-backchannel-rpinitlogout-lt-no-event", BACK)
            .flow(Flow::BackLogout)
            .reject("events")
            .op(|b| b.logout = L::NoEvent),
        t("oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce", "rp-backchannel-rpinitlogout-lt-with-nonce", BACK)
            .flow(Flow::BackLogout)
            .reject("nonce")
            .op(|b| b.logout = L::Nonce),
        t("oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg", "rp-backchannel-rpinitlogout-lt-wrong-alg", BACK)
            .flow(Flow::BackLogout)
            .reject("alg")
            .op(|b| b.logout = L::WrongAlg),
        t("oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud", "rp-backchannel-rpinitlogout-lt-wrong-aud", BACK)
            .flow(Flow::BackLogout)
            .reject("aud")
            .op(|b| b.logout = L::WrongAud),
        t("oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event", "rp-backchannel-rpinitlogout-lt-wrong-event", BACK)
            .flow(Flow::BackLogout)
            .reject("events")
            .op(|b| b.logout = L::WrongEvent),
        t("oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss", "rp-backchannel-rpinitlogout-lt-wrong-issuer", BACK)
            .flow(Flow::BackLogout)
            .reject("iss")
            .op(|b| b.logout = L::WrongIss),
        // Refresh.
        t("oidcc-client-test-refresh-token", "(none)", REFRESH).flow(Flow::Refresh),
        t("oidcc-client-test-refresh-token-invalid-issuer", "(none)", REFRESH_EXTRA)
            .flow(Flow::Refresh)
            .reject("iss")
            .op(|b| b.refresh = R::InvalidIss),
        t("oidcc-client-test-refresh-token-invalid-sub", "(none)", REFRESH_EXTRA)
            .flow(Flow::Refresh)
            .reject("refresh consistency")
            .op(|b| b.refresh = R::InvalidSub),
        // Device authorization grant (rp's own plan).
        t("rp-device-code", "(rp device)", DEVICE).flow(Flow::Device),
        t("rp-device-authorization-pending", "(rp device)", DEVICE)
            .flow(Flow::Device)
            .op(|b| b.device = D::Pending),
        t("rp-device-slow-down", "(rp device)", DEVICE)
            .flow(Flow::Device)
            .op(|b| b.device = D::SlowDown),
        t("rp-device-access-denied", "(rp device)", DEVICE)
            .flow(Flow::Device)
            .reject("device grant")
            .op(|b| b.device = D::Denied),
        t("rp-device-expired-token", "(rp device)", DEVICE)
            .flow(Flow::Device)
            .reject("device grant")
            .op(|b| b.device = D::Expired),
        t("rp-device-id_token-invalid-iss", "(rp device)", DEVICE)
            .flow(Flow::Device)
            .reject("iss")
            .op(|b| b.claims = C::InvalidIss),
        t("rp-device-id_token-invalid-nonce", "(rp device)", DEVICE)
            .flow(Flow::Device)
            .reject("nonce")
            .op(|b| b.claims = C::InvalidNonce),
        t("rp-device-id_token-bad-sig", "(rp device)", DEVICE)
            .flow(Flow::Device)
            .reject("signature")
            .op(|b| b.corrupt_signature = true),
        // Implicit and hybrid only (the basic tests above run there too, once per response
        // type): the front-channel hashes, and a nonce in every request.
        t("oidcc-client-test-invalid-athash", "rp-id_token-bad-at_hash", FRONT_ALL)
            .only(AT_HASH_TYPES)
            .reject("at_hash")
            .op(|b| b.claims = C::InvalidAtHash),
        t("oidcc-client-test-missing-athash", "rp-id_token-missing-at_hash", FRONT_ALL)
            .only(AT_HASH_TYPES)
            .reject("at_hash")
            .op(|b| b.claims = C::MissingAtHash),
        t("oidcc-client-test-invalid-chash", "rp-id_token-bad-c_hash", HYBRID_ONLY)
            .only(C_HASH_TYPES)
            .reject("c_hash")
            .op(|b| b.claims = C::InvalidCHash),
        t("oidcc-client-test-missing-chash", "rp-id_token-missing-c_hash", HYBRID_ONLY)
            .only(C_HASH_TYPES)
            .reject("c_hash")
            .op(|b| b.claims = C::MissingCHash),
        t("oidcc-client-test-nonce-unless-code-flow", "rp-nonce-unless-code-flow", FRONT_ALL)
            .op(|b| b.require_nonce = true),
        // Third-party-initiated login: the provider sends the browser to the registered
        // initiate_login_uri with iss; an authorization request before that fails.
        t("oidcc-client-test-3rd-party-init-login", "rp-3rd_party-init-login", &[Plan::ThirdPartyInitLogin])
            .flow(Flow::ThirdParty)
            .rp(|r| r.register = true),
        // Session Management: the provider's check_session_iframe answers `unchanged` before
        // the RP-initiated logout and `changed` after; the RP must poll on both sides of it
        // and end its session on `changed` (after a prompt=none re-check).
        t("oidcc-client-test-session-management", "rp-init-logout-session", &[Plan::SessionManagement])
            .flow(Flow::SessionManagement)
            .rp(|r| r.register = true),
        // FAPI 2.0 Security Profile (final), client tests a client can observe.
        fapi("fapi2-security-profile-final-client-test-happy-path"),
        fapi("fapi2-security-profile-final-client-test-happy-path-no-dpop-nonce")
            .op(|b| b.no_dpop_nonce = true),
        fapi("fapi2-security-profile-final-client-test-invalid-iss")
            .reject("iss")
            .op(|b| b.claims = C::InvalidIss),
        fapi("fapi2-security-profile-final-client-test-invalid-missing-iss")
            .reject("iss")
            .op(|b| b.claims = C::MissingIss),
        fapi("fapi2-security-profile-final-client-test-invalid-aud")
            .reject("aud")
            .op(|b| b.claims = C::InvalidAud),
        fapi("fapi2-security-profile-final-client-test-invalid-missing-aud")
            .reject("aud")
            .op(|b| b.claims = C::MissingAud),
        fapi("fapi2-security-profile-final-client-test-invalid-nonce")
            .reject("nonce")
            .op(|b| b.claims = C::InvalidNonce),
        fapi("fapi2-security-profile-final-client-test-invalid-missing-nonce")
            .reject("nonce")
            .op(|b| b.claims = C::MissingNonce),
        fapi("fapi2-security-profile-final-client-test-invalid-expired-exp")
            .reject("exp")
            .op(|b| b.claims = C::Expired),
        fapi("fapi2-security-profile-final-client-test-invalid-missing-exp")
            .reject("exp")
            .op(|b| b.claims = C::MissingExp),
        fapi("fapi2-security-profile-final-client-test-invalid-secondary-aud")
            .reject("aud")
            .op(|b| b.claims = C::SecondaryAud),
        fapi("fapi2-security-profile-final-client-test-valid-aud-as-array")
            .op(|b| b.claims = C::AudAsArray),
        fapi("fapi2-security-profile-final-client-test-invalid-authorization-response-iss")
            .reject("iss parameter")
            .op(|b| b.response_iss = P::Invalid),
        fapi("fapi2-security-profile-final-client-test-remove-authorization-response-iss")
            .reject("iss parameter")
            .op(|b| b.response_iss = P::Removed),
        fapi("fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-state-fails")
            .reject("state")
            .op(|b| b.response_state = P::Invalid),
        fapi("fapi2-security-profile-final-client-test-ensure-authorization-response-with-invalid-missing-state-fails")
            .reject("state")
            .op(|b| b.response_state = P::Removed),
        fapi("fapi2-security-profile-final-client-test-token-endpoint-response-without-expires_in")
            .op(|b| b.token_response = T::NoExpiresIn),
        fapi("fapi2-security-profile-final-client-test-token-type-case-insensitivity")
            .op(|b| b.token_response = T::InvertedTokenType),
        fapi("fapi2-security-profile-final-client-test-rs-dpop-auth-scheme-case-insensitivity")
            .op(|b| b.resource_nonce_alt_scheme = true)
            .note("userinfo, the resource here, answers the first call with a `dpop` (lower case) nonce challenge; the RP retries once with the new nonce"),
        fapi("fapi2-security-profile-final-client-test-invalid-null-alg")
            .reject("alg")
            .op(|b| b.null_alg = true),
        fapi("fapi2-security-profile-final-client-test-invalid-alternate-alg")
            .alg("RS256")
            .reject("alg")
            .note("the provider signs with RS256, which FAPI 2.0 does not allow (PS256, ES256, EdDSA only)"),
        fapi("fapi2-security-profile-final-client-test-invalid-signature")
            .reject("signature")
            .op(|b| b.corrupt_signature = true),
        fapi("fapi2-security-profile-final-client-test-happy-path-jarm")
            .client(|c| c.jarm = true),
        fapi("fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-iss-fails")
            .client(|c| c.jarm = true)
            .reject("iss")
            .op(|b| b.jarm = J::InvalidIss),
        fapi("fapi2-security-profile-final-client-test-ensure-jarm-without-iss-fails")
            .client(|c| c.jarm = true)
            .reject("iss")
            .op(|b| b.jarm = J::MissingIss),
        fapi("fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-aud-fails")
            .client(|c| c.jarm = true)
            .reject("aud")
            .op(|b| b.jarm = J::InvalidAud),
        fapi("fapi2-security-profile-final-client-test-ensure-jarm-without-aud-fails")
            .client(|c| c.jarm = true)
            .reject("aud")
            .op(|b| b.jarm = J::MissingAud),
        fapi("fapi2-security-profile-final-client-test-ensure-jarm-with-expired-exp-fails")
            .client(|c| c.jarm = true)
            .reject("exp")
            .op(|b| b.jarm = J::Expired),
        fapi("fapi2-security-profile-final-client-test-ensure-jarm-without-exp-fails")
            .client(|c| c.jarm = true)
            .reject("exp")
            .op(|b| b.jarm = J::MissingExp),
        fapi("fapi2-security-profile-final-client-test-ensure-jarm-with-invalid-sig-fails")
            .client(|c| c.jarm = true)
            .reject("signature")
            .op(|b| b.jarm = J::InvalidSig),
        fapi("fapi2-security-profile-final-client-test-ensure-jarm-signature-is-not-none")
            .client(|c| c.jarm = true)
            .reject("alg")
            .op(|b| b.jarm = J::AlgNone),
        fapi("fapi2-security-profile-final-client-test-discovery-issuer-mismatch")
            .reject("discovery issuer")
            .op(|b| b.issuer_mismatch = true),
        // Extra: the suite's tests outside the certification plans, and rp's own.
        t("oidcc-client-test-missing-aud", "(java only)", EXTRA)
            .reject("aud")
            .op(|b| b.claims = C::MissingAud),
        t("rp-id_token-nbf-future", "(rp extra)", EXTRA)
            .reject("nbf")
            .op(|b| b.claims = C::FutureNbf),
        t("rp-id_token-expired", "(rp extra)", EXTRA)
            .reject("exp")
            .op(|b| b.claims = C::Expired),
        t("oidcc-client-test-invalid-sig-hs256", "rp-id_token-bad-sig-hs256", EXTRA)
            .alg("HS256")
            .reject("signature")
            .op(|b| b.corrupt_signature = true),
        t("oidcc-client-test-invalid-sig-es256", "rp-id_token-bad-sig-es256", EXTRA)
            .alg("ES256")
            .reject("signature")
            .op(|b| b.corrupt_signature = true),
        t("rp-id_token-sig-hs256", "rp-id_token-sig-hs256", EXTRA).alg("HS256"),
        t("rp-id_token-sig-es256", "rp-id_token-sig-es256", EXTRA).alg("ES256"),
        t("oidcc-client-test-userinfo-bearer-header", "rp-userinfo-bearer-header", EXTRA)
            .op(|b| b.bearer = Bearer::HeaderOnly),
        t("oidcc-client-test-userinfo-bearer-body", "rp-userinfo-bearer-body", EXTRA)
            .rp(|r| r.userinfo_body = true)
            .op(|b| b.bearer = Bearer::BodyOnly),
        t("rp-token_endpoint-client_secret_post", "rp-token_endpoint-client_secret_post", EXTRA)
            .auth("client_secret_post"),
        t("rp-token_endpoint-client_secret_jwt", "rp-token_endpoint-client_secret_jwt", EXTRA)
            .auth("client_secret_jwt"),
        t("rp-token_endpoint-private_key_jwt", "rp-token_endpoint-private_key_jwt", EXTRA)
            .auth("private_key_jwt")
            .rp(|r| r.register = true),
        t("rp-claims_request-id_token", "rp-claims_request-id_token", EXTRA)
            .rp(|r| r.claims = Some("id_token")),
        t("rp-claims_request-userinfo", "rp-claims_request-userinfo", EXTRA)
            .rp(|r| r.claims = Some("userinfo")),
    ]
}

/// The test of an id.
pub fn find(id: &str) -> Option<TestCase> {
    catalogue().into_iter().find(|t| t.id == id)
}

/// The runs of these plans: (plan, test), in catalogue order. In the dynamic plan the RP
/// always registers its client.
pub fn runs(plans: &[Plan]) -> Vec<(Plan, TestCase)> {
    let tests = catalogue();
    let mut out = Vec::new();
    for plan in plans {
        for test in &tests {
            if test.plans.contains(plan) {
                let mut test = *test;
                if *plan == Plan::Dynamic {
                    test.rp.register = true;
                }
                for kind in plan.response_types() {
                    if test.only_types.is_empty() || test.only_types.contains(kind) {
                        test.response_type = kind;
                        out.push((*plan, test));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_test_has_a_plan() {
        let all = catalogue();
        for (i, t) in all.iter().enumerate() {
            assert!(!t.plans.is_empty(), "{}", t.id);
            assert!(all[i + 1..].iter().all(|o| o.id != t.id), "{}", t.id);
        }
    }
}
