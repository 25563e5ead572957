// A code's redemptions: who redeemed it for which order, and whether that was rolled back; newest first, 50 at
// a time, "More" following the API's next cursor. One place under the codes table shows one code's at a time.

import { call } from "./api.js";
import { busy, clearProblems, formatNumber, formatTime, h } from "./dom.js";

const PAGE_SIZE = 50;

export function redemptionsPlace() {
  return h("section", { class: "redemptions", "aria-labelledby": "redemptions-title", hidden: true });
}

export function redemptionsButton(promotion, code, ctx, place) {
  return h("button", { type: "button", class: "quiet", "aria-label": `Redemptions of ${code.code}`,
    onclick: () => show(promotion, code, ctx, place) }, "Redemptions");
}

// Hides the place when it shows one of these codes (e.g. once they are deleted).
export function forgetRedemptions(place, codeIds) {
  if (codeIds.includes(place.dataset.codeId)) hide(place);
}

function hide(place) {
  place.hidden = true;
  delete place.dataset.codeId;
  place.replaceChildren();
}

// Closed by its button: the focus goes back to the codes' heading rather than to the page's top.
function closed(place) {
  hide(place);
  place.closest("section.panel")?.querySelector("h2")?.focus();
}

async function show(promotion, code, ctx, place) {
  const base = `promotions/${promotion.id}/codes/${code.id}/redemptions`;
  const title = h("h3", { id: "redemptions-title", tabindex: "-1" }, `Redemptions of ${code.code}`);
  const status = h("p", { class: "hint", role: "status" }, "Loading redemptions…");
  const rows = h("tbody");
  const table = h("table", { class: "redemptions-list", hidden: true },
    h("caption", { class: "visually-hidden" }, `Redemptions of ${code.code}, newest first`),
    h("thead", {}, h("tr", {}, ["Customer", "Order", "Status", "Time"].map((t) => h("th", { scope: "col" }, t)))),
    rows);
  const moreButton = h("button", { type: "button", onclick: turn }, "More");
  const more = h("nav", { class: "pager", "aria-label": "More redemptions", hidden: true }, moreButton);
  const close = h("button", { type: "button", class: "quiet", onclick: () => closed(place) }, "Close");
  place.dataset.codeId = String(code.id);
  place.hidden = false;
  place.replaceChildren(h("div", { class: "heading-row" }, title, close), status, table, more);
  title.focus();
  let count = 0;
  let next = null; // the API's link to the next page (a query), while there is one

  async function page(query) {
    const { data, meta } = (await call("GET", `${base}${query}`, { signal: ctx.signal })).body;
    if (!current()) return;
    rows.append(...data.map(redemptionRow));
    count += data.length;
    table.hidden = count === 0;
    next = meta.cursor_pagination?.links?.next ?? null;
    status.textContent = count ? `${formatNumber(count)} shown, newest first.` : "Not redeemed yet.";
    more.hidden = !next;
  }

  // False once the place shows something else (another code, or this one asked again) or is closed.
  function current() {
    return place.contains(rows);
  }

  function failed(error) {
    if (!current()) return;
    status.textContent = "";
    ctx.failed(error, place);
  }

  async function turn() {
    clearProblems(place);
    await busy(more, () => page(next).catch(failed));
    if (more.hidden && current()) title.focus(); // the button went away with the last page
  }

  await page(`?limit=${PAGE_SIZE}`).catch(failed);
}

function redemptionRow(redemption) {
  return h("tr", {},
    h("td", {}, redemption.customer),
    h("td", {}, redemption.order_id),
    h("td", {}, h("span", { class: `status ${redemption.status.toLowerCase()}` }, redemption.status)),
    h("td", {}, h("time", { datetime: redemption.created }, formatTime(redemption.created))));
}
