// The design page's script: wires the customiser to the live preview and to the links that carry
// the parameters, and makes presets one click. Everything on the page works without it.
import { createCustomiser } from "./customiser.js";
import { createParameterLinks } from "./parameter-links.js";
import { createPreview } from "./preview.js";
import { createView } from "./viewer.js";

const page = document.querySelector("article.design");
const host = document.getElementById("viewer");
const form = document.getElementById("customiser");
const statusLine = document.getElementById("viewer-status");
const stats = (window.__opendesign = window.__opendesign || { meshes: 0, timings: [], phases: [], errors: [] });

function say(text) { if (statusLine) statusLine.textContent = text; }

function showDrawing() {
  // The SVG drawing stands in for the 3D view; it is only fetched (rendered, on a first visit) when needed.
  const drawing = document.getElementById("viewer-drawing");
  if (drawing && !host.querySelector("img.drawing")) host.prepend(drawing.content.cloneNode(true));
  host.classList.remove("has-canvas");
}

const customiser = form ? createCustomiser(form) : null;

if (customiser && page) {
  const links = createParameterLinks({ page, resolveUrl: page.dataset.parametersUrl, version: page.dataset.version });
  customiser.onChange(links.changed);
  form.addEventListener("submit", links.stop);
  // A preset is a link to its permalink; with the script it sets the form and re-renders in place.
  const presets = document.getElementById("presets");
  if (presets) {
    presets.addEventListener("click", (event) => {
      const preset = event.target.closest("a.preset");
      if (!preset || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      customiser.apply(JSON.parse(preset.dataset.values));
    });
  }
}

if (host && host.dataset.available === "true" && window.WebGLRenderingContext) {
  let view = null;
  try {
    view = createView(host);
  } catch (err) {
    say("3D view unavailable: " + err.message);
    showDrawing();
  }
  if (view) {
    stats.camera = view.camera;
    const preview = createPreview({ view, host, renderUrl: host.dataset.renderUrl, version: host.dataset.version,
                                    values: () => customiser.values(), say,
                                    neighbours: customiser ? customiser.neighbours : undefined });
    say("Loading model…");
    preview.load(host.dataset.modelUrl).then(() => say("")).catch((err) => { say(err.message); showDrawing(); });
    if (customiser) customiser.onChange(preview.changed);
  }
} else if (host) {
  showDrawing();
}
