// The frame form on a finished video's page: scrubbing the player fills in the time, and a
// typed time moves the player there. Without script the time is typed by hand.
(function () {
  var input = document.getElementById("frame-time");
  var player = document.querySelector("video.player");
  if (!input || !player) return;
  function sync() { input.value = player.currentTime.toFixed(2); }
  player.addEventListener("seeked", sync);
  player.addEventListener("pause", sync);
  input.addEventListener("change", function () {
    var t = parseFloat(input.value);
    if (!isNaN(t) && t >= 0 && (!player.duration || t <= player.duration)) player.currentTime = t;
  });
})();
