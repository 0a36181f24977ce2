// Two versions side by side (templates/videos/compare.html): play, pause and seek on either
// player and the other follows, so both stay on the same time code.
(function () {
  var players = Array.prototype.slice.call(document.querySelectorAll("video[data-compare-player]"));
  if (players.length !== 2) return;
  var controls = document.querySelector(".compare-controls");
  if (controls) controls.hidden = false;

  function other(video) { return video === players[0] ? players[1] : players[0]; }
  function place(target, time) {
    var end = isFinite(target.duration) ? target.duration : time;
    var wanted = Math.min(time, end);
    if (Math.abs(target.currentTime - wanted) > 0.05) {
      target.following = true; // its own "seeking" must not move the leader back
      target.currentTime = wanted;
    }
  }

  players.forEach(function (video) {
    video.addEventListener("play", function () {
      var peer = other(video);
      place(peer, video.currentTime);
      if (peer.paused) peer.play().catch(function () {});
    });
    video.addEventListener("pause", function () {
      var peer = other(video);
      if (!peer.paused) peer.pause();
      place(peer, video.currentTime);
    });
    video.addEventListener("seeking", function () {
      if (!video.following) place(other(video), video.currentTime);
    });
    video.addEventListener("seeked", function () { video.following = false; });
    video.addEventListener("timeupdate", function () {
      // While both play, pull the follower back when it drifts by more than 0.15 s.
      var peer = other(video);
      if (video === players[0] && !video.paused && !peer.paused && Math.abs(peer.currentTime - video.currentTime) > 0.15) {
        place(peer, video.currentTime);
      }
    });
  });

  var play = document.querySelector("[data-compare-play]");
  var pause = document.querySelector("[data-compare-pause]");
  if (play) play.addEventListener("click", function () { players[0].play().catch(function () {}); });
  if (pause) pause.addEventListener("click", function () { players[0].pause(); });
})();
