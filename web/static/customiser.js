// The customiser form: its current values, one "values changed" event for everything that follows
// them (the live preview, the links that carry the parameters), and applying a set of values at once
// (a preset). Without JavaScript the form still works: Render submits it.

function lastValues(form) {
  // A checkbox sends "false" (its hidden twin) then "true"; keep the last value of each name.
  const last = new URLSearchParams();
  for (const [name, value] of new FormData(form)) last.set(name, value);
  return last;
}

function labelOf(input) {
  const label = input.labels && input.labels[0];
  return label ? label.firstChild.textContent.trim() : input.name;
}

// A slider next to every bounded number field: the natural control on a phone. The number field
// stays for exact values; the slider carries no name, so the form never sends it.
function addSliders(form) {
  const sliders = new Map();
  for (const input of form.querySelectorAll("input[type=number][min][max]")) {
    const range = document.createElement("input");
    range.type = "range";
    range.className = "slider";
    range.min = input.min;
    range.max = input.max;
    range.step = input.step || "any";
    range.value = input.value;
    range.setAttribute("aria-label", `${labelOf(input)} (slider)`);
    range.dataset.for = input.name;  // which parameter a slider's events are about
    // Field and slider share a row: the field for exact values, the slider for a thumb.
    const row = document.createElement("span");
    row.className = "field-row";
    input.before(row);
    row.append(input, range);
    // Listeners on the fields run before the form's own, so the form reads the new value.
    range.addEventListener("input", () => { input.value = range.value; });
    input.addEventListener("input", () => { if (input.value !== "") range.value = input.value; });
    sliders.set(input.name, range);
  }
  return sliders;
}

// The value one step either side of *name*'s current value (within its bounds), the direction it
// last moved in first: what the server may render ahead of the hand on that slider.
function neighbours(form, name, direction) {
  const input = form.querySelector(`input[type=number][name="${CSS.escape(name)}"]`);
  if (!input || !input.step || input.step === "any" || input.value === "") return [];
  const step = Number(input.step), value = Number(input.value);
  const low = input.min === "" ? -Infinity : Number(input.min), high = input.max === "" ? Infinity : Number(input.max);
  // Round to the step's decimals so 0.1 + 0.2 is sent as 0.3 (the server checks the step grid).
  const decimals = (input.step.split(".")[1] || "").length;
  const out = [];
  for (const sign of direction < 0 ? [-1, 1] : [1, -1]) {
    const next = Number((value + sign * step).toFixed(decimals));
    if (next >= low && next <= high) {
      const values = lastValues(form);
      values.set(name, String(next));
      out.push(values);
    }
  }
  return out;
}

// Whether typing more characters at the end of *text* could still give a value *field* accepts
// (within min..max, on the step grid's decimals). When it cannot, the typed value is complete: a
// width of 120-400 typed as "250" renders at once, while "25" waits for the debounce (a third
// digit may follow). Unparsed or out-of-range text may be a prefix too: it waits.
export function mayGrow(text, { min = "", max = "", step = "any" } = {}) {
  const t = String(text).trim();
  if (!/^-?\d+(\.\d*)?$/.test(t)) return true;
  const low = min === "" ? -Infinity : Number(min), high = max === "" ? Infinity : Number(max);
  const value = Number(t);
  if (!(value >= low && value <= high)) return true;
  const sign = t.startsWith("-") ? -1 : 1;
  const [whole, fraction] = t.replace("-", "").split(".");
  const stepDecimals = step === "any" ? Infinity : (String(step).split(".")[1] || "").length;
  // Values between a and b (a <= b, in magnitude) with the sign of the text: any within bounds?
  const reachable = (a, b) => (sign > 0 ? a <= high && b >= low : -a >= low && -b <= high);
  if (fraction !== undefined) {
    const f = fraction.length;
    return f < stepDecimals && reachable(Math.abs(value), Math.abs(value) + 10 ** -f);
  }
  if (Number(whole) === 0 || stepDecimals > 0) return true;  // "0" or "12" of "12.5" may go on
  for (let scale = 10; scale <= 1e15; scale *= 10) {
    const a = Number(whole) * scale, b = (Number(whole) + 1) * scale - 1;
    if (reachable(a, b)) return true;
    if (sign > 0 ? a > high : -a < low) return false;
  }
  return false;
}

export function createCustomiser(form) {
  const listeners = [];
  const sliders = addSliders(form);
  const previous = new Map();

  const values = () => lastValues(form);
  function emit(typing, name = null) {
    const current = values();
    // Which way the parameter moved, so what is rendered ahead is where the hand is going.
    let direction = 0;
    if (name && current.has(name)) {
      const before = Number(previous.get(name)), now = Number(current.get(name));
      if (Number.isFinite(before) && Number.isFinite(now)) direction = Math.sign(now - before);
    }
    for (const [key, value] of current) previous.set(key, value);
    // Whether every field holds a value it accepts (bounds, step): what may be rendered as it stands.
    const valid = form.checkValidity();
    for (const listener of listeners) listener({ values: current, typing, name, direction, valid });
  }
  for (const [key, value] of values()) previous.set(key, value);

  form.addEventListener("input", (event) => {
    const field = event.target;
    const name = field.name || field.dataset.for || null;
    // Typing waits for the next keystroke (debounced), unless no keystroke can follow usefully.
    const typing = field.type !== "range" && /^(insert|delete)/.test(event.inputType || "")
      && (field.type !== "number" || mayGrow(field.value, field));
    emit(typing, name);
  });
  form.addEventListener("change", (event) => emit(false, event.target.name || event.target.dataset.for || null));

  function apply(given) {
    for (const [name, value] of Object.entries(given)) {
      for (const field of form.querySelectorAll(`[name="${CSS.escape(name)}"]`)) {
        if (field.type === "hidden") continue;  // a checkbox's "false" twin
        if (field.type === "checkbox") field.checked = value === "true";
        else field.value = value;
      }
      if (sliders.has(name)) sliders.get(name).value = value;
    }
    emit(false);
  }

  return { values, apply, neighbours: (name, direction) => neighbours(form, name, direction),
           onChange: (listener) => listeners.push(listener) };
}
