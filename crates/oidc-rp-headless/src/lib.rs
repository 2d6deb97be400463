//! # oidc-rp-headless
//!
//! Headless login: drive a provider's plain HTML login form the way a browser would.
//!
//! Scripts and CI cannot click through a browser. This driver fetches the authorization URL
//! with a cookie jar, follows redirects itself (relative `Location`s included), parses each
//! page with a real HTML parser (`scraper`, html5ever), fills the form that has a password
//! field with the username and password, submits consent or "continue" forms with their
//! approving button, re-posts `form_post` auto-submit forms, and stops when a request goes to
//! the redirect URI, which it delivers like a browser would (so the RP's own listener receives
//! the callback). Nothing is specific to one provider.
//!
//! It does not run JavaScript: providers whose login page needs it need a real browser.

use http::Method;
use oidc_rp::error::{ConfigError, Error, LoginError, Result, display_url, truncate};
use oidc_rp::{AuthTransaction, CallbackParams, HttpClient, Login, RelyingParty, Secret};
use scraper::{ElementRef, Html, Selector};
use url::Url;

mod device;
pub use device::{DeviceDecision, approve_device};

/// Most pages a login may take.
pub const MAX_STEPS: usize = 30;

/// A cookie jar that can be saved and loaded (JSON), so that several runs share one provider
/// session (single sign-on, logout of every client of a session).
#[derive(Debug, Default)]
pub struct CookieJar(std::sync::RwLock<cookie_store::CookieStore>);

impl CookieJar {
    /// An empty jar.
    pub fn new() -> Self {
        Self::default()
    }

    /// A jar from [`CookieJar::to_json`]; expired cookies are dropped.
    pub fn from_json(json: &str) -> Result<Self> {
        cookie_store::serde::json::load(json.as_bytes())
            .map(|store| CookieJar(std::sync::RwLock::new(store)))
            .map_err(|e| Error::Config(ConfigError::CookieJar(format!("is not readable: {e}"))))
    }

    /// Every cookie, session cookies included, as JSON: a saved jar stands for one browser
    /// session that later runs continue (a provider's session cookie usually has no expiry,
    /// and logging out without it fails with "missing cookie"). Expired cookies are dropped
    /// when the jar is loaded.
    pub fn to_json(&self) -> Result<String> {
        let mut out = Vec::new();
        let store = self.0.read().unwrap_or_else(|p| p.into_inner());
        cookie_store::serde::json::save_incl_expired_and_nonpersistent(&store, &mut out)
            .map_err(|e| ConfigError::CookieJar(format!("cannot be serialised: {e}")))?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

impl CookieJar {
    /// Store the cookies of `Set-Cookie` headers received from `url`.
    pub fn set_cookies(&self, headers: &mut dyn Iterator<Item = &http::HeaderValue>, url: &Url) {
        let cookies = headers.filter_map(|v| {
            let s = std::str::from_utf8(v.as_bytes()).ok()?;
            cookie_store::RawCookie::parse(s)
                .ok()
                .map(|c| c.into_owned())
        });
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .store_response_cookies(cookies, url);
    }

    /// The `Cookie` header to send to `url`.
    pub fn cookies(&self, url: &Url) -> Option<http::HeaderValue> {
        let joined = self
            .0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        (!joined.is_empty())
            .then(|| http::HeaderValue::from_str(&joined).ok())
            .flatten()
    }
}

/// A headless browser: the library's HTTP client (its TLS settings and connection pool) and
/// a cookie jar of its own. Browsers made from one [`HttpClient`] share connections, as tabs
/// of one browser do, but never cookies.
#[derive(Debug, Clone)]
pub struct Browser {
    http: HttpClient,
    jar: std::sync::Arc<CookieJar>,
}

impl Browser {
    /// A browser with an empty jar.
    pub fn new(http: &HttpClient) -> Result<Browser> {
        Browser::with_jar(http, std::sync::Arc::new(CookieJar::new()))
    }

    /// A browser using `jar` (loaded from an earlier run, for instance).
    pub fn with_jar(http: &HttpClient, jar: std::sync::Arc<CookieJar>) -> Result<Browser> {
        Ok(Browser {
            http: http.clone(),
            jar,
        })
    }

    /// The cookie jar.
    pub fn jar(&self) -> &std::sync::Arc<CookieJar> {
        &self.jar
    }

    /// POST a form with the jar's cookies, as a page's script would (`fetch` with
    /// credentials), and return the status and the body; the response's cookies are stored.
    pub async fn post_form(
        &self,
        url: &Url,
        form: &[(String, String)],
    ) -> Result<(http::StatusCode, String)> {
        let (status, _, body) = self.fetch(Method::POST, url, form).await?;
        Ok((status, body))
    }

    /// Send one request with the jar's cookies, store the response's cookies, and return
    /// (status, Location, body). It goes through [`HttpClient::execute`] like every request
    /// of this crate: the response size cap (a hostile login page cannot stall a run with an
    /// endless body), the timeouts, and the redacted tracing.
    async fn fetch(
        &self,
        method: Method,
        url: &Url,
        form: &[(String, String)],
    ) -> Result<(http::StatusCode, Option<String>, String)> {
        let request = self.request(method, url, form)?;
        let response = self.http.execute(request).await?;
        let status = response.status();
        let headers = response.headers();
        self.jar
            .set_cookies(&mut headers.get_all(http::header::SET_COOKIE).iter(), url);
        let location = headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = String::from_utf8_lossy(response.body()).into_owned();
        Ok((status, location, body))
    }

    /// The request a browser would send: its cookies, and a form body for POST. Built in a
    /// plain function: the form serializer is not `Send` and must not live across an await.
    fn request(
        &self,
        method: Method,
        url: &Url,
        form: &[(String, String)],
    ) -> Result<http::Request<Vec<u8>>> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(url.as_str())
            .header(
                http::header::ACCEPT,
                "text/html,application/xhtml+xml,*/*;q=0.8",
            );
        if let Some(cookies) = self.jar.cookies(url) {
            request = request.header(http::header::COOKIE, cookies);
        }
        let body = if form.is_empty() {
            Vec::new()
        } else {
            request = request.header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            );
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.iter())
                .finish()
                .into_bytes()
        };
        request.body(body).map_err(|e| Error::InvalidUrl {
            url: display_url(url.as_str()),
            reason: e.to_string(),
        })
    }
}

