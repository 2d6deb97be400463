// panva's oidc-provider, configured for rp's interop tests.
//
// Usage: node server.mjs [--port N] [--exit-with-stdin]
// Listens on 127.0.0.1 (an ephemeral port by default) and prints one line on stdout,
// `issuer http://127.0.0.1:<port>`, once it accepts connections. It stops on SIGTERM or
// SIGINT, and with --exit-with-stdin also when its stdin closes (the Rust tests hold a pipe,
// so a test process that dies, however it dies, takes its provider along).
//
// What it configures (everything else is oidc-provider's default):
// - the users of ../../fixtures/users.json, checked by an HTML login form of our own, and a
//   consent form (the default interaction policy: login, then consent);
// - a static confidential client `rp-static` (client_secret_basic; code, refresh_token,
//   client_credentials and token exchange) and a static public client `rp-public` (none,
//   PKCE); both native, so any loopback port is accepted for http://127.0.0.1/callback
//   (RFC 8252 §7.3);
// - open dynamic registration (RFC 7591), introspection, revocation, client credentials,
//   RP-initiated and back-channel logout, refresh tokens, PKCE S256 required;
// - RFC 8693 token exchange, registered with provider.registerGrantType;
// - the device authorization grant (RFC 8628) for rp-static, with a 1 s polling interval;
// - pushed authorization requests (RFC 9126) and DPoP (RFC 9449) with nonces required;
// - JARM (query.jwt, form_post.jwt);
// - request objects by value and by reference (RFC 9101), for the client `rp-jar`;
// - the hybrid and implicit response types, for the client `rp-hybrid`;
// - outgoing requests (back-channel logout) to loopback hosts only;
// - with INTEROP_TLS_CERT and INTEROP_TLS_KEY (PEM files), HTTPS instead of HTTP, client
//   certificates requested, and mutual TLS (RFC 8705): certificate-bound tokens, and two
//   more clients, `rp-mtls-pki` (tls_client_auth: a certificate from the CA in
//   INTEROP_CLIENT_CA with the subject CN=rp-mtls-pki) and `rp-mtls-self`
//   (self_signed_tls_client_auth with the certificate in INTEROP_SELF_SIGNED_CERT).
//
// OIDC_PROVIDER_MODULE=<path to an oidc-provider entry file> runs the same configuration on
// another installed version (benches/providers.sh uses it for the 9.x line, which warns on
// Node 20 but runs); by default the version pinned in package-lock.json next to this file.

import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as dns from 'node:dns';
import { pathToFileURL } from 'node:url';

const { default: Provider, errors } = await import(
  process.env.OIDC_PROVIDER_MODULE
    ? pathToFileURL(process.env.OIDC_PROVIDER_MODULE).href
    : 'oidc-provider'
);

const here = new URL('.', import.meta.url);
const fixtures = new URL('../../fixtures/', here);

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
const exitWithStdin = process.argv.includes('--exit-with-stdin');

const users = JSON.parse(readFileSync(new URL('users.json', fixtures), 'utf8'));

function signingKey(file, kid, alg) {
  const jwk = createPrivateKey(readFileSync(new URL(file, fixtures))).export({ format: 'jwk' });
  return { ...jwk, kid, use: 'sig', alg };
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', '::1', 'localhost']);
const isLoopbackAddress = (a) => a === '::1' || a.startsWith('127.');

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
const TT = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  refresh_token: 'urn:ietf:params:oauth:token-type:refresh_token',
};

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Mutual TLS, when the test gives a server certificate.
const tls = process.env.INTEROP_TLS_CERT
  ? {
    cert: readFileSync(process.env.INTEROP_TLS_CERT),
    key: readFileSync(process.env.INTEROP_TLS_KEY),
    ca: readFileSync(process.env.INTEROP_CLIENT_CA),
    selfSigned: new X509Certificate(readFileSync(process.env.INTEROP_SELF_SIGNED_CERT)),
  }
  : null;

function mtlsClients() {
  if (!tls) return [];
  const common = {
    application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
    tls_client_certificate_bound_access_tokens: true,
  };
  const jwk = tls.selfSigned.publicKey.export({ format: 'jwk' });
  return [
    {
      ...common,
      client_id: 'rp-mtls-pki',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: 'CN=rp-mtls-pki',
    },
    {
      ...common,
      client_id: 'rp-mtls-self',
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks: { keys: [{ ...jwk, x5c: [tls.selfSigned.raw.toString('base64')] }] },
    },
  ];
}

