// A bulk job's progress, watched to the end, then its CSV; and a promotion's recent jobs.

import { ApiError, call, sleep } from "./api.js";
import { announce, formatNumber, formatTime, h } from "./dom.js";

const POLL_MS = 1000;
const FINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);
const WORDS = {
  QUEUED: "Queued",
  RUNNING: "Generating",
  ASSEMBLING: "Writing the CSV",
  COMPLETED: "Completed",
  FAILED: "Failed",
  CANCELLED: "Cancelled",
};

function isWebUrl(text) {
  try {
    return ["https:", "http:"].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

export function jobPanel(promotion, jobId, ctx, { onDone }) {
  const status = h("p", { class: "job-status" }, "Loading the job…");
  const fill = h("div", { class: "fill" });
  const bar = h("div", { class: "progress", role: "progressbar", "aria-labelledby": "job-title",
    "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, fill);
  const outcome = h("div", { class: "outcome" });
  const section = h("section", { class: "panel", "aria-labelledby": "job-title" },
    h("h2", { id: "job-title" }, "Bulk job progress"), status, bar, outcome);

  function show(job) {
    const share = job.quantity ? Math.floor((100 * job.generated) / job.quantity) : 0;
    // 100 means done: a job whose codes are all made is still writing its CSV until COMPLETED.
    const percent = job.status === "COMPLETED" ? 100 : Math.min(99, share);
    bar.setAttribute("aria-valuenow", String(percent));
    bar.setAttribute("aria-valuetext", `${percent}%: ${formatNumber(job.generated)} of ${formatNumber(job.quantity)} codes`);
    fill.style.width = `${percent}%`;
    const failed = job.failed ? `, ${formatNumber(job.failed)} failed` : "";
    status.textContent = `${WORDS[job.status] ?? job.status}: ${formatNumber(job.generated)} of ${formatNumber(job.quantity)} codes${failed}.`;
    if (job.status === "COMPLETED" && isWebUrl(job.download_url)) {
      // A link, not a fetch: the presigned S3 URL is another origin, reached by navigation only.
      outcome.replaceChildren(h("a", { class: "button", href: job.download_url, rel: "noreferrer" }, "Download CSV"));
    } else if (job.error) {
      outcome.replaceChildren(h("p", { class: "form-error", role: "alert" }, job.error));
    }
  }

  async function watch() {
    const url = `promotions/${promotion.id}/codegen/jobs/${encodeURIComponent(jobId)}`;
    for (;;) {
      let job;
      try {
        job = (await call("GET", url, { signal: ctx.signal })).body.data;
      } catch (error) {
        if (ctx.signal.aborted) return;
        if (error instanceof ApiError && error.status === 429) {
          await sleep(1000 * (Number(error.retryAfter) || 1), ctx.signal).catch(() => {});
          continue;
        }
        status.textContent = "";
        return ctx.failed(error, section);
      }
      show(job);
      if (FINAL.has(job.status)) {
        announce(status.textContent);
        return onDone();
      }
      try {
        await sleep(POLL_MS, ctx.signal);
      } catch {
        return; // the page moved on
      }
    }
  }

  watch();
  return section;
}

// The promotion's latest jobs but the one shown, each a link to its own page (its progress and CSV).
export async function recentJobs(promotion, shownJobId, ctx) {
  const url = `promotions/${promotion.id}/codegen/jobs?limit=6`;
  const jobs = (await call("GET", url, { signal: ctx.signal })).body.data.filter((job) => job.id !== shownJobId).slice(0, 5);
  if (!jobs.length) return null;
  return h("section", { class: "panel", "aria-labelledby": "recent-jobs" },
    h("h2", { id: "recent-jobs" }, "Recent jobs"),
    h("ul", { class: "jobs" }, jobs.map((job) => h("li", {},
      h("a", { href: `#/promotions/${promotion.id}/jobs/${encodeURIComponent(job.id)}` },
        `${formatNumber(job.quantity)} codes, ${formatTime(job.created)}`),
      ` — ${WORDS[job.status] ?? job.status}`))));
}
