/**
 * Signing in with the organisation's OpenID Connect provider from an editor that runs in a
 * browser, or cannot listen on loopback: the authorization code flow with PKCE, through the
 * service's fixed redirect `{server}/v1/auth/redirect` (docs/sign-in.md).
 *
 * Why through the service: an editor gets control back at an address of the moment (VS Code for
 * the Web's `asExternalUri` names a request id in it), which no provider lets a client register.
 * The service's redirect is one address the operator registers once; it sends the browser on to
 * the return address carried in `state`, if that address is one the operator allows.
 *
 * The OAuth and OpenID mechanics (PKCE, `state`, `nonce`, the issuer in the answer, the ID
 * token's claims) are `oauth4webapi`'s. Which token is the bearer and whether to name the
 * service as the `resource` are the Rust core's rules (`SignInProvider::sends_resource`,
 * `bearer_is_id_token`), held to them by `protocol/golden/sign-in.json`.
 */

import * as oauth from "oauth4webapi";

import type { SignInProvider } from "./types.js";

/** What a sign-in gives: the bearer to send, and how to renew it. */
export interface SignInTokens {
  /** What goes in `Authorization: Bearer` (the access token, or the ID token; see above). */
  bearer: string;
  refreshToken?: string;
  /** When `bearer` expires, in ms since the epoch. */
  expiresAt: number;
  /** Who signed in at the provider (the ID token's `sub`), when it sent an ID token. */
  subject?: string;
}

/**
 * Whether the provider takes the service as an RFC 8707 `resource`: not where a scope names the
 * audience (Entra ID), nor where the audience is the client itself (Google's ID tokens).
 */
export function sendsResource(provider: SignInProvider): boolean {
  return provider.client_id !== provider.audience && !provider.scopes.some((s) => s.includes(provider.audience));
}

/** Whether the ID token is the bearer: where the audience is the client itself. */
export function bearerIsIdToken(provider: SignInProvider): boolean {
  return provider.client_id === provider.audience;
}

/** The service's redirect, which the operator registers with the provider for editors. */
export function signInRedirectUri(server: string | URL): string {
  const base = new URL(server);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  return new URL("v1/auth/redirect", base).href;
}

