/**
 * The element builder every part of the popup draws with, and its button and checkbox.
 *
 * Data only ever reaches the page through here, as text nodes and `setAttribute` values, never
 * as markup: names, page titles and messages come from other people and servers.
 */

export type Child = Node | string | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

/** An element with attributes (skipped when null/undefined/false) and text or element children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export function button(attrs: Attrs, label: Child, onClick: (event: MouseEvent) => void): HTMLButtonElement {
  const b = el("button", { type: "button", ...attrs }, label);
  b.addEventListener("click", onClick);
  return b;
}

export function checkbox(
  attrs: Attrs,
  checked: boolean,
  label: string,
  onChange: (checked: boolean) => void,
): HTMLLabelElement {
  const input = el("input", { type: "checkbox", ...attrs });
  input.checked = checked;
  input.addEventListener("change", () => onChange(input.checked));
  return el("label", { class: "check" }, input, label);
}
