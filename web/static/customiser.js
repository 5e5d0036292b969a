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
    for (const listener of listeners) listener({ values: current, typing, name, direction });
  }
  for (const [key, value] of values()) previous.set(key, value);

  form.addEventListener("input", (event) => {
    const name = event.target.name || event.target.dataset.for || null;
    emit(event.target.type !== "range" && /^(insert|delete)/.test(event.inputType || ""), name);
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
