// Turns push notifications on or off in this browser (MSG-4). The page works without it: the
// device list and its "turn off" buttons are plain forms; only subscribing needs the browser's API.
(function () {
  "use strict";

  var section = document.querySelector("[data-push-key]");
  if (!section) { return; }
  var controls = section.querySelector("[data-push-controls]");
  var onButton = section.querySelector("[data-push-on]");
  var offButton = section.querySelector("[data-push-off]");
  var status = section.querySelector("[data-push-status]");

  function say(kind) { status.textContent = status.dataset[kind] || ""; }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function post(url, body, type) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": type, "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: body
    });
  }

  function showState(subscription) {
    onButton.hidden = Boolean(subscription);
    offButton.hidden = !subscription;
    if (subscription) { say("on"); }
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("unsupported");
    return;
  }
  controls.hidden = false;

  var registration = navigator.serviceWorker.register(section.dataset.pushWorker);
  registration.then(function (reg) { return reg.pushManager.getSubscription(); })
    .then(showState)
    .catch(function () { say("failed"); });

  onButton.addEventListener("click", function () {
    onButton.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { say("denied"); return null; }
      return registration.then(function (reg) {
        return reg.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(section.dataset.pushKey)
        });
      }).then(function (subscription) {
        return post(section.dataset.pushSubscribe, JSON.stringify(subscription.toJSON()), "application/json")
          .then(function (response) {
            return response.json().then(function (answer) {
              if (!response.ok) {
                subscription.unsubscribe();
                status.textContent = answer.error || status.dataset.failed;
                return;
              }
              window.location.reload();
            });
          });
      });
    }).catch(function () { say("failed"); })
      .then(function () { onButton.disabled = false; });
  });

  offButton.addEventListener("click", function () {
    offButton.disabled = true;
    registration.then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (subscription) {
        if (!subscription) { return null; }
        var form = new URLSearchParams({ endpoint: subscription.endpoint });
        return subscription.unsubscribe().then(function () {
          return post(section.dataset.pushRemove, form.toString(), "application/x-www-form-urlencoded");
        });
      })
      .then(function () { window.location.reload(); })
      .catch(function () { say("failed"); offButton.disabled = false; });
  });
}());
