// "Copy link" buttons: copy the readonly input named by data-copy with the Clipboard API.
// Without script (or clipboard access) the buttons stay hidden and the link is selectable.
(function () {
  if (!navigator.clipboard) return;
  document.querySelectorAll("button.copy-button[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.dataset.copy);
    if (!input) return;
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = button.dataset.copied || label;
        setTimeout(function () { button.textContent = label; }, 2000);
      }, function () {
        input.select();
      });
    });
  });
  document.querySelectorAll("input.invite-link").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
