/**
 * Time as the popup words it: clock times ("10:42"), ages ("5 min ago"), durations of
 * presence ("for 5 min" / "since 10:42") and dates. Every function takes `now` (ms since the
 * epoch) so tests are deterministic; times are shown in local time, 24-hour.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const pad = (n: number): string => String(n).padStart(2, "0");

/** "09:05", local time. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "3 Mar", with the year when it is not this year's. */
export function date(ms: number, now: number): string {
  const d = new Date(ms);
  const day = `${d.getDate()} ${MONTHS[d.getMonth()]}`;
  return d.getFullYear() === new Date(now).getFullYear() ? day : `${day} ${d.getFullYear()}`;
}

/** Whole local days from `now`'s date to `ms`'s date (1 = tomorrow, -1 = yesterday). */
function daysApart(ms: number, now: number): number {
  const a = new Date(now);
  const b = new Date(ms);
  const start = (d: Date): number => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  return Math.round((start(b) - start(a)) / (24 * HOUR));
}

/** How long ago: "just now", "5 min ago", "3 h ago", "yesterday 17:20", "3 Mar". */
export function ago(ms: number, now: number): string {
  const elapsed = Math.max(0, now - ms);
  if (elapsed < MINUTE) return "just now";
  if (elapsed < HOUR) return `${Math.floor(elapsed / MINUTE)} min ago`;
  const days = daysApart(ms, now);
  if (days === 0) return `${Math.floor(elapsed / HOUR)} h ago`;
  if (days === -1) return `yesterday ${clock(ms)}`;
  return date(ms, now);
}

/** How long someone has been somewhere: "just arrived", "for 5 min", "since 10:42", "since 3 Mar". */
export function presence(since: number, now: number): string {
  if (since <= 0) return "";
  const elapsed = Math.max(0, now - since);
  if (elapsed < MINUTE) return "just arrived";
  if (elapsed < HOUR) return `for ${Math.floor(elapsed / MINUTE)} min`;
  return daysApart(since, now) === 0 ? `since ${clock(since)}` : `since ${date(since, now)}`;
}

/** A moment ahead: "10:42", "tomorrow 08:00", "3 Mar 08:00". */
export function until(ms: number, now: number): string {
  const days = daysApart(ms, now);
  if (days === 0) return clock(ms);
  if (days === 1) return `tomorrow ${clock(ms)}`;
  return `${date(ms, now)} ${clock(ms)}`;
}
