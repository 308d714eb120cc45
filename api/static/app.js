// video-audit pages: upload with progress, audit status, player with exact-frame capture, verify.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
const words = () => JSON.parse(document.getElementById("i18n")?.textContent || "{}");
const fill = (text, params) => text.replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");

// An element with properties (dataset, class, anything else set as is) and children: shared by
// the page scripts loaded after this one (attendance, ledger, spot checks).
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "class") node.className = value;
    else node[key] = value;
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// A call to the service with the page's CSRF token: BODY as JSON, or FormData as it is. Its
// answer, or an Error with the service's reason (FALLBACK when it gave none) and the status.
async function callJSON(method, url, body, fallback) {
  const headers = { "X-CSRF-Token": csrf(), Accept: "application/json" };
  if (body && !(body instanceof FormData)) headers["Content-Type"] = "application/json";
  const res = await fetch(url, {
    method,
    headers,
    body: body instanceof FormData ? body : body ? JSON.stringify(body) : undefined,
    credentials: "same-origin",
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || "");
    throw new Error(`${detail || fallback} (${res.status})`);
  }
  return data;
}

async function postJSON(url, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(), Accept: "application/json" },
    body: JSON.stringify(body ?? {}),
    credentials: "same-origin",
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || res.status));
  return data;
}

function timeCode(seconds) {
  const ms = Math.round(seconds * 1000);
  const pad = (n, w) => String(n).padStart(w, "0");
  return `${pad(Math.floor(ms / 3600000), 2)}:${pad(Math.floor(ms / 60000) % 60, 2)}:${pad(Math.floor(ms / 1000) % 60, 2)}.${pad(ms % 1000, 3)}`;
}

function setupUpload() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const folder = document.getElementById("pick-folder");
  const zip = document.getElementById("pick-zip");
  const picked = document.getElementById("upload-picked");
  const message = document.getElementById("upload-message");
  const bar = document.getElementById("upload-progress");
  const show = (files) => {
    const bytes = Array.from(files).reduce((a, f) => a + f.size, 0);
    picked.textContent = fill(words().picked || "{n}", { n: files.length, mb: (bytes / 1048576).toFixed(1) });
  };
  folder.addEventListener("change", () => { zip.value = ""; show(folder.files); });
  zip.addEventListener("change", () => { folder.value = ""; show(zip.files); });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData();
    const institution = form.querySelector('[name="institution"]');
    if (institution && institution.value.trim()) data.append("institution", institution.value.trim());
    if (zip.files.length) {
      data.append("archive", zip.files[0], zip.files[0].name);
    } else if (folder.files.length) {
      for (const file of folder.files) {
        data.append("paths", file.webkitRelativePath || file.name);
        data.append("files", file, file.name);
      }
    } else {
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/classes");
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    message.className = "";
    message.textContent = words().uploading || "…";
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total; };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status === 201) { window.location.href = body.url; return; }
      bar.hidden = true;
      message.className = "error";
      message.textContent = body.detail || `${words().error} (${xhr.status})`;
    };
    xhr.onerror = () => { bar.hidden = true; message.className = "error"; message.textContent = words().error; };
    xhr.send(data);
  });
}

function setupPostForms() {
  for (const form of document.querySelectorAll("form[data-post]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {};
      for (const [key, value] of new FormData(form)) {
        if (value === "") continue;
        body[key] = form.querySelector(`[name="${key}"]`)?.type === "number" ? Number(value) : value;
      }
      try {
        await postJSON(form.dataset.post, body);
        window.location.reload();
      } catch (err) {
        alert(err.message);
      }
    });
  }
}

function setupPlayer() {
  const video = document.getElementById("player");
  if (!video) return;
  const code = document.getElementById("time-code");
  const start = Number(video.dataset.start || 0);
  video.addEventListener("loadedmetadata", () => { if (start > 0) video.currentTime = start; }, { once: true });
  const tick = () => { code.textContent = timeCode(video.currentTime); };
  video.addEventListener("timeupdate", tick);
  video.addEventListener("seeked", tick);
  for (const button of document.querySelectorAll("[data-step]")) {
    button.addEventListener("click", () => {
      video.pause();
      const frame = 1 / (Number(video.dataset.fps) || 25);
      video.currentTime = Math.max(0, video.currentTime + Number(button.dataset.step) * frame);
    });
  }
  const form = document.getElementById("capture-form");
  if (!form) return;
  const message = document.getElementById("capture-message");
  const shown = document.getElementById("captured");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    video.pause();
    message.className = "";
    message.textContent = words().capturing;
    try {
      const record = await postJSON(`/api/classes/${form.dataset.class}/evidence`, {
        clip: decodeURIComponent(form.dataset.clip), at: video.currentTime, note: form.elements.note.value,
      });
      message.textContent = fill(words().captured, { seq: record.seq, tc: record.time_code });
      shown.innerHTML = "";
      const link = document.createElement("a");
      link.href = record.caption_url;
      link.target = "_blank";
      const img = document.createElement("img");
      img.src = record.caption_url;
      img.alt = `#${record.seq}`;
      img.className = "capture";
      link.appendChild(img);
      shown.appendChild(link);
    } catch (err) {
      message.className = "error";
      message.textContent = err.message;
    }
  });
}

function setupVerify() {
  const button = document.getElementById("verify");
  if (!button) return;
  const out = document.getElementById("verify-result");
  button.addEventListener("click", async () => {
    const res = await fetch("/api/evidence/verify", { headers: { Accept: "application/json" } });
    const data = await res.json();
    out.className = data.ok ? "ok" : "error";
    out.textContent = data.message || data.detail;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupUpload();
  setupPostForms();
  setupPlayer();
  setupVerify();
});