/// Username and password for the provider's form.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The username (or e-mail).
    pub username: String,
    /// The password.
    pub password: Secret,
}

/// How the drive ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The request that reached the redirect URI (with its query; contains the code).
    pub callback_url: Secret,
    /// The status the redirect URI answered.
    pub status: u16,
    /// The body the redirect URI answered (the RP's own page).
    pub body: String,
    /// Pages visited.
    pub steps: usize,
}

#[derive(Debug)]
struct Step {
    method: Method,
    url: Url,
    form: Vec<(String, String)>,
}

#[derive(Debug)]
enum Action {
    Submit(Step, FormKind),
    Follow(Url),
    Fail(LoginError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormKind {
    Login,
    Other,
}

fn same_endpoint(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

/// Where a walk arrived: the request the browser would now send to the redirect URI.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// `GET` (query response) or `POST` (form_post response).
    pub method: Method,
    /// The URL (with the query for GET; it holds the code).
    pub url: Url,
    /// The form fields for POST.
    pub form: Vec<(String, String)>,
    /// Pages visited.
    pub steps: usize,
}

impl Arrival {
    /// The response parameters, form-encoded: the form of a POST, the fragment of a GET
    /// that has one (the implicit and hybrid default, which a browser keeps to itself and
    /// this driver reads from the redirect), else its query.
    pub fn params(&self) -> Vec<u8> {
        if self.method == Method::POST {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(self.form.iter())
                .finish()
                .into_bytes()
        } else if let Some(fragment) = self.url.fragment().filter(|f| !f.is_empty()) {
            fragment.as_bytes().to_vec()
        } else {
            self.url.query().unwrap_or("").as_bytes().to_vec()
        }
    }
}

/// Walk the provider's pages headless from `url` (an authorization URL of `txn`) to the
/// transaction's redirect URI, then complete the login in-process: no listener, the response
/// goes straight to [`RelyingParty::complete`]. For load generators, conformance runs and
/// tests; a CLI that must receive the redirect uses [`drive`].
///
/// ```no_run
/// # async fn f(rp: &oidc_rp::RelyingParty, http: &oidc_rp::HttpClient) -> oidc_rp::Result<()> {
/// use oidc_rp_headless::{Browser, Credentials, complete};
/// let (url, txn) = rp.authorization_url(
///     &oidc_rp::AuthorizationRequest::with_scopes(["openid"]),
///     "http://127.0.0.1:9/callback",
/// )?;
/// let creds = Credentials { username: "alice".into(), password: "wonderland".into() };
/// let login = complete(rp, &Browser::new(http)?, &url, &txn, Some(&creds)).await?;
/// println!("{}", login.id_token.subject);
/// # Ok(()) }
/// ```
pub async fn complete(
    rp: &RelyingParty,
    browser: &Browser,
    url: &Url,
    txn: &AuthTransaction,
    credentials: Option<&Credentials>,
) -> Result<Login> {
    let arrival = walk(browser, url, &txn.redirect_uri, credentials).await?;
    rp.complete(txn, &CallbackParams::parse(&arrival.params())?)
        .await
}

/// Drive the pages from `start` until a request goes to `redirect_uri`, and send it (so the
/// RP's own listener receives it). A login form is filled with `credentials`; without them, a
/// login form is an error.
pub async fn drive(
    browser: &Browser,
    start: &Url,
    redirect_uri: &str,
    credentials: Option<&Credentials>,
) -> Result<Outcome> {
    let mut arrival = walk(browser, start, redirect_uri, credentials).await?;
    // A response in the fragment (the implicit and hybrid types): a browser keeps it, and the
    // redirect URI's page posts it back; this driver posts it itself.
    if arrival.method == Method::GET
        && let Some(fragment) = arrival.url.fragment().filter(|f| !f.is_empty())
    {
        arrival.form = url::form_urlencoded::parse(fragment.as_bytes())
            .into_owned()
            .collect();
        arrival.method = Method::POST;
        arrival.url.set_fragment(None);
    }
    let (status, _, body) = browser
        .fetch(arrival.method.clone(), &arrival.url, &arrival.form)
        .await?;
    Ok(Outcome {
        callback_url: Secret::new(arrival.url.to_string()),
        status: status.as_u16(),
        body,
        steps: arrival.steps + 1,
    })
}

/// Drive the pages from `start` and stop before the request to `redirect_uri`, returning it
/// (for callers that handle the response in-process).
pub async fn walk(
    browser: &Browser,
    start: &Url,
    redirect_uri: &str,
    credentials: Option<&Credentials>,
) -> Result<Arrival> {
    let redirect = Url::parse(redirect_uri).map_err(|e| Error::InvalidUrl {
        url: display_url(redirect_uri),
        reason: e.to_string(),
    })?;
    let mut step = Step {
        method: Method::GET,
        url: start.clone(),
        form: Vec::new(),
    };
    let mut logins = 0;
    let mut others = 0;
    for n in 1..=MAX_STEPS {
        if same_endpoint(&step.url, &redirect) {
            return Ok(Arrival {
                method: step.method,
                url: step.url,
                form: step.form,
                steps: n - 1,
            });
        }
        let (status, location, body) = browser
            .fetch(step.method.clone(), &step.url, &step.form)
            .await?;
        if status.is_redirection() {
            let Some(location) = location else {
                return Err(LoginError::Unsupported {
                    url: display_url(step.url.as_str()),
                    reason: format!("HTTP {} without a Location", status.as_u16()),
                }
                .into());
            };
            let next = step.url.join(&location).map_err(|e| Error::InvalidUrl {
                url: truncate(&location, 200),
                reason: e.to_string(),
            })?;
            let keep = matches!(status.as_u16(), 307 | 308);
            step = Step {
                method: if keep { step.method } else { Method::GET },
                url: next,
                form: if keep { step.form } else { Vec::new() },
            };
            continue;
        }
        if !status.is_success() {
            // A login form that comes back with an error status (401, 400, 422: providers
            // differ) is still the login form coming back; anything else is an error page.
            let doc = Html::parse_document(&body);
            if logins == 0 || FormIndex::build(&doc).login_form().is_none() {
                let message = message_in(&doc);
                let url = display_url(step.url.as_str());
                let status = status.as_u16();
                if message.as_deref().is_some_and(mentions_redirect_uri) {
                    return Err(LoginError::RedirectUriRefused {
                        url,
                        status,
                        message,
                        redirect_uri: redirect_uri.to_string(),
                    }
                    .into());
                }
                return Err(LoginError::HttpStatus {
                    url,
                    status,
                    message,
                }
                .into());
            }
        }
        // A browser loads the page's iframes (front-channel logout pages are made of them).
        for frame in frame_sources(&step.url, &body) {
            let _ = browser.fetch(Method::GET, &frame, &[]).await;
        }
        match next_action(&step.url, &body, &redirect, credentials, logins > 0) {
            Action::Submit(next, kind) => {
                match kind {
                    FormKind::Login => logins += 1,
                    FormKind::Other => others += 1,
                }
                if others > 5 {
                    return Err(LoginError::Unsupported {
                        url: display_url(step.url.as_str()),
                        reason: "more than five forms without a login or a redirect".into(),
                    }
                    .into());
                }
                step = next;
            }
            Action::Follow(url) => {
                step = Step {
                    method: Method::GET,
                    url,
                    form: Vec::new(),
                }
            }
            Action::Fail(e) => return Err(e.into()),
        }
    }
    Err(LoginError::TooManySteps(MAX_STEPS).into())
}

/// A compiled selector, parsed once per process: the selectors are the literals of this
/// file (a fixed, small set), and compiling them on every page showed in profiles of
/// `rp bench`. A typo fails every test.
fn sel(s: &'static str) -> &'static Selector {
    type Compiled = std::collections::HashMap<&'static str, &'static Selector>;
    static CACHE: std::sync::OnceLock<std::sync::RwLock<Compiled>> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.read().unwrap_or_else(|p| p.into_inner()).get(s) {
        return found;
    }
    let compiled: &'static Selector = Box::leak(Box::new(
        Selector::parse(s).unwrap_or_else(|_| panic!("bad selector {s}")),
    ));
    cache
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .entry(s)
        .or_insert(compiled)
}

/// Markup that providers put their error messages in (Keycloak, Django, Spring, Bootstrap
/// themes, ours, and ARIA alerts).
const ERROR_MARKUP: &[&str] = &[
    "[role=alert]",
    ".error",
    "#error",
    ".errors",
    ".errorlist",
    ".error-message",
    ".error_description",
    "#error_description",
    ".alert-danger",
    ".alert-error",
    ".alert",
    ".kc-feedback-text",
    "#input-error",
];

/// What an error page says, for an error message: its error markup when it has some; else its
/// headings, preformatted lines and first paragraphs (oidc-provider's default error page puts
/// `error: invalid_redirect_uri` in `<pre>`, django-oauth-toolkit its reason in `<h2>` and
/// `<p>`); else its title. Whitespace collapsed, control characters dropped, truncated.
fn message_in(doc: &Html) -> Option<String> {
    let text = |e: ElementRef<'_>| {
        e.text()
            .collect::<Vec<_>>()
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let Some(found) = ERROR_MARKUP
        .iter()
        .find_map(|s| doc.select(sel(s)).map(text).find(|t| !t.is_empty()))
    {
        return Some(truncate(&found, 300));
    }
    let mut parts: Vec<String> = Vec::new();
    for e in doc.select(sel("h1, h2, h3, pre, p")) {
        let t = text(e);
        if !t.is_empty() && !parts.contains(&t) {
            parts.push(t);
        }
        if parts.len() == 4 {
            break;
        }
    }
    if !parts.is_empty() {
        return Some(truncate(&parts.join(": "), 300));
    }
    doc.select(sel("title"))
        .map(text)
        .find(|t| !t.is_empty())
        .map(|t| truncate(&t, 300))
}

/// Whether an error page is about the redirect URI (`invalid_redirect_uri`,
/// `redirect_uri_mismatch`, "Mismatching redirect URI", ...).
fn mentions_redirect_uri(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("redirect_uri") || m.contains("redirect uri") || m.contains("redirect url")
}

fn attr<'a>(e: &'a ElementRef<'_>, name: &str) -> Option<&'a str> {
    e.value().attr(name)
}

const APPROVE: &[&str] = &[
    "approve",
    "allow",
    "accept",
    "confirm",
    "yes",
    "continue",
    "authorize",
    "authorise",
    "grant",
    "consent",
    "submit",
    "ok",
    "sign in",
    "log in",
    "login",
    "next",
];
const DENY: &[&str] = &["deny", "cancel", "reject", "decline", "abort", "no"];

fn score(text: &str) -> i32 {
    let t = text.to_lowercase();
    if DENY
        .iter()
        .any(|w| t.split(|c: char| !c.is_alphanumeric()).any(|x| x == *w))
    {
        -1
    } else if APPROVE.iter().any(|w| t.contains(w)) {
        2
    } else {
        1
    }
}

fn next_action(
    page: &Url,
    body: &str,
    redirect: &Url,
    credentials: Option<&Credentials>,
    credentials_sent: bool,
) -> Action {
    let doc = Html::parse_document(body);
    let index = FormIndex::build(&doc);

    // A login form: fill it, unless it came back after the credentials were sent.
    if let Some(form) = index.login_form() {
        if credentials_sent {
            return Action::Fail(LoginError::Rejected {
                message: message_in(&doc),
            });
        }
        let Some(credentials) = credentials else {
            return Action::Fail(LoginError::Unsupported {
                url: display_url(page.as_str()),
                reason: "the provider asks for a login and no credentials were given".into(),
            });
        };
        return match build_submission(page, &index, form, Some(credentials), Fill::default()) {
            Ok(step) => Action::Submit(step, FormKind::Login),
            Err(e) => Action::Fail(e),
        };
    }
    // A form_post response or a consent / continue form: submit it, approving.
    if let Some(form) = index
        .forms
        .iter()
        .position(|f| form_target(page, f).is_some_and(|u| same_endpoint(&u, redirect)))
        .or_else(|| (0..index.forms.len()).max_by_key(|i| index.score(*i)))
    {
        return match build_submission(page, &index, form, None, Fill::default()) {
            Ok(step) => Action::Submit(step, FormKind::Other),
            Err(e) => Action::Fail(e),
        };
    }
    // <meta http-equiv="refresh" content="0; url=...">
    for meta in doc.select(sel("meta[http-equiv]")) {
        if attr(&meta, "http-equiv").is_some_and(|v| v.eq_ignore_ascii_case("refresh"))
            && let Some(content) = attr(&meta, "content")
            && let Some(pos) = content.to_ascii_lowercase().find("url=")
            && let Ok(url) = page.join(content[pos + 4..].trim().trim_matches(['\'', '"']))
        {
            return Action::Follow(url);
        }
    }
    let message = message_in(&doc);
    if message.as_deref().is_some_and(mentions_redirect_uri) {
        return Action::Fail(LoginError::RedirectUriRefused {
            url: display_url(page.as_str()),
            status: 200,
            message,
            redirect_uri: redirect.to_string(),
        });
    }
    Action::Fail(LoginError::Unsupported {
        url: display_url(page.as_str()),
        reason: match message {
            Some(m) => format!("the page has no form (it says \"{m}\")"),
            None => "the page has no form".into(),
        },
    })
}

/// Every form of a page with its controls, found in one walk of the document, so choosing a
/// form costs time linear in the page (scoring each form by searching the whole document
/// for its buttons made a page of 4,000 forms take 39 s).
///
/// A control belongs to its form owner (HTML Living Standard §4.10.17.3): the form its `form`
/// attribute names by id (oidc-provider's logout page puts its buttons outside the form this
/// way), else its nearest ancestor form.
struct FormIndex<'a> {
    forms: Vec<ElementRef<'a>>,
    /// Per form, its controls (input, select, textarea, button) in document order.
    controls: Vec<Vec<ElementRef<'a>>>,
}

