// ozvm workbench: a little plain JavaScript, no framework, no build step.
"use strict";

// Elements with data-fill="URL" get the JSON answer's `text` (or its error) once the page is
// shown: the page never waits for guest work (a printString) to be rendered.
function ozFill(el) {
  const url = el.getAttribute("data-fill");
  el.textContent = "…";
  fetch(url, {headers: {"Accept": "application/json"}})
    .then(r => r.json().then(body => ({ok: r.ok, body: body})))
    .then(({ok, body}) => {
      el.textContent = ok ? body.text : body.error;
      el.classList.toggle("error", !ok);
      el.setAttribute("data-done", ok ? "ok" : "error");
    })
    .catch(e => { el.textContent = String(e); el.classList.add("error"); el.setAttribute("data-done", "error"); });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-fill]").forEach(ozFill);
  // a selected line in a pane is scrolled into view
  document.querySelectorAll(".pane a.selected").forEach(a => a.scrollIntoView({block: "nearest"}));
});
