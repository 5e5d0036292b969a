// Live preview: parameter values changed -> request a draft render -> show the mesh.
//
// This module owns that whole path. At most one draft render is in flight per viewer: changes
// made meanwhile are coalesced and the latest values are rendered as soon as it returns, so
// superseded renders never compete for the server's CPU with the one the user is waiting for, and
// nothing queues behind it. The previous mesh stays on screen until the next one is parsed, then
// is swapped in the same frame (no blank canvas in between).
//
// Rendering ahead: once a draft is drawn and nothing else is pending, the values one step either
// side of the parameter just moved (the direction it moved first) are offered to the server
// (`&speculative=1`). The server renders them only when it is idle (204 otherwise), so the next
// step of a hand on a slider is often a cache hit. One offer at a time, and none once the user
// changes something again.

// Typing is debounced (so "25" does not first render 2) unless the typed number is complete (no
// further digit gives a value the field accepts, see customiser.js `mayGrow`); a discrete change
// (spinner, arrow keys, slider, select, checkbox, a preset, leaving a field) is sent at once.
// Meanwhile the value typed so far is offered to the server as a speculative render, so the
// debounce costs nothing when typing stops there: the request sent then joins that render.
export const DEBOUNCE_MS = 150;

// Timings (parameter change -> new mesh drawn) for the browser test to read, and where each went:
// waiting (debounce, a render in flight), the request (render + transfer), parsing and drawing.
// `samples` says what kind of value each timing is: "new", "cached" (drawn before on this page),
// "ahead" (rendered ahead of the user, and ready) or "ahead_pending" (rendered ahead, not ready
// yet: the request joined that render); `ahead` counts the offers of neighbouring values and
// `typed` those of values being typed (which stay "new": nobody rendered them before they were typed).
const stats = (window.__opendesign = window.__opendesign || { meshes: 0, timings: [], phases: [], errors: [] });
stats.samples = stats.samples || [];
stats.ahead = stats.ahead || { offered: 0, accepted: 0, cached: 0, declined: 0 };
stats.typed = stats.typed || { offered: 0, accepted: 0, cached: 0, declined: 0 };
const JOB_POLL_MS = 150;
const KEPT_MESHES = 24;

// The server's own durations for a response (its Server-Timing header, web/server_timing.py), in ms:
// "render" (cache lookup, job, waiting for it) and "app" (the whole request inside the server).
function serverTiming(response) {
  const out = {};
  for (const entry of (response.headers.get("Server-Timing") || "").split(",")) {
    const [name, ...params] = entry.trim().split(";").map((p) => p.trim());
    const dur = params.find((p) => p.startsWith("dur="));
    if (name && dur && Number.isFinite(Number(dur.slice(4)))) out[name] = Number(dur.slice(4));
  }
  return out;
}

