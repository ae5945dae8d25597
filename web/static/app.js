// yunwei console: countdowns, live updates over Server-Sent Events, the wall screen's own refresh.
"use strict";
(function () {
  const zh = document.body.dataset.lang !== "en";
  function two(n) { return String(n).padStart(2, "0"); }
  function span(seconds) {
    const s = Math.abs(Math.round(seconds)), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" : "") + two(m) + ":" + two(s % 60);
  }
  function countdowns() {
    const now = Date.now() / 1000;
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      if (!el.dataset.at) { el.dataset.at = el.textContent; }
      const left = Number(el.dataset.deadline) - now;
      el.classList.toggle("late", left < 0);
      el.textContent = el.dataset.at + " (" + (left >= 0 ? (zh ? "剩 " : "") + span(left) + (zh ? "" : " left")
        : (zh ? "超时 " : "overdue ") + span(left)) + ")";
    });
  }
  const live = document.getElementById("live");
  let busy = false;
  function refresh() {
    if (!live || busy) { return; }
    busy = true;
    fetch(live.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (r.redirected || !r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) { live.innerHTML = html; live.dataset.refreshed = String(Date.now()); countdowns(); })
      .catch(function () {})
      .finally(function () { busy = false; });
  }
  if (live && window.EventSource) {
    const source = new EventSource("/events");
    source.addEventListener("round", refresh);
  }
  if (live && live.dataset.refresh) { setInterval(refresh, Number(live.dataset.refresh) * 1000); }
  const full = document.getElementById("fullscreen");
  if (full) { full.addEventListener("click", function () { document.documentElement.requestFullscreen().catch(function () {}); }); }
  const all = document.getElementById("all");
  if (all) {
    document.addEventListener("change", function (e) {
      if (e.target && e.target.id === "all") {
        document.querySelectorAll("input[name=fault]").forEach(function (box) { box.checked = e.target.checked; });
      }
    });
  }
  countdowns();
  setInterval(countdowns, 1000);
})();
