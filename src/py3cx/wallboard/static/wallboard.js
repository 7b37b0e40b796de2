// The wallboard page: draws the picture the server pushes over Server-Sent Events, and ticks
// the clocks (waits and durations) every second between pictures.
"use strict";

let picture = null;
let offset = 0; // server clock minus browser clock, in seconds

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) {
    node.append(child instanceof Node ? child : child === null || child === undefined ? "" : String(child));
  }
  return node;
}

function since(epoch) {
  if (epoch === null || epoch === undefined) return "";
  const seconds = Math.max(0, Math.floor(Date.now() / 1000 + offset - epoch));
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  const mm = String(m).padStart(2, "0"), ss = String(s).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function epochOf(iso) {
  return iso ? Date.parse(iso) / 1000 : null;
}

function drawStatus() {
  const status = document.getElementById("status");
  status.className = "status";
  if (picture.error) {
    status.textContent = "stopped: " + picture.error;
    status.classList.add("failed");
  } else if (picture.connected) {
    status.textContent = "live";
    status.classList.add("live");
  } else {
    status.textContent = "reconnecting…";
  }
}

function drawQueues() {
  const body = document.querySelector("#queues tbody");
  body.replaceChildren(...picture.queues.map((q) => {
    const row = el("tr", { "data-queue": q.dn },
      el("td", { class: "dn" }, q.dn),
      el("td", { class: "name" }, q.name || ""),
      el("td", { class: "waiting" }, q.waiting),
      el("td", { class: "talking" }, q.talking),
      el("td", { class: "longest" }, since(q.longest_wait_since)),
      el("td", { class: "answered" }, q.answered),
      el("td", { class: "abandoned" }, q.abandoned));
    if (q.longest_wait_since !== null && Date.now() / 1000 + offset - q.longest_wait_since > 60) {
      row.classList.add("waiting-long");
    }
    return row;
  }));
}

function drawCalls() {
  const body = document.querySelector("#calls tbody");
  body.replaceChildren(...picture.calls.map((c) => el("tr", { "data-callid": c.Id, "data-status": c.Status },
    el("td", {}, c.Id),
    el("td", { class: "caller" }, c.Caller),
    el("td", { class: "callee" }, c.Callee),
    el("td", { class: "state" }, c.Status),
    el("td", { class: "duration" }, since(epochOf(c.EstablishedAt))))));
  document.getElementById("no-calls").hidden = picture.calls.length > 0;
}

function drawExtensions() {
  const box = document.getElementById("extensions");
  box.replaceChildren(...picture.extensions.map((x) => el("div", { class: "ext", "data-dn": x.dn, "data-status": x.status },
    el("div", { class: "dn" }, x.dn),
    el("div", { class: "what" }, x.status === "idle" ? "idle" : `${x.status} ${x.party || ""} ${since(x.since)}`))));
}

function draw() {
  if (!picture) return;
  drawStatus();
  for (const name of ["waiting", "talking", "answered", "abandoned"]) {
    document.getElementById(name).textContent = picture.totals[name];
  }
  drawQueues();
  drawCalls();
  drawExtensions();
}

function tick() {
  const now = new Date(Date.now() + offset * 1000);
  document.getElementById("clock").textContent = now.toLocaleTimeString();
  draw();
}

function connect() {
  const source = new EventSource("/api/stream");
  source.onmessage = (message) => {
    picture = JSON.parse(message.data);
    offset = picture.now - Date.now() / 1000;
    draw();
  };
  source.onerror = () => {
    if (picture) {
      picture.connected = false;
      drawStatus();
    }
  };
}

connect();
setInterval(tick, 1000);