const mTLS = {
  enabled: !!tls,
  certificateBoundAccessTokens: true,
  selfSignedTlsClientAuth: true,
  tlsClientAuth: true,
  getCertificate: (ctx) => ctx.socket.getPeerX509Certificate?.(),
  // Chained to INTEROP_CLIENT_CA (the TLS layer checked it, without refusing others).
  certificateAuthorized: (ctx) => ctx.socket.authorized === true,
  certificateSubjectMatches(ctx, property, expected) {
    const cert = ctx.socket.getPeerX509Certificate?.();
    return property === 'tls_client_auth_subject_dn' && cert?.subject.trim() === expected;
  },
};

async function start() {
  const server = tls
    ? createTlsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false })
    : createServer();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'rp-static',
        client_secret: 'static-secret-for-interop-tests',
        application_type: 'native',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials', TOKEN_EXCHANGE, DEVICE_CODE],
        response_types: ['code'],
        // What it may ask for, with client_credentials (api:read) and at login.
        scope: 'openid offline_access profile email address phone api:read',
        redirect_uris: ['http://127.0.0.1/callback'],
        post_logout_redirect_uris: ['http://127.0.0.1/logout'],
      },
      {
        client_id: 'rp-static-eddsa',
        client_secret: 'static-secret-for-interop-tests',
        application_type: 'native',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
        id_token_signed_response_alg: 'EdDSA',
      },
      {
        // FAPI 2.0: private_key_jwt with the key of ../../fixtures/client-keys/rp-fapi.pem,
        // pushed requests only, DPoP-bound tokens, EdDSA ID tokens.
        client_id: 'rp-fapi',
        application_type: 'native',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
        id_token_signed_response_alg: 'EdDSA',
        authorization_signed_response_alg: 'EdDSA',
        require_pushed_authorization_requests: true,
        dpop_bound_access_tokens: true,
        jwks: { keys: [{"kty": "EC", "crv": "P-256", "x": "VQ4tbWgU2fNsIHz8lVq3qBtnreULtSHnH1HhfanPQS8", "y": "lTD6NnNHJieZtTBGyk8NXP9W6k6DsjSJEJvoZOKPYhg", "use": "sig", "alg": "ES256", "kid": "ZPPu3L0LlgCmMGzifDDckWMwMe382RFqqJ0peBHkrU0"}] },
      },
      {
        // Signed request objects (RFC 9101), by value and by reference, with the same key.
        client_id: 'rp-jar',
        application_type: 'native',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        request_object_signing_alg: 'ES256',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
        jwks: { keys: [{"kty": "EC", "crv": "P-256", "x": "VQ4tbWgU2fNsIHz8lVq3qBtnreULtSHnH1HhfanPQS8", "y": "lTD6NnNHJieZtTBGyk8NXP9W6k6DsjSJEJvoZOKPYhg", "use": "sig", "alg": "ES256", "kid": "ZPPu3L0LlgCmMGzifDDckWMwMe382RFqqJ0peBHkrU0"}] },
      },
      {
        // The hybrid and implicit flows (OIDC Core §3.2, §3.3).
        client_id: 'rp-hybrid',
        client_secret: 'static-secret-for-interop-tests',
        application_type: 'native',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'implicit'],
        response_types: ['code id_token', 'code', 'id_token', 'id_token token', 'code token', 'code id_token token'],
        redirect_uris: ['http://127.0.0.1/callback'],
      },
      {
        client_id: 'rp-public',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
      },
      ...mtlsClients(),
    ],
    clientAuthMethods: [
      'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none',
      ...(tls ? ['tls_client_auth', 'self_signed_tls_client_auth'] : []),
    ],
    async findAccount(ctx, sub) {
      const user = users.find((u) => u.sub === sub);
      if (!user) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...user.claims }) };
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'nickname', 'locale', 'zoneinfo', 'updated_at', 'birthdate', 'gender', 'profile', 'website'],
      email: ['email', 'email_verified'],
      address: ['address'],
      phone: ['phone_number', 'phone_number_verified'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'address', 'phone', 'api:read'],
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // RS256 first (the default for clients that name no algorithm), and EdDSA for
    // rp-static-eddsa, so that benchmarks can compare the providers without RSA signing.
    jwks: {
      keys: [
        signingKey('keys/pool/rsa-1.pem', 'interop-rsa-1', 'RS256'),
        signingKey('keys/ed25519.pem', 'interop-ed25519', 'EdDSA'),
      ],
    },
    pkce: { methods: ['S256'], required: () => true },
    responseTypes: ['code', 'code id_token', 'id_token', 'id_token token', 'code token', 'code id_token token'],
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      // oidc-provider's default policy, written out: confidential clients may introspect any
      // token, public clients only their own.
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none'
          || token.clientId === client.clientId,
      },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
      resourceIndicators: { enabled: false },
      deviceFlow: { enabled: true },
      // RFC 9449, with server nonces required (the retry path is exercised every time).
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
      pushedAuthorizationRequests: { enabled: true },
      // JARM: query.jwt and form_post.jwt.
      jwtResponseModes: { enabled: true },
      // JAR: request objects by value and by reference (fetched from the RP's loopback
      // listener, within the loopback-only outgoing policy below).
      requestObjects: { request: true, requestUri: true, requireUriRegistration: false },
      mTLS,
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 86400,
      Session: 86400,
      Grant: 86400,
    },
    // Back-channel logout goes to the RP's loopback listener; nothing else is reachable.
    httpOptions(url) {
      if (!LOOPBACK.has(url.hostname)) {
        throw new Error(`outgoing requests are limited to loopback hosts, not ${url.hostname}`);
      }
      return {
        dnsLookup(hostname, options, callback) {
          dns.lookup(hostname, options, (err, address, family) => {
            if (err) return callback(err);
            const all = Array.isArray(address) ? address : [{ address, family }];
            const ok = all.filter((a) => isLoopbackAddress(a.address));
            if (ok.length === 0) return callback(new Error(`${hostname} is not a loopback host`));
            return Array.isArray(address)
              ? callback(null, ok)
              : callback(null, ok[0].address, ok[0].family);
          });
        },
      };
    },
    // Errors as a short page whose message the headless driver can quote.
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><title>Error</title><h1>${escape(out.error)}</h1>`
        + `<p class="error">${escape(out.error_description || '')}</p>`;
    },
  });

  provider.registerGrantType(
    TOKEN_EXCHANGE,
    tokenExchange,
    ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'resource', 'scope'],
    ['audience', 'resource'],
  );

  // oidc-provider sends no `interval`, which means 5 s (RFC 8628 §3.2); 1 s keeps the
  // device login test short (it does not enforce slow_down either way).
  provider.on('device_authorization.success', (ctx, body) => { body.interval = 1; });

  const callback = provider.callback();
  server.on('request', (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    if (path.startsWith('/interaction/')) {
      interaction(provider, req, res, path).catch((err) => {
        res.statusCode = err.statusCode || 500;
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(`<!DOCTYPE html><title>Error</title><h1>${escape(err.name || 'error')}</h1><p class="error">${escape(err.error_description || err.message)}</p>`);
      });
      return;
    }
    callback(req, res);
  });

  process.stdout.write(`issuer ${issuer}\n`);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (exitWithStdin) {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function page(res, title, body) {
  res.statusCode = 200;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>${body}</body></html>`);
}

