/* Gallery tiles (History, a board): a muted looping preview while the pointer is over a
 * tile's video (nothing loads before: the video is preload="none" and shows its poster),
 * and "Select all on this page" ticking every tile of its form.
 * Event delegation on the document, so tiles that htmx swaps in work too. CSP: a static file.
 */
(function () {
  "use strict";

  function preview(target) {
    return target && target.matches && target.matches("video[data-hover-preview]") ? target : null;
  }

  document.addEventListener(
    "mouseenter",
    function (event) {
      var video = preview(event.target);
      if (!video || !video.paused) return;
      video.muted = true;
      video.dataset.hoverPlaying = "1";
      var started = video.play();
      if (started && started.catch) started.catch(function () { delete video.dataset.hoverPlaying; });
    },
    true
  );

  document.addEventListener(
    "mouseleave",
    function (event) {
      var video = preview(event.target);
      if (!video || !video.dataset.hoverPlaying) return;
      delete video.dataset.hoverPlaying;
      video.pause();
    },
    true
  );

  /* Once the member uses the controls, the video is theirs: leaving the tile no longer pauses it. */
  document.addEventListener(
    "volumechange",
    function (event) {
      var video = preview(event.target);
      if (video && !video.muted) delete video.dataset.hoverPlaying;
    },
    true
  );

  function boxes(toggle) {
    var scope = document.querySelector(toggle.getAttribute("data-select-all"));
    return scope ? scope.querySelectorAll("input[type=checkbox][name=ids]") : [];
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("input[data-select-all]")) {
      boxes(target).forEach(function (box) {
        box.checked = target.checked;
      });
      return;
    }
    if (target.matches("input[type=checkbox][name=ids]") && target.form) {
      var toggle = target.form.querySelector("input[data-select-all]");
      if (!toggle) return;
      var all = Array.prototype.slice.call(boxes(toggle));
      var ticked = all.filter(function (box) { return box.checked; }).length;
      toggle.checked = ticked === all.length && ticked > 0;
      toggle.indeterminate = ticked > 0 && ticked < all.length;
    }
  });
})();
