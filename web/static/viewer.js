// The 3D view of the design page (three.js from npm): a scene that shows one GLB at a time.
// Mouse and touch both orbit and zoom (OrbitControls: one finger turns the model, two fingers
// pinch to zoom and drag to pan). The canvas takes the size its CSS gives it and follows the
// page's width (phones, rotation, a resized window).
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

const loader = new GLTFLoader();

export function createView(host) {
  const renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  host.prepend(renderer.domElement);
  host.classList.add("has-canvas");
  const canvas = renderer.domElement;
  const scene = new THREE.Scene();
  scene.background = null;
  const camera = new THREE.PerspectiveCamera(40, 4 / 3, 0.1, 100000);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x556677, 2.2));
  const sun = new THREE.DirectionalLight(0xffffff, 2.0);
  sun.position.set(1, 2, 3);
  scene.add(sun);
  const controls = new OrbitControls(camera, canvas);
  controls.enableDamping = true;
  const material = new THREE.MeshStandardMaterial({ color: 0x4f9d69, metalness: 0.05, roughness: 0.6 });
  let current = null, framed = false;

  function fit() {
    // CSS sets the canvas's box (full width, a height that suits the screen); match the drawing buffer.
    const width = canvas.clientWidth || host.clientWidth || 640;
    const height = canvas.clientHeight || Math.round(width * 0.75);
    renderer.setSize(width, height, false);
    camera.aspect = width / height;
    camera.updateProjectionMatrix();
  }
  fit();

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
    object.traverse((node) => { if (node.isMesh) node.material = material; });
    if (current) {
      scene.remove(current);
      current.traverse((node) => { if (node.isMesh) node.geometry.dispose(); });
    }
    current = object;
    scene.add(object);
    // The camera stays where the user left it across parameter changes; only the first model is framed.
    if (!framed) { frame(object); framed = true; }
    requestDraw();
  }

  function draw() { renderer.render(scene, camera); }

  // Frames are drawn on demand (a new model, a resize, the user orbiting, damping settling), not 60 times
  // a second for a still picture: an idle page costs a phone no battery, and a laptop rendering the same
  // model locally no CPU taken from the render.
  let requested = false;
  function requestDraw() {
    if (requested) return;
    requested = true;
    requestAnimationFrame(() => {
      requested = false;
      const moving = controls.update();  // true while damping still moves the camera
      draw();
      if (moving) requestDraw();
    });
  }
  controls.addEventListener("change", requestDraw);
  new ResizeObserver(() => { fit(); requestDraw(); }).observe(canvas);
  requestDraw();

  return {
    show,
    draw,
    parse: (buffer) => loader.parseAsync(buffer, ""),
    // For tests and for code that needs to know where the user is looking.
    camera: () => ({ position: camera.position.toArray(), target: controls.target.toArray(),
                     distance: camera.position.distanceTo(controls.target) }),
  };
}