function loginPage(res, uid, error, username = '') {
  page(res, 'Sign in', `<h1>Sign in to the interop provider</h1>
    ${error ? `<p class="error">${escape(error)}</p>` : ''}
    <form method="post" action="/interaction/${uid}/login" autocomplete="off">
      <label>Username <input name="login" value="${escape(username)}" autofocus></label>
      <label>Password <input type="password" name="password"></label>
      <button type="submit">Sign in</button>
    </form>
    <form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`);
}

function consentPage(res, uid, client, details) {
  const scopes = details.missingOIDCScope || [];
  const claims = details.missingOIDCClaims || [];
  page(res, 'Authorize', `<h1>Authorize ${escape(client.clientName || client.clientId)}</h1>
    ${scopes.length ? `<p>Scopes: ${scopes.map(escape).join(', ')}</p>` : ''}
    ${claims.length ? `<p>Claims: ${claims.map(escape).join(', ')}</p>` : ''}
    <form method="post" action="/interaction/${uid}/confirm">
      <button type="submit">Continue</button>
    </form>
    <form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`);
}

async function interaction(provider, req, res, path) {
  const [, , uid, action] = path.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new errors.SessionNotFound('interaction session mismatch');
  const { prompt, params, session } = details;

  if (req.method === 'GET' && !action) {
    const client = await provider.Client.find(params.client_id);
    if (prompt.name === 'login') return loginPage(res, uid);
    return consentPage(res, uid, client, prompt.details);
  }
  if (req.method !== 'POST') {
    res.statusCode = 405;
    return res.end();
  }
  const form = await readForm(req);

  if (action === 'login') {
    if (prompt.name !== 'login') throw new errors.InvalidRequest('no login is pending');
    const username = form.get('login') || '';
    const user = users.find((u) => u.username === username && u.password === form.get('password'));
    if (!user) return loginPage(res, uid, 'Invalid username or password.', username);
    return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  }

  if (action === 'confirm') {
    if (prompt.name !== 'consent') throw new errors.InvalidRequest('no consent is pending');
    let grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    const consent = details.grantId ? {} : { grantId };
    return provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
  }

  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }
  res.statusCode = 404;
  return res.end();
}

