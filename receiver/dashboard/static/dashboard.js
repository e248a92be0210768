// Switchboard dashboard: live regions, relative times, copy buttons. No build step, no CDN.
(function () {
  "use strict";

  var POLL_MS = 2000;

  // The same rules as receiver/dashboard/formatting.py `ago`.
  function span(seconds) {
    if (seconds < 60) return seconds + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h";
    return Math.floor(seconds / 86400) + " d";
  }

  function ago(moment, now) {
    var seconds = Math.round((now - moment) / 1000);
    return seconds < 0 ? "in " + span(-seconds) : span(seconds) + " ago";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-relative]").forEach(function (el) {
      var moment = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(moment)) el.textContent = ago(moment, now);
    });
  }

  // Regions are compared without their relative times, which change every second anyway.
  function comparable(html) {
    return html.replace(/(<time[^>]*>)[^<]*(<\/time>)/g, "$1$2");
  }

  function replace(region, html) {
    var incoming = document.createElement("template");
    incoming.innerHTML = html;
    if (comparable(incoming.innerHTML) === comparable(region.innerHTML)) return false;
    var focused = document.activeElement;
    var focusId = focused && region.contains(focused) ? focused.id : null;
    region.replaceChildren(incoming.content);
    if (focusId) {
      var again = document.getElementById(focusId);
      if (again) again.focus();
    }
    return true;
  }

  function apply(regions) {
    var ids = Object.keys(regions);
    var shown = document.querySelectorAll("[data-live-region]");
    // An instance appeared or went away: only a full page has the right sections.
    if (ids.length !== shown.length || ids.some(function (id) { return !document.getElementById(id); })) {
      window.location.reload();
      return;
    }
    ids.forEach(function (id) { replace(document.getElementById(id), regions[id]); });
  }

  function live(main) {
    var url = main.getAttribute("data-live-url");
    var state = document.querySelector("[data-live-state]");
    var timer = null;

    function mark(text, ok) {
      if (!state) return;
      state.hidden = false;
      state.textContent = text;
      state.classList.toggle("live-stale", !ok);
    }

    function schedule() {
      timer = window.setTimeout(poll, POLL_MS);
    }

    function poll() {
      timer = null;
      if (document.hidden) return; // resumed by visibilitychange
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 404) window.location.reload(); // gone: the page says so
          if (!response.ok && response.status !== 401) throw new Error("HTTP " + response.status);
          return response.json().then(function (body) { return { status: response.status, body: body }; });
        })
        .then(function (answer) {
          if (answer.status === 401) {
            // The session ended (signed out elsewhere, token revoked or expired).
            window.location.assign(answer.body.login || "/dashboard/login");
            return;
          }
          apply(answer.body.regions || {});
          tick();
          mark("· live", true);
          schedule();
        })
        .catch(function () {
          mark("· offline, retrying", false);
          schedule();
        });
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && timer === null) poll();
    });
    schedule();
  }

  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.querySelector("[data-copy-status]");
    if (!field) return;
    function done(ok) {
      if (status) status.textContent = ok ? "Copied to the clipboard." : "Select the URL and copy it.";
    }
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(false); });
    } else {
      done(document.execCommand && document.execCommand("copy"));
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (button) copy(button);
  });

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);
    var main = document.querySelector("[data-live-url]");
    if (main) live(main);
  });
})();
