// One promotion's page: its details, new codes (BULK promotions, modify tokens), a job's progress, its codes.

import { call } from "./api.js";
import { formatTime, h } from "./dom.js";
import { codesSection } from "./codes.js";
import { generateSection } from "./generate.js";
import { jobPanel, recentJobs } from "./job.js";
import { kindOf } from "./promotions.js";

export async function promotionView(params, ctx) {
  const promotion = (await call("GET", `promotions/${params.id}`, { signal: ctx.signal })).body.data;
  const isCoupon = promotion.redemption_type === "COUPON";
  const isBulk = isCoupon && promotion.coupon_type === "BULK";
  const codes = isCoupon ? codesSection(promotion, ctx) : null;
  const reload = () => codes?.load();
  const [jobs] = await Promise.all([isBulk ? recentJobs(promotion, params.jobId, ctx).catch(() => null) : null, codes?.load()]);
  return h("article", {},
    h("p", { class: "crumbs" }, h("a", { href: "#/promotions" }, "All promotions")),
    h("h1", { tabindex: "-1" }, promotion.name),
    details(promotion),
    params.jobId ? jobPanel(promotion, params.jobId, ctx, { onDone: reload }) : null,
    isBulk && ctx.session.canWrite ? generateSection(promotion, ctx, { onCodes: reload }) : null,
    jobs,
    codes ? codes.element : h("p", {}, "Automatic promotions apply without codes."));
}

function details(promotion) {
  const rows = [
    ["Id", String(promotion.id)],
    ["Type", kindOf(promotion)],
    ["Status", promotion.status ?? ""],
    ["Starts", formatTime(promotion.start_date)],
    ["Ends", promotion.end_date ? formatTime(promotion.end_date) : "—"],
  ];
  return h("dl", { class: "details" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}
