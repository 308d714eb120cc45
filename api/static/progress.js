// An audit's progress on the class page: queued → running (phase, clip x/N, time left), polled
// from GET /api/audits/{id} every second; the page reloads once the audit is done or failed.
"use strict";

(() => {
  const status = document.getElementById("audit-status");
  if (!status) return;
  const bar = document.getElementById("audit-progress");
  const eta = document.getElementById("audit-eta");
  const words = JSON.parse(status.dataset.words || "{}");
  const fill = (text, params) => text.replace(/\{(\w+)\}/g, (_, key) => String(params[key] ?? ""));

  function timeLeft(seconds) {
    if (seconds === null || seconds === undefined) return words.estimating;
    if (seconds < 1) return words.soon; // the estimate ran out before the work did
    const whole = Math.max(0, Math.round(seconds));
    const m = Math.floor(whole / 60);
    const s = whole % 60;
    return fill(words.left, { time: m ? fill(words.min_sec, { m, s }) : fill(words.sec, { s }) });
  }

  function show(data) {
    const p = data.progress;
    status.dataset.state = data.state;
    if (data.state !== "running" || !p) {
      status.textContent = `${words[data.state] || data.state}…`;
      return;
    }
    let doing = words.starting;
    if (p.phase === "probe" || p.phase === "decode") {
      doing = fill(words[p.phase], { done: p.done, total: p.total });
    }
    if (p.phase === "decode" && p.total && p.done >= p.total) doing = words.finishing;
    status.textContent = `${words.running}：${doing}`;
    status.dataset.done = String(p.done);
    status.dataset.total = String(p.total);
    if (bar && p.total) {
      bar.hidden = false;
      bar.max = p.total;
      bar.value = p.done;
    }
    if (eta) eta.textContent = p.phase === "decode" ? timeLeft(p.remaining_seconds) : "";
  }

  async function poll() {
    try {
      const res = await fetch(`/api/audits/${status.dataset.audit}`, {
        headers: { Accept: "application/json" },
      });
      if (res.ok) {
        const data = await res.json();
        if (data.state === "done" || data.state === "failed") {
          window.location.reload();
          return;
        }
        show(data);
      }
    } catch (err) {
      // the service restarting: keep asking
    }
    setTimeout(poll, 1000);
  }

  setTimeout(poll, 300);
})();
