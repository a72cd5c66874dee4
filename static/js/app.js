/* Small behaviours of the dashboard's pages. The pages work without JavaScript (plain form
   posts); this adds live character counts, keeps keyboard focus sensible after htmx swaps and
   asks before a destructive form is sent. */
(function () {
  "use strict";

  // A field with data-count-max shows "used/max" in the element named by its data-counter.
  function updateCounter(field) {
    var counter = document.getElementById(field.dataset.counter);
    if (!counter) return;
    var max = parseInt(field.dataset.countMax, 10);
    var used = field.value.length;
    // Only the number changes: the hidden " characters" after it is what screen readers say.
    var count = counter.querySelector("[data-count]");
    (count || counter).textContent = used + "/" + max;
    counter.classList.toggle("over", used > max);
  }

  function initCounters(root) {
    root.querySelectorAll("[data-count-max]").forEach(updateCounter);
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field instanceof HTMLElement && field.dataset.countMax) updateCounter(field);
  });

  // After a swap, move focus to the swapped content's message (data-autofocus) so keyboard and
  // screen-reader users land on the answer rather than on a button that no longer exists.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.elt;
    if (!(target instanceof HTMLElement)) return;
    var focus = target.matches("[data-autofocus]") ? target : target.querySelector("[data-autofocus]");
    if (focus) {
      if (!focus.hasAttribute("tabindex")) focus.setAttribute("tabindex", "-1");
      focus.focus();
    }
  });

  // A destructive submit button (cancelling a seat, changing its plan) carries data-confirm:
  // the form is sent only once the browser's confirm is accepted. Without JavaScript the page
  // the button sits on, which states what is forfeited, is the confirm step.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button instanceof HTMLElement ? button.dataset.confirm : undefined;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  document.addEventListener("htmx:load", function (event) {
    initCounters(event.detail.elt);
  });
  document.addEventListener("DOMContentLoaded", function () {
    initCounters(document);
  });
})();
