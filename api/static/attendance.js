// 考勤核实: one card per person of the class to review, one decision each (是某某 / 名册外人员 /
// 无法判断), revocable. Drawn from GET /api/classes/{id}/attendance/review; after each decision
// the cards and the class page's attendance table are refreshed without reloading the page.
"use strict";

(() => {
  const section = document.getElementById("review");
  if (!section) return;
  const classId = section.dataset.class;
  const api = `/api/classes/${classId}/attendance`;
  const words = JSON.parse(document.getElementById("review-i18n")?.textContent || "{}");
  const fill = (text, params) => String(text || "").replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
  const message = document.getElementById("review-message");
  const owed = document.getElementById("review-owed");
  const open = document.getElementById("review-open");
  const done = document.getElementById("review-done");
  const doneBox = document.getElementById("review-done-box");
  const doneCount = document.getElementById("review-done-count");
  let busy = false;

  function picture(url, caption) {
    const img = url
      ? el("img", { class: "face", src: url, alt: caption || "", loading: "lazy" })
      : el("span", { class: "face none", textContent: words.no_photo });
    return el("figure", {}, img, caption ? el("figcaption", { textContent: caption }) : null);
  }

  const call = (method, url, body) => callJSON(method, url, body, words.error);

  function decisionLine(person) {
    const d = person.decision;
    const what = d.kind === "confirm" ? fill(words.is, { name: d.name || d.key || "" })
      : d.kind === "stranger" ? words.stranger : words.undecidable;
    const at = String(d.at || "").slice(0, 16).replace("T", " ");
    return `${what} · ${fill(words.confirmed, { by: d.by, at })}`;
  }

  function card(person) {
    const days = person.days || [];
    const head = el("h3", {},
      fill(words.person, { person: person.person }), " ",
      el("span", { class: "muted", textContent: `${fill(words.days, { n: days.length, days: days.join("、") })} · ${person.machine || ""}` }));
    const faces = el("div", { class: "review-faces" },
      el("div", { class: "muted", textContent: words.faces }),
      el("div", { class: "faces" }, ...(person.faces || []).slice(0, 8).map((f) => picture(f.url, f.day))));
    const candidates = el("div", { class: "review-candidates" },
      el("div", { class: "muted", textContent: words.candidates }));
    for (const cand of person.candidates || []) {
      const who = `${cand.name || ""} ${cand.id || ""}`.trim();
      candidates.append(el("div", { class: "candidate", dataset: { key: cand.key } },
        picture(cand.photo_url, who),
        cand.words ? el("small", { class: "muted", textContent: cand.words }) : null));
    }
    const node = el("article", { class: "review-card", dataset: { person: person.person } },
      head, el("div", { class: "review-compare" }, faces, candidates));
    const actions = el("div", { class: "review-actions" });
    if (person.decision) {
      node.classList.add("decided");
      actions.append(el("span", { class: "decided", textContent: decisionLine(person) }));
      const revoke = el("button", { type: "button", class: "revoke", textContent: words.revoke });
      revoke.addEventListener("click", () => act("DELETE", `${api}/decisions/${person.decision.id}`));
      actions.append(revoke);
    } else {
      for (const cand of person.candidates || []) {
        const button = el("button", { type: "button", class: "primary decide", textContent: fill(words.is, { name: cand.name || cand.key }) });
        button.dataset.kind = "confirm";
        button.dataset.key = cand.key;
        button.addEventListener("click", () => act("POST", `${api}/decisions`, { person: person.person, kind: "confirm", key: cand.key }));
        actions.append(button);
      }
      for (const kind of ["stranger", "undecidable"]) {
        const button = el("button", { type: "button", class: "decide", textContent: words[kind] });
        button.dataset.kind = kind;
        button.addEventListener("click", () => act("POST", `${api}/decisions`, { person: person.person, kind }));
        actions.append(button);
      }
    }
    node.append(actions);
    return node;
  }

  function draw(data) {
    const people = data.people || [];
    const waiting = people.filter((p) => !p.decision && p.state === "review");
    const decided = people.filter((p) => p.decision);
    open.replaceChildren(...waiting.map(card));
    done.replaceChildren(...decided.map(card));
    doneBox.hidden = decided.length === 0;
    doneCount.textContent = String(decided.length);
    owed.hidden = false;
    owed.dataset.owed = String(data.owed);
    owed.className = data.owed ? "badge warning" : "badge pass";
    owed.textContent = data.owed ? fill(words.owed, { n: data.owed }) : words.all_done;
    if (!waiting.length && !decided.length) open.replaceChildren(el("p", { class: "muted", textContent: words.none }));
    const lost = (data.not_found || []).length;
    if (lost) open.prepend(el("p", { class: "muted", textContent: fill(words.not_found, { n: lost }) }));
  }

  async function refreshMatrix() {
    // The class page as served now (decisions applied): its attendance section replaces ours.
    const res = await fetch(window.location.pathname + window.location.search, { credentials: "same-origin" });
    if (!res.ok) return;
    const fresh = new DOMParser().parseFromString(await res.text(), "text/html").getElementById("attendance");
    const shown = document.getElementById("attendance");
    if (fresh && shown) shown.replaceChildren(...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)));
  }

  async function load() {
    draw(await call("GET", `${api}/review`));
  }

  async function act(method, url, body) {
    if (busy) return;
    busy = true;
    section.classList.add("busy");
    message.className = "";
    message.textContent = words.saving;
    try {
      await call(method, url, body);
      await load();
      await refreshMatrix();
      message.textContent = "";
    } catch (err) {
      message.className = "error";
      message.textContent = err.message;
    } finally {
      busy = false;
      section.classList.remove("busy");
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    load().catch((err) => { message.className = "error"; message.textContent = err.message; });
  });
})();
