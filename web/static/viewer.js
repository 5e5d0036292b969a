// The design page's 3D viewer (three.js from npm): loads the GLB of the current
// parameter set, and re-renders a draft live while the customiser changes,
// debounced, without a page reload. Everything else on the page works without it.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

const host = document.getElementById("viewer");
const form = document.getElementById("customiser");
const statusLine = document.getElementById("viewer-status");
// Typing is debounced (so "25" does not first render 2); a discrete change (spinner, arrow keys,
// slider, select, checkbox, leaving a field) is sent at once.
const DEBOUNCE_MS = 150;
// Timings (parameter change -> new mesh drawn) for the browser test to read, and where each went:
// waiting (debounce, a render in flight), the request (render + transfer), parsing and drawing.
window.__opendesign = { meshes: 0, timings: [], phases: [], errors: [] };

function say(text) { if (statusLine) statusLine.textContent = text; }

function showDrawing() {
  // The SVG drawing stands in for the 3D view; it is only fetched (rendered, on a first visit) when needed.
  const drawing = document.getElementById("viewer-drawing");
  if (drawing && !host.querySelector("img.drawing")) host.prepend(drawing.content.cloneNode(true));
  host.classList.remove("has-canvas");
}

function setup() {
  const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  const width = host.clientWidth || 640, height = 420;
  renderer.setSize(width, height);
  host.prepend(renderer.domElement);
  host.classList.add("has-canvas");
  const scene = new THREE.Scene();
  scene.background = null;
  const camera = new THREE.PerspectiveCamera(40, width / height, 0.1, 100000);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x556677, 2.2));
  const sun = new THREE.DirectionalLight(0xffffff, 2.0);
  sun.position.set(1, 2, 3);
  scene.add(sun);
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.enableDamping = true;
  let current = null, framed = false;
  const material = new THREE.MeshStandardMaterial({ color: 0x4f9d69, metalness: 0.05, roughness: 0.6 });

  function frame(object) {
    const box = new THREE.Box3().setFromObject(object);
    const size = box.getSize(new THREE.Vector3()).length() || 1;
    const centre = box.getCenter(new THREE.Vector3());
    controls.target.copy(centre);
    camera.position.copy(centre).add(new THREE.Vector3(0.9, 0.8, 1.1).normalize().multiplyScalar(size * 1.3));
    camera.near = size / 1000; camera.far = size * 100;
    camera.updateProjectionMatrix();
  }

  function show(gltf) {
    const object = gltf.scene;
    object.traverse((node) => { if (node.isMesh) { node.material = material; } });
    if (current) {
      scene.remove(current);
      current.traverse((node) => { if (node.isMesh) node.geometry.dispose(); });
    }
    current = object;
    scene.add(object);
    if (!framed) { frame(object); framed = true; }
  }

  function loop() {
    controls.update();
    renderer.render(scene, camera);
    requestAnimationFrame(loop);
  }
  loop();
  window.addEventListener("resize", () => {
    const w = host.clientWidth || 640;
    renderer.setSize(w, height);
    camera.aspect = w / height; camera.updateProjectionMatrix();
  });
  return { show, renderer, scene, camera };
}

const loader = new GLTFLoader();

function drawn(view, started) {
  // The mesh is on screen once the next frame has been rendered.
  return new Promise((resolve) => requestAnimationFrame(() => {
    view.renderer.render(view.scene, view.camera);
    const ms = performance.now() - started;
    window.__opendesign.meshes += 1;
    if (started) window.__opendesign.timings.push(ms);
    host.dataset.meshes = String(window.__opendesign.meshes);
    resolve(ms);
  }));
}

async function loadUrl(view, url, started, requested = performance.now()) {
  const response = await fetch(url, { headers: { Accept: "model/gltf-binary" } });
  if (response.status === 202) {
    // Still rendering in the background: ask again for the same file (the server dedupes the job).
    say("Rendering…");
    await new Promise((r) => setTimeout(r, 700));
    return loadUrl(view, url, started, requested);
  }
  if (!response.ok) {
    let message = `render failed (${response.status})`;
    try {
      const body = await response.json();
      message = body.error.message;
      if (body.error.fields) message = Object.entries(body.error.fields).map(([k, v]) => `${k}: ${v.join("; ")}`).join(" · ");
    } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  const buffer = await response.arrayBuffer();
  const received = performance.now();
  const gltf = await loader.parseAsync(buffer, "");
  view.show(gltf);
  const ms = await drawn(view, started);
  if (started) {
    window.__opendesign.phases.push({ wait: requested - started, request: received - requested,
                                      draw: performance.now() - received });
  }
  return ms;
}

function draftUrl() {
  const params = new URLSearchParams(new FormData(form));
  // A checkbox sends "false" (hidden) then "true"; keep the last value of each name.
  const last = new URLSearchParams();
  for (const [k, v] of params) last.set(k, v);
  last.set("format", "glb");
  last.set("quality", "draft");
  last.set("version", host.dataset.version);
  return `${host.dataset.renderUrl}?${last.toString()}`;
}

if (host && host.dataset.available === "true" && window.WebGLRenderingContext) {
  let view;
  try {
    view = setup();
  } catch (err) {
    say("3D view unavailable: " + err.message);
    showDrawing();
  }
  if (view) {
    say("Loading model…");
    loadUrl(view, host.dataset.modelUrl, 0).then(() => say("")).catch((err) => { say(err.message); showDrawing(); });
    if (form) {
      // At most one draft render in flight: changes made meanwhile are coalesced and the latest
      // parameters are rendered as soon as it returns, so superseded renders never compete for the
      // server's CPU with the one the user is waiting for.
      let timer = null, pendingStart = null, inFlight = false, generation = 0, lastUrl = null;
      const flush = async () => {
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
          const ms = await loadUrl(view, url, started);
          if (mine === generation && pendingStart === null) say(`Draft updated in ${Math.round(ms)} ms — press Render for full quality and downloads.`);
        } catch (err) {
          lastUrl = null;
          window.__opendesign.errors.push(err.message);
          if (mine === generation) say(err.message);
        } finally {
          inFlight = false;
          if (pendingStart !== null && timer === null) flush();
        }
      };
      const onChange = (event) => {
        // Time from the first change of a burst, so the debounce (and any wait for the render in
        // flight) is part of what is measured.
        if (pendingStart === null) pendingStart = performance.now();
        const typing = event.type === "input" && /^(insert|delete)/.test(event.inputType || "");
        clearTimeout(timer);
        timer = setTimeout(flush, typing ? DEBOUNCE_MS : 0);
      };
      form.addEventListener("input", onChange);
      form.addEventListener("change", onChange);
    }
  }
} else if (host) {
  showDrawing();
}
