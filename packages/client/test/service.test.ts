/**
 * The client against the real service on loopback: an editor tab's presence seen by another
 * user, saves and their conflict, leaving (at once, and within the grace when only the stream
 * ends), heartbeats, resuming a feed, and a browser's ticketed feed renewed when it expires.
 *
 * The service runs with a short TTL, grace and ticket lifetime so these take seconds; each test
 * has a site of its own, so they run side by side.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  Client,
  ConflictError,
  Presence,
  type FeedOptions,
  type FeedUpdate,
  type PresenceOptions,
} from "@copresence/client";
import { EventSource } from "eventsource";

import { ANN, BO, TestService, Watch, eventOf } from "./harness.js";

const TTL_MS = 3000;
const GRACE_MS = 2000;
const TICKET_LIFETIME_MS = 3000;

/** Time for an event to cross the service when nothing delays it. */
const PROMPTLY_MS = 1500;

describe("against the real service", { concurrency: true, timeout: 60_000 }, () => {
  let service: TestService;
  let ann: Client;
  let bo: Client;
  /** Every feed and tab the tests open, closed at the end even when a test fails half-way. */
  const opened = new Set<{ close(): unknown }>();

  function watch(client: Client, options: Omit<FeedOptions, "onUpdate">): Watch {
    const watch = new Watch(client, options);
    opened.add(watch);
    return watch;
  }

  function tab(client: Client, site: string, options: Partial<PresenceOptions> = {}): Presence {
    const tab = new Presence(client, { site, page: "/", client: "studio", ...options });
    opened.add(tab);
    return tab;
  }

  /** Ann's tab on `site`, once Bo's `bos` saw her join and the tab's own feed is attached. */
  async function annJoins(bos: Watch, site: string): Promise<Presence> {
    const anns = tab(ann, site);
    await anns.start();
    await bos.until(
      "Ann's join",
      eventOf("join", (e) => e.member.user.email === ANN),
    );
    await waitFor("the tab's feed to be attached", () => anns.state !== undefined);
    return anns;
  }

  before(async () => {
    service = await TestService.start([
      "--session-ttl",
      `${TTL_MS}ms`,
      "--reconnect-grace",
      `${GRACE_MS}ms`,
      "--ticket-lifetime",
      `${TICKET_LIFETIME_MS}ms`,
    ]);
    ann = service.client(ANN);
    bo = service.client(BO);
  });

  after(async () => {
    for (const open of opened) await open.close();
    await service?.stop();
  });

  test("a tab's join and moves are seen on another user's stream", async () => {
    const bos = watch(bo, { sites: ["presence"] });
    await bos.until("snapshot", eventOf("snapshot"));
    const anns = tab(ann, "presence");
    const joined = await anns.start();
    assert.equal(joined.ttl_ms, TTL_MS);
    assert.equal(joined.heartbeat_ms, TTL_MS / 3);

    const join = await bos.until(
      "Ann's join",
      eventOf("join", (e) => e.member.user.email === ANN),
    );
    assert.deepEqual(
      join.event.member.sessions.map((s) => [s.id, s.page, s.client]),
      [[anns.session, "/", "studio"]],
    );

    await anns.move("/products");
    const move = await bos.until(
      "Ann's move",
      eventOf("move", (e) => e.session === anns.session),
    );
    assert.equal(move.event.from, "/");
    assert.equal(move.event.to, "/products");
    const seen = bos.live.site("presence")?.members.find((m) => m.user.email === ANN);
    assert.deepEqual(
      seen?.sessions.map((s) => s.page),
      ["/products"],
    );

    // The tab's own live state shows it too, from its own feed.
    await waitFor("the tab's own state", () =>
      anns.state?.members.some((m) =>
        m.sessions.some((s) => s.id === anns.session && s.page === "/products"),
      ),
    );
  });

  test("a save on an old version is a ConflictError naming the last saver", async () => {
    const bos = watch(bo, { sites: ["saves"] });
    const snapshot = await bos.until("snapshot", eventOf("snapshot"));
    const base = snapshot.event.sites[0]!.version;
    const anns = tab(ann, "saves", { page: "/products" });
    await anns.start();
    const saved = await anns.save(base);
    assert.deepEqual(
      [saved.version, saved.page, saved.user.email, saved.forced],
      [base + 1, "/products", ANN, false],
    );
    const event = await bos.until("Ann's save", eventOf("saved"));
    assert.equal(event.event.save.version, base + 1);
    assert.equal(bos.live.site("saves")?.last_save?.user.email, ANN);

    // Bo's copy was loaded at the old version.
    await assert.rejects(bo.save("saves", { page: "/", base_version: base }), (error) => {
      assert.ok(error instanceof ConflictError, `expected a ConflictError, got ${String(error)}`);
      assert.equal(error.code, "stale_version");
      assert.equal(error.status, 409);
      assert.equal(error.currentVersion, base + 1);
      assert.equal(error.lastSave?.user.email, ANN);
      assert.equal(error.lastSave?.page, "/products");
      return true;
    });

    const forced = await bo.save("saves", { page: "/", base_version: base, force: true });
    assert.deepEqual([forced.version, forced.forced], [base + 2, true]);
    await bos.until(
      "Bo's forced save",
      eventOf("saved", (e) => e.save.forced),
    );
    assert.equal(bos.live.site("saves")?.version, base + 2);
  });

  test("a closed tab leaves: at once with close(), within the grace when only its stream ends", async () => {
    const bos = watch(bo, { sites: ["grace"] });
    await bos.until("snapshot", eventOf("snapshot"));
    const isAnn = (e: { user: { email: string } }) => e.user.email === ANN;

    const first = await annJoins(bos, "grace");
    await first.close();
    const left = await bos.until("Ann's leave", eventOf("leave", isAnn), PROMPTLY_MS);
    assert.equal(left.event.reason, "left");

    // A tab that goes without a word: its stream ends, its heartbeats stop.
    const second = await annJoins(bos, "grace");
    const closedAt = Date.now();
    await second.close({ leave: false });
    const expired = await bos.until(
      "Ann's leave after the grace",
      eventOf("leave", isAnn),
      GRACE_MS + 3000,
    );
    const after = Date.now() - closedAt;
    assert.equal(expired.event.reason, "expired");
    assert.ok(
      after >= GRACE_MS - 500,
      `left after ${after} ms, before the grace of ${GRACE_MS} ms`,
    );
  });

  test("heartbeats every third of the TTL keep a tab whose stream dropped", async () => {
    const bos = watch(bo, { sites: ["heartbeat"] });
    await bos.until("snapshot", eventOf("snapshot"));
    const anns = await annJoins(bos, "heartbeat");
    // Only the stream goes: without heartbeats the session would leave after the grace.
    anns.feed?.close();
    await sleep(TTL_MS + GRACE_MS);
    assert.deepEqual(bos.updates.filter(eventOf("leave")), [], "a heartbeating tab stays");
    assert.ok(bos.live.site("heartbeat")?.members.some((m) => m.user.email === ANN));
    await anns.close();
    await bos.until("Ann's leave", eventOf("leave"), PROMPTLY_MS);
  });

  test("a feed resumed with the last event id gets what it missed, with no new snapshot", async () => {
    const anns = tab(ann, "resume");
    await anns.start();
    const first = watch(bo, { sites: ["resume"] });
    const snapshot = await first.until("snapshot", eventOf("snapshot"));
    assert.ok(snapshot.event.sites[0]!.members.some((m) => m.user.email === ANN));
    const lastEventId = first.feed.lastEventId;
    assert.ok(lastEventId !== undefined && lastEventId === snapshot.id);
    first.close();

    await anns.move("/products/pricing");

    const second = watch(bo, { sites: ["resume"], lastEventId });
    const move = await second.until(
      "the missed move",
      eventOf("move", (e) => e.session === anns.session),
    );
    assert.equal(move.event.to, "/products/pricing");
    await sleep(300);
    assert.deepEqual(second.updates.filter(eventOf("snapshot")), [], "a resume sends no snapshot");
    assert.equal(second.feed.lastEventId, move.id);
  });

  test("a page a tab opens that the site does not have joins everyone's tree in place", async () => {
    const bos = watch(bo, { sites: ["pages"] });
    await bos.until("snapshot", eventOf("snapshot"));
    await ann.putSession("pages", "tab-pages", {
      page: "/products/compare",
      client: "studio",
      title: "Compare plans",
    });
    const added = await bos.until("the new page", eventOf("pages"));
    assert.deepEqual(added.event.added, [{ path: "/products/compare", title: "Compare plans" }]);
    await bos.until(
      "Ann's join",
      eventOf("join", (e) => e.member.user.email === ANN),
    );
    const pages = bos.live.site("pages")?.pages;
    assert.deepEqual(
      pages?.map((p) => p.path),
      ["/", "/products", "/products/compare", "/products/pricing"],
    );
    // What the service holds now is what the feed made of it.
    assert.deepEqual((await bo.site("pages")).pages, pages);
    await ann.deleteSession("pages", "tab-pages");
  });

  test("a browser's feed opens with a ticket and renews it when the service ends the stream", async () => {
    // The eventsource package as a browser's EventSource: given only a URL, it sends no token.
    const bos = watch(bo, { sites: ["tickets"], EventSource });
    await bos.until("snapshot", eventOf("snapshot"));
    const anns = await annJoins(bos, "tickets");

    const ended = await bos.until(
      "the end of the ticket's stream",
      (u): u is Extract<typeof u, { kind: "disconnected" }> => u.kind === "disconnected",
      TICKET_LIFETIME_MS + 3000,
    );
    assert.equal(ended.error.code, "stream_ended");
    assert.match(ended.error.message, /credential_expired/);
    await bos.until("the reconnection", (u): u is typeof u => u.kind === "connected");

    await anns.move("/products");
    await bos.until(
      "Ann's move",
      eventOf("move", (e) => e.session === anns.session),
    );
    assert.equal(
      bos.updates.filter(eventOf("snapshot")).length,
      1,
      "resumed, not snapshotted again",
    );
  });

  test("a refused token or a site that is not yours ends the feed", async () => {
    const isFatal = (u: FeedUpdate): u is Extract<FeedUpdate, { kind: "fatal" }> =>
      u.kind === "fatal";
    const wrong = watch(new Client({ server: service.url, token: "cpt_wrong" }), {});
    const refused = await wrong.until("a fatal update", isFatal);
    assert.equal(refused.error.code, "unauthorized");
    assert.equal(refused.error.status, 401);
    assert.ok(wrong.feed.closed);

    const elsewhere = watch(ann, { sites: ["nowhere"] });
    const missing = await elsewhere.until("a fatal update", isFatal);
    assert.equal(missing.error.code, "not_found");
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(
  what: string,
  ready: () => boolean | undefined,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs} ms`);
    await sleep(25);
  }
}
