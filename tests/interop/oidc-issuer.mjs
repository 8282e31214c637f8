// A real OpenID Connect issuer no one here wrote (the npm 'oidc-provider' package), on loopback,
// for the identity and console tests:
// - client-credentials clients get RFC 9068 JWT access tokens (typ at+jwt, ES256) for one audience,
//   carrying the client's 'org' and 'roles';
// - web clients (the IG console) use the authorization code flow with PKCE (required): the user signs in
//   on a plain login form served here (username and password), consent is implied for these first-party
//   clients, and the access token for the audience carries the user's 'org' and 'roles'.
//   node oidc-issuer.mjs PORT AUDIENCE CONFIG.json
// CONFIG.json: either [client…] (client credentials only) or
//   {"clients": [{"client_id", "client_secret", "org", "roles"}],
//    "webClients": [{"client_id", "client_secret", "redirect_uris": [...]}],
//    "users": [{"username", "password", "org", "roles"}]}
// Prints "READY <issuer>" once listening; runs until killed. Exit 2 on usage.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const [portText, audience, configFile] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || !audience || !configFile) {
  console.error('usage: node oidc-issuer.mjs PORT AUDIENCE CONFIG.json');
  process.exit(2);
}
const config = JSON.parse(await readFile(configFile, 'utf8'));
const clients = Array.isArray(config) ? config : (config.clients ?? []);
const webClients = Array.isArray(config) ? [] : (config.webClients ?? []);
const users = Array.isArray(config) ? [] : (config.users ?? []);

async function signingKey(alg, kid) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
}

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    ...clients.map((client) => ({
      client_id: client.client_id,
      client_secret: client.client_secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    ...webClients.map((client) => ({
      client_id: client.client_id,
      client_secret: client.client_secret,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: client.redirect_uris,
      token_endpoint_auth_method: client.client_secret ? 'client_secret_post' : 'none',
      id_token_signed_response_alg: 'RS256',
    })),
  ],
  jwks: { keys: [await signingKey('ES256', 'oidc-es256'), await signingKey('RS256', 'oidc-rs256')] },
  pkce: { required: () => true },
  scopes: ['openid', 'toex'],
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (ctx, id) => (users.some((u) => u.username === id) ? { accountId: id, claims: () => ({ sub: id }) } : undefined),
  // First-party clients: consent is implied (the grant covers openid and the API's scope).
  loadExistingGrant: async (ctx) => {
    const existing = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (existing) return ctx.oidc.provider.Grant.find(existing);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid');
    grant.addResourceScope(audience, 'toex');
    await grant.save();
    return grant;
  },
  ttl: { AccessToken: 3600, IdToken: 3600, Session: 3600, Interaction: 600, Grant: 3600, AuthorizationCode: 60 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (resource !== audience) throw new Error(`unknown resource ${resource}`);
        return { scope: 'toex', audience, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
  extraTokenClaims: (ctx, token) => {
    if (token.accountId) {
      const user = users.find((u) => u.username === token.accountId);
      return user ? { org: user.org, roles: user.roles } : {};
    }
    const client = clients.find((c) => c.client_id === token.clientId);
    return client ? { org: client.org, roles: client.roles } : {};
  },
});
provider.proxy = false;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const loginPage = (uid, problem) => `<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Sign in – test identity provider</title></head>
<body><main><h1>Test identity provider</h1>
${problem ? `<p role="alert">${escape(problem)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username" required></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form></main></body></html>`;

async function formOf(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

const handler = provider.callback();
createServer(async (req, res) => {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(req.url.split('?')[0]);
  if (!match) return handler(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(loginPage(details.uid));
    }
    const form = await formOf(req);
    const user = users.find((u) => u.username === form.get('username') && u.password === form.get('password'));
    if (!user) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(loginPage(details.uid, 'Wrong username or password.'));
    }
    return await provider.interactionFinished(req, res, { login: { accountId: user.username } }, { mergeWithLastSubmission: false });
  } catch (error) {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    return res.end(`interaction failed: ${error.message}`);
  }
}).listen(port, '127.0.0.1', () => console.log(`READY ${issuer}`));