/** `state`: our own random value, then the address the service sends the browser back to. */
function stateFor(returnTo: string): string {
  const bytes = new TextEncoder().encode(returnTo);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const encoded = btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${oauth.generateRandomState()}.${encoded}`;
}

/** Options for {@link BrowserSignIn.start}. */
export interface BrowserSignInOptions {
  /** The Copresence service's address. */
  server: string | URL;
  /** One of the providers `GET /v1/auth` lists. */
  provider: SignInProvider;
  /**
   * Where the service sends the browser back with the provider's answer: an address the editor
   * watches (VS Code: `asExternalUri` of its own URI). The service allows only the return
   * addresses its operator lists.
   */
  returnTo: string;
  /** The `fetch` to call; by default the global one. */
  fetch?: typeof fetch;
}

/** A sign-in under way: open {@link url} in a browser, then {@link finish} with where it returned. */
export class BrowserSignIn {
  /** The provider's authorization page, to open in the maker's browser. */
  readonly url: string;
  /** To match an answer to this sign-in (an editor may have started several). */
  readonly state: string;
  readonly #provider: Provider;
  readonly #redirectUri: string;
  readonly #verifier: string;
  readonly #nonce: string;

  private constructor(provider: Provider, url: string, state: string, redirectUri: string, verifier: string, nonce: string) {
    this.#provider = provider;
    this.url = url;
    this.state = state;
    this.#redirectUri = redirectUri;
    this.#verifier = verifier;
    this.#nonce = nonce;
  }

  static async start(options: BrowserSignInOptions): Promise<BrowserSignIn> {
    const provider = await Provider.of(options.provider, options.fetch);
    const authorize = provider.server.authorization_endpoint;
    if (!authorize) throw new SignInError("the provider has no authorization endpoint");
    const redirectUri = signInRedirectUri(options.server);
    const verifier = oauth.generateRandomCodeVerifier();
    const nonce = oauth.generateRandomNonce();
    const state = stateFor(options.returnTo);
    const url = new URL(authorize);
    const query = url.searchParams;
    query.set("client_id", provider.client.client_id);
    query.set("response_type", "code");
    query.set("redirect_uri", redirectUri);
    query.set("scope", provider.scopes);
    query.set("state", state);
    query.set("nonce", nonce);
    query.set("code_challenge", await oauth.calculatePKCECodeChallenge(verifier));
    query.set("code_challenge_method", "S256");
    if (sendsResource(options.provider)) query.set("resource", options.provider.audience);
    // Some providers keep offline_access (a refresh token) for consented sign-ins only.
    if (options.provider.scopes.includes("offline_access")) query.set("prompt", "consent");
    return new BrowserSignIn(provider, url.href, state, redirectUri, verifier, nonce);
  }

  /** Whether an answer (the address the browser came back to, or its query) is this sign-in's. */
  answers(returned: URL | URLSearchParams): boolean {
    return paramsOf(returned).get("state") === this.state;
  }

  /** Redeem the provider's answer for tokens. Throws {@link SignInError} on a refusal. */
  async finish(returned: URL | URLSearchParams): Promise<SignInTokens> {
    const provider = this.#provider;
    return provider.call(async () => {
      const params = oauth.validateAuthResponse(provider.server, provider.client, paramsOf(returned), this.state);
      const response = await oauth.authorizationCodeGrantRequest(
        provider.server,
        provider.client,
        oauth.None(),
        params,
        this.#redirectUri,
        this.#verifier,
        provider.requestOptions(),
      );
      const answer = await oauth.processAuthorizationCodeResponse(provider.server, provider.client, response, {
        expectedNonce: this.#nonce,
        requireIdToken: true,
      });
      return provider.tokens(answer);
    });
  }
}

/** New tokens from a refresh token, before the bearer expires. */
export async function refreshSignIn(
  signInProvider: SignInProvider,
  refreshToken: string,
  fetchImpl?: typeof fetch,
): Promise<SignInTokens> {
  const provider = await Provider.of(signInProvider, fetchImpl);
  return provider.call(async () => {
    const response = await oauth.refreshTokenGrantRequest(
      provider.server,
      provider.client,
      oauth.None(),
      refreshToken,
      provider.requestOptions(),
    );
    const answer = await oauth.processRefreshTokenResponse(provider.server, provider.client, response);
    const tokens = provider.tokens(answer);
    // A provider that does not rotate refresh tokens keeps the one it gave.
    return { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken };
  });
}

/** A sign-in that failed: the provider refused, or answered what it should not. */
export class SignInError extends Error {
  override readonly name = "SignInError";
}

function paramsOf(returned: URL | URLSearchParams): URLSearchParams {
  return returned instanceof URL ? returned.searchParams : returned;
}

/** One provider as oauth4webapi sees it, from what the service said of it. */
class Provider {
  readonly server: oauth.AuthorizationServer;
  readonly client: oauth.Client;
  readonly scopes: string;
  readonly #signIn: SignInProvider;
  readonly #fetch: typeof fetch | undefined;

  private constructor(signIn: SignInProvider, server: oauth.AuthorizationServer, fetchImpl: typeof fetch | undefined) {
    this.#signIn = signIn;
    this.server = server;
    this.#fetch = fetchImpl;
    if (!signIn.client_id) throw new SignInError("the service names no client to sign in as");
    this.client = { client_id: signIn.client_id };
    const scopes = new Set(["openid", ...signIn.scopes]);
    this.scopes = [...scopes].join(" ");
  }

  /** The endpoints the service read from the provider's discovery document, else that document. */
  static async of(signIn: SignInProvider, fetchImpl?: typeof fetch): Promise<Provider> {
    if (signIn.authorization_endpoint && signIn.token_endpoint) {
      const server: oauth.AuthorizationServer = {
        issuer: signIn.issuer,
        authorization_endpoint: signIn.authorization_endpoint,
        token_endpoint: signIn.token_endpoint,
      };
      return new Provider(signIn, server, fetchImpl);
    }
    const probe = new Provider(signIn, { issuer: signIn.issuer }, fetchImpl);
    const server = await probe.call(async () => {
      const issuer = new URL(signIn.issuer);
      const response = await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...probe.requestOptions() });
      return oauth.processDiscoveryResponse(issuer, response);
    });
    return new Provider(signIn, server, fetchImpl);
  }

  requestOptions(): oauth.TokenEndpointRequestOptions & oauth.DiscoveryRequestOptions {
    const options: oauth.TokenEndpointRequestOptions & oauth.DiscoveryRequestOptions = {};
    if (sendsResource(this.#signIn)) options.additionalParameters = { resource: this.#signIn.audience };
    if (this.#fetch) {
      const fetchImpl = this.#fetch;
      options[oauth.customFetch] = (url, init) => fetchImpl(url, init as RequestInit);
    }
    // The service takes an http issuer only on this machine (docs/sign-in.md), as in its tests.
    if (new URL(this.#signIn.issuer).protocol === "http:") options[oauth.allowInsecureRequests] = true;
    return options;
  }

  /** The bearer and its renewal, from a token endpoint's answer. */
  tokens(answer: oauth.TokenEndpointResponse): SignInTokens {
    const idToken = oauth.getValidatedIdTokenClaims(answer);
    const renewal = {
      ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}),
      ...(idToken ? { subject: idToken.sub } : {}),
    };
    if (bearerIsIdToken(this.#signIn)) {
      if (!answer.id_token || !idToken) throw new SignInError("the provider sent no ID token");
      return { bearer: answer.id_token, expiresAt: idToken.exp * 1000, ...renewal };
    }
    const lifetime = answer.expires_in ?? 3600;
    return { bearer: answer.access_token, expiresAt: Date.now() + lifetime * 1000, ...renewal };
  }

  /** Run a step, its failures as {@link SignInError} with the provider's own words. */
  async call<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof SignInError) throw error;
      if (error instanceof oauth.AuthorizationResponseError || error instanceof oauth.ResponseBodyError) {
        const described = error.error_description ? `${error.error}: ${error.error_description}` : error.error;
        throw new SignInError(`the provider refused the sign-in (${described})`);
      }
      throw new SignInError(`the sign-in failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
