// New codes for a BULK promotion: a batch answered at once (Generate), or a bulk job (Start job).
// Both take the same code format, in one form of its own, so its fields are filled in once.

import { call, fromLocation, sleep } from "./api.js";
import { announce, busy, clearProblems, field, formatNumber, h } from "./dom.js";
import { formatBody, formatFields, valueOf } from "./format.js";

const BATCH_POLL_MS = 1000;

export function generateSection(promotion, ctx, { onCodes }) {
  const result = h("div", { class: "result" });
  const format = h("form", { novalidate: true, onsubmit: (event) => event.preventDefault() },
    h("fieldset", {}, h("legend", {}, "Code format"), h("div", { class: "grid" }, formatFields())));
  const section = h("section", { class: "panel", "aria-labelledby": "new-codes" },
    h("h2", { id: "new-codes" }, "New codes"),
    format,
    h("div", { class: "actions" },
      h("form", { novalidate: true, onsubmit: (event) => run(event, generate) },
        field({ label: "Batch size", name: "batch_size", type: "number", min: 1, max: 250, value: "10",
          hint: "1 to 250 codes, shown here" }),
        h("button", { type: "submit" }, "Generate")),
      h("form", { novalidate: true, onsubmit: (event) => run(event, startJob) },
        field({ label: "Quantity", name: "quantity", type: "number", min: 1, max: 1000000, value: "1000",
          hint: "Up to 1,000,000 codes, made in the background, as a CSV" }),
        h("button", { type: "submit" }, "Start job"))),
    result);

  async function run(event, action) {
    event.preventDefault();
    const own = event.currentTarget;
    await busy(section, async () => {
      clearProblems(section);
      try {
        await action(own);
      } catch (error) {
        result.replaceChildren();
        ctx.failed(error, section);
      }
    });
  }

  async function generate(own) {
    const body = { ...formatBody(format), batch_size: valueOf(own.elements.batch_size, "number") };
    result.replaceChildren(h("p", { role: "status" }, "Generating…"));
    let answer = await call("POST", `promotions/${promotion.id}/codegen`, { body, signal: ctx.signal });
    // 202: the batch is still being made; its Location answers with the codes once it is DONE.
    const batchUrl = answer.status === 202 && answer.location ? fromLocation(answer.location) : null;
    while (batchUrl && answer.body.data.status !== "DONE") {
      if (answer.body.data.status === "FAILED") throw new Error(answer.body.data.error || "The batch failed.");
      await sleep(BATCH_POLL_MS, ctx.signal);
      answer = await call("GET", batchUrl, { signal: ctx.signal });
    }
    showCodes(answer.body.data.codes.map(({ code }) => code));
    await onCodes();
  }

  function showCodes(codes) {
    const title = `Generated ${formatNumber(codes.length)} codes`;
    result.replaceChildren(
      h("h3", { id: "generated-title" }, title),
      h("ol", { class: "generated", "aria-labelledby": "generated-title" }, codes.map((code) => h("li", {}, h("code", {}, code)))));
    announce(`${title}.`);
  }

  async function startJob(own) {
    const body = { ...formatBody(format), quantity: valueOf(own.elements.quantity, "number") };
    const job = (await call("POST", `promotions/${promotion.id}/codegen/jobs`, { body, signal: ctx.signal })).body.data;
    announce(`Started a job of ${formatNumber(job.quantity)} codes.`);
    ctx.navigate(`#/promotions/${promotion.id}/jobs/${encodeURIComponent(job.id)}`);
  }

  return section;
}
