// DOM helpers. Every text reaches the page as a text node or an attribute value, never as HTML.

let nextId = 0;

export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// h("a", {href: "#/x", onclick: fn}, "text", child, [more]) → an element. Strings become text nodes.
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// A labelled input (or select) with an optional hint and a place for its error, both tied to it by
// aria-describedby so that a screen reader reads them with the field.
export function field({ label, name, type = "text", hint, options, value, ...attributes }) {
  const id = uid(`field-${name}`);
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = `${id}-error`;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ");
  const control =
    type === "select"
      ? h("select", { id, name, "aria-describedby": describedBy, ...attributes },
          options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text)))
      : h("input", { id, name, type, value, "aria-describedby": describedBy, ...attributes });
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("p", { id: hintId, class: "hint" }, hint) : null,
    h("p", { id: errorId, class: "field-error", "data-error-for": name }));
}

// Shows an ApiError next to the fields it names ("<field>: <problem>"); the rest in the form's alert.
export function showProblems(form, error) {
  clearProblems(form);
  const loose = [];
  for (const { field: name, message } of error.problems) {
    const control = name ? form.querySelector(`[name="${CSS.escape(name)}"]`) : null;
    const place = name ? form.querySelector(`[data-error-for="${CSS.escape(name)}"]`) : null;
    if (control && place) {
      control.setAttribute("aria-invalid", "true");
      place.textContent = place.textContent ? `${place.textContent} ${message}` : message;
    } else {
      loose.push(name ? `${name}: ${message}` : message);
    }
  }
  const alert = formAlert(form);
  alert.textContent = loose.join(" ");
  const firstInvalid = form.querySelector("[aria-invalid='true']");
  if (firstInvalid) firstInvalid.focus();
}

export function clearProblems(form) {
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  for (const place of form.querySelectorAll("[data-error-for]")) place.textContent = "";
  formAlert(form).textContent = "";
}

function formAlert(form) {
  let alert = form.querySelector(":scope > .form-error");
  if (!alert) {
    alert = h("p", { class: "form-error", role: "alert" });
    form.prepend(alert);
  }
  return alert;
}

// A message for screen readers (and a visible status line where the view has one).
export function announce(text) {
  const announcer = document.getElementById("announcer");
  announcer.textContent = "";
  announcer.textContent = text;
}

// Disables a form's buttons while `work` runs, so a double click sends one request.
export async function busy(form, work) {
  const buttons = [...form.querySelectorAll("button")];
  for (const button of buttons) button.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    for (const button of buttons) button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

export function formatNumber(value) {
  return new Intl.NumberFormat().format(value);
}

export function formatTime(iso) {
  if (!iso) return "";
  const moment = new Date(iso);
  return Number.isNaN(moment.getTime()) ? iso : moment.toLocaleString();
}
