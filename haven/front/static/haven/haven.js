// Haven's only script: warns before an idle sign-out and offers to stay (ACC-5).
// No inline scripts anywhere (CSP); pages work without JavaScript, the server enforces the limit.
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function formatSeconds(total) {
    var seconds = Math.max(0, Math.floor(total));
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function startSessionWatch() {
    var body = document.body;
    var statusUrl = body.dataset.sessionStatusUrl;
    if (!statusUrl) { return; }
    var idle = parseInt(body.dataset.sessionIdle, 10);
    var warning = parseInt(body.dataset.sessionWarning, 10);
    var keepaliveUrl = body.dataset.sessionKeepaliveUrl;
    var loginUrl = body.dataset.loginUrl;
    var dialog = document.getElementById("session-warning");
    var countdown = dialog ? dialog.querySelector("[data-session-countdown]") : null;
    var stayButton = dialog ? dialog.querySelector("[data-session-stay]") : null;
    var checkTimer = null;
    var tickTimer = null;
    var deadline = 0;

    function signedOut(url) { window.location.assign(url || loginUrl); }

    function closeWarning() {
      if (tickTimer) { clearInterval(tickTimer); tickTimer = null; }
      deadline = 0;
      if (dialog && dialog.open) { dialog.close(); }
    }

    // At zero the countdown waits for the server to confirm the sign-out (the next check):
    // leaving a moment early would land on the sign-in page still signed in.
    function tick() {
      var left = (deadline - Date.now()) / 1000;
      if (countdown) { countdown.textContent = formatSeconds(left); }
      if (left <= 0 && tickTimer) { clearInterval(tickTimer); tickTimer = null; }
    }

    function openWarning(secondsLeft) {
      deadline = Date.now() + secondsLeft * 1000;
      if (!tickTimer) { tickTimer = setInterval(tick, 1000); }
      tick();
      if (dialog && !dialog.open) {
        dialog.showModal();
        if (stayButton) { stayButton.focus(); }
      }
    }

    // Before the warning, check once it is due; during it, every few seconds (activity in another
    // tab closes it) and just after the time runs out.
    function schedule(secondsLeft) {
      if (checkTimer) { clearTimeout(checkTimer); }
      var wait = secondsLeft > warning ? secondsLeft - warning : Math.min(5, secondsLeft + 1);
      checkTimer = setTimeout(check, Math.max(1, wait) * 1000);
    }

    function handle(response) {
      return response.json().then(function (data) {
        if (!data.signed_in) { signedOut(data.login_url); return; }
        if (data.seconds_left <= warning) { openWarning(data.seconds_left); }
        else { closeWarning(); }
        schedule(data.seconds_left);
      });
    }

    function check() {
      fetch(statusUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(handle)
        .catch(function () {
          if (deadline && Date.now() >= deadline) { signedOut(); } else { schedule(warning + 5); }
        });
    }

    function stay() {
      fetch(keepaliveUrl, {
        method: "POST",
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
        credentials: "same-origin"
      }).then(handle).catch(function () { signedOut(); });
    }

    if (stayButton) { stayButton.addEventListener("click", stay); }
    if (dialog) { dialog.addEventListener("cancel", function (event) { event.preventDefault(); stay(); }); }
    schedule(idle);
  }

  document.addEventListener("DOMContentLoaded", startSessionWatch);

  // Time on page for site statistics (LOG-2): only where the visitor allowed analytics (the
  // server marks the page then), sent once on leaving, as the page's name and whole seconds.
  function reportTimeOnPage() {
    var body = document.body;
    var page = body.dataset.analyticsPage;
    if (!page || !navigator.sendBeacon) { return; }
    var opened = Date.now();
    var sent = false;
    window.addEventListener("pagehide", function () {
      if (sent) { return; }
      sent = true;
      var data = new FormData();
      data.append("page", page);
      data.append("seconds", String(Math.round((Date.now() - opened) / 1000)));
      data.append("csrfmiddlewaretoken", csrfToken());
      navigator.sendBeacon(body.dataset.analyticsUrl, data);
    });
  }

  document.addEventListener("DOMContentLoaded", reportTimeOnPage);
})();
