// First visit: tell the studio the browser's time zone, once (base.html includes this only
// while the member has none). The server keeps it unless one was chosen meanwhile; the next
// page shows every time in it. A browser that reports no zone sends nothing.
(function () {
  "use strict";
  var script = document.currentScript;
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone || !script || !window.fetch) return;
  fetch(script.dataset.url, {
    method: "POST",
    credentials: "same-origin",
    headers: {"X-CSRFToken": script.dataset.csrf, "Content-Type": "application/x-www-form-urlencoded"},
    body: new URLSearchParams({time_zone: zone}),
  }).catch(function () {});
})();
