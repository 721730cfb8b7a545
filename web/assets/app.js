// The console: Ask (chat answers as a sortable, paged table with the
// evidence graph of a row) and Approvals (the proposals queue). Every
// call goes to the /v1 API with the session cookie; state changes carry
// the session's CSRF token.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const PAGE = 25;
  let csrf = "";
  let conversation = "";
  let answer = null;     // the last /v1/chat answer
  let order = [];        // row indexes in display order
  let sortCol = -1, sortDir = 1, page = 0;
  let cy = null;

  async function api(method, path, body) {
    const opts = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method !== "GET") {
      opts.headers["X-CSRF-Token"] = csrf;
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body || {});
    }
    const resp = await fetch(path, opts);
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (resp.status === 401) {
      window.location.assign("/web/login.html");
    }
    return { ok: resp.ok, status: resp.status, data: data };
  }

  function cell(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  function show(pageName) {
    for (const p of ["ask", "approvals"]) {
      $("page-" + p).hidden = p !== pageName;
      if (p === pageName) $("nav-" + p).setAttribute("aria-current", "page");
      else $("nav-" + p).removeAttribute("aria-current");
    }
    if (pageName === "approvals") loadProposals();
  }

  // ---- Ask ----
  async function ask(ev) {
    ev.preventDefault();
    const q = $("question").value.trim();
    if (!q) return;
    $("refusal").textContent = "";
    $("ask-button").disabled = true;
    const body = { message: q };
    if (conversation) body.conversation_id = conversation;
    const r = await api("POST", "/v1/chat", body);
    $("ask-button").disabled = false;
    if (!r.ok) {
      const d = r.data || {};
      $("refusal").textContent = "Refused: " + (d.detail || d.title || ("HTTP " + r.status));
      return;
    }
    conversation = r.data.conversation_id || conversation;
    $("conversation").textContent = "Conversation " + conversation + " — follow-ups refine this answer.";
    answer = r.data;
    order = (answer.rows || []).map((_, i) => i);
    sortCol = -1; page = 0;
    $("interpretation").textContent = answer.interpretation ? "Interpreted as: " + answer.interpretation : "";
    $("answer-text").textContent = answer.answer || "";
    $("evidence").hidden = true;
    renderTable();
  }

  function renderTable() {
    const cols = answer.columns || [];
    const rows = answer.rows || [];
    const thead = $("answer-table").tHead;
    const tbody = $("answer-table").tBodies[0];
    thead.textContent = ""; tbody.textContent = "";
    $("answer-tools").hidden = rows.length === 0;
    if (cols.length === 0) return;
    const hr = thead.insertRow();
    cols.forEach((c, i) => {
      const th = document.createElement("th");
      th.textContent = c;
      th.scope = "col";
      th.tabIndex = 0;
      th.setAttribute("aria-sort", i === sortCol ? (sortDir > 0 ? "ascending" : "descending") : "none");
      th.addEventListener("click", () => sortBy(i));
      th.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(i); } });
      hr.appendChild(th);
    });
    const th = document.createElement("th");
    th.textContent = "Evidence";
    hr.appendChild(th);
    const pages = Math.max(1, Math.ceil(order.length / PAGE));
    if (page >= pages) page = pages - 1;
    for (const ri of order.slice(page * PAGE, page * PAGE + PAGE)) {
      const tr = tbody.insertRow();
      for (const v of rows[ri]) tr.insertCell().textContent = cell(v);
      const td = tr.insertCell();
      const b = document.createElement("button");
      b.type = "button";
      b.className = "evidence-button";
      b.textContent = "Graph";
      b.setAttribute("aria-label", "Evidence graph of row " + (ri + 1));
      b.addEventListener("click", () => drawEvidence(ri));
      td.appendChild(b);
    }
    $("page-info").textContent = "page " + (page + 1) + " of " + pages + " (" + order.length + " rows" +
      (answer.total > rows.length ? ", " + answer.total + " matched" : "") + ")";
    $("prev-page").disabled = page === 0;
    $("next-page").disabled = page >= pages - 1;
  }

  function sortBy(i) {
    sortDir = sortCol === i ? -sortDir : 1;
    sortCol = i;
    const rows = answer.rows;
    order.sort((a, b) => {
      const x = rows[a][i], y = rows[b][i];
      if (typeof x === "number" && typeof y === "number") return (x - y) * sortDir;
      return cell(x).localeCompare(cell(y), undefined, { numeric: true }) * sortDir;
    });
    page = 0;
    renderTable();
  }

  function download(name, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type: type }));
    const a = document.createElement("a");
    a.href = url; a.download = name;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function csvField(v) {
    let s = cell(v);
    // A leading =, +, - or @ would be a formula in a spreadsheet.
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function downloadCSV() {
    const lines = [answer.columns.map(csvField).join(",")];
    for (const ri of order) lines.push(answer.rows[ri].map(csvField).join(","));
    download("steward-answer.csv", "text/csv", lines.join("\r\n") + "\r\n");
  }

  function downloadJSON() {
    const out = order.map((ri) => {
      const o = {};
      answer.columns.forEach((c, i) => { o[c] = answer.rows[ri][i]; });
      return o;
    });
    download("steward-answer.json", "application/json", JSON.stringify(out, null, 2));
  }

  // ---- Evidence graph ----
  function drawEvidence(ri) {
    const edges = (answer.evidence && answer.evidence[ri]) || [];
    const els = [];
    const seen = {};
    const node = (id) => {
      if (seen[id]) return;
      seen[id] = true;
      els.push({ group: "nodes", data: { id: id, label: id } });
    };
    const first = answer.rows[ri][0];
    if (typeof first === "string" && edges.length === 0) node(first);
    edges.forEach((e, i) => {
      node(e.from); node(e.to);
      els.push({ group: "edges", data: { id: "e" + i, source: e.from, target: e.to, label: e.kind, props: e.props || {} } });
    });
    $("evidence").hidden = false;
    $("evidence-title").textContent = "Evidence of row " + (ri + 1) + " (" + edges.length + " edges)";
    $("props").textContent = "Select a node or an edge.";
    if (cy) cy.destroy();
    cy = cytoscape({
      container: $("graph"),
      elements: els,
      layout: { name: "breadthfirst", directed: true, padding: 20, spacingFactor: 1.1 },
      style: [
        { selector: "node", style: { "label": "data(label)", "background-color": "#0b5cad", "color": "#1b1f24", "font-size": 10, "text-wrap": "wrap", "text-max-width": 160, "text-valign": "bottom" } },
        { selector: "edge", style: { "label": "data(label)", "curve-style": "bezier", "target-arrow-shape": "triangle", "width": 2, "line-color": "#8c959f", "target-arrow-color": "#8c959f", "font-size": 9, "text-rotation": "autorotate" } },
        { selector: ":selected", style: { "background-color": "#f0b400", "line-color": "#f0b400", "target-arrow-color": "#f0b400" } },
      ],
    });
    cy.on("tap", "node, edge", (ev) => {
      const d = ev.target.data();
      const out = ev.target.isEdge()
        ? { edge: d.label, from: d.source, to: d.target, props: d.props }
        : { node: d.id, edges: ev.target.connectedEdges().map((e) => e.data("label") + " " + e.data("source") + " → " + e.data("target")) };
      $("props").textContent = JSON.stringify(out, null, 2);
    });
    window.stewardGraph = cy; // for the browser test and the devtools
  }

  // ---- Approvals ----
  async function loadProposals() {
    const r = await api("GET", "/v1/proposals");
    const tbody = $("proposals").tBodies[0];
    tbody.textContent = "";
    if (!r.ok) {
      $("decision-result").className = "error";
      $("decision-result").textContent = "Proposals unavailable: " + ((r.data && r.data.detail) || r.status);
      return;
    }
    for (const p of r.data.proposals || []) {
      const tr = tbody.insertRow();
      tr.dataset.id = p.id;
      tr.insertCell().textContent = p.id + (p.justification ? " — " + p.justification : "");
      tr.insertCell().textContent = p.state;
      tr.insertCell().textContent = p.requester;
      tr.insertCell().textContent = (p.actions || []).map((a) => a.type + " " + a.target).join("; ");
      const approvals = (p.decisions || []).filter((d) => d.kind === "approve").length;
      tr.insertCell().textContent = approvals + " of " + ((p.rule && p.rule.required) || 1);
      tr.insertCell().textContent = p.expires_at || "";
      const td = tr.insertCell();
      if (p.state === "proposed" || p.state === "escalated") {
        for (const [verb, label] of [["approve", "Approve"], ["reject", "Reject"]]) {
          const b = document.createElement("button");
          b.type = "button";
          b.className = verb + "-button";
          b.textContent = label;
          b.setAttribute("aria-label", label + " " + p.id);
          b.addEventListener("click", () => decide(p.id, verb));
          td.appendChild(b);
        }
      }
    }
  }

  async function decide(id, verb) {
    const reason = $("reason").value.trim();
    const r = await api("POST", "/v1/proposals/" + encodeURIComponent(id) + "/" + verb, { reason: reason });
    const out = $("decision-result");
    if (r.ok) {
      out.className = "ok";
      out.textContent = verb + " recorded: " + id + " is now " + r.data.state;
    } else {
      out.className = "error";
      out.textContent = "Refused: " + ((r.data && r.data.detail) || ("HTTP " + r.status));
    }
    await loadProposals();
  }

  async function start() {
    const r = await api("GET", "/web/session");
    if (!r.ok) return;
    csrf = r.data.csrf_token;
    $("who").textContent = r.data.actor;
    $("nav-ask").addEventListener("click", () => show("ask"));
    $("nav-approvals").addEventListener("click", () => show("approvals"));
    $("ask-form").addEventListener("submit", ask);
    $("new-conversation").addEventListener("click", () => {
      conversation = ""; answer = null;
      $("conversation").textContent = ""; $("interpretation").textContent = ""; $("answer-text").textContent = "";
      $("answer-table").tHead.textContent = ""; $("answer-table").tBodies[0].textContent = "";
      $("answer-tools").hidden = true; $("evidence").hidden = true;
    });
    $("prev-page").addEventListener("click", () => { page--; renderTable(); });
    $("next-page").addEventListener("click", () => { page++; renderTable(); });
    $("download-csv").addEventListener("click", downloadCSV);
    $("download-json").addEventListener("click", downloadJSON);
    $("refresh-proposals").addEventListener("click", loadProposals);
    $("logout").addEventListener("click", async () => {
      await api("POST", "/web/logout");
      window.location.assign("/web/login.html");
    });
    show("ask");
    document.body.dataset.ready = "true";
  }
  start();
})();
