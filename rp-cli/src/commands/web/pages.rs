//! The web app's HTML: server-rendered, a little CSS, no JavaScript. Every interpolated value
//! is escaped; tokens never appear in a page except the fragments the identity page shows on
//! purpose (shortened), and never in a URL.

use super::session::{Shown, SignedIn, WebSession};
use oidc_rp::Report;
use rp_provider::pages::esc;
use serde_json::{Map, Value};

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}\
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:1.8rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}\
label{display:block;margin:.5rem 0}input[type=text]{width:100%;padding:.5rem;box-sizing:border-box}\
button{padding:.45rem 1rem;margin:.3rem .4rem .3rem 0}form.inline{display:inline}\
table{border-collapse:collapse;width:100%;font-size:.92rem}td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eee;vertical-align:top}\
td.v{font-family:ui-monospace,monospace;word-break:break-all}.ok{color:#137333}.bad{color:#b00020}\
.notice{background:#fff4ce;padding:.6rem .8rem;border-radius:4px}.error{background:#fdecea;color:#b00020;padding:.6rem .8rem;border-radius:4px}\
.muted{color:#666;font-size:.9rem}fieldset{border:1px solid #ddd;border-radius:4px;margin:1rem 0}";

/// A whole page.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t}</title><style>{STYLE}</style></head><body>{body}\
<p class=\"muted\">rp web: an OpenID Connect relying party, validating everything.</p></body></html>",
        t = esc(title)
    )
}

fn csrf_field(session: &WebSession) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(session.csrf.expose())
    )
}

fn notice(notice: Option<&str>) -> String {
    notice
        .map(|n| format!("<p class=\"notice\" id=\"notice\">{}</p>", esc(n)))
        .unwrap_or_default()
}

/// One configured provider, for the landing page.
#[derive(Debug, Clone)]
pub struct Choice {
    /// What the list shows.
    pub label: String,
    /// The issuer.
    pub issuer: String,
}

/// The landing page: pick a provider, or type an issuer or `acct:` identifier.
pub fn landing(session: &WebSession, providers: &[Choice], error: Option<&str>) -> String {
    let mut list = String::new();
    for (i, p) in providers.iter().enumerate() {
        list.push_str(&format!(
            "<label><input type=\"radio\" name=\"provider\" value=\"{i}\"{}> {} <span class=\"muted\">{}</span></label>",
            if i == 0 { " checked" } else { "" },
            esc(&p.label),
            esc(&p.issuer)
        ));
    }
    let signed_in = session
        .signed_in
        .as_ref()
        .map(|s| {
            format!(
                "<p>Signed in as <strong>{}</strong> at {}. <a href=\"/me\">Your identity</a></p>",
                esc(&display_name(s)),
                esc(&s.issuer)
            )
        })
        .unwrap_or_default();
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    page(
        "rp web",
        &format!(
            "<h1>Log in with OpenID Connect</h1>{}{error}{signed_in}\
<form method=\"post\" action=\"/login\" id=\"login\">{}\
<fieldset><legend>Provider</legend>{list}\
<label><input type=\"radio\" name=\"provider\" value=\"other\"> Another provider:</label>\
<input type=\"text\" name=\"issuer\" id=\"issuer\" placeholder=\"https://op.example.com or acct:alice@op.example.com (WebFinger)\">\
</fieldset>\
<label><input type=\"checkbox\" name=\"register\" value=\"on\" checked> Register a client dynamically (RFC 7591), \
with this app's redirect, logout and back-/front-channel URIs</label>\
<button type=\"submit\" id=\"go\">Log in</button></form>",
            notice(session.notice.as_deref()),
            csrf_field(session)
        ),
    )
}

