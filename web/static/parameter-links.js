// Everything on the design page that carries the parameters follows the customiser: the save form's
// hidden values (at once), and — after asking the server for the canonical form of the values
// (GET /api/v1/designs/<slug>/parameters: no render) — the permalink and the address bar, the
// bundle link and its file name (named by the parameter hash), the download links, and which
// preset is the current one.

const RESOLVE_DELAY_MS = 200;

function sameQuery(a, b) {
  const left = [...new URLSearchParams(a)].sort().join("&");
  const right = [...new URLSearchParams(b)].sort().join("&");
  return left === right;
}

export function createParameterLinks({ page, resolveUrl, version }) {
  const saveFields = page.querySelectorAll("#save-set-form input[data-param]");
  const permalinkLine = page.querySelector("#permalink-line");
  const permalink = page.querySelector("#permalink");
  const bundleLink = page.querySelector("#bundle-download");
  const bundleFile = page.querySelector("#bundle-file");
  const presets = [...page.querySelectorAll("#presets a.preset")];
  const presetHelp = page.querySelector("#preset-help small");
  const helpText = presetHelp ? presetHelp.textContent : "";
  const onSetPage = Boolean(page.querySelector("#current-set"));
  const downloads = [...page.querySelectorAll("#downloads a.dl[data-format][data-part]")];
  const original = new Map(downloads.map((a) => [a, a.getAttribute("href")]));
  const initialQuery = bundleLink ? new URL(bundleLink.href).search : "";
  // Where one file of these parameters is rendered on request (the design's download route).
  const downloadBase = bundleLink ? bundleLink.closest("[data-downloads]").dataset.downloads : "";
  let timer = null, sequence = 0, controller = null, stopped = false;

  function updateSaveForm(values) {
    for (const field of saveFields) {
      if (values.has(field.dataset.param)) field.value = values.get(field.dataset.param);
    }
  }

  function updateDownloads(search) {
    // The listed files (with size and sha256) are those of the values the page was rendered with.
    const own = sameQuery(search, initialQuery);
    for (const a of downloads) {
      a.href = own ? original.get(a) : `${downloadBase}${a.dataset.part}.${a.dataset.format}${search}`;
      for (const small of a.parentElement.querySelectorAll("small")) small.hidden = !own;
    }
  }

  function markPreset(search) {
    let active = null;
    for (const a of presets) {
      const on = sameQuery(new URL(a.href).search, search);
      a.classList.toggle("active", on);
      if (on) { a.setAttribute("aria-current", "true"); active = a; } else a.removeAttribute("aria-current");
    }
    if (presetHelp) presetHelp.textContent = active && active.title ? active.title : helpText;
  }

  function show(resolved) {
    const search = new URLSearchParams(resolved.query).toString();
    const query = search ? `?${search}` : "";
    if (permalink) {
      permalink.href = new URL(resolved.page).pathname + query;
      permalinkLine.hidden = !resolved.custom;
    }
    if (!onSetPage) history.replaceState(history.state, "", new URL(resolved.page).pathname + query);
    if (bundleLink) {
      bundleLink.href = new URL(resolved.bundle.url).pathname + query;
      bundleLink.textContent = resolved.custom ? "Bundle (zip) for these parameters" : "Bundle (zip)";
    }
    if (bundleFile) { bundleFile.textContent = resolved.bundle.file; bundleFile.hidden = false; }
    updateDownloads(query);
    markPreset(query);
  }

  async function resolve(values) {
    const mine = ++sequence;
    if (controller) controller.abort();
    controller = new AbortController();
    const params = new URLSearchParams(values);
    params.set("version", version);
    try {
      const response = await fetch(`${resolveUrl}?${params}`, { signal: controller.signal,
                                                              headers: { Accept: "application/json" } });
      if (mine !== sequence || stopped) return;
      if (!response.ok) {  // invalid values: the preview says which; no name to show for them
        if (bundleFile) bundleFile.hidden = true;
        markPreset("?invalid");
        return;
      }
      show(await response.json());
    } catch (err) {
      if (err.name !== "AbortError") console.warn("parameter links:", err);
    }
  }

  function changed({ values }) {
    updateSaveForm(values);
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(() => resolve(values), RESOLVE_DELAY_MS);
  }

  // The form was submitted: the page for these values is loading, leave the address bar alone.
  function stop() {
    stopped = true;
    clearTimeout(timer);
    if (controller) controller.abort();
  }

  return { changed, stop };
}
