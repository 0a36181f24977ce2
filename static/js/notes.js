// Notes on the timeline (templates/videos/_notes.html): markers on a bar under the player,
// positioned by time code / duration, from the panel's data-markers JSON (an attribute: htmx here
// drops <script> elements it swaps in, json_script included);
// clicking a marker or a note's time code seeks the player there; "Note at current time"
// pauses and fills the time field. Without script the list and the typed time code still work.
(function () {
  function player() { return document.querySelector("video.player"); }

  function timecode(seconds) {
    var tenths = Math.round(Math.max(seconds, 0) * 10);
    var whole = Math.floor(tenths / 10), tenth = tenths % 10;
    var minutes = Math.floor(whole / 60), secs = whole % 60;
    return minutes + ":" + (secs < 10 ? "0" : "") + secs + "." + tenth;
  }

  function duration(area) {
    var video = player();
    var known = parseFloat(area.dataset.duration);
    if (known > 0) return known;
    return video && isFinite(video.duration) ? video.duration : 0;
  }

  function draw() {
    var area = document.getElementById("notes");
    if (!area || !area.dataset.markers) return;
    var bar = document.querySelector(".scrub-bar"); // outside the panel htmx swaps
    if (!bar) return;
    var length = duration(area);
    bar.querySelectorAll(".note-marker").forEach(function (old) { old.remove(); });
    if (!(length > 0)) return;
    JSON.parse(area.dataset.markers).forEach(function (note) {
      var marker = document.createElement("button");
      marker.type = "button";
      marker.tabIndex = -1; // the list below offers the same seek to keyboards and screen readers
      marker.className = "note-marker" + (note.open ? " open" : " resolved");
      marker.dataset.seek = note.t;
      marker.dataset.note = note.id;
      marker.title = timecode(note.t) + " " + note.text;
      marker.style.left = Math.min(100, (note.t / length) * 100) + "%";
      if (note.end !== null && note.end > note.t) {
        marker.classList.add("range");
        marker.style.width = Math.min(100, ((note.end - note.t) / length) * 100) + "%";
      }
      bar.appendChild(marker);
    });
    var now = area.querySelector(".note-now");
    if (now && player()) now.hidden = false;
    follow();
  }

  function follow() {
    var video = player(), area = document.getElementById("notes");
    if (!video || !area) return;
    var head = document.querySelector(".scrub-head"), length = duration(area);
    if (head && length > 0) head.style.left = Math.min(100, (video.currentTime / length) * 100) + "%";
  }

  document.addEventListener("click", function (event) {
    var video = player();
    var seek = event.target.closest("[data-seek]");
    if (seek && video) {
      event.preventDefault();
      video.pause();
      video.currentTime = parseFloat(seek.dataset.seek);
      var item = document.getElementById("note-" + seek.dataset.note);
      if (item) item.classList.add("current");
      return;
    }
    if (event.target.closest(".note-now") && video) {
      video.pause();
      var field = document.getElementById("note-time");
      if (field) field.value = timecode(video.currentTime);
      var body = document.getElementById("note-body");
      if (body) body.focus();
    }
  });

  function start() {
    draw();
    var video = player();
    if (video) {
      video.addEventListener("loadedmetadata", draw);
      video.addEventListener("timeupdate", follow);
      video.addEventListener("seeked", follow);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  document.addEventListener("htmx:afterSettle", draw);
})();
