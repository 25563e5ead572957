// The store's promotions, and a form to create a BULK coupon promotion.

import { call } from "./api.js";
import { announce, busy, field, h, showProblems } from "./dom.js";

const PAGE_SIZE = 50;

export async function promotionsView(params, ctx) {
  const page = Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1);
  const answer = await call("GET", `promotions?page=${page}&limit=${PAGE_SIZE}`, { signal: ctx.signal });
  const { data, meta } = answer.body;
  return h("section", {},
    h("h1", { tabindex: "-1" }, "Promotions"),
    data.length ? promotionTable(data) : h("p", {}, "This store has no promotions yet."),
    pager(meta.pagination, page),
    ctx.session.canWrite ? createForm(ctx) : null);
}

function promotionTable(promotions) {
  return h("table", {},
    h("caption", { class: "visually-hidden" }, "Promotions"),
    h("thead", {}, h("tr", {}, ["Name", "Type", "Status", "Id"].map((title) => h("th", { scope: "col" }, title)))),
    h("tbody", {}, promotions.map((promotion) => h("tr", {},
      h("td", {}, h("a", { href: `#/promotions/${encodeURIComponent(promotion.id)}` }, promotion.name)),
      h("td", {}, kindOf(promotion)),
      h("td", {}, promotion.status ?? ""),
      h("td", { class: "number" }, String(promotion.id))))));
}

export function kindOf(promotion) {
  return promotion.redemption_type === "COUPON" ? `Coupon, ${promotion.coupon_type ?? "SINGLE"}` : "Automatic";
}

function pager(pagination, page) {
  if (!pagination || pagination.total_pages <= 1) return null;
  return h("nav", { class: "pager", "aria-label": "Promotion pages" },
    page > 1 ? h("a", { href: `#/promotions?page=${page - 1}` }, "Previous page") : null,
    h("span", {}, `Page ${page} of ${pagination.total_pages}`),
    page < pagination.total_pages ? h("a", { href: `#/promotions?page=${page + 1}` }, "Next page") : null);
}

function createForm(ctx) {
  const form = h("form", { novalidate: true, "aria-labelledby": "new-promotion", onsubmit: (event) => create(event, ctx) },
    field({ label: "Name", name: "name", required: true, maxlength: 255, autocomplete: "off" }),
    field({ label: "Discount (%)", name: "rules", type: "number", min: 0, max: 100, step: "any", value: "10",
      hint: "Off the cart's value" }),
    h("button", { type: "submit" }, "Create promotion"));
  return h("section", { class: "panel" }, h("h2", { id: "new-promotion" }, "New BULK coupon promotion"), form);
}

async function create(event, ctx) {
  event.preventDefault();
  const form = event.currentTarget;
  const percentage = form.elements.rules.value.trim();
  if (!/^\d+(\.\d+)?$/.test(percentage) || Number(percentage) > 100) {
    return showProblems(form, { problems: [{ field: "rules", message: "Enter a percentage from 0 to 100." }] });
  }
  const body = {
    name: form.elements.name.value,
    redemption_type: "COUPON",
    coupon_type: "BULK",
    rules: [{ action: { cart_value: { discount: { percentage_amount: percentage } } } }],
  };
  await busy(form, async () => {
    try {
      const created = (await call("POST", "promotions", { body })).body.data;
      announce(`Created promotion ${created.name}.`);
      ctx.navigate(`#/promotions/${created.id}`);
    } catch (error) {
      ctx.failed(error, form);
    }
  });
}
