// A sequence's shots: drag one onto another to move it there; the new order is posted by
// the hidden #order-form (htmx swaps the list back in). Without script, the Up/Down/Remove
// buttons beside each shot are plain forms.
(function () {
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest("li.shot[draggable=true]");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.shot);
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
  });
  document.addEventListener("dragover", function (event) {
    var over = event.target.closest && event.target.closest("li.shot");
    if (dragged && over && over !== dragged) event.preventDefault();
  });
  document.addEventListener("drop", function (event) {
    var over = event.target.closest && event.target.closest("li.shot");
    if (!dragged || !over || over === dragged) return;
    event.preventDefault();
    var list = over.parentNode;
    var items = Array.prototype.slice.call(list.children);
    if (items.indexOf(dragged) < items.indexOf(over)) list.insertBefore(dragged, over.nextSibling);
    else list.insertBefore(dragged, over);
    var form = document.getElementById("order-form");
    if (!form) return;
    form.elements.order.value = Array.prototype.map.call(list.querySelectorAll("li.shot"), function (li) {
      return li.dataset.shot;
    }).join(",");
    if (window.htmx) window.htmx.trigger(form, "submit");
    else form.submit();
  });
})();
