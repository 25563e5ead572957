// The code format fields that codegen and bulk jobs share. Each entry is one input named as the API's field,
// so a 422 about that field shows beside it: BigCommerce's, then couponmint's own (charset, pattern, check
// character). A field left empty is left out, and the API's default applies.

import { field } from "./dom.js";

export const FORMAT_FIELDS = [
  { label: "Max uses", name: "max_uses", type: "number", min: 0, max: 100000, value: "1", hint: "0 = unlimited" },
  {
    label: "Max uses per customer",
    name: "max_uses_per_customer",
    type: "number",
    min: 0,
    max: 100000,
    value: "1",
    hint: "0 = unlimited",
  },
  { label: "Prefix", name: "prefix", maxlength: 20, hint: "Up to 20 of A-Z 0-9 _ -" },
  { label: "Suffix", name: "suffix", maxlength: 20, hint: "Up to 20 of A-Z 0-9 _ -" },
  {
    label: "Delimiter",
    name: "delimiter",
    type: "select",
    value: "",
    options: [["", "None"], ["-", "- (hyphen)"], ["_", "_ (underscore)"]],
    hint: "Between the prefix or suffix and the random part",
  },
  { label: "Length", name: "code_length", type: "number", min: 6, max: 16, placeholder: "16", hint: "Of the random part, 6 to 16" },
  {
    label: "Charset",
    name: "charset",
    type: "select",
    value: "",
    options: [["", "A-Z and 0-9"], ["unambiguous", "Unambiguous (no I, L, O, U)"], ["numeric", "Digits"], ["alphabetic", "Letters"]],
    hint: "The characters of the random part",
  },
  { label: "Pattern", name: "pattern", maxlength: 50, hint: "# for each random character, e.g. XMAS-####-#### (instead of prefix, suffix and length)" },
  {
    label: "Check character",
    name: "check_character",
    type: "select",
    json: "boolean",
    value: "",
    options: [["", "No"], ["true", "Yes: a mistyped code is known at once"]],
  },
];

export function formatFields() {
  return FORMAT_FIELDS.map(({ json, ...spec }) => field({ autocomplete: "off", ...spec }));
}

// The body's format part: empty fields are left out (the API's defaults apply); whole numbers are sent as
// JSON integers, anything else as typed, for the API to judge.
export function formatBody(form) {
  const body = {};
  for (const { name, type, json } of FORMAT_FIELDS) {
    const value = valueOf(form.elements[name], type);
    if (value !== undefined) body[name] = json === "boolean" ? value === "true" : value;
  }
  return body;
}

export function valueOf(control, type = control.type) {
  const raw = control.value.trim();
  if (raw === "") return undefined;
  if (type === "number") return /^-?\d+$/.test(raw) ? Number.parseInt(raw, 10) : raw;
  return raw;
}
