// The design page's 3D viewer (three.js from npm): loads the GLB of the current
// parameter set, and re-renders a draft live while the customiser changes,
// debounced, without a page reload. Everything else on the page works without it.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

const host = document.getElementById("viewer");
const form = document.getElementById("customiser");
const statusLine = document.getElementById("viewer-status");
const DEBOUNCE_MS = 150;
// Timings (parameter change -> new mesh drawn) for the browser test to read.
window.__opendesign = { meshes: 0, timings: [], errors: [] };

function say(text) { if (statusLine) statusLine.textContent = text; }

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

async function loadUrl(view, url, started) {
  const response = await fetch(url, { headers: { Accept: "model/gltf-binary" } });
  if (response.status === 202) {
    // Still rendering in the background: ask again for the same file (the server dedupes the job).
    say("Rendering…");
    await new Promise((r) => setTimeout(r, 700));
    return loadUrl(view, url, started);
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
  const gltf = await loader.parseAsync(buffer, "");
  view.show(gltf);
  return drawn(view, started);
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
  }
  if (view) {
    say("Loading model…");
    loadUrl(view, host.dataset.modelUrl, 0).then(() => say("")).catch((err) => say(err.message));
    if (form) {
      let timer = null, generation = 0, pendingStart = null;
      const onChange = () => {
        // Time from the first change of a burst, so the debounce is part of what is measured.
        if (pendingStart === null) pendingStart = performance.now();
        clearTimeout(timer);
        timer = setTimeout(async () => {
          const started = pendingStart;
          pendingStart = null;
          const mine = ++generation;
          say("Rendering draft…");
          try {
            const url = draftUrl();
            const ms = await loadUrl(view, url, started);
            if (mine === generation) say(`Draft updated in ${Math.round(ms)} ms — press Render for full quality and downloads.`);
          } catch (err) {
            window.__opendesign.errors.push(err.message);
            if (mine === generation) say(err.message);
          }
        }, DEBOUNCE_MS);
      };
      form.addEventListener("input", onChange);
      form.addEventListener("change", onChange);
    }
  }
}
