// 随机抽查 results: each moment's form posts 正常 / 异常 with a note to
// POST /api/classes/{id}/spotchecks/{spot}/results and shows what was recorded in place.
"use strict";

(() => {
  const section = document.getElementById("spotcheck");
  if (!section) return;
  const words = JSON.parse(document.getElementById("spotcheck-i18n")?.textContent || "{}");
  const fill = (text, params) => String(text || "").replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");

  for (const form of section.querySelectorAll("form.spot-form")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const shown = form.parentElement.querySelector(".spot-result");
      const body = {
        moment: Number(form.dataset.moment),
        result: form.elements.result.value,
        note: form.elements.note.value,
      };
      const res = await fetch(form.dataset.postResult, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(), Accept: "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) {
        shown.className = "spot-result error";
        shown.textContent = typeof data.detail === "string" ? data.detail : `${words.error} (${res.status})`;
        return;
      }
      shown.className = `spot-result ${data.result}`;
      shown.textContent = `${words[data.result]}${data.note ? "：" + data.note : ""} · ${fill(words.saved, { seq: data.evidence_seq })}`;
      form.reset();
    });
  }
})();
