/**
 * The caller's copy of every site a feed follows, kept current from its events by the rules of
 * the Rust client's `LiveState` (`crates/copresence-client/src/live.rs`): a snapshot replaces
 * everything; a delta goes to its own site; a delta about a site not held is ignored.
 */

import { applyToSite } from "./roster.js";
import type { ProtocolEvent, SiteState } from "./types.js";

export class LiveState {
  #sites = new Map<string, SiteState>();

  /**
   * Apply an event. Returns whether the state may have changed: true for a snapshot and for a
   * delta about a site held, false for a delta about any other site (it is ignored).
   */
  apply(event: ProtocolEvent): boolean {
    if (event.type === "snapshot") {
      this.replace(event.sites);
      return true;
    }
    const state = this.#sites.get(event.site);
    if (state === undefined) return false;
    this.#sites.set(event.site, applyToSite(state, event));
    return true;
  }

  /** Replace every site with these (a site id given twice: the last one counts). */
  replace(sites: readonly SiteState[]): void {
    this.#sites = new Map(sites.map((state) => [state.site.id, state]));
  }

  /** Forget everything. */
  clear(): void {
    this.#sites.clear();
  }

  /** One site's state, when it is held. */
  site(id: string): SiteState | undefined {
    return this.#sites.get(id);
  }

  /** Every site held, in site-id order. */
  sites(): SiteState[] {
    return [...this.#sites.values()].sort((a, b) =>
      a.site.id < b.site.id ? -1 : a.site.id > b.site.id ? 1 : 0,
    );
  }

  get size(): number {
    return this.#sites.size;
  }
}