// RFC 8693 token exchange. The subject is an access or refresh token this provider issued
// and that is still valid. The result is an access token (or, for a refresh token subject of
// the requesting client, a refresh token) for the same user with at most the subject's scope
// and an optional single audience (oidc-provider tokens carry one `aud`).
async function tokenExchange(ctx, next) {
  const { client, params } = ctx.oidc;
  const { AccessToken, RefreshToken, Grant } = ctx.oidc.provider;
  const bad = (msg) => new errors.InvalidRequest(msg);

  if (!params.subject_token) throw bad('missing required parameter subject_token');
  if (!params.subject_token_type) throw bad('missing required parameter subject_token_type');
  if (params.actor_token && !params.actor_token_type) throw bad('actor_token_type is required with actor_token');

  let subject;
  if (params.subject_token_type === TT.access_token) {
    subject = await AccessToken.find(params.subject_token);
  } else if (params.subject_token_type === TT.refresh_token) {
    subject = await RefreshToken.find(params.subject_token);
  } else {
    throw bad(`unsupported subject_token_type ${params.subject_token_type}`);
  }
  if (!subject || !subject.isValid || !subject.accountId) {
    throw new errors.InvalidGrant('subject_token is invalid, expired or revoked');
  }
  const grant = subject.grantId ? await Grant.find(subject.grantId) : undefined;
  if (subject.grantId && !grant) throw new errors.InvalidGrant('the subject token\'s grant is gone');

  const audiences = [...new Set([params.audience, params.resource].flat().filter(Boolean))];
  if (audiences.length > 1) throw new errors.InvalidTarget('only a single audience is supported');
  if (subject.kind === 'RefreshToken' && audiences.length) {
    throw new errors.InvalidTarget('audience cannot be requested with a refresh token subject');
  }

  const subjectScopes = new Set((subject.scope || '').split(' ').filter(Boolean));
  const asked = params.scope ? params.scope.split(' ').filter(Boolean) : [...subjectScopes];
  const beyond = asked.filter((s) => !subjectScopes.has(s));
  if (beyond.length) throw new errors.InvalidScope('scope exceeds the subject token\'s', beyond.join(' '));
  const scope = asked.join(' ') || undefined;

  const sameClient = subject.clientId === client.clientId;
  const requested = params.requested_token_type || TT.access_token;
  if (requested === TT.refresh_token) {
    if (!sameClient || subject.kind !== 'RefreshToken') {
      throw bad('a refresh token is only issued for a refresh token of the same client');
    }
    const rt = new RefreshToken({
      accountId: subject.accountId,
      client,
      grantId: subject.grantId,
      gty: 'token_exchange',
      scope,
      sid: subject.sid,
      sessionUid: subject.sessionUid,
      expiresWithSession: subject.expiresWithSession,
    });
    ctx.body = {
      access_token: await rt.save(),
      issued_token_type: TT.refresh_token,
      token_type: 'N_A',
      scope,
    };
    return next();
  }
  if (requested !== TT.access_token) throw bad(`unsupported requested_token_type ${requested}`);

  const at = new AccessToken({
    accountId: subject.accountId,
    client,
    grantId: sameClient ? subject.grantId : undefined,
    gty: 'token_exchange',
    scope,
  });
  if (audiences.length) at.setAudience(audiences[0]);
  ctx.oidc.entity('AccessToken', at);
  ctx.body = {
    access_token: await at.save(),
    issued_token_type: TT.access_token,
    token_type: at.tokenType,
    expires_in: at.expiration,
    scope,
  };
  return next();
}

start().catch((err) => {
  process.stderr.write(`interop provider failed to start: ${err.stack || err}\n`);
  process.exit(1);
});
