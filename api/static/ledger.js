// 补贴核算: the class's ledger (trainees, verified and pending days, amounts, totals, the rule),
// its state (草稿 / 经办已签 / 复核已签), the signatures and the voids, from
// GET /api/classes/{id}/ledger. Inspectors and admins also upload check-ins and the employment
// list and sign (经办签字, then 复核签字 by another account); every change redraws the section.
"use strict";

(() => {
  const section = document.getElementById("ledger");
  if (!section) return;
  const classId = section.dataset.class;
  const controls = section.dataset.controls === "1";
  const api = `/api/classes/${classId}`;
  const words = JSON.parse(document.getElementById("ledger-i18n")?.textContent || "{}");
  const fill = (text, params) => String(text || "").replace(/\{(\w+)\}/g, (_, k) => params[k] ?? "");
  const short = (at) => String(at || "").slice(0, 16).replace("T", " ");
  const $ = (id) => document.getElementById(id);
  const message = $("ledger-message");
  let shown = null;
  let busy = false;

  const call = (method, url, body) => callJSON(method, url, body, words.error);

  function percent(rate) {
    return rate == null ? "—" : `${Math.round(rate * 1000) / 10}%`;
  }

  function ruleLine(ledger) {
    if (!ledger) return "";
    const rate = percent(ledger.employment_rate);
    const s = ledger.standard;
    const tiers = s ? ` · ${s.first_days}×${s.first_rate} / ${s.later_rate} / ≤${s.cap}` : "";
    if (ledger.rule === "full") return fill(words.rule_full, { rate }) + tiers;
    if (ledger.rule === "employed") return fill(words.rule_employed, { rate }) + tiers;
    return words.rule_unknown + tiers;
  }

  function dayTable(trainee) {
    const rows = (trainee.days || []).map((d) => el("tr", { class: `ledger-day ${d.state || ""}` },
      el("td", { textContent: d.date || "" }),
      el("td", { textContent: d.text || d.reason || d.state || "" }),
      el("td", { textContent: (d.checkins || []).map((c) => `${c.at}${c.place ? " " + c.place : ""}`).join("；") }),
      el("td", { textContent: d.rate != null ? String(d.rate) : "" })));
    return el("table", { class: "ledger-days" },
      el("thead", {}, el("tr", {}, el("th", { textContent: words.day }),
        el("th", { textContent: words.day_state }), el("th", { textContent: words.checkin_times }),
        el("th", { textContent: words.day_amount }))),
      el("tbody", {}, ...rows));
  }

  function traineeRows(trainee) {
    const who = `${trainee.name || ""} ${trainee.id || ""}`.trim();
    const row = el("tr", { class: "ledger-trainee", dataset: { key: trainee.key || "" } },
      el("th", {}, who),
      el("td", { class: "verified", textContent: String(trainee.verified_days ?? "") }),
      el("td", { class: "pending", textContent: String(trainee.pending_days ?? "") }),
      el("td", { class: "amount", textContent: String(trainee.amount ?? "") }));
    if (!trainee.days) return [row];
    // Every figure traceable: a click on the trainee opens the days behind the amount.
    const detail = el("tr", { class: "ledger-detail", hidden: true },
      el("td", { colSpan: 4 }, dayTable(trainee)));
    row.tabIndex = 0;
    row.title = words.days;
    const toggle = () => { detail.hidden = !detail.hidden; };
    row.addEventListener("click", toggle);
    row.addEventListener("keydown", (e) => { if (e.key === "Enter") toggle(); });
    return [row, detail];
  }

  function drawLedger(data) {
    const ledger = data.ledger;
    const table = $("ledger-table");
    $("ledger-rule").textContent = ledger ? ruleLine(ledger) : "";
    table.hidden = !ledger;
    const findings = $("ledger-findings");
    findings.replaceChildren();
    if (!ledger) return;
    const trainees = ledger.trainees || [];
    $("ledger-rows").replaceChildren(...trainees.flatMap(traineeRows));
    $("ledger-total-verified").textContent = String(trainees.reduce((n, t) => n + (t.verified_days || 0), 0));
    $("ledger-total-pending").textContent = String(trainees.reduce((n, t) => n + (t.pending_days || 0), 0));
    $("ledger-total").textContent = String(ledger.total ?? "");
    for (const f of ledger.findings || []) {
      findings.append(el("div", { class: `finding ${f.severity}` },
        el("span", { class: "code", textContent: f.code }), ` ${f.message || ""}`));
    }
    for (const p of ledger.problems || []) findings.append(el("p", { class: "finding warning", textContent: p }));
  }

  function drawInputs(data) {
    if (!controls) return;
    for (const kind of ["checkins", "employment"]) {
      const input = (data.inputs || {})[kind];
      const name = input ? (input.name || fill(words.employed_n, { n: input.employed })) : "";
      $(`ledger-${kind}-now`).textContent = input ? fill(words.uploaded, { name, by: input.by, at: short(input.at) }) : "";
    }
  }

  function draw(data) {
    shown = data;
    const state = $("ledger-state");
    state.hidden = false;
    state.textContent = data.state_text;
    state.dataset.state = data.state;
    state.className = `badge ${data.state === "second_signed" ? "pass" : data.state === "first_signed" ? "warning" : ""}`;
    $("ledger-voids").replaceChildren(...(data.voids || []).map((v) =>
      el("p", { class: "finding error ledger-void" }, v.text, " ",
        el("small", { class: "muted", textContent: fill(words.noticed, { by: v.by }) }))));
    const signatures = data.signatures || [];
    $("ledger-signatures").replaceChildren(...(signatures.length ? signatures.map((s) =>
      el("li", { class: "ledger-signature", dataset: { role: s.role } },
        fill(words.signed, { role: s.role_text, by: s.by, at: short(s.at) }))) :
      [el("li", { class: "muted", textContent: words.none_signed })]));
    if (data.missing && data.missing.length) {
      message.className = "muted";
      message.textContent = fill(words.missing, { what: (data.missing_text || data.missing).join("、") });
    } else if (data.error) {
      message.className = "error";
      message.textContent = data.error;
    } else if (data.auditing) {
      message.className = "muted";
      message.textContent = words.auditing;
    } else if (!busy) {
      message.className = "";
      message.textContent = "";
    }
    drawLedger(data);
    drawInputs(data);
    if (controls) {
      // Only the signature due now is offered; refused (same account, …), it says why.
      for (const role of ["first", "second"]) {
        const button = $(`ledger-sign-${role}`);
        button.hidden = data.next_role !== role;
        button.disabled = !(data.may_sign && data.next_role === role);
        button.title = data.refusal || "";
      }
      $("ledger-refusal").textContent = data.refusal && data.next_role ? data.refusal : "";
    }
  }

  async function load() {
    draw(await call("GET", `${api}/ledger`));
  }

  async function act(work) {
    if (busy) return;
    busy = true;
    section.classList.add("busy");
    message.className = "";
    message.textContent = words.saving;
    let said = "";
    try {
      said = (await work()) || "";
      busy = false;
      await load();
      if (said) { message.className = "finding warning"; message.textContent = said; }
    } catch (err) {
      message.className = "error";
      message.textContent = err.message;
      await load().catch(() => {});
      message.className = "error";
      message.textContent = err.message;
    } finally {
      busy = false;
      section.classList.remove("busy");
    }
  }

  function upload(kind, form) {
    const data = new FormData();
    const file = form.querySelector('input[type="file"]').files[0];
    if (file) data.append("file", file);
    const number = form.querySelector('input[name="employed"]');
    if (!file && number && number.value !== "") data.append("employed", number.value);
    if (!file && !data.has("employed")) {
      message.className = "error";
      message.textContent = words.pick;
      return;
    }
    act(async () => {
      const done = await call("POST", `${api}/${kind}`, data);
      form.reset();
      const notes = [];
      if (done.errors && done.errors.length) notes.push(fill(words.row_errors, { n: done.errors.length }));
      if (done.voided) notes.push(done.voided);
      return notes.join(" · ");
    });
  }

  if (controls) {
    $("ledger-checkins-form").addEventListener("submit", (e) => { e.preventDefault(); upload("checkins", e.target); });
    $("ledger-employment-form").addEventListener("submit", (e) => { e.preventDefault(); upload("employment", e.target); });
    for (const role of ["first", "second"]) {
      $(`ledger-sign-${role}`).addEventListener("click", () => act(() =>
        call("POST", `${api}/ledger/sign`, { role, hash: shown?.ledger?.hash ?? null }).then(() => "")));
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    load().catch((err) => { message.className = "error"; message.textContent = err.message; });
  });
})();
