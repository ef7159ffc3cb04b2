// Live pages (a training or tuning job while it runs): ask the page's /live address every 2 seconds and put
// what it answers in place, without reloading; once the job has ended, ask once more (for log lines that reach
// CloudWatch after the job's end) and stop.
"use strict";
const POLL_MILLISECONDS = 2000;

function follow(live) {
  let updates = 0;
  let ended = false;
  async function poll() {
    if (live.dataset.done === "true") return;
    try {
      const answer = await fetch(live.dataset.live, {credentials: "same-origin"});
      if (answer.ok) {
        const update = await answer.json();
        for (const [name, html] of Object.entries(update.parts)) {
          const part = live.querySelector(`[data-part="${name}"]`);
          if (part) part.innerHTML = html;
        }
        const log = live.querySelector('[data-log]');
        if (log && update.log) {
          const text = update.log.map((line) => `${line}\n`).join("");
          if (text !== log.textContent) {
            log.textContent = text;
            log.scrollTop = log.scrollHeight;
          }
          const empty = live.querySelector('[data-empty="log"]');
          if (empty && update.log.length) empty.remove();
        }
        updates += 1;
        live.dataset.updates = String(updates);
        if (update.done) {
          if (ended) live.dataset.done = "true";
          ended = true;
        }
      }
    } finally {
      if (live.dataset.done !== "true") setTimeout(poll, POLL_MILLISECONDS);
    }
  }
  setTimeout(poll, POLL_MILLISECONDS);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live]").forEach(follow);
});
