// Live patrol pages (远程巡查). The site page: 立即巡查 posts to /api/cameras/{id}/patrols, then
// polls GET /api/patrols/{id} and fetches the patrol's card again (server-rendered, the same as
// on page load) whenever a frame arrives, its state changes or its read goes on, until it is
// done. /sites: the schedule import (multipart) and what it added or refused. Words come as
// JSON data, never run.
"use strict";

(() => {
  const words = JSON.parse(document.getElementById("patrol-i18n")?.textContent || "{}");
  const fill = (text, params) => String(text || "").replace(/\{(\w+)\}/g, (_, k) => String(params[k] ?? ""));
  const detail = (data, status) => (typeof data.detail === "string" ? data.detail : `${words.error} (${status})`);

  async function showCard(id) {
    const res = await fetch(`/patrols/${id}/card`, { headers: { Accept: "text/html" } });
    if (!res.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = await res.text(); // the service's own autoescaped template
    const card = holder.querySelector("[data-patrol]");
    const old = document.getElementById(`patrol-${id}`);
    if (card && old) old.replaceWith(card);
  }

  function watch(id) {
    let seen = "";
    const poll = async () => {
      try {
        const res = await fetch(`/api/patrols/${id}`, { headers: { Accept: "application/json" } });
        if (res.ok) {
          const p = await res.json();
          // A new frame, a new state, or the read going on (frames received so far).
          const now = `${p.frames.length}|${p.state}|${p.progress ? p.progress.frames : ""}`;
          if (now !== seen) {
            await showCard(id);
            seen = now;
          }
          if (p.done) return;
        }
      } catch (err) {
        // the service restarting: keep asking
      }
      setTimeout(poll, 700);
    };
    poll();
  }

  for (const form of document.querySelectorAll("form.patrol-now")) {
    const message = form.querySelector(".patrol-message");
    const button = form.querySelector("button");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const camera = form.dataset.camera;
      const picked = form.querySelector('[name="class_name"]');
      message.className = "patrol-message";
      message.textContent = words.starting;
      button.disabled = true;
      try {
        const res = await fetch(`/api/cameras/${camera}/patrols`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(), Accept: "application/json" },
          body: JSON.stringify({ class_name: picked ? picked.value : "" }),
          credentials: "same-origin",
        });
        const data = await res.json().catch(() => ({}));
        if (res.status !== 202) throw new Error(detail(data, res.status));
        message.textContent = fill(words.started, { id: data.id });
        const list = document.getElementById(`patrols-${camera}`);
        list.querySelector(".patrol-none")?.remove();
        const card = document.createElement("div");
        card.id = `patrol-${data.id}`;
        card.dataset.patrol = data.id;
        list.prepend(card);
        watch(data.id);
      } catch (err) {
        message.className = "patrol-message error";
        message.textContent = err.message;
      } finally {
        button.disabled = false;
      }
    });
  }
  for (const card of document.querySelectorAll('[data-patrol][data-state="running"]')) {
    watch(card.dataset.patrol);
  }

  // The site page: add a camera (its URL is never shown back, only the shown one), take one
  // out of service; the page is loaded again to show the cameras as they now are.
  const post = (url, body) =>
    fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(), Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  const addForm = document.getElementById("camera-add-form");
  if (addForm) {
    const message = addForm.querySelector(".camera-message");
    addForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      message.className = "camera-message";
      const res = await post(`/api/sites/${addForm.dataset.site}/cameras`, {
        url: addForm.elements.url.value,
        name: addForm.elements.name.value,
      });
      const data = await res.json().catch(() => ({}));
      if (res.status !== 201) {
        message.className = "camera-message error";
        message.textContent = detail(data, res.status);
        return;
      }
      addForm.elements.url.value = "";
      message.textContent = fill(words.added, data);
      window.location.reload();
    });
  }
  for (const button of document.querySelectorAll("button.camera-retire")) {
    button.addEventListener("click", async () => {
      if (!window.confirm(words.retire_confirm)) return;
      const res = await post(`/api/cameras/${button.dataset.camera}/retire`, {});
      if (res.ok) {
        window.location.reload();
      } else {
        const data = await res.json().catch(() => ({}));
        button.textContent = detail(data, res.status);
      }
    });
  }

  const importForm = document.getElementById("sites-import-form");
  if (importForm) {
    const out = document.getElementById("sites-import-result");
    importForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      out.className = "";
      out.textContent = words.importing;
      try {
        const res = await fetch("/api/sites/import", {
          method: "POST",
          headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
          body: new FormData(importForm),
          credentials: "same-origin",
        });
        const data = await res.json().catch(() => ({}));
        if (!res.ok) throw new Error(detail(data, res.status));
        out.textContent = "";
        const said = document.createElement("p");
        said.id = "sites-imported";
        said.textContent = fill(words.imported, data);
        out.append(said);
        if (data.errors.length) {
          const head = document.createElement("p");
          head.className = "error";
          head.textContent = fill(words.refused, { n: data.errors.length });
          const list = document.createElement("ul");
          list.id = "sites-refused";
          for (const row of data.errors) {
            const item = document.createElement("li");
            item.textContent = row;
            list.append(item);
          }
          out.append(head, list);
        }
        const again = document.createElement("a");
        again.href = "/sites";
        again.id = "sites-reload";
        again.textContent = words.reload;
        out.append(again);
      } catch (err) {
        out.className = "error";
        out.textContent = err.message;
      }
    });
  }
})();