export function createPreview({ view, host, renderUrl, version, values, say, neighbours = () => [] }) {
  let timer = null, pendingStart = null, inFlight = false, generation = 0, lastUrl = null, moving = null;
  let offeringTyped = false;  // an offer of the value being typed is on its way to the server
  const drawnUrls = new Set(), aheadUrls = new Set();

  function draftUrl(given = values()) {
    const params = new URLSearchParams(given);
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

  // The GLB of draft URLs drawn or rendered ahead, newest last: going back to a value, or on to one
  // the server rendered ahead, costs a parse and a frame, no request. Draft files are immutable for
  // a version and its parameters (the server's cache is content-addressed), so nothing goes stale.
  const buffers = new Map();
  function keep(url, buffer) {
    buffers.delete(url);
    buffers.set(url, buffer);
    while (buffers.size > KEPT_MESHES) buffers.delete(buffers.keys().next().value);
  }

  async function fetchInto(url, fileUrl) {
    try {
      const response = await fetch(fileUrl);
      if (response.ok) keep(url, await response.arrayBuffer());
    } catch (_) { /* only a head start lost */ }
  }

  async function load(url, started = 0, requested = performance.now()) {
    if (buffers.has(url)) return show(url, buffers.get(url), started, requested, requested, true);
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
    if (started) keep(url, buffer);
    return show(url, buffer, started, requested, performance.now(), false, serverTiming(response));
  }

  async function show(url, buffer, started, requested, received, kept = false, server = {}) {
    view.show(await view.parse(buffer));
    const ms = await drawn(started);
    if (started) {
      // Of the request: the server's part (and the render inside it); the rest is transport.
      const inServer = "app" in server ? { server: server.app, server_render: server.render } : {};
      stats.phases.push({ wait: requested - started, request: received - requested,
                          draw: performance.now() - received, ...inServer });
      // "ahead_pending": offered ahead, but its render was not done when the user got there.
      const kind = drawnUrls.has(url) ? "cached" : aheadUrls.has(url) ? (kept ? "ahead" : "ahead_pending") : "new";
      stats.samples.push({ ms, kind });
    }
    drawnUrls.add(url);
    stats.lastDrawn = url;
    return ms;
  }

  const idle = (mine) => mine === generation && pendingStart === null && !inFlight;

  // Offer *url* to be rendered ahead (`speculative=1`), counting the outcome in *counts*: the answer
  // (200 cached, 202 accepted, else declined), or null when the server could not be reached.
  async function offer(url, counts) {
    counts.offered += 1;
    let response;
    try {
      response = await fetch(`${url}&speculative=1`, { headers: { Accept: "application/json" } });
    } catch (_) {
      return null;
    }
    counts[{ 200: "cached", 202: "accepted" }[response.status] || "declined"] += 1;
    return response;
  }

  async function ahead(mine) {
    if (!moving) return;
    for (const given of neighbours(moving.name, moving.direction)) {
      const url = draftUrl(given);
      if (!idle(mine)) return;
      if (drawnUrls.has(url) || aheadUrls.has(url)) continue;
      const response = await offer(url, stats.ahead);
      if (response === null) return;  // offline or the server went away: the real request will say so
      if (response.status === 200) {
        aheadUrls.add(url);
        await fetchInto(url, (await response.json()).url);
        continue;
      }
      if (response.status !== 202) return;  // busy or over budget: ask again after the next change, not now
      aheadUrls.add(url);
      // One offer at a time: wait for this one (or for the user) before offering the next.
      const job = (await response.json()).job;
      while (idle(mine)) {
        await new Promise((r) => setTimeout(r, JOB_POLL_MS));
        try {
          const state = await (await fetch(job)).json();
          if (state.status === "done") {
            const file = (state.files || []).find((f) => f.format === "glb" && !f.part);
            if (file) await fetchInto(url, file.url);
          }
          if (state.status !== "pending") break;
        } catch (_) {
          return;
        }
      }
    }
  }

  // The value being typed, offered while the debounce runs: only when no render of this viewer is in
  // flight, one request at a time. The server accepts only into a slot beyond those it keeps for
  // real requests (so the offer never delays one) and within the visitor's budget: once an earlier
  // prefix took that slot, a fast typist's next prefixes are declined, not queued.
  async function offerTyped() {
    const url = draftUrl();
    if (inFlight || offeringTyped || url === lastUrl || buffers.has(url) || aheadUrls.has(url)) return;
    offeringTyped = true;
    try {
      await offer(url, stats.typed);  // unreachable: the real request will say so
    } finally {
      offeringTyped = false;
    }
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
        setTimeout(() => ahead(mine), 0);  // after `finally` below has cleared inFlight
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
  function changed({ typing, name = null, direction = 0, valid = true }) {
    moving = name ? { name, direction } : null;  // a preset moves many at once: nothing to render ahead
    if (pendingStart === null) pendingStart = performance.now();
    clearTimeout(timer);
    timer = setTimeout(flush, typing ? DEBOUNCE_MS : 0);
    if (typing && valid) offerTyped();
  }

  return { load, changed };
}
