// Signing in: a store hash and a token, checked against the API, kept in this tab's sessionStorage only.

import { ApiError, call, saveSession } from "./api.js";
import { busy, field, h, showProblems } from "./dom.js";

export function signInView(ctx) {
  const form = h("form", { novalidate: true, "aria-labelledby": "signin-title", onsubmit: (event) => submit(event, ctx) },
    field({ label: "Store", name: "store", autocomplete: "off", spellcheck: "false", required: true,
      hint: "The store hash, e.g. demo", value: ctx.lastStore }),
    field({ label: "Token", name: "token", type: "password", autocomplete: "off", required: true,
      hint: "An API token with store_v2_marketing or store_v2_marketing_read_only" }),
    h("button", { type: "submit" }, "Sign in"));
  return h("section", { class: "narrow" },
    h("h1", { id: "signin-title", tabindex: "-1" }, "Sign in"),
    ctx.notice ? h("p", { class: "notice", role: "status" }, ctx.notice) : null,
    form,
    h("p", { class: "hint" },
      "The token stays in this browser tab until you sign out or close it; every action is an API call made with it."));
}

async function submit(event, ctx) {
  event.preventDefault();
  const form = event.currentTarget;
  const store = form.elements.store.value.trim();
  const token = form.elements.token.value.trim();
  const missing = [];
  if (!/^[A-Za-z0-9_-]+$/.test(store)) {
    missing.push({ field: "store", message: "Enter the store hash: letters, digits, _ or -." });
  }
  if (!token) missing.push({ field: "token", message: "Enter a token." });
  if (missing.length) return showProblems(form, { problems: missing });
  await busy(form, async () => {
    try {
      const canWrite = await probe({ store, token });
      saveSession({ store, token, canWrite });
      form.reset();
      ctx.signedIn();
    } catch (error) {
      showProblems(form, explain(error, store));
    }
  });
}

// Whether the token reads this store (a GET), then whether it may write: a POST of an empty promotion is
// refused before validation with 403 for a read-only token, and with 422 (nothing written) for a modify one.
async function probe(session) {
  await call("GET", "promotions?limit=1", { session });
  try {
    await call("POST", "promotions", { session, body: {} });
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) return true;
    if (error instanceof ApiError && error.status === 403) return false;
    throw error;
  }
  return true;
}

function explain(error, store) {
  if (!(error instanceof ApiError)) {
    return { problems: [{ field: null, message: "The API could not be reached. Check the connection and try again." }] };
  }
  if (error.status === 401) return { problems: [{ field: "token", message: "This token is not known." }] };
  if (error.status === 403) {
    return { problems: [{ field: "store", message: `This token does not belong to store ${store}.` }] };
  }
  return error;
}
