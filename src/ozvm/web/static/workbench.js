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

// A compile or file-in error names a line and column: put the caret there in its text.
function ozShowErrorAt(errorId, textId) {
  const err = document.getElementById(errorId), text = document.getElementById(textId);
  if (!err || !text) return;
  const line = parseInt(err.getAttribute("data-line"), 10), column = parseInt(err.getAttribute("data-column"), 10);
  if (!(line > 0)) return;
  const lines = text.value.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  offset += Math.max(0, (column || 1) - 1);
  text.focus();
  text.setSelectionRange(offset, Math.min(offset + 1, text.value.length));
  const lineHeight = parseFloat(getComputedStyle(text).lineHeight) || 16;
  text.scrollTop = Math.max(0, (line - 3) * lineHeight);
}

document.addEventListener("DOMContentLoaded", () => {
  ozShowErrorAt("compile-error", "source");
  ozShowErrorAt("filein-error", "filein-text");
  ozShowErrorAt("evaluate-error", "evaluate-source");
  // a chunk file chosen from the disk is read into the text area (latin-1, as Squeak writes it)
  const file = document.getElementById("filein-file");
  if (file) file.addEventListener("change", () => {
    const f = file.files[0];
    if (!f) return;
    const reader = new FileReader();
    reader.onload = () => {
      document.getElementById("filein-text").value = reader.result;
      document.querySelector("#filein-form input[name=name]").value = f.name;
    };
    reader.readAsText(f, "latin1");
  });
  // Tab in a source text area inserts a tab (Smalltalk sources are indented with tabs)
  document.querySelectorAll("textarea").forEach(t => t.addEventListener("keydown", e => {
    if (e.key !== "Tab" || e.shiftKey || e.ctrlKey || e.altKey) return;
    e.preventDefault();
    const s = t.selectionStart;
    t.setRangeText("\t", s, t.selectionEnd, "end");
  }));
});

// While a long job runs (a diff of big spaces, a copy, a save), the page shows its progress
// from /api/tasks: "comparing: 3 of 12 classes…" (`doing`, `unit`).
function ozShowProgress(el, label, doing = "comparing", unit = "classes") {
  el.hidden = false;
  const look = () => fetch("/api/tasks", {headers: {"Accept": "application/json"}})
    .then(r => r.json())
    .then(body => {
      const task = (body.tasks || []).find(t => t.label === label);
      el.textContent = task ? doing + ": " + task.done + " of " + task.total + " " + unit + "…" : doing + "…";
    })
    .catch(() => {});
  look();
  setInterval(look, 300);
}

// An evaluation runs until it answers, uses up its budget, or the page interrupts it: the
// form names its job with a random key, and the interrupt button asks the server to end it.
function ozInterruptible(form, button) {
  form.addEventListener("submit", () => {
    const key = "job-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    form.job.value = key;
    button.hidden = false;
    button.onclick = () => {
      button.disabled = true;
      fetch("/api/jobs/" + key + "/interrupt", {method: "POST"});
    };
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const evaluate = document.getElementById("evaluate-form"), interrupt = document.getElementById("evaluate-interrupt");
  if (evaluate && interrupt) ozInterruptible(evaluate, interrupt);
  // the spaces page's copy and save forms: data-progress names the task, data-doing what it does
  document.querySelectorAll("form[data-progress]").forEach(f => f.addEventListener("submit", () =>
    ozShowProgress(document.getElementById("job-progress"), f.dataset.progress, f.dataset.doing, "objects")));
  const form = document.getElementById("diff-form");
  if (form) form.addEventListener("submit", () =>
    ozShowProgress(document.getElementById("diff-progress"), "diff " + form.a.value + " " + form.b.value));
});
