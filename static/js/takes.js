// The takes of one request, or one request through several gateways, side by side
// (templates/videos/takes.html): play, pause and seek on any player and the others follow.
(function () {
  var players = Array.prototype.slice.call(document.querySelectorAll(".takes-grid video.player"));
  if (players.length < 2) return;
  var controls = document.querySelector(".takes-controls");
  if (controls) controls.hidden = false;

  function place(target, time) {
    var end = isFinite(target.duration) ? target.duration : time;
    var wanted = Math.min(time, end);
    if (Math.abs(target.currentTime - wanted) > 0.05) {
      target.following = true; // its own "seeking" must not move the leader back
      target.currentTime = wanted;
    }
  }
  function others(video) { return players.filter(function (p) { return p !== video; }); }

  players.forEach(function (video) {
    video.addEventListener("play", function () {
      others(video).forEach(function (peer) {
        place(peer, video.currentTime);
        if (peer.paused) peer.play().catch(function () {});
      });
    });
    video.addEventListener("pause", function () {
      others(video).forEach(function (peer) {
        if (!peer.paused) peer.pause();
        place(peer, video.currentTime);
      });
    });
    video.addEventListener("seeking", function () {
      if (video.following) { video.following = false; return; }
      others(video).forEach(function (peer) { place(peer, video.currentTime); });
    });
  });
  var play = document.querySelector("[data-takes-play]");
  var pause = document.querySelector("[data-takes-pause]");
  if (play) play.addEventListener("click", function () { players[0].play().catch(function () {}); });
  if (pause) pause.addEventListener("click", function () { players[0].pause(); });
})();
