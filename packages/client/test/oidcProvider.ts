/**
 * The organisation's OpenID provider, for real: `oidc-provider` from npm (tests/oidc/provider.mjs,
 * installed once by scripts/oidc-provider.sh) on a loopback port, with the accounts given. It
 * lets the service's redirect be a redirect URI on any loopback port, as it lets the tray's. For
 * the end-to-end tests of the editors (VS Code, the browser extension).
 */

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";


export interface Account {
  sub: string;
  email: string;
  name: string;
}

export const CLIENT_ID = "copresence";
export const AUDIENCE = "api://copresence";

export class OidcProvider {
  readonly issuer: string;
  readonly #child: ChildProcess;
  readonly #dir: string;

  private constructor(child: ChildProcess, dir: string, issuer: string) {
    this.#child = child;
    this.#dir = dir;
    this.issuer = issuer;
  }

  /** `repository`: where the checkout is (its scripts/oidc-provider.sh installs the provider). */
  static async start(repository: string, accounts: Account[], options: { accessTokenTtlS?: number } = {}): Promise<OidcProvider> {
    const installer = join(repository, "scripts/oidc-provider.sh");
    const script = execFileSync(installer, ["install"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
      .trim()
      .split("\n")
      .pop()!;
    const key = JSON.parse(execFileSync("node", [script, "--new-key"], { encoding: "utf8" }));
    const dir = mkdtempSync(join(tmpdir(), "copresence-oidc-"));
    const config = join(dir, "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        client_id: CLIENT_ID,
        audience: AUDIENCE,
        jwks: { keys: [key] },
        state: join(dir, "state.json"),
        accounts,
        redirect_uris: ["http://127.0.0.1/v1/auth/redirect"],
        // By default long enough that no renewal falls inside a test that is not about one.
        access_token_ttl: options.accessTokenTtlS ?? 600,
        // Not 127.0.0.1: the workbench would open the provider's page through its port forwarding.
        host: "127.0.0.2",
      }),
    );
    const child = spawn("node", [script, config, "0"], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (log = (log + chunk).slice(-20_000)));
    const issuer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the provider did not start: ${log}`)), 30_000);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const match = /listening on (http:\/\/\S+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the provider exited with ${code}: ${log}`));
      });
    });
    return new OidcProvider(child, dir, issuer);
  }

  /** The service's flags to take this provider's tokens. */
  serviceArgs(): string[] {
    return ["--oidc-issuer", this.issuer, "--oidc-audience", AUDIENCE, "--oidc-client-id", CLIENT_ID];
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = new Promise((resolve) => this.#child.once("exit", resolve));
      this.#child.kill();
      await exited;
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
