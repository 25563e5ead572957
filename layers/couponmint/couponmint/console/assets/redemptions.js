// ---- PLACE KEPT FOR A CODE'S REDEMPTIONS ----
// `GET /promotions/{id}/codes/{code_id}/redemptions` (contract: "Redemption (EXT)") is not served yet. The
// console asks once per page load, with a code that exists: while that answers 404 or 405 the feature stays
// hidden (no column, no button); once the API serves it, each code gets a "Redemptions" button that lists
// them here. Nothing else in the console needs to change then.

import { ApiError, call } from "./api.js";
import { formatTime, h } from "./dom.js";

let available; // undefined: not asked yet in this page load

export async function redemptionsAvailable(promotionId, codeId, ctx) {
  if (available !== undefined) return available;
  try {
    await call("GET", `promotions/${promotionId}/codes/${codeId}/redemptions?limit=1`, { signal: ctx.signal });
    available = true;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) available = false;
    return false; // anything else (429, a network error): hidden for now, asked again next time
  }
  return available;
}

export function redemptionsPlace() {
  return h("section", { class: "redemptions", "aria-live": "polite", hidden: true });
}

export function redemptionsButton(promotion, code, ctx, place) {
  return h("button", { type: "button", class: "quiet", "aria-label": `Redemptions of ${code.code}`,
    onclick: () => show(promotion, code, ctx, place) }, "Redemptions");
}

async function show(promotion, code, ctx, place) {
  place.hidden = false;
  place.replaceChildren(h("p", {}, "Loading redemptions…"));
  try {
    const url = `promotions/${promotion.id}/codes/${code.id}/redemptions?limit=50`;
    const redemptions = (await call("GET", url, { signal: ctx.signal })).body.data;
    place.replaceChildren(
      h("h3", {}, `Redemptions of ${code.code}`),
      redemptions.length
        ? h("table", {},
            h("thead", {}, h("tr", {}, ["Customer", "Order", "Status", "When"].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", {}, redemptions.map((r) => h("tr", {},
              h("td", {}, r.customer), h("td", {}, r.order_id), h("td", {}, r.status), h("td", {}, formatTime(r.created))))))
        : h("p", {}, "Not redeemed yet."));
  } catch (error) {
    place.replaceChildren();
    ctx.failed(error, place);
  }
}
// ---- END OF THE PLACE KEPT FOR REDEMPTIONS ----