fn display_name(s: &SignedIn) -> String {
    let from = |m: Option<&Map<String, Value>>, k: &str| {
        m.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let userinfo = s.userinfo.as_ref().map(|u| &u.claims);
    from(userinfo, "name")
        .or_else(|| from(Some(&s.id_token.claims), "name"))
        .unwrap_or_else(|| s.subject().to_string())
}

fn report_table(report: &Report) -> String {
    let mut rows = String::new();
    for c in report.checks() {
        rows.push_str(&format!(
            "<tr><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td class=\"muted\">{}</td></tr>",
            if c.passed { "ok" } else { "bad" },
            if c.passed { "✓" } else { "✗" },
            esc(c.name),
            esc(&c.detail),
            esc(c.spec)
        ));
    }
    format!("<table id=\"checks\">{rows}</table>")
}

fn claims_table(id: &str, claims: &Map<String, Value>) -> String {
    let mut rows = String::new();
    for (k, v) in claims {
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        rows.push_str(&format!(
            "<tr><th>{}</th><td class=\"v\">{}</td></tr>",
            esc(k),
            esc(&v)
        ));
    }
    format!("<table id=\"{id}\">{rows}</table>")
}

fn shown(s: &Shown) -> String {
    let mut rows = String::new();
    for (k, v) in &s.lines {
        rows.push_str(&format!(
            "<tr><th>{}</th><td class=\"v\">{}</td></tr>",
            esc(k),
            esc(v)
        ));
    }
    format!(
        "<h2 id=\"result-title\" class=\"{}\">{}</h2><table id=\"result\">{rows}</table>",
        if s.ok { "ok" } else { "bad" },
        esc(&s.title)
    )
}

/// The identity page: the report, the claims, and the lifecycle buttons.
pub fn identity(session: &WebSession, s: &SignedIn) -> String {
    let csrf = csrf_field(session);
    let button = |action: &str, label: &str| {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"/{action}\">{csrf}<button type=\"submit\" id=\"{action}\">{label}</button></form>"
        )
    };
    let userinfo = s
        .userinfo
        .as_ref()
        .map(|u| {
            format!(
                "<h2>Userinfo{}</h2>{}",
                if u.signed {
                    " (signed JWT, verified)"
                } else {
                    ""
                },
                claims_table("userinfo-claims", &u.claims)
            )
        })
        .unwrap_or_else(|| {
            "<h2>Userinfo</h2><p class=\"muted\">The provider has no userinfo endpoint.</p>".into()
        });
    let verdict = if s.report.all_passed() {
        "<p class=\"ok\" id=\"verdict\">Every check passed.</p>"
    } else {
        "<p class=\"bad\" id=\"verdict\">Some checks failed.</p>"
    };
    page(
        "Your identity",
        &format!(
            "<h1>Signed in as <span id=\"name\">{}</span></h1>{}\
<p>Provider <code>{}</code>, client <code>{}</code>, subject <code id=\"sub\">{}</code>.</p>{verdict}\
<p>{}{}{}{}{}</p>{}\
<h2>Validation report</h2>{}<h2>ID token claims</h2>{}{userinfo}<p><a href=\"/\">Home</a></p>",
            esc(&display_name(s)),
            notice(session.notice.as_deref()),
            esc(&s.issuer),
            esc(&s.client_id),
            esc(s.subject()),
            button("refresh", "Refresh tokens"),
            button("introspect", "Introspect the access token"),
            button("exchange", "Token exchange"),
            button("userinfo", "Call userinfo"),
            button("logout", "Log out"),
            session.shown.as_ref().map(shown).unwrap_or_default(),
            report_table(&s.report),
            claims_table("id-token-claims", &s.id_token.claims),
        ),
    )
}

/// After RP-initiated logout, or when the session is gone.
pub fn logged_out(notice_text: Option<&str>, detail: &str, report: Option<&Report>) -> String {
    page(
        "Logged out",
        &format!(
            "<h1 id=\"logged-out\">You are logged out</h1>{}<p>{}</p>{}<p><a href=\"/\">Log in again</a></p>",
            notice(notice_text),
            esc(detail),
            report.map(report_table).unwrap_or_default()
        ),
    )
}

/// An error page with what to do.
pub fn error(title: &str, detail: &str) -> String {
    page(
        title,
        &format!(
            "<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p><p><a href=\"/\">Start again</a></p>",
            esc(title),
            esc(detail)
        ),
    )
}

/// The RP side of Session Management 1.0 (§4): the provider's `check_session_iframe`, hidden,
/// polled every 3 s with `client_id session_state`; on `changed` the page goes to
/// `/session-check` (a `prompt=none` re-check). The last answer is on `body[data-session]`.
pub fn session_poll(
    nonce: &str,
    iframe: &str,
    origin: &str,
    client_id: &str,
    session_state: &str,
) -> String {
    // JSON string literals, with `<` escaped so no value can close the script element.
    let js = |v: &str| {
        serde_json::to_string(v)
            .unwrap_or_else(|_| "\"\"".into())
            .replace('<', "\\u003c")
    };
    format!(
        "<iframe id=\"op-session\" src=\"{src}\" hidden title=\"session check\"></iframe>\
<script nonce=\"{nonce}\">(function(){{\
var op=document.getElementById('op-session'),origin={origin},msg={msg},timer;\
function poll(){{op.contentWindow.postMessage(msg,origin);}}\
window.addEventListener('message',function(e){{if(e.origin!==origin||e.source!==op.contentWindow){{return;}}\
document.body.dataset.session=e.data;\
if(e.data==='changed'){{clearInterval(timer);location.href='/session-check';}}}});\
op.addEventListener('load',function(){{poll();timer=setInterval(poll,3000);}});}})();</script>",
        src = esc(iframe),
        origin = js(origin),
        msg = js(&format!("{client_id} {session_state}")),
    )
}

/// The page at `/callback` for a response in the fragment: its script posts the fragment's
/// parameters to `/callback` (the fragment never reaches a server) and drops it from history.
pub fn fragment_relay(nonce: &str) -> String {
    page(
        "Completing the login",
        &format!(
            "<p>Completing the login…</p><script nonce=\"{nonce}\">{}</script>",
            crate::listener::FRAGMENT_RELAY_SCRIPT
        ),
    )
}
