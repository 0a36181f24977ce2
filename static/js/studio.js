/* Studio's small page helpers (CSP: a static file, no inline script, no eval).
 *
 * Loaded in <head> without defer, so the chosen theme is on <html> before the first paint:
 *   - theme: "system" (follow prefers-color-scheme), "light" or "dark", kept in localStorage,
 *     chosen with the header's #theme-choice select;
 *   - Ctrl+Enter / Cmd+Enter in a textarea (or any field of the compose form) submits its
 *     form, as its one submit button would (a form with several different buttons, such as
 *     a review's accept/reject, is left alone: the shortcut never guesses a decision);
 *   - after Generate, the new card takes the focus, and keeps it while it refreshes;
 *   - an open header menu (<details class="nav-menu">) closes on Escape (the focus goes back
 *     to its button) and on a click or a focus anywhere outside it.
 */
(function () {
  "use strict";
  var root = document.documentElement;
  var KEY = "studio-theme";
  var CHOICES = ["system", "light", "dark"];

  function storedTheme() {
    try {
      var value = window.localStorage.getItem(KEY);
      return CHOICES.indexOf(value) >= 0 ? value : "system";
    } catch (e) {
      return "system";
    }
  }

  function applyTheme(choice) {
    if (choice === "light" || choice === "dark") root.setAttribute("data-theme", choice);
    else root.removeAttribute("data-theme");
  }

  applyTheme(storedTheme());

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("theme-choice");
    if (!select) return;
    select.value = storedTheme();
    select.addEventListener("change", function () {
      var choice = CHOICES.indexOf(select.value) >= 0 ? select.value : "system";
      try {
        window.localStorage.setItem(KEY, choice);
      } catch (e) {
        /* private mode: the choice lasts for this page only */
      }
      applyTheme(choice);
    });
  });

  function submitterOf(form) {
    var buttons = form.querySelectorAll("button:not([type]), button[type=submit], input[type=submit]");
    var marked = form.querySelector("[data-shortcut-submit]");
    if (marked) return marked;
    return buttons.length === 1 ? buttons[0] : null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.isComposing) return;
    var field = event.target;
    var form = field && field.form;
    if (!form) return;
    if (field.tagName !== "TEXTAREA" && form.id !== "compose") return;
    var button = submitterOf(form);
    if (!button || button.disabled) return;
    event.preventDefault();
    if (typeof form.requestSubmit === "function") form.requestSubmit(button);
    else button.click();
  });

  var followedCard = null; // the id of the card that has the focus, kept across its refreshes

  function focusCard(card) {
    if (!card.hasAttribute("tabindex")) card.setAttribute("tabindex", "-1");
    card.focus({ preventScroll: false });
    followedCard = card.id || null;
  }

  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    followedCard = active && active.classList && active.classList.contains("card") ? active.id : null;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail || {};
    var target = detail.target;
    var source = detail.requestConfig && detail.requestConfig.elt; // detail.elt is the settled element
    if (source && source.id === "compose" && target && target.id === "cards") {
      var card = target.querySelector(".card");
      if (card) focusCard(card);
      return;
    }
    if (followedCard && (!document.activeElement || document.activeElement === document.body)) {
      var again = document.getElementById(followedCard);
      if (again) focusCard(again);
    }
  });

  function openMenus() {
    return Array.prototype.slice.call(document.querySelectorAll("details.nav-menu[open]"));
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.isComposing) return;
    openMenus().forEach(function (menu) {
      var hadFocus = menu.contains(document.activeElement);
      menu.removeAttribute("open");
      if (hadFocus) menu.querySelector("summary").focus();
    });
  });

  function closeOutside(event) {
    openMenus().forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", closeOutside);
  document.addEventListener("focusin", closeOutside);
})();
