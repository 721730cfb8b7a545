// The console's pages: Overview, Ask (chat answers as a sortable, paged
// table), Identity, Findings, Reviews and Approvals, with the evidence
// graph of any row. Every call goes to the /v1 API with the session
// cookie; state changes carry the session's CSRF token. Nothing from the
// server is ever parsed as HTML: every value is set as text.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const PAGE = 25;
  const PAGES = ["overview", "ask", "identity", "findings", "reviews", "approvals"];
  let csrf = "";
  let conversation = "";
  let answer = null;     // the last /v1/chat answer
  let order = [];        // row indexes in display order
  let sortCol = -1, sortDir = 1, page = 0;
  let cy = null;
  let findingsData = null;
  let reviewData = null;
  let identityData = null;

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

  // reason is a refusal's text: the server's problem detail (a 5xx has
  // none: its title and code then).
  function reason(r) {
    const d = r.data || {};
    if (d.detail) return d.detail;
    return (d.title || ("HTTP " + r.status)) + (d.code ? " (" + d.code + ")" : "");
  }

  function cell(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  function when(t) {
    if (!t || t.startsWith("0001-")) return "";
    return t.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC");
  }

  function clear(el) { el.textContent = ""; }

  function addRow(tbody, values) {
    const tr = tbody.insertRow();
    for (const v of values) {
      const td = tr.insertCell();
      if (v instanceof Node) td.appendChild(v);
      else td.textContent = cell(v);
    }
    return tr;
  }

  function button(label, cls, onClick, aria) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = label;
    if (aria) b.setAttribute("aria-label", aria);
    b.addEventListener("click", onClick);
    return b;
  }

  // identityLink opens an identity's page.
  function identityLink(id, label) {
    const a = document.createElement("a");
    a.href = "#identity/" + encodeURIComponent(id);
    a.className = "identity-link";
    a.textContent = label || id;
    return a;
  }

  function countRows(tbody, obj) {
    clear(tbody);
    for (const k of Object.keys(obj || {}).sort()) addRow(tbody, [k, obj[k]]);
  }

  // ---- Routing: #page or #identity/<id> ----
  function route() {
    const h = decodeURIComponent(window.location.hash.replace(/^#/, ""));
    let name = h.split("/")[0];
    if (name === "main") return; // the skip link
    if (!PAGES.includes(name)) name = "ask";
    for (const p of PAGES) {
      $("page-" + p).hidden = p !== name;
      const nav = $("nav-" + p);
      if (!nav) continue;
      if (p === name) nav.setAttribute("aria-current", "page");
      else nav.removeAttribute("aria-current");
    }
    $("page-error").textContent = "";
    $("evidence").hidden = true;
    if (name === "overview") loadOverview();
    if (name === "findings") loadFindings();
    if (name === "reviews") loadReviews();
    if (name === "approvals") loadProposals();
    if (name === "identity") loadIdentity(h.slice("identity/".length));
  }

  // ---- Overview ----
  async function loadOverview() {
    const r = await api("GET", "/v1/overview");
    if (!r.ok) { $("page-error").textContent = "Overview unavailable: " + reason(r); return; }
    const o = r.data;
    $("ov-totals").textContent = o.identities + " non-human identities (" + o.nodes + " nodes, " + o.edges + " edges); " +
      o.idle + " idle " + o.idle_days + " days or more; " + o.orphaned + " orphaned (every owner departed).";
    const tb = $("ov-sources").tBodies[0];
    clear(tb);
    for (const s of o.sources) addRow(tb, [s.source, s.identities, s.nodes]);
    countRows($("ov-kinds").tBodies[0], o.kinds);
    countRows($("ov-privileges").tBodies[0], o.privileges);
    countRows($("ov-owners").tBodies[0], o.owner_status);
    const st = $("ov-syncs").tBodies[0];
    clear(st);
    for (const y of o.syncs || []) {
      const tr = addRow(st, [y.connector, (y.sources || []).join(", "), when(y.at), y.error || "ok"]);
      if (y.error) tr.cells[3].className = "error";
    }
    if ((o.syncs || []).length === 0) addRow(st, ["no sync runs recorded", "", "", ""]);
    const tt = $("ov-trend").tBodies[0];
    clear(tt);
    const n = (c, ...ks) => ks.reduce((a, k) => a + (c[k] || 0), 0);
    for (const p of o.trend || []) {
      const c = p.counts || {};
      addRow(tt, [when(p.at), n(c, "owner_lost", "owner_departed"), n(c, "new_admin", "new_escalation_path"), n(c, "identity_added"),
        n(c, "identity_removed"), n(c, ...Object.keys(c))]);
    }
    if ((o.trend || []).length === 0) addRow(tt, ["no change history", "", "", "", "", ""]);
    document.body.dataset.overview = "loaded";
  }

  // ---- Ask ----
  function clearAnswer() {
    answer = null; order = [];
    $("interpretation").textContent = ""; $("answer-text").textContent = "";
    $("answer-table").tHead.textContent = ""; $("answer-table").tBodies[0].textContent = "";
    $("answer-tools").hidden = true; $("evidence").hidden = true;
  }

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
      // A refused question has no answer: the previous one must not stay
      // on screen as if it answered this question.
      clearAnswer();
      $("refusal").textContent = "Refused: " + reason(r);
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

  // idColumn is the answer column holding identity ids ("id"), or -1.
  function idColumn() {
    return (answer.columns || []).indexOf("id");
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
    th.scope = "col";
    hr.appendChild(th);
    const idc = idColumn();
    const pages = Math.max(1, Math.ceil(order.length / PAGE));
    if (page >= pages) page = pages - 1;
    for (const ri of order.slice(page * PAGE, page * PAGE + PAGE)) {
      const tr = tbody.insertRow();
      rows[ri].forEach((v, ci) => {
        const td = tr.insertCell();
        if (ci === idc && typeof v === "string") td.appendChild(identityLink(v));
        else td.textContent = cell(v);
      });
      tr.insertCell().appendChild(button("Graph", "evidence-button",
        () => drawGraph((answer.evidence && answer.evidence[ri]) || [], "Evidence of row " + (ri + 1), idc >= 0 ? rows[ri][idc] : rows[ri][0]),
        "Evidence graph of row " + (ri + 1)));
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
    const th = $("answer-table").tHead.rows[0].cells[i];
    if (th) th.focus();
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

  // answerCSV and answerJSON are the downloads: every row in display
  // order (all pages), exposed for the browser test.
  function answerCSV() {
    const lines = [answer.columns.map(csvField).join(",")];
    for (const ri of order) lines.push(answer.rows[ri].map(csvField).join(","));
    return lines.join("\r\n") + "\r\n";
  }

  function answerJSON() {
    return JSON.stringify(order.map((ri) => {
      const o = {};
      answer.columns.forEach((c, i) => { o[c] = answer.rows[ri][i]; });
      return o;
    }), null, 2);
  }

  // ---- Evidence graph ----
  function drawGraph(edges, title, seed) {
    const els = [];
    const seen = {};
    const node = (id) => {
      if (seen[id]) return;
      seen[id] = true;
      els.push({ group: "nodes", data: { id: id, label: id } });
    };
    if (typeof seed === "string" && seed) node(seed);
    edges.forEach((e, i) => {
      node(e.from); node(e.to);
      els.push({ group: "edges", data: { id: "e" + i, source: e.from, target: e.to, label: e.kind, props: e.props || {} } });
    });
    $("evidence").hidden = false;
    $("evidence-title").textContent = title + " (" + edges.length + " edges)";
    $("props").textContent = "Select a node or an edge.";
    $("open-identity").hidden = true;
    if (cy) cy.destroy();
    cy = cytoscape({
      container: $("graph"),
      elements: els,
      layout: { name: "breadthfirst", directed: true, padding: 20, spacingFactor: 1.1 },
      style: [
        { selector: "node", style: { "label": "data(label)", "background-color": "#0b5cad", "color": "#1b1f24", "font-size": 10, "text-wrap": "wrap", "text-max-width": 160, "text-valign": "bottom" } },
        { selector: "edge", style: { "label": "data(label)", "curve-style": "bezier", "target-arrow-shape": "triangle", "width": 2, "line-color": "#6e7781", "target-arrow-color": "#6e7781", "font-size": 9, "text-rotation": "autorotate" } },
        { selector: ":selected", style: { "background-color": "#8a4b00", "line-color": "#8a4b00", "target-arrow-color": "#8a4b00" } },
      ],
    });
    cy.on("tap", "node, edge", (ev) => select(ev.target));
    // The same elements as a list: a keyboard reaches every edge.
    const list = $("edge-list");
    clear(list);
    cy.edges().forEach((e) => {
      const li = document.createElement("li");
      li.appendChild(button(e.data("label") + ": " + e.data("source") + " → " + e.data("target"), "edge-button", () => { cy.elements().unselect(); e.select(); select(e); }));
      list.appendChild(li);
    });
    window.stewardGraph = cy; // for the browser test and the devtools
    $("evidence").scrollIntoView();
  }

  function select(t) {
    const d = t.data();
    const out = t.isEdge()
      ? { edge: d.label, from: d.source, to: d.target, props: d.props }
      : { node: d.id, edges: t.connectedEdges().map((e) => e.data("label") + " " + e.data("source") + " → " + e.data("target")) };
    $("props").textContent = JSON.stringify(out, null, 2);
    const oi = $("open-identity");
    oi.hidden = !t.isNode();
    oi.dataset.id = t.isNode() ? d.id : "";
  }

  // ---- Identity ----
  function fact(dl, k, v) {
    if (v === "" || v === undefined || v === null) return;
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = cell(v);
    dl.appendChild(dt); dl.appendChild(dd);
  }

  function edgeDetail(e) {
    const p = Object.assign({}, e.props || {});
    return Object.keys(p).map((k) => k + "=" + cell(p[k])).join(", ");
  }

  async function loadIdentity(id) {
    for (const t of ["id-owners", "id-creds", "id-grants", "id-findings", "id-proposals"]) clear($(t).tBodies[0]);
    clear($("id-facts")); clear($("id-usage"));
    $("h-identity").textContent = "Identity " + id;
    document.body.dataset.identity = "";
    const r = await api("GET", "/v1/identities/" + encodeURIComponent(id));
    if (!r.ok) { $("page-error").textContent = "Identity unavailable: " + reason(r); return; }
    const v = r.data;
    identityData = v;
    const n = v.node;
    $("h-identity").textContent = n.name + " (" + n.kind + ")";
    const dl = $("id-facts");
    fact(dl, "Id", n.id); fact(dl, "Source", n.source); fact(dl, "Subtype", n.subtype); fact(dl, "Status", n.status);
    fact(dl, "Privilege", v.privilege); fact(dl, "Owner status", v.owner_status);
    fact(dl, "Created", when(n.created_at)); fact(dl, "Last used", when(v.last_used || "") || "never recorded");
    for (const k of Object.keys(n.attrs || {}).sort()) fact(dl, k, n.attrs[k]);
    for (const o of v.owners) addRow($("id-owners").tBodies[0], [o.human.name + " <" + ((o.human.attrs || {}).email || o.human.id) + ">", o.human.status, edgeDetail(o.edge)]);
    if (v.owners.length === 0) addRow($("id-owners").tBodies[0], ["nobody (" + v.owner_status + ")", "", ""]);
    for (const c of v.credentials) addRow($("id-creds").tBodies[0], [c.name, c.subtype, c.status, when(c.created_at), when(c.rotated_at), when(c.last_used_at), when(c.expires_at)]);
    for (const g of v.grants) addRow($("id-grants").tBodies[0], [g.kind, g.from, g.to, edgeDetail(g)]);
    for (const u of v.usage) {
      const li = document.createElement("li");
      li.textContent = (when((u.props || {}).last_seen) || "time unknown") + " — " + u.from + " used " + u.to + (edgeDetail(u) ? " (" + edgeDetail(u) + ")" : "");
      $("id-usage").appendChild(li);
    }
    if (v.usage.length === 0) {
      const li = document.createElement("li");
      li.textContent = "No recorded use" + (v.last_used ? " edges; last use from the source: " + when(v.last_used) : ".");
      $("id-usage").appendChild(li);
    }
    const [f, p] = await Promise.all([api("GET", "/v1/findings"), api("GET", "/v1/proposals")]);
    const ft = $("id-findings").tBodies[0];
    if (f.ok) {
      const mine = (f.data.findings || []).filter((x) => x.identity === n.id);
      for (const x of mine) addRow(ft, [x.severity, x.check, x.title, x.detail]);
      if (mine.length === 0) addRow(ft, ["", "", "no findings", ""]);
    } else addRow(ft, ["", "", "findings unavailable: " + reason(f), ""]);
    const pt = $("id-proposals").tBodies[0];
    if (p.ok) {
      const open = (p.data.proposals || []).filter((x) => ["proposed", "escalated", "approved", "executing"].includes(x.state) &&
        (x.actions || []).some((a) => a.target === n.id || (v.credentials || []).some((c) => c.id === a.target)));
      for (const x of open) addRow(pt, [x.id, x.state, (x.actions || []).map((a) => a.type + " " + a.target).join("; "), when(x.expires_at)]);
      if (open.length === 0) addRow(pt, ["no open proposals", "", "", ""]);
    } else addRow(pt, ["proposals unavailable: " + reason(p), "", "", ""]);
    document.body.dataset.identity = n.id;
  }

  function identityGraph() {
    const v = identityData;
    if (!v) return;
    const edges = [].concat(v.privilege_path, v.owners.map((o) => o.edge), v.grants, v.usage.slice(0, 20), v.leaks);
    v.credentials.forEach((c) => edges.push({ from: v.node.id, to: c.id, kind: "has_credential" }));
    const seen = {};
    drawGraph(edges.filter((e) => { const k = e.kind + e.from + e.to; if (seen[k]) return false; seen[k] = true; return true; }),
      "Privilege, owners, credentials and use of " + v.node.name, v.node.id);
  }

  // ---- Findings ----
  async function loadFindings() {
    const r = await api("GET", "/v1/findings");
    if (!r.ok) { $("page-error").textContent = "Findings unavailable: " + reason(r); return; }
    findingsData = r.data;
    const cs = $("f-check"), sv = $("f-severity");
    const keepC = cs.value, keepS = sv.value;
    while (cs.options.length > 1) cs.remove(1);
    while (sv.options.length > 1) sv.remove(1);
    for (const c of findingsData.checks || []) cs.add(new Option(c.id + " — " + c.title + " (" + c.count + ")", c.id));
    for (const s of [...new Set((findingsData.findings || []).map((x) => x.severity))].sort()) sv.add(new Option(s, s));
    cs.value = keepC; sv.value = keepS;
    renderFindings();
  }

  function renderFindings() {
    if (!findingsData) return;
    const c = $("f-check").value, s = $("f-severity").value, q = $("f-text").value.trim().toLowerCase();
    const tb = $("findings").tBodies[0];
    clear(tb);
    const all = findingsData.findings || [];
    const shown = all.filter((x) => (!c || x.check === c) && (!s || x.severity === s) &&
      (!q || (x.identity + " " + x.name + " " + x.title + " " + (x.detail || "")).toLowerCase().includes(q)));
    shown.slice(0, 200).forEach((x, i) => {
      addRow(tb, [x.severity, x.check + (x.owasp && x.owasp !== x.check ? " (" + x.owasp + ")" : ""), x.title, identityLink(x.identity, x.name || x.identity), x.detail || "",
        button("Graph", "finding-evidence", () => drawGraph(x.evidence || [], "Evidence of " + x.check + " on " + (x.name || x.identity), x.identity), "Evidence graph of finding " + (i + 1))]);
    });
    $("f-count").textContent = shown.length + " of " + all.length + " findings" + (shown.length > 200 ? " (first 200 shown; narrow the filter)" : "");
  }

  // ---- Reviews ----
  async function loadReviews() {
    const r = await api("GET", "/v1/reviews");
    const tb = $("reviews").tBodies[0];
    clear(tb);
    if (!r.ok) { $("page-error").textContent = "Reviews unavailable: " + reason(r); return; }
    for (const s of r.data || []) {
      addRow(tb, [s.id, s.campaign, s.state, s.decided + " of " + s.items + " (" + Math.round((s.completion || 0) * 100) + "% by reviewers)",
        (s.overdue || []).length, button("Open", "review-open", () => openReview(s.id), "Open review " + s.id)]);
    }
    if ((r.data || []).length === 0) addRow(tb, ["no reviews launched", "", "", "", "", ""]);
  }

  async function openReview(id) {
    const r = await api("GET", "/v1/reviews/" + encodeURIComponent(id));
    if (!r.ok) { $("page-error").textContent = "Review unavailable: " + reason(r); return; }
    reviewData = r.data;
    $("review-detail").hidden = false;
    $("review-title").textContent = "Review " + reviewData.id + " — " + (reviewData.campaign.name || "") + ", due " + when(reviewData.due);
    renderReview();
  }

  function renderReview() {
    const f = $("r-filter").value;
    const tb = $("review-items").tBodies[0];
    clear(tb);
    for (const it of reviewData.items || []) {
      if (f === "pending" && it.decision) continue;
      if (f === "decided" && !it.decision) continue;
      const sn = it.snapshot;
      const dec = it.decision ? it.decision.kind + " by " + it.decision.by + (it.decision.justification ? ": " + it.decision.justification : "") : "pending";
      addRow(tb, [it.id, identityLink(sn.id, sn.name), sn.privilege || "", (sn.owner || "") + (sn.owner_status ? " (" + sn.owner_status + ")" : ""),
        it.reviewer, dec, it.outcome + (it.proposal_id ? " — " + it.proposal_id + " " + (it.proposal_state || "") : ""),
        button("Evidence", "review-evidence", () => reviewEvidence(sn), "Evidence of item " + it.id)]);
    }
  }

  // reviewEvidence draws an item's snapshot: the identity, its grants and
  // owners as they were at launch, and lists the scope's reasons.
  function reviewEvidence(sn) {
    const edges = [];
    for (const g of sn.grants || []) edges.push({ from: g.from || sn.id, to: g.to || g.resource, kind: "grants", props: g });
    for (const o of sn.owners || []) edges.push({ from: "human:" + o.email, to: sn.id, kind: "owns", props: o });
    drawGraph(edges, "Snapshot of " + sn.name + (sn.evidence && sn.evidence.length ? " — " + sn.evidence.join("; ") : ""), sn.id);
  }

  // ---- Approvals ----
  async function loadProposals() {
    const r = await api("GET", "/v1/proposals");
    const tbody = $("proposals").tBodies[0];
    tbody.textContent = "";
    if (!r.ok) {
      $("decision-result").className = "error";
      $("decision-result").textContent = "Proposals unavailable: " + reason(r);
      return;
    }
    for (const p of r.data.proposals || []) {
      const approvals = (p.decisions || []).filter((d) => d.kind === "approve").length;
      const td = document.createElement("span");
      td.appendChild(button("Details", "details-button", () => openProposal(p.id), "Details and dry run of " + p.id));
      if (p.state === "proposed" || p.state === "escalated") {
        for (const [verb, label] of [["approve", "Approve"], ["reject", "Reject"]]) {
          td.appendChild(button(label, verb + "-button", () => decide(p.id, verb), label + " " + p.id));
        }
      }
      const tr = addRow(tbody, [p.id + (p.justification ? " — " + p.justification : ""), p.state, p.requester,
        (p.actions || []).map((a) => a.type + " " + a.target).join("; "), approvals + " of " + ((p.rule && p.rule.required) || 1),
        when(p.expires_at), td]);
      tr.dataset.id = p.id;
    }
  }

  async function openProposal(id) {
    const det = $("proposal-detail");
    det.hidden = false;
    document.body.dataset.proposal = "";
    const [r, pv] = await Promise.all([api("GET", "/v1/proposals/" + encodeURIComponent(id)),
      api("GET", "/v1/proposals/" + encodeURIComponent(id) + "/preview")]);
    clear($("preview-steps")); clear($("proposal-decisions")); clear($("proposal-journal").tBodies[0]);
    if (!r.ok) { $("proposal-reason").textContent = "Proposal unavailable: " + reason(r); return; }
    const p = r.data;
    $("proposal-title").textContent = "Proposal " + p.id + " — " + p.state;
    $("proposal-reason").textContent = (p.reason ? "Last transition: " + p.reason + ". " : "") +
      "Needs " + ((p.rule && p.rule.required) || 1) + " approval(s)" + (p.rule && p.rule.group ? " from " + p.rule.group : "") +
      "; may decide now: " + ((p.eligible || []).join(", ") || "nobody") + "; expires " + when(p.expires_at) + " (then " + p.on_expiry + ").";
    if (pv.ok) {
      $("preview-status").textContent = pv.data.complete ? "Every action planned." : "Some actions could not be planned:";
      for (const it of pv.data.items || []) {
        const li = document.createElement("li");
        li.textContent = it.action.type + " " + it.action.target + ": " +
          (it.error ? "cannot plan — " + it.error : (it.steps || []).map((s) => s.call).join("; "));
        $("preview-steps").appendChild(li);
      }
    } else {
      $("preview-status").textContent = "Dry run unavailable: " + reason(pv);
    }
    for (const d of p.decisions || []) {
      const li = document.createElement("li");
      li.textContent = when(d.at) + " " + d.actor.id + " " + d.kind + (d.reason ? ": " + d.reason : "");
      $("proposal-decisions").appendChild(li);
    }
    if ((p.decisions || []).length === 0) {
      const li = document.createElement("li"); li.textContent = "no decisions yet"; $("proposal-decisions").appendChild(li);
    }
    const jt = $("proposal-journal").tBodies[0];
    for (const j of p.journal || []) {
      const a = p.actions[j.action] || {};
      addRow(jt, [(j.action + 1) + ". " + a.type + " " + a.target, j.phase, j.step ? j.step.call : "", j.error || "", when(j.at)]);
    }
    if ((p.journal || []).length === 0) addRow(jt, ["not executed", "", "", "", ""]);
    document.body.dataset.proposal = p.id;
    det.scrollIntoView();
  }

  async function decide(id, verb) {
    const why = $("reason").value.trim();
    const r = await api("POST", "/v1/proposals/" + encodeURIComponent(id) + "/" + verb, { reason: why });
    const out = $("decision-result");
    if (r.ok) {
      out.className = "ok";
      out.textContent = verb + " recorded: " + id + " is now " + r.data.state;
    } else {
      out.className = "error";
      out.textContent = "Refused: " + reason(r);
    }
    await loadProposals();
  }

  async function start() {
    const r = await api("GET", "/web/session");
    if (!r.ok) return;
    csrf = r.data.csrf_token;
    $("who").textContent = r.data.actor;
    $("ask-form").addEventListener("submit", ask);
    $("new-conversation").addEventListener("click", () => {
      conversation = "";
      $("conversation").textContent = ""; $("refusal").textContent = "";
      clearAnswer();
    });
    $("prev-page").addEventListener("click", () => { page--; renderTable(); });
    $("next-page").addEventListener("click", () => { page++; renderTable(); });
    $("download-csv").addEventListener("click", () => download("steward-answer.csv", "text/csv", answerCSV()));
    $("download-json").addEventListener("click", () => download("steward-answer.json", "application/json", answerJSON()));
    $("refresh-proposals").addEventListener("click", loadProposals);
    $("id-graph-button").addEventListener("click", identityGraph);
    $("open-identity").addEventListener("click", () => { window.location.hash = "#identity/" + encodeURIComponent($("open-identity").dataset.id); });
    for (const id of ["f-check", "f-severity"]) $(id).addEventListener("change", renderFindings);
    $("f-text").addEventListener("input", renderFindings);
    $("r-filter").addEventListener("change", () => { if (reviewData) renderReview(); });
    $("skip-link").addEventListener("click", (e) => { e.preventDefault(); $("main").focus(); });
    $("logout").addEventListener("click", async () => {
      await api("POST", "/web/logout");
      window.location.assign("/web/login.html");
    });
    window.addEventListener("hashchange", route);
    window.stewardDownloads = { csv: () => answerCSV(), json: () => answerJSON() };
    route();
    document.body.dataset.ready = "true";
  }
  start();
})();
