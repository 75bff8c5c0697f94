// The process browser: the table is refreshed from /api/processes every second.
"use strict";

const PROCESS_ACTIONS = {
  running: ["interrupt", "terminate"],
  stopped: ["resume", "terminate"],
};

function ozProcessRow(p) {
  const tr = document.createElement("tr");
  tr.id = "process-" + p.space + "-" + p.pid;
  tr.dataset.state = p.state;
  tr.dataset.priority = p.priority;
  const cell = (text, cls) => {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  };
  cell(p.space);
  cell(p.pid, "mono");
  cell(p.name || "");
  cell(p.priority, "num");
  const state = cell(p.state + (p.interrupted ? " (interrupted)" : ""), "state");
  if (p.error) {
    const e = document.createElement("div");
    e.className = "error";
    e.textContent = p.error;
    state.appendChild(e);
  }
  cell(p.where.join("\n"), "mono where");
  const actions = cell("");
  if (p.state !== "terminated") {
    const kind = p.state === "suspended" ? "stopped" : "running";
    for (const action of PROCESS_ACTIONS[kind]) {
      const b = document.createElement("button");
      b.name = action;
      b.textContent = action;
      b.onclick = () => ozProcessAction(p, action);
      actions.appendChild(b);
    }
    if (kind === "stopped") {
      const a = document.createElement("a");
      a.href = "/debug/" + p.space + "/" + p.pid;
      a.textContent = "debug";
      a.className = "debug";
      actions.appendChild(document.createTextNode(" "));
      actions.appendChild(a);
    }
  }
  return tr;
}

function ozProcessError(message) {
  const el = document.getElementById("process-error");
  el.hidden = !message;
  el.textContent = message || "";
}

function ozProcessAction(p, action) {
  fetch("/api/processes/" + p.space + "/" + p.pid + "/" + action, {method: "POST"})
    .then(r => r.json().then(body => ({ok: r.ok, body: body})))
    .then(({ok, body}) => { ozProcessError(ok ? "" : body.error); ozRefreshProcesses(); })
    .catch(e => ozProcessError(String(e)));
}

let ozProcessesBusy = false;

function ozRefreshProcesses() {
  if (ozProcessesBusy) return;
  ozProcessesBusy = true;
  const table = document.getElementById("processes");
  const only = table.dataset.space;
  fetch("/api/processes" + (only ? "?space=" + encodeURIComponent(only) : ""),
        {headers: {"Accept": "application/json"}})
    .then(r => r.json().then(body => ({ok: r.ok, body: body})))
    .then(({ok, body}) => {
      if (!ok) { ozProcessError(body.error); return; }
      const seen = JSON.stringify(body.processes);
      table.dataset.refreshed = String(Number(table.dataset.refreshed || 0) + 1);
      if (seen === table.ozShown) return;        // unchanged: the rows stay as they are
      table.ozShown = seen;
      const tbody = document.createElement("tbody");
      for (const p of body.processes) tbody.appendChild(ozProcessRow(p));
      table.replaceChild(tbody, table.tBodies[0]);
    })
    .catch(e => ozProcessError(String(e)))
    .finally(() => { ozProcessesBusy = false; });
}

document.addEventListener("DOMContentLoaded", () => {
  ozRefreshProcesses();
  setInterval(ozRefreshProcesses, 1000);
});