impl<'a> FormIndex<'a> {
    fn build(doc: &'a Html) -> FormIndex<'a> {
        use ego_tree::iter::Edge;
        let mut forms: Vec<ElementRef<'a>> = Vec::new();
        let mut by_id: std::collections::HashMap<&'a str, usize> = Default::default();
        // Controls whose `form` attribute names a form that may come later in the page.
        let mut pending: Vec<(&'a str, usize, ElementRef<'a>)> = Vec::new();
        let mut controls: Vec<Vec<(usize, ElementRef<'a>)>> = Vec::new();
        // The forms enclosing the current node (the parser never nests forms, but a
        // scripted DOM may): the innermost owns.
        let mut open: Vec<(ego_tree::NodeId, usize)> = Vec::new();
        for (order, edge) in doc.tree.root().traverse().enumerate() {
            match edge {
                Edge::Open(node) => {
                    let Some(element) = ElementRef::wrap(node) else {
                        continue;
                    };
                    match element.value().name() {
                        "form" => {
                            let i = forms.len();
                            forms.push(element);
                            controls.push(Vec::new());
                            if let Some(id) = element.value().attr("id").filter(|id| !id.is_empty())
                            {
                                by_id.entry(id).or_insert(i);
                            }
                            open.push((node.id(), i));
                        }
                        "input" | "select" | "textarea" | "button" => {
                            match element.value().attr("form") {
                                Some(owner) => pending.push((owner, order, element)),
                                None => {
                                    if let Some((_, i)) = open.last() {
                                        controls[*i].push((order, element));
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                }
                Edge::Close(node) => {
                    if open.last().is_some_and(|(id, _)| *id == node.id()) {
                        open.pop();
                    }
                }
            }
        }
        for (owner, order, element) in pending {
            if let Some(i) = by_id.get(owner) {
                controls[*i].push((order, element));
            }
        }
        // Document order within each form (re-associated controls were appended).
        let controls = controls
            .into_iter()
            .map(|mut list| {
                list.sort_by_key(|(order, _)| *order);
                list.into_iter().map(|(_, e)| e).collect()
            })
            .collect();
        FormIndex { forms, controls }
    }

    /// The first form with a password field.
    fn login_form(&self) -> Option<usize> {
        self.controls.iter().position(|list| {
            list.iter().any(|c| {
                c.value().name() == "input"
                    && attr(c, "type").is_some_and(|t| t.eq_ignore_ascii_case("password"))
            })
        })
    }

    /// How much a form looks like one to approve: its best button's score.
    fn score(&self, form: usize) -> i32 {
        self.buttons(form)
            .iter()
            .map(|(_, _, label)| score(label))
            .max()
            .unwrap_or(0)
    }

    /// Submit buttons: (name, value, label).
    fn buttons(&self, form: usize) -> Vec<(Option<String>, String, String)> {
        let mut out = Vec::new();
        for b in &self.controls[form] {
            let tag = b.value().name();
            let kind = attr(b, "type").unwrap_or(if tag == "button" { "submit" } else { "text" });
            let is_submit = match tag {
                "button" => kind.eq_ignore_ascii_case("submit"),
                "input" => {
                    kind.eq_ignore_ascii_case("submit") || kind.eq_ignore_ascii_case("image")
                }
                _ => false,
            };
            if !is_submit {
                continue;
            }
            let value = attr(b, "value").unwrap_or("").to_string();
            let text: String = b.text().collect::<Vec<_>>().join(" ");
            let label = format!("{value} {text} {}", attr(b, "name").unwrap_or(""));
            out.push((attr(b, "name").map(str::to_string), value, label));
        }
        out
    }
}

/// For the fuzz targets (`fuzz/`): what the driver makes of an arbitrary page at `page`
/// (its next step with and without credentials sent, its frames, its error message). Not
/// part of the API.
#[doc(hidden)]
pub fn fuzz_page(page: &Url, body: &str) -> usize {
    let redirect = Url::parse("http://127.0.0.1/callback").expect("a fixed URL");
    let who = Credentials {
        username: "alice".into(),
        password: Secret::new("wonderland"),
    };
    let mut seen = 0;
    for sent in [false, true] {
        if let Action::Submit(step, _) = next_action(page, body, &redirect, Some(&who), sent) {
            seen += step.form.len();
        }
    }
    seen += frame_sources(page, body).len();
    seen + message_in(&Html::parse_document(body)).map_or(0, |m| m.len())
}

/// The `src` of every iframe of a page.
fn frame_sources(page: &Url, body: &str) -> Vec<Url> {
    if !body.contains("<iframe") {
        return Vec::new();
    }
    Html::parse_document(body)
        .select(sel("iframe[src]"))
        .filter_map(|f| attr(&f, "src").and_then(|src| page.join(src).ok()))
        .collect()
}

fn form_target(page: &Url, form: &ElementRef<'_>) -> Option<Url> {
    match attr(form, "action") {
        None | Some("") => Some(page.clone()),
        Some(action) => page.join(action).ok(),
    }
}

/// What to put in a form besides credentials, and which button to press.
#[derive(Debug, Clone, Copy, Default)]
struct Fill<'a> {
    /// A device login's user code, for an empty text field named for a code.
    user_code: Option<&'a str>,
    /// Press the refusing button instead of the approving one.
    deny: bool,
}

fn build_submission(
    page: &Url,
    index: &FormIndex<'_>,
    form_index: usize,
    credentials: Option<&Credentials>,
    fill: Fill<'_>,
) -> std::result::Result<Step, LoginError> {
    let form = &index.forms[form_index];
    let target = form_target(page, form).ok_or_else(|| LoginError::Unsupported {
        url: display_url(page.as_str()),
        reason: "the form's action is not a valid URL".into(),
    })?;
    let method = if attr(form, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")) {
        Method::POST
    } else {
        Method::GET
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut username_slot: Option<usize> = None;
    let mut first_text: Option<usize> = None;
    for input in index.controls[form_index]
        .iter()
        .filter(|c| c.value().name() != "button")
    {
        let Some(name) = attr(input, "name") else {
            continue;
        };
        if attr(input, "disabled").is_some() {
            continue;
        }
        let tag = input.value().name();
        let kind = attr(input, "type").unwrap_or("text").to_ascii_lowercase();
        let value = match tag {
            "select" => input
                .select(sel("option[selected]"))
                .next()
                .or_else(|| input.select(sel("option")).next())
                .map(|o| {
                    attr(&o, "value")
                        .map(str::to_string)
                        .unwrap_or_else(|| o.text().collect())
                })
                .unwrap_or_default(),
            "textarea" => input.text().collect(),
            _ => match kind.as_str() {
                "submit" | "image" | "button" | "reset" | "file" => continue,
                "checkbox" | "radio" => {
                    if attr(input, "checked").is_none() {
                        continue;
                    }
                    attr(input, "value").unwrap_or("on").to_string()
                }
                "password" => credentials
                    .map(|c| c.password.expose().to_string())
                    .unwrap_or_default(),
                _ => attr(input, "value").unwrap_or("").to_string(),
            },
        };
        let idx = fields.len();
        let value = match fill.user_code {
            Some(code)
                if value.is_empty()
                    && tag == "input"
                    && matches!(kind.as_str(), "text" | "")
                    && name.to_ascii_lowercase().contains("code") =>
            {
                code.to_string()
            }
            _ => value,
        };
        fields.push((name.to_string(), value));
        if tag == "input" && matches!(kind.as_str(), "text" | "email" | "tel" | "") {
            first_text.get_or_insert(idx);
            let hints = [
                name,
                attr(input, "id").unwrap_or(""),
                attr(input, "autocomplete").unwrap_or(""),
            ]
            .join(" ")
            .to_lowercase();
            if username_slot.is_none()
                && [
                    "user",
                    "login",
                    "email",
                    "mail",
                    "account",
                    "identifier",
                    "uname",
                ]
                .iter()
                .any(|h| hints.contains(h))
            {
                username_slot = Some(idx);
            }
        }
    }
    if let Some(credentials) = credentials {
        let slot = username_slot
            .or(first_text)
            .ok_or_else(|| LoginError::Unsupported {
                url: display_url(page.as_str()),
                reason: "the login form has a password field but no username field".into(),
            })?;
        fields[slot].1 = credentials.username.clone();
    }
    let buttons = index.buttons(form_index).into_iter();
    let chosen = if fill.deny {
        buttons.min_by_key(|(_, _, label)| score(label))
    } else {
        buttons.max_by_key(|(_, _, label)| score(label))
    };
    if let Some((Some(name), value, _)) = chosen {
        fields.push((name, value));
    }
    if method == Method::GET {
        let mut url = target;
        url.query_pairs_mut().extend_pairs(fields.iter());
        return Ok(Step {
            method,
            url,
            form: Vec::new(),
        });
    }
    Ok(Step {
        method,
        url: target,
        form: fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            username: "alice".into(),
            password: Secret::new("wonderland"),
        }
    }

    fn page() -> Url {
        Url::parse("https://op.example/interaction/abc").unwrap()
    }

    fn redirect() -> Url {
        Url::parse("http://127.0.0.1:5000/callback").unwrap()
    }

    #[test]
    fn fills_a_login_form() {
        let html = r#"<form method="post" action="/login">
            <input type="hidden" name="ix" value="42">
            <label>Email <input name="email" type="email"></label>
            <input type="password" name="pw">
            <input type="checkbox" name="remember">
            <button type="submit" name="op" value="login">Sign in</button></form>"#;
        let Action::Submit(step, FormKind::Login) =
            next_action(&page(), html, &redirect(), Some(&creds()), false)
        else {
            panic!()
        };
        assert_eq!(step.method, Method::POST);
        assert_eq!(step.url.as_str(), "https://op.example/login");
        assert_eq!(
            step.form,
            vec![
                ("ix".into(), "42".into()),
                ("email".into(), "alice".into()),
                ("pw".into(), "wonderland".into()),
                ("op".into(), "login".into())
            ]
        );
    }

    #[test]
    fn login_form_again_means_rejected() {
        let html = r#"<p class="error">Invalid username or password.</p>
            <form method="post"><input name="username"><input type="password" name="password"></form>"#;
        match next_action(&page(), html, &redirect(), Some(&creds()), true) {
            Action::Fail(LoginError::Rejected { message }) => {
                assert_eq!(message.as_deref(), Some("Invalid username or password."))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn consent_picks_the_approving_button() {
        let html = r#"<form method="post" action="/consent">
            <input type="hidden" name="ix" value="1">
            <button name="decision" value="deny">Deny</button>
            <button name="decision" value="allow">Allow</button></form>"#;
        let Action::Submit(step, FormKind::Other) =
            next_action(&page(), html, &redirect(), Some(&creds()), true)
        else {
            panic!()
        };
        assert!(step.form.contains(&("decision".into(), "allow".into())));
        assert!(!step.form.contains(&("decision".into(), "deny".into())));
    }

    #[test]
    fn controls_owned_through_the_form_attribute_count() {
        // The shape of oidc-provider's logout confirmation page.
        let html = r#"<form id="op.logoutForm" method="post" action="/session/end/confirm">
            <input type="hidden" name="xsrf" value="x1"></form>
            <input type="hidden" name="stray" value="not-ours" form="other">
            <button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
            <button type="submit" form="op.logoutForm">No, stay signed in</button>"#;
        let Action::Submit(step, FormKind::Other) =
            next_action(&page(), html, &redirect(), None, false)
        else {
            panic!()
        };
        assert_eq!(step.url.as_str(), "https://op.example/session/end/confirm");
        assert_eq!(
            step.form,
            vec![
                ("xsrf".into(), "x1".into()),
                ("logout".into(), "yes".into())
            ]
        );
    }

    #[test]
    fn form_post_response_is_reposted() {
        let html = r#"<body onload="document.forms[0].submit()">
            <form method="post" action="http://127.0.0.1:5000/callback">
            <input type="hidden" name="code" value="c"><input type="hidden" name="state" value="s">
            <noscript><button>Continue</button></noscript></form></body>"#;
        let Action::Submit(step, _) = next_action(&page(), html, &redirect(), Some(&creds()), true)
        else {
            panic!()
        };
        assert!(same_endpoint(&step.url, &redirect()));
        assert!(step.form.contains(&("code".into(), "c".into())));
    }

    #[test]
    fn choosing_among_thousands_of_forms_is_linear() {
        // A hostile page of 4,000 <form><button> pairs (227 KB) took 39 s when each form was
        // scored by searching the whole page for its buttons. Linear now: the bound below is
        // two orders of magnitude above what it takes, and far below what quadratic takes.
        let page_of = |n: usize| {
            let mut html = String::with_capacity(n * 60);
            for i in 0..n {
                html.push_str(&format!(
                    "<form action=\"/f{i}\"><button name=\"b\" value=\"{i}\">Go</button></form>"
                ));
            }
            html
        };
        let started = std::time::Instant::now();
        let html = page_of(4000);
        let Action::Submit(step, FormKind::Other) =
            next_action(&page(), &html, &redirect(), None, false)
        else {
            panic!()
        };
        assert!(step.url.path().starts_with("/f"), "{}", step.url);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_saved_jar_keeps_session_cookies() {
        // idpy-oidc's session cookie has no expiry: a jar that saved only persistent cookies
        // came back empty, and the end-session endpoint answered "Missing cookie".
        let jar = CookieJar::new();
        let url = Url::parse("https://op.example/session").unwrap();
        let headers = [
            http::HeaderValue::from_static("sid=abc; Path=/; HttpOnly"),
            http::HeaderValue::from_static("pref=1; Path=/; Max-Age=3600"),
            http::HeaderValue::from_static("gone=1; Path=/; Max-Age=0"),
        ];
        jar.set_cookies(&mut headers.iter(), &url);
        let again = CookieJar::from_json(&jar.to_json().unwrap()).unwrap();
        let sent = again.cookies(&url).unwrap();
        let sent = sent.to_str().unwrap();
        assert!(
            sent.contains("sid=abc") && sent.contains("pref=1"),
            "{sent}"
        );
        assert!(!sent.contains("gone"), "{sent}");
    }

    #[test]
    fn pages_without_forms_are_reported() {
        match next_action(
            &page(),
            "<h1>Something broke</h1>",
            &redirect(),
            Some(&creds()),
            false,
        ) {
            Action::Fail(LoginError::Unsupported { reason, .. }) => {
                assert!(reason.contains("Something broke"))
            }
            other => panic!("{other:?}"),
        }
        match next_action(
            &page(),
            r#"<meta http-equiv="refresh" content="0; url=/next">"#,
            &redirect(),
            Some(&creds()),
            false,
        ) {
            Action::Follow(u) => assert_eq!(u.as_str(), "https://op.example/next"),
            other => panic!("{other:?}"),
        }
    }
}
