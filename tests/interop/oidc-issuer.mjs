// A real OpenID Connect issuer no one here wrote (the npm 'oidc-provider' package), on loopback,
// for the identity tests: client-credentials clients get RFC 9068 JWT access tokens (typ at+jwt,
// ES256) for one audience, carrying the client's 'org' and 'roles'.
//   node oidc-issuer.mjs PORT AUDIENCE CLIENTS.json
// CLIENTS.json: [{"client_id": "...", "client_secret": "...", "org": "...", "roles": ["..."]}]
// Prints "READY <issuer>" once listening; runs until killed. Exit 2 on usage.
import { readFile } from 'node:fs/promises';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const [portText, audience, clientsFile] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || !audience || !clientsFile) {
  console.error('usage: node oidc-issuer.mjs PORT AUDIENCE CLIENTS.json');
  process.exit(2);
}
const clients = JSON.parse(await readFile(clientsFile, 'utf8'));

async function signingKey(alg, kid) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
}

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: clients.map((client) => ({
    client_id: client.client_id,
    client_secret: client.client_secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [await signingKey('ES256', 'oidc-es256'), await signingKey('RS256', 'oidc-rs256')] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (resource !== audience) throw new Error(`unknown resource ${resource}`);
        return { scope: 'toex', audience, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
  extraTokenClaims: (ctx, token) => {
    const client = clients.find((c) => c.client_id === token.clientId);
    return client ? { org: client.org, roles: client.roles } : {};
  },
});
provider.proxy = false;
provider.listen(port, '127.0.0.1', () => console.log(`READY ${issuer}`));
