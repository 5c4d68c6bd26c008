/**
 * The real `copresence-server` on a loopback port with a temporary SQLite store, started the way
 * the Rust tests start it (`tests/src/lib.rs`): `import` an organisation, `token issue` for its
 * users, `serve --listen 127.0.0.1:0` and read the address it announces.
 *
 * The binary is `$COPRESENCE_BIN_DIR/copresence-server`, by default the workspace's
 * `target/debug/` (`cargo build -p copresence-server`; `make test` builds it first).
 */

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import {
  Client,
  LiveState,
  type Feed,
  type FeedOptions,
  type FeedUpdate,
  type ProtocolEvent,
} from "@copresence/client";

export const ANN = "ann@contoso.test";
export const BO = "bo@contoso.test";

/** Ann and Bo, as the organisation file lists them; Ann's name may be another (a hostile one). */
export function people(annName = "Ann Lee"): string {
  return `
[[users]]
email = "${ANN}"
name = ${JSON.stringify(annName)}
teams = "${ANN}"

[[users]]
email = "${BO}"
name = "Bo Chen"
`;
}

/** Contoso's portal, with Ann and Bo as members, a home page and a products page. */
export const CONTOSO = `
[[sites]]
id = "contoso"
name = "Contoso Portal"
url = "https://contoso.example"
members = ["${ANN}", "${BO}"]
pages = [
  { path = "/", title = "Home" },
  { path = "/products", title = "Products" },
]
`;

/** Two people and, so tests can run side by side without seeing each other, a site per test. */
export const ORG = `${people()}
${["presence", "saves", "grace", "heartbeat", "resume", "tickets", "pages"]
  .map(
    (id) => `
[[sites]]
id = "${id}"
name = "Site ${id}"
url = "https://${id}.contoso.example"
members = ["ann@contoso.test", "bo@contoso.test"]
pages = [
  { path = "/", title = "Home" },
  { path = "/products", title = "Products" },
  { path = "/products/pricing", title = "Pricing" },
]
`,
  )
  .join("")}`;

/** Where `copresence-server` is. */
export function serverBinary(): string {
  const dir =
    process.env.COPRESENCE_BIN_DIR ??
    // dist-test/ → packages/client/ → packages/ → the repository.
    fileURLToPath(new URL("../../../target/debug/", import.meta.url));
  const path = join(
    dir,
    process.platform === "win32" ? "copresence-server.exe" : "copresence-server",
  );
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: build it first (cargo build -p copresence-server)`);
  }
  return path;
}

/** How long the server may take to announce its address. */
const START_TIMEOUT_MS = 20_000;
/** How much of the server's standard error is kept, to say why it did not start. */
const MAX_LOG_CHARS = 20_000;

export class TestService {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #binary: string;
  readonly url: string;

  private constructor(child: ChildProcess, dir: string, binary: string, url: string) {
    this.#child = child;
    this.#dir = dir;
    this.#binary = binary;
    this.url = url;
  }

  /**
   * Import an organisation file ({@link ORG} unless given) and serve it with these extra `serve`
   * flags.
   */
  static async start(serveArgs: string[], organisation: string = ORG): Promise<TestService> {
    const binary = serverBinary();
    const dir = mkdtempSync(join(tmpdir(), "copresence-client-test-"));
    const org = join(dir, "org.toml");
    writeFileSync(org, organisation);
    execFileSync(binary, ["import", "--data", join(dir, "data"), org], { stdio: "pipe" });
    const child = spawn(
      binary,
      ["serve", "--listen", "127.0.0.1:0", "--data", join(dir, "data"), ...serveArgs],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let log = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      log = (log + chunk).slice(-MAX_LOG_CHARS);
    });
    try {
      const url = await announcedUrl(child);
      return new TestService(child, dir, binary, url);
    } catch (error) {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`copresence-server did not start: ${String(error)}\n${log}`);
    }
  }

  /** A new bearer token for the user with this e-mail (`token issue` prints it last). */
  token(email: string): string {
    const out = execFileSync(
      this.#binary,
      ["token", "issue", "--data", join(this.#dir, "data"), "--email", email],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    const token = out.trim().split("\n").pop()?.trim();
    if (!token) throw new Error(`token issue printed no token for ${email}`);
    return token;
  }

  /** A client signed in as the user with this e-mail. */
  client(email: string): Client {
    return new Client({ server: this.url, token: this.token(email) });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise((resolve) => this.#child.once("exit", resolve));
      this.#child.kill();
      await exited;
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The first `http://…` word the server prints on standard output. */
function announcedUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => reject(new Error(`no address within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    lines.on("line", (line) => {
      const url = line.split(/\s+/).find((word) => word.startsWith("http://"));
      if (url !== undefined) {
        clearTimeout(timer);
        // Keep reading, so the server never blocks on a full pipe.
        resolve(url);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before announcing its address`));
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * A feed with everything it reported kept in order, and its sites' live state, so a test can
 * wait for the update it expects and then look at what came before it.
 */
export class Watch {
  readonly updates: FeedUpdate[] = [];
  readonly live = new LiveState();
  readonly feed: Feed;
  /** Updates before this index were already matched by {@link until}. */
  #next = 0;
  #changed: (() => void) | undefined;

  constructor(client: Client, options: Omit<FeedOptions, "onUpdate">) {
    this.feed = client.feed({
      ...options,
      onUpdate: (update) => {
        if (update.kind === "event") this.live.apply(update.event);
        this.updates.push(update);
        this.#changed?.();
      },
    });
  }

  /**
   * The next update (after the last one matched) that `matches`; fails naming `what`, with the
   * updates seen, after `timeoutMs`.
   */
  async until<T extends FeedUpdate>(
    what: string,
    matches: (update: FeedUpdate) => update is T,
    timeoutMs = 10_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (; this.#next < this.updates.length; this.#next += 1) {
        const update = this.updates[this.#next]!;
        if (matches(update)) {
          this.#next += 1;
          return update;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no ${what} within ${timeoutMs} ms; updates: ${describeUpdates(this.updates)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#changed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#changed = undefined;
    }
  }

  close(): void {
    this.feed.close();
  }
}

/** `update` is an event of this type (and the event is typed so). */
export function eventOf<K extends ProtocolEvent["type"]>(
  type: K,
  also: (event: Extract<ProtocolEvent, { type: K }>) => boolean = () => true,
): (
  update: FeedUpdate,
) => update is { kind: "event"; id: string; event: Extract<ProtocolEvent, { type: K }> } {
  return (
    update,
  ): update is { kind: "event"; id: string; event: Extract<ProtocolEvent, { type: K }> } =>
    update.kind === "event" &&
    update.event.type === type &&
    also(update.event as Extract<ProtocolEvent, { type: K }>);
}

/** The updates, briefly: for a failure message. */
export function describeUpdates(updates: FeedUpdate[]): string {
  return JSON.stringify(
    updates.map((update) => {
      switch (update.kind) {
        case "event":
          return `${update.event.type} ${update.id}`;
        case "disconnected":
        case "fatal":
          return `${update.kind} (${update.error.code}: ${update.error.message})`;
        case "connected":
          return update.kind;
      }
    }),
  );
}
