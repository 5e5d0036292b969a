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

export function createCustomiser(form) {
  const listeners = [];
  const sliders = addSliders(form);

  const values = () => lastValues(form);
  function emit(typing) {
    const current = values();
    for (const listener of listeners) listener({ values: current, typing });
  }

  form.addEventListener("input", (event) => {
    emit(event.target.type !== "range" && /^(insert|delete)/.test(event.inputType || ""));
  });
  form.addEventListener("change", () => emit(false));

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

  return { values, apply, onChange: (listener) => listeners.push(listener) };
}
