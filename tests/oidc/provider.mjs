// A real OpenID provider (panva's oidc-provider, OpenID Certified) on loopback, for the
// end-to-end tests. tests/src/oidc.rs writes the configuration file and starts this script;
// scripts/oidc-provider.sh installs its dependencies outside the clone.
//
//   node provider.mjs CONFIG.json PORT   serve on http://HOST:PORT (0: any free port) and
//                                        print "listening on http://HOST:PORT" once ready;
//                                        that URL is the issuer
//   node provider.mjs --new-key          print a new private signing key (RSA JWK, random kid)
//
// CONFIG.json (every key but accounts and jwks optional):
//   { "client_id": "copresence", "audience": "api://copresence",
//     "access_token_ttl": 60, "refresh_token_ttl": 86400, "device_code_ttl": 600,
//     "jwks": { "keys": [private JWK, ...] },
//     "state": "/path/state.json", "redirect_uris": ["http://127.0.0.1/v1/auth/redirect"],
//     "host": "127.0.0.2" (where to listen; 127.0.0.1 by default),
//     "accounts": [{ "sub", "email", "name", "groups": [...], "upn"?, "picture"? }] }
//
// Accounts are read from the file again at every lookup, so a test can change a user's groups
// between logins; the rest is read once at start (restart to change keys or lifetimes). Sign-in
// is by e-mail on the development login page, with any password. Grants, sessions and tokens
// are kept in the "state" file so that they outlive a restart on the same port, as they would
// at a real provider rotating its keys.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

