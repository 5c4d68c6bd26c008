/** Wording of times, in local time with a fixed `now`. */

import { describe, expect, it } from "vitest";
import { ago, clock, presence, until } from "./time";

const at = (d: number, h: number, m: number): number => new Date(2025, 2, d, h, m).getTime();
const NOW = at(14, 11, 0);

describe("time", () => {
  it("words ages, presence and moments ahead", () => {
    expect(clock(at(14, 9, 5))).toBe("09:05");
    expect(ago(NOW - 20_000, NOW)).toBe("just now");
    expect(ago(at(14, 10, 55), NOW)).toBe("5 min ago");
    expect(ago(at(14, 8, 30), NOW)).toBe("2 h ago");
    expect(ago(at(13, 17, 20), NOW)).toBe("yesterday 17:20");
    expect(ago(at(3, 9, 0), NOW)).toBe("3 Mar");
    expect(presence(at(14, 10, 55), NOW)).toBe("for 5 min");
    expect(presence(at(14, 9, 42), NOW)).toBe("since 09:42");
    expect(presence(0, NOW)).toBe("");
    expect(until(at(14, 12, 0), NOW)).toBe("12:00");
    expect(until(at(15, 8, 0), NOW)).toBe("tomorrow 08:00");
  });
});
