//! The provider's HTML: login, consent, error and form_post pages. Plain forms, no
//! JavaScript needed (the form_post page submits itself when scripts run, and shows a button
//! when they do not). Every value is HTML-escaped.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Escape text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}\
button{margin-top:1rem;padding:.5rem 1.2rem;margin-right:.5rem}.error{color:#b00020;background:#fdecea;padding:.6rem;border-radius:4px}\
.muted{color:#666;font-size:.9rem}ul{padding-left:1.2rem}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        esc(title)
    )
}

/// An HTML response that must not be cached or framed by other sites.
pub fn html(status: StatusCode, body: String, cookies: &[String]) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors 'none'",
        ),
    );
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// The login form.
pub fn login(
    issuer: &str,
    client_name: &str,
    interaction: &str,
    username: &str,
    error: Option<&str>,
) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    page(
        "Sign in",
        &format!(
            "<h1>Sign in</h1><p class=\"muted\">to continue to <b>{}</b></p>{error}\
<form method=\"post\" action=\"{}/login\">\
<input type=\"hidden\" name=\"interaction\" value=\"{}\">\
<label for=\"username\">Username</label><input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" value=\"{}\" required autofocus>\
<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\">Sign in</button></form><p class=\"muted\">rp bundled provider · {}</p>",
            esc(client_name),
            esc(issuer),
            esc(interaction),
            esc(username),
            esc(issuer)
        ),
    )
}

/// The consent form.
pub fn consent(issuer: &str, client_name: &str, interaction: &str, scopes: &[String]) -> String {
    let items: String = scopes
        .iter()
        .map(|s| format!("<li>{}</li>", esc(s)))
        .collect();
    page(
        "Allow access?",
        &format!(
            "<h1>Allow access?</h1><p><b>{}</b> asks for:</p><ul>{items}</ul>\
<form method=\"post\" action=\"{}/consent\"><input type=\"hidden\" name=\"interaction\" value=\"{}\">\
<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
            esc(client_name),
            esc(issuer),
            esc(interaction)
        ),
    )
}

/// The device verification page (RFC 8628 §3.3): enter the code shown on the device.
pub fn device(issuer: &str, user_code: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    page(
        "Connect a device",
        &format!(
            "<h1>Connect a device</h1><p>Enter the code shown on your device.</p>{error}\
<form method=\"post\" action=\"{}/device\">\
<label for=\"user_code\">Code</label><input type=\"text\" id=\"user_code\" name=\"user_code\" autocomplete=\"one-time-code\" value=\"{}\" required autofocus>\
<button type=\"submit\">Continue</button></form><p class=\"muted\">Only enter a code that you got from a device you are setting up yourself.</p>",
            esc(issuer),
            esc(user_code)
        ),
    )
}

/// An error shown to the user (never redirected: the redirect URI could not be trusted).
pub fn error(title: &str, detail: &str) -> String {
    page(
        title,
        &format!(
            "<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p>",
            esc(title),
            esc(detail)
        ),
    )
}

/// A page without an error style.
pub fn error_free(title: &str, detail: &str) -> String {
    page(
        title,
        &format!("<h1>{}</h1><p>{}</p>", esc(title), esc(detail)),
    )
}

/// "Sign out?" when the logout request carries no valid `id_token_hint`.
pub fn confirm_logout(issuer: &str, params: &crate::op::Params) -> String {
    page(
        "Sign out?",
        &format!(
            "<h1>Sign out?</h1><p>Do you want to sign out of <b>{}</b>?</p>\
<form method=\"post\" action=\"{}/end_session\">{}\
<button type=\"submit\" name=\"confirm\" value=\"yes\">Sign out</button></form>",
            esc(issuer),
            esc(issuer),
            crate::logout::hidden_fields(params)
        ),
    )
}

/// The front-channel logout page: one iframe per client, then on to `next` once they loaded
/// (or after three seconds without scripts).
pub fn frontchannel(frames: &[String], next: &str) -> String {
    let iframes: String = frames
        .iter()
        .map(|f| {
            format!(
                "<iframe class=\"fc-logout\" src=\"{}\" onload=\"done()\" style=\"display:none\"></iframe>",
                esc(f)
            )
        })
        .collect();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Signing out…</title>\
<meta http-equiv=\"refresh\" content=\"3;url={next}\">\
<script>var left={n};function done(){{if(--left<=0)location.href={js};}}</script></head>\
<body><h1>Signing out…</h1><p>Signing you out of {n} application(s).</p>{iframes}\
<p><a href=\"{next}\">Continue</a></p></body></html>",
        next = esc(next),
        n = frames.len(),
        js = serde_json::to_string(next)
            .unwrap_or_else(|_| "\"/\"".into())
            .replace('<', "\\u003c"),
    )
}

/// The form_post response (OAuth 2.0 Form Post Response Mode §2).
pub fn form_post(action: &str, params: &[(&str, &str)]) -> String {
    let inputs: String = params
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            )
        })
        .collect();
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Submitting…</title></head>\
<body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"{}\">{inputs}\
<noscript><button type=\"submit\">Continue</button></noscript></form></body></html>",
        esc(action)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_interpolated() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let p = login("http://op", "<script>", "ix\"", "u", Some("<img src=x>"));
        assert!(!p.contains("<script>") && !p.contains("<img") && !p.contains("ix\""));
        assert!(p.contains("&lt;script&gt;") && p.contains("&lt;img src=x&gt;"));
    }
}
