// "Use my location" on the care finder (CON-3). The browser is asked for the position only when
// the person clicks the button; the position is then posted with the search, used for that one
// search and never stored. Without JavaScript the button stays hidden and ZIP codes work as ever.
(function () {
  "use strict";

  function ready() {
    var button = document.getElementById("use-my-location");
    var search = document.getElementById("care-search");
    var precise = document.getElementById("precise-search");
    var status = document.getElementById("location-status");
    if (!button || !search || !precise || !("geolocation" in navigator)) { return; }
    button.hidden = false;

    function say(text) { if (status) { status.textContent = text; } }

    function copySearch() {
      Array.prototype.forEach.call(precise.querySelectorAll("[data-copied]"), function (input) {
        input.remove();
      });
      Array.prototype.forEach.call(search.elements, function (field) {
        if (!field.name || field.name === "page" || field.name === "near" || field.disabled) { return; }
        if ((field.type === "checkbox" || field.type === "radio") && !field.checked) { return; }
        var copy = document.createElement("input");
        copy.type = "hidden";
        copy.name = field.name;
        copy.value = field.value;
        copy.setAttribute("data-copied", "");
        precise.appendChild(copy);
      });
    }

    button.addEventListener("click", function () {
      say(button.dataset.waiting);
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          precise.elements.latitude.value = position.coords.latitude.toFixed(5);
          precise.elements.longitude.value = position.coords.longitude.toFixed(5);
          precise.elements.permission.value = "granted";
          copySearch();
          precise.submit();
        },
        function (error) {
          button.disabled = false;
          say(error.code === error.PERMISSION_DENIED ? button.dataset.denied : button.dataset.failed);
        },
        { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 }
      );
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
