// Live pages (a training or tuning job while it runs): ask the page's /live address every 2 seconds and put
// what it answers in place, without reloading; stop once the job has ended.
"use strict";
const POLL_MILLISECONDS = 2000;

function follow(live) {
  let since = Number(live.dataset.since || 0);
  let updates = 0;
  async function poll() {
    if (live.dataset.done === "true") return;
    try {
      const answer = await fetch(`${live.dataset.live}?since=${since}`, {credentials: "same-origin"});
      if (answer.ok) {
        const update = await answer.json();
        for (const [name, html] of Object.entries(update.parts)) {
          const part = live.querySelector(`[data-part="${name}"]`);
          if (part) part.innerHTML = html;
        }
        const log = live.querySelector('[data-append="log"]');
        if (log && update.lines.length) {
          log.textContent += update.lines.map((line) => `${line}\n`).join("");
          const empty = live.querySelector('[data-empty="log"]');
          if (empty) empty.remove();
          log.scrollTop = log.scrollHeight;
        }
        since = update.since;
        updates += 1;
        live.dataset.updates = String(updates);
        if (update.done) live.dataset.done = "true";
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
