// sgsweep dashboard: live updates by Server-Sent Events (/events), and a
// confirmation before cancelling. Pages are complete without it.
"use strict";

(function () {
  const body = document.body;

  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  });

  // The results table is a fragment of its own (table.html): fetched here,
  // so that the page answers at once whatever the size of the sweep.
  const table = document.getElementById("table");
  if (table && table.dataset.src) {
    fetch(table.dataset.src, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      table.innerHTML = html; // server-rendered and escaped by html/template
    }, function (err) {
      table.textContent = "table: " + err;
    });
  }

  const figure = document.getElementById("figure");
  if (figure) {
    figure.addEventListener("error", function () {
      fetch(figure.src).then(function (r) { return r.text(); }).then(function (text) {
        const pre = document.createElement("pre");
        pre.className = "error";
        pre.textContent = "figure: " + text;
        figure.replaceWith(pre);
      });
    });
  }

  if (!body.dataset.live || !window.EventSource) return;
  const progress = document.getElementById("progress");
  const sweep = progress ? progress.dataset.sweep : "";
  const conn = document.getElementById("conn");
  let lastSettled = null;

  function set(row, field, value) {
    row.querySelectorAll('[data-f="' + field + '"]').forEach(function (el) {
      if (el.tagName === "PROGRESS") {
        el.max = value.max;
        el.value = value.value;
      } else {
        el.textContent = value;
        if (field === "state") el.className = "state " + value;
      }
    });
  }

  function showSweep(row, s) {
    ["state", "expected", "done", "failed", "pending", "diverged", "stopped", "conflicts", "duplicates", "percent", "eta"].forEach(function (f) {
      set(row, f, s[f]);
    });
    set(row, "progress", { max: s.expected, value: s.settled });
  }

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function fmt(x) {
    if (!Number.isFinite(x)) return "-";
    const s = x.toPrecision(4);
    return s.includes(".") && !s.includes("e") ? s.replace(/\.?0+$/, "") : s;
  }

  function spark(curve) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 100 20");
    svg.setAttribute("width", "100");
    svg.setAttribute("height", "20");
    if (curve && curve.length > 0) {
      const lo = Math.min.apply(null, curve), hi = Math.max.apply(null, curve), span = hi - lo || 1;
      const pts = curve.map(function (y, i) {
        const x = curve.length > 1 ? 2 + 96 * i / (curve.length - 1) : 50;
        return x.toFixed(1) + "," + (18 - 16 * (y - lo) / span).toFixed(1);
      });
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", pts.join(" "));
      line.setAttribute("class", "line");
      svg.appendChild(line);
    }
    return svg;
  }

  function showRunning(list) {
    list = list || [];
    const table = document.getElementById("running");
    if (!table) return;
    const tbody = table.tBodies[0];
    tbody.replaceChildren();
    list.forEach(function (t) {
      const tr = document.createElement("tr");
      const a = document.createElement("a");
      a.href = "/sweeps/" + encodeURIComponent(t.sweep) + "/tasks/" + encodeURIComponent(t.task_id);
      a.textContent = t.task_id;
      cell(tr, "").appendChild(a);
      cell(tr, t.worker);
      cell(tr, String(t.attempt), "num");
      cell(tr, t.epoch + "/" + t.epochs, "num");
      cell(tr, fmt(t.val_acc), "num");
      cell(tr, fmt(t.train_loss), "num");
      cell(tr, "").appendChild(spark(t.curve));
      tbody.appendChild(tr);
    });
    const none = document.getElementById("running-none");
    if (none) none.hidden = list.length > 0;
  }

  const url = "/events" + (sweep ? "?sweep=" + encodeURIComponent(sweep) : "");
  const es = new EventSource(url);
  es.addEventListener("open", function () { if (conn) { conn.textContent = "connected"; conn.className = "conn ok"; } });
  es.addEventListener("error", function () { if (conn) { conn.textContent = "reconnecting…"; conn.className = "conn"; } });
  es.addEventListener("status", function (e) {
    const st = JSON.parse(e.data);
    const rate = document.getElementById("rate");
    if (rate) rate.textContent = st.rate.toFixed(2);
    st.sweeps.forEach(function (s) {
      document.querySelectorAll('[data-sweep="' + CSS.escape(s.name) + '"]').forEach(function (row) { showSweep(row, s); });
      if (s.name === sweep) {
        if (lastSettled !== null && s.settled !== lastSettled) {
          const stale = document.getElementById("stale");
          if (stale) stale.hidden = false;
        }
        lastSettled = s.settled;
      }
    });
    if (sweep) showRunning(st.running);
    body.dataset.updates = String(Number(body.dataset.updates || 0) + 1);
  });
})();
