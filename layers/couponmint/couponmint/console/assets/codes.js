// A promotion's codes: newest first, a page at a time by the API's cursor links, searched by code, deleted; each
// with its uses out of its limit and a "Redemptions" button that lists them below the table.

import { call } from "./api.js";
import { announce, busy, clearProblems, field, formatNumber, formatTime, h } from "./dom.js";
import { forgetRedemptions, redemptionsButton, redemptionsPlace } from "./redemptions.js";

const PAGE_SIZE = 50;

export function codesSection(promotion, ctx) {
  const canWrite = ctx.session.canWrite;
  const base = `promotions/${promotion.id}/codes`;
  let query = `?limit=${PAGE_SIZE}`;
  let searched = null;

  const table = h("div", { class: "table-place" }, h("p", {}, "Loading codes…"));
  const pager = h("nav", { class: "pager", "aria-label": "Code pages" });
  const summary = h("p", { class: "hint", role: "status" });
  const redemptions = redemptionsPlace();
  const search = h("form", { role: "search", novalidate: true, class: "inline", onsubmit: find },
    field({ label: "Search", name: "code", type: "search", autocomplete: "off", spellcheck: "false",
      hint: "A code's exact text, in any case" }),
    h("button", { type: "submit" }, "Search"),
    h("button", { type: "button", class: "quiet", onclick: showAll }, "Show all"));
  const remove = canWrite
    ? h("form", { class: "inline", onsubmit: deleteSelected },
        h("button", { type: "submit", class: "danger", "aria-describedby": "selected-count" }, "Delete"),
        h("span", { id: "selected-count", class: "hint" }, "No code selected"))
    : null;
  const section = h("section", { class: "panel", "aria-labelledby": "codes-title" },
    h("h2", { id: "codes-title", tabindex: "-1" }, "Codes"), search, summary, table, pager, remove, redemptions);

  async function load(nextQuery = query) {
    const answer = await call("GET", `${base}${nextQuery}`, { signal: ctx.signal });
    query = nextQuery;
    const { data, meta } = answer.body;
    table.replaceChildren(data.length ? codeTable(data) : h("p", {}, emptyText()));
    summary.textContent = searched === null ? pageSummary(meta, data.length) : "";
    const links = meta.cursor_pagination?.links ?? {};
    const turns = [
      links.previous ? h("button", { type: "button", onclick: () => turn(links.previous) }, "Previous page") : null,
      links.next ? h("button", { type: "button", onclick: () => turn(links.next) }, "Next page") : null,
    ];
    pager.replaceChildren(...turns.filter(Boolean));
    updateSelection();
  }

  function emptyText() {
    return searched === null ? "No codes yet." : `No code ${searched} in this promotion.`;
  }

  function codeTable(codes) {
    const headers = [canWrite ? "Select" : null, "Code", "Uses", "Uses per customer", "Created", "Redemptions"]
      .filter(Boolean);
    return h("table", { class: "codes" },
      h("caption", { class: "visually-hidden" }, `Codes of ${promotion.name}`),
      h("thead", {}, h("tr", {}, headers.map((title) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, codes.map((code) => h("tr", {},
        canWrite ? h("td", {}, h("input", { type: "checkbox", name: "selected", value: code.id,
          "aria-label": `Select ${code.code}`, onchange: updateSelection })) : null,
        h("td", {}, h("code", {}, code.code)),
        h("td", { class: "number" }, usesOf(code.current_uses, code.max_uses)),
        h("td", { class: "number" }, limitOf(code.max_uses_per_customer)),
        h("td", {}, formatTime(code.created)),
        h("td", {}, redemptionsButton(promotion, code, ctx, redemptions))))));
  }

  async function turn(link) {
    await busy(pager, () => load(link).catch((error) => ctx.failed(error, section)));
    section.querySelector("#codes-title").focus();
  }

  async function find(event) {
    event.preventDefault();
    const text = event.currentTarget.elements.code.value.trim();
    if (!text) return showAll();
    searched = text;
    await busy(search, () => load(`?limit=${PAGE_SIZE}&code=${encodeURIComponent(text)}`).catch((e) => ctx.failed(e, search)));
  }

  async function showAll() {
    searched = null;
    search.elements.code.value = "";
    clearProblems(search);
    await busy(search, () => load(`?limit=${PAGE_SIZE}`).catch((e) => ctx.failed(e, search)));
  }

  function selectedIds() {
    return [...table.querySelectorAll("input[name=selected]:checked")].map((box) => box.value);
  }

  function updateSelection() {
    if (!remove) return;
    const count = selectedIds().length;
    remove.querySelector("#selected-count").textContent =
      count ? `${formatNumber(count)} selected` : "No code selected";
  }

  async function deleteSelected(event) {
    event.preventDefault();
    const ids = selectedIds();
    if (!ids.length) return announce("Select the codes to delete first.");
    await busy(remove, async () => {
      try {
        await call("DELETE", `${base}?id:in=${ids.join(",")}`, { signal: ctx.signal });
        announce(`Deleted ${formatNumber(ids.length)} ${ids.length === 1 ? "code" : "codes"}.`);
        forgetRedemptions(redemptions, ids);
        await load();
      } catch (error) {
        ctx.failed(error, section);
      }
    });
  }

  return { element: section, load: () => load().catch((error) => ctx.failed(error, section)) };
}

function limitOf(limit) {
  return limit ? formatNumber(limit) : "unlimited";
}

// Uses out of the limit: "0 / 1", or "3 / unlimited" when max_uses is 0.
export function usesOf(current, limit) {
  return `${formatNumber(current)} / ${limitOf(limit)}`;
}

function pageSummary(meta, shown) {
  const total = meta.pagination?.total;
  return total === undefined ? `${formatNumber(shown)} shown, newest first.` : `${formatNumber(total)} codes, newest first.`;
}
