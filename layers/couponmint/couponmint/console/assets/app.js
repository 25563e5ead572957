// The console's shell: routes (in the URL's fragment, so every page has a URL and the server serves one
// page), the signed-in account, and the one place errors are turned into words.

import { ApiError, clearSession, currentSession } from "./api.js";
import { h, showProblems } from "./dom.js";
import { promotionView } from "./promotion.js";
import { promotionsView } from "./promotions.js";
import { signInView } from "./signin.js";

const main = document.getElementById("main");
let controller = null;
let notice = null;

const ROUTES = [
  [/^#\/promotions\/(\d+)\/jobs\/([\w-]+)$/, (m, ctx) => promotionView({ id: m[1], jobId: m[2] }, ctx)],
  [/^#\/promotions\/(\d+)$/, (m, ctx) => promotionView({ id: m[1] }, ctx)],
  [/^#\/promotions(?:\?(.*))?$/, (m, ctx) => promotionsView(new URLSearchParams(m[1] ?? ""), ctx)],
];

async function render() {
  controller?.abort();
  controller = new AbortController();
  const session = currentSession();
  showAccount(session);
  const ctx = { session, signal: controller.signal, navigate, failed, signedIn, notice };
  notice = null;
  if (!session) return show(signInView(ctx));
  const hash = location.hash || "#/promotions";
  const route = ROUTES.find(([pattern]) => pattern.test(hash));
  if (!route) return navigate("#/promotions", { replace: true });
  const [pattern, view] = route;
  main.replaceChildren(h("p", { role: "status" }, "Loading…"));
  try {
    const page = await view(pattern.exec(hash), ctx);
    if (!ctx.signal.aborted) show(page);
  } catch (error) {
    if (!ctx.signal.aborted) failed(error);
  }
}

function show(page) {
  main.replaceChildren(page);
  const heading = main.querySelector("h1");
  document.title = heading ? `${heading.textContent} · couponmint console` : "couponmint console";
  (heading ?? main).focus({ preventScroll: false });
}

function navigate(hash, { replace = false } = {}) {
  if (location.hash === hash) return render();
  if (replace) {
    history.replaceState(null, "", hash);
    return render();
  }
  location.hash = hash; // hashchange renders
}

function signedIn() {
  render();
}

function signOut() {
  clearSession();
  notice = "You are signed out.";
  history.pushState(null, "", location.pathname);
  render();
}

// Errors in words: beside the form's fields when there is a form, else as the page's content.
function failed(error, form) {
  if (error?.name === "AbortError") return;
  if (error instanceof ApiError && error.status === 401) {
    clearSession();
    notice = "The token is no longer accepted. Sign in again.";
    return render();
  }
  const explained = error instanceof ApiError ? error : { problems: [{ field: null, message: wordsFor(error) }] };
  if (form) return showProblems(form, explained);
  const missing = error instanceof ApiError && error.status === 404;
  show(h("section", {},
    h("h1", { tabindex: "-1" }, missing ? "Not found" : "Something went wrong"),
    h("p", { role: "alert" }, explained.problems.map((p) => p.message).join(" ")),
    h("p", {}, h("a", { href: "#/promotions" }, "All promotions"))));
}

function wordsFor(error) {
  return error instanceof TypeError ? "The API could not be reached. Check the connection and try again." : String(error?.message ?? error);
}

function showAccount(session) {
  document.getElementById("account").hidden = !session;
  document.getElementById("account-store").textContent = session ? `Store ${session.store}` : "";
  document.getElementById("account-scope").textContent = session ? (session.canWrite ? "modify" : "read-only") : "";
}

document.getElementById("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", render);
render();
