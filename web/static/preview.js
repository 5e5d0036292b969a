// Live preview: parameter values changed -> request a draft render -> show the mesh.
//
// This module owns that whole path, so a faster pipeline (speculative renders of neighbouring
// values, keeping the previous mesh while the next one loads) changes only this file.
// At most one draft render is in flight per viewer: changes made meanwhile are coalesced and the
// latest values are rendered as soon as it returns, so superseded renders never compete for the
// server's CPU with the one the user is waiting for, and nothing queues behind it.

// Typing is debounced (so "25" does not first render 2); a discrete change (spinner, arrow keys,
// slider, select, checkbox, a preset, leaving a field) is sent at once.
export const DEBOUNCE_MS = 150;

// Timings (parameter change -> new mesh drawn) for the browser test to read, and where each went:
// waiting (debounce, a render in flight), the request (render + transfer), parsing and drawing.
const stats = (window.__opendesign = window.__opendesign || { meshes: 0, timings: [], phases: [], errors: [] });

export function createPreview({ view, host, renderUrl, version, values, say }) {
  let timer = null, pendingStart = null, inFlight = false, generation = 0, lastUrl = null;

  function draftUrl() {
    const params = new URLSearchParams(values());
    params.set("format", "glb");
    params.set("quality", "draft");
    params.set("version", version);
    return `${renderUrl}?${params.toString()}`;
  }

  function drawn(started) {
    // The mesh is on screen once the next frame has been rendered.
    return new Promise((resolve) => requestAnimationFrame(() => {
      view.draw();
      const ms = performance.now() - started;
      stats.meshes += 1;
      if (started) stats.timings.push(ms);
      host.dataset.meshes = String(stats.meshes);
      resolve(ms);
    }));
  }

  async function load(url, started = 0, requested = performance.now()) {
    const response = await fetch(url, { headers: { Accept: "model/gltf-binary" } });
    if (response.status === 202) {
      // Still rendering in the background: ask again for the same file (the server dedupes the job).
      say("Rendering…");
      await new Promise((r) => setTimeout(r, 700));
      return load(url, started, requested);
    }
    if (!response.ok) {
      let message = `render failed (${response.status})`;
      try {
        const body = await response.json();
        message = body.error.message;
        if (body.error.fields) {
          message = Object.entries(body.error.fields).map(([k, v]) => `${k}: ${v.join("; ")}`).join(" · ");
        }
      } catch (_) { /* not JSON */ }
      throw new Error(message);
    }
    const buffer = await response.arrayBuffer();
    const received = performance.now();
    view.show(await view.parse(buffer));
    const ms = await drawn(started);
    if (started) stats.phases.push({ wait: requested - started, request: received - requested,
                                     draw: performance.now() - received });
    return ms;
  }

  async function flush() {
    timer = null;
    if (inFlight || pendingStart === null) return;
    const started = pendingStart;
    pendingStart = null;
    const url = draftUrl();
    if (url === lastUrl) return;  // e.g. the change event that follows typing: already drawn
    lastUrl = url;
    inFlight = true;
    const mine = ++generation;
    say("Rendering draft…");
    try {
      const ms = await load(url, started);
      if (mine === generation && pendingStart === null) {
        say(`Draft updated in ${Math.round(ms)} ms — press Render for full quality.`);
      }
    } catch (err) {
      lastUrl = null;
      stats.errors.push(err.message);
      if (mine === generation) say(err.message);
    } finally {
      inFlight = false;
      if (pendingStart !== null && timer === null) flush();
    }
  }

  // Time from the first change of a burst, so the debounce (and any wait for the render in flight)
  // is part of what is measured.
  function changed({ typing }) {
    if (pendingStart === null) pendingStart = performance.now();
    clearTimeout(timer);
    timer = setTimeout(flush, typing ? DEBOUNCE_MS : 0);
  }

  return { load, changed };
}
