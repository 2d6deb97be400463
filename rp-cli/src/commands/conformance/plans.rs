//! The plans and their tests, derived from the one catalogue the bundled provider also reads
//! (`rp_provider::conformance::catalogue`): the runner's view of each test, with the expected
//! rejection as the library's [`CheckId`].

use oidc_rp::CheckId;
use rp_provider::conformance::catalogue::{self, TestCase};

pub use catalogue::{Flow, Plan};

/// What the RP must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Complete the flow.
    Accept,
    /// Refuse, on this check.
    Reject(CheckId),
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
    /// A FAPI 2.0 client: private_key_jwt, DPoP, pushed requests, the FAPI 2.0 switch on.
    pub fapi: bool,
    /// Ask for JARM responses.
    pub jarm: bool,
}

/// One test, as the runner sees it.
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
    /// The response type of this run.
    pub response_type: oidc_rp::ResponseType,
}

impl From<&TestCase> for Case {
    fn from(t: &TestCase) -> Self {
        Case {
            id: t.id,
            old: t.old,
            plans: t.plans,
            expect: match t.expect {
                catalogue::Expect::Accept => Expect::Accept,
                catalogue::Expect::Reject(name) => Expect::Reject(
                    CheckId::from_name(name)
                        .unwrap_or_else(|| panic!("the catalogue names an unknown check `{name}`")),
                ),
            },
            flow: t.flow,
            knobs: Knobs {
                register: t.rp.register,
                client_alg: t.client.alg,
                auth: t.client.auth,
                userinfo_alg: t.client.userinfo_alg,
                userinfo_body: t.rp.userinfo_body,
                request_uri: t.client.request_uri,
                claims: t.rp.claims,
                webfinger: t.rp.webfinger,
                check_jwks_fetch: t.rp.check_jwks_fetch,
                fapi: t.client.fapi,
                jarm: t.client.jarm,
            },
            note: t.note,
            response_type: oidc_rp::ResponseType::parse(t.response_type).unwrap_or_else(|| {
                panic!(
                    "the catalogue names an unknown response type `{}`",
                    t.response_type
                )
            }),
        }
    }
}

/// Every test of every plan.
pub fn catalogue() -> Vec<Case> {
    catalogue::catalogue().iter().map(Case::from).collect()
}

/// The runs of these plans: (plan, test), in catalogue order.
pub fn runs(plans: &[Plan]) -> Vec<(Plan, Case)> {
    catalogue::runs(plans)
        .iter()
        .map(|(p, t)| (*p, Case::from(t)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_expected_check_is_one_the_library_makes() {
        // Case::from panics on an unknown name: converting the catalogue is the test.
        assert!(catalogue().len() > 50);
    }
}