if (process.argv[2] === '--new-key') {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  console.log(JSON.stringify({ ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' }));
  process.exit(0);
}

const [configPath, portArgument] = process.argv.slice(2);
if (!configPath || portArgument === undefined) {
  console.error('usage: node provider.mjs CONFIG.json PORT | node provider.mjs --new-key');
  process.exit(2);
}

const readConfig = () => JSON.parse(readFileSync(configPath, 'utf8'));
const config = readConfig();
const clientId = config.client_id ?? 'copresence';
const audience = config.audience ?? 'api://copresence';
const accessTokenTtl = config.access_token_ttl ?? 60;

// Imported only when serving: `--new-key` needs none of it, and oidc-provider warns on import
// about Node versions older than 22 (it runs on 20 all the same).
const { default: Provider, errors } = await import('oidc-provider');

function accountBy(matches) {
  return readConfig().accounts.find(matches);
}

// What an access token for our audience says about its user, besides `sub`.
function profileClaims(account) {
  const { email, name, groups, upn, picture } = account;
  return { email, name, groups, upn, picture };
}

const store = fileStore(config.state);

const configuration = {
  adapter: store.adapter,
  clients: [{
    client_id: clientId,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
    // A native client's loopback redirect URI matches on any port (RFC 8252, section 7.3):
    // the tray's and the CLI's listener, and the service's redirect for editors in a browser.
    redirect_uris: ['http://127.0.0.1/callback', ...(config.redirect_uris ?? [])],
  }],
  // Signs the interaction and session cookies. Fixed, so that a browser's session outlives a
  // restart; this provider only ever serves tests on loopback.
  cookies: { keys: ['copresence-test-oidc-provider-cookie-key'] },
  jwks: config.jwks,
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'upn', 'picture'],
    groups: ['groups'],
  },
  async findAccount(ctx, sub) {
    const account = accountBy((a) => a.sub === sub);
    if (!account) return undefined;
    return {
      accountId: account.sub,
      // oidc-provider keeps only the claims the granted scopes ask for.
      claims: () => ({ sub: account.sub, email_verified: true, ...profileClaims(account) }),
    };
  },
  // Carried by JWT access tokens: the service authorises on these without calling userinfo.
  async extraTokenClaims(ctx, token) {
    const account = token.accountId && accountBy((a) => a.sub === token.accountId);
    return account ? profileClaims(account) : undefined;
  },
  pkce: { required: () => true },
  // Any origin: a test's browser page may call the token endpoint from its own loopback port.
  clientBasedCORS: () => true,
  ttl: {
    AccessToken: accessTokenTtl,
    RefreshToken: config.refresh_token_ttl ?? 86400,
    DeviceCode: config.device_code_ttl ?? 600,
  },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Without a `resource` parameter a token is for our audience all the same, so a client
      // that never names it still gets a JWT the service accepts.
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, resource) {
        if (resource !== audience) throw new errors.InvalidTarget(`unknown resource ${resource}`);
        return {
          audience,
          scope: '',
          accessTokenTTL: accessTokenTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
};

const server = createServer();
// Another loopback address may be asked for: VS Code for the Web forwards links to 127.0.0.1
// and localhost through its own proxy, as it would a maker's dev server, not a provider.
const host = config.host ?? '127.0.0.1';
server.listen(Number(portArgument), host, () => {
  const issuer = `http://${host}:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  provider.use(signInByEmail(provider));
  server.on('request', provider.callback());
  console.log(`listening on ${issuer}`);
});

// The development login form accepts any login and would make it the account id (`sub`). Here
// the login is an e-mail of a configured account and the session's account id is that
// account's `sub`, as at a real provider; an unknown e-mail ends the authorization with
// access_denied rather than signing in a stranger.
function signInByEmail(provider) {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
    const { prompt } = await provider.interactionDetails(ctx.req, ctx.res);
    if (prompt.name !== 'login') return next();
    const form = new URLSearchParams(await readBody(ctx.req));
    const email = (form.get('login') ?? '').trim().toLowerCase();
    const account = accountBy((a) => a.email.toLowerCase() === email);
    const result = account
      ? { login: { accountId: account.sub } }
      : { error: 'access_denied', error_description: `no account has the e-mail ${email}` };
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  };
}

async function readBody(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// oidc-provider's storage (its adapter interface), kept in memory and written to a JSON file
// after every change when `path` is set, so grants, sessions and refresh tokens survive a
// restart. Linear scans are fine for a test's handful of entries.
function fileStore(path) {
  let entries = {};
  if (path) {
    try {
      entries = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
  }
  const save = () => {
    if (!path) return;
    // Whole-file replace: a process killed mid-write leaves the previous state, never half.
    writeFileSync(`${path}.new`, JSON.stringify(entries));
    renameSync(`${path}.new`, path);
  };
  const live = (key) => {
    const entry = entries[key];
    if (entry && entry.expiresAt !== null && entry.expiresAt <= Date.now()) {
      delete entries[key];
      return undefined;
    }
    return entry;
  };
  const findWhere = (model, matches) => Object.keys(entries)
    .filter((key) => key.startsWith(`${model}:`))
    .map(live)
    .find((entry) => entry && matches(entry.payload))?.payload;

  // The models that belong to a grant (as in oidc-provider's own memory adapter).
  const GRANTED = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
    'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

  class Adapter {
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : null;
      entries[this.key(id)] = { payload, expiresAt };
      save();
    }

    async find(id) {
      return live(this.key(id))?.payload;
    }

    async findByUid(uid) {
      return findWhere(this.model, (payload) => payload.uid === uid);
    }

    async findByUserCode(userCode) {
      return findWhere(this.model, (payload) => payload.userCode === userCode);
    }

    async consume(id) {
      const entry = live(this.key(id));
      if (entry) {
        entry.payload.consumed = Math.floor(Date.now() / 1000);
        save();
      }
    }

    async destroy(id) {
      delete entries[this.key(id)];
      save();
    }

    // Revoking a grant (e.g. a refresh token used twice) revokes every token it issued.
    async revokeByGrantId(grantId) {
      for (const [key, entry] of Object.entries(entries)) {
        const model = key.slice(0, key.indexOf(':'));
        if (GRANTED.has(model) && entry.payload.grantId === grantId) delete entries[key];
      }
      save();
    }
  }

  return { adapter: Adapter };
}
