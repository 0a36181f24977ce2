// The guest page: "Use the player's time" puts the video's current time into the note's time code.
(function () {
  var player = document.getElementById("share-player");
  var button = document.getElementById("use-current-time");
  var field = document.getElementById("id_time_s");
  if (!player || !button || !field) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    field.value = (Math.round(player.currentTime * 10) / 10).toString();
  });
  player.addEventListener("pause", function () {
    if (!field.value) field.value = (Math.round(player.currentTime * 10) / 10).toString();
  });
})();
