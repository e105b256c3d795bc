// Trace viewer (Streamlit components v2). The browser holds the whole tree: clicks, keys, search and
// filters never go back to Python. Trace content is untrusted: it reaches the DOM through
// `textContent` only (never innerHTML), and nothing here ever creates a link.
//
// Three kinds of instance share this module (and its maps below), told apart by their `data`:
//   - the viewer: the rows, as bytes from fruxon_playground/trace/rows.py (`FXTV1`);
//   - the details: steps' details as bytes (`FXTD1`), in chunks of consecutive steps mounted after
//     the viewer so the tree shows first; they draw nothing and hand them to the viewer of the
//     same `view`;
//   - a detail feed, instead of the details when they are too big to send: `{mode: "detail", …}`;
//     it draws nothing, asks Python for one step's details by id (a rerun of its own small
//     fragment) and hands the answer over.

const ROW_H = 28;
const OVERSCAN = 10;
const FIRST_VIEW_ROWS = 300;
const INDENT = 16;
const HEADER_BYTES = 50; // b"FXTV1 " + md5 hex + " " + 10-digit rows length + "\n"
const BIG = 20000; // above this many steps, search waits for a pause in typing
const MIN_DURATIONS = [[0, "Any duration"], [10, "≥ 10 ms"], [100, "≥ 100 ms"], [1000, "≥ 1 s"], [10000, "≥ 10 s"]];
const F_CRIT = 1, F_ERRPATH = 2, F_FIRSTERR = 4, F_ORPHAN = 8; // trace/rows.py row flags

const VIEWS = new Map(); // view key → Viewer (module scope: survives re-invocations and remounts)
const SAVED = new Map(); // view key → UI state of a viewer that was unmounted
const FEEDS = new Map(); // view key → detail feed
const DETAILS = new Map(); // view key → {digest, chunks}: details that arrived (maybe before the rows)
const KEEP_DETAILS = 4; // details of the viewers used last, for when they are drawn again
const BOUND = new WeakMap(); // parentElement → Viewer
const utf8 = new TextDecoder();
let active = null; // the viewer that `/` focuses when nothing on the page has focus

// ── Small DOM helpers (text only) ─────────────────────────────────────────────────────────────

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

const SVG = "http://www.w3.org/2000/svg";
function icon(paths, viewBox = "0 0 16 16") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", viewBox);
  svg.setAttribute("aria-hidden", "true");
  for (const d of paths) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "1.6");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
  }
  return svg;
}
const CHEVRON = ["M6 3.5 10.5 8 6 12.5"];
const SEARCH = ["M7 12.2A5.2 5.2 0 1 0 7 1.8a5.2 5.2 0 0 0 0 10.4Z", "m10.8 10.8 3.7 3.7"];
const STATUS_ICON = {
  SUCCESS: ["M8 14.5a6.5 6.5 0 1 0 0-13 6.5 6.5 0 0 0 0 13Z", "m5.2 8.2 1.9 1.9 3.7-4"],
  ERROR: ["M8 14.5a6.5 6.5 0 1 0 0-13 6.5 6.5 0 0 0 0 13Z", "M8 4.6v4.2", "M8 11.2v.2"],
  RUNNING: ["M8 1.5a6.5 6.5 0 1 1-6.5 6.5"],
  UNKNOWN: ["M8 14.5a6.5 6.5 0 1 0 0-13 6.5 6.5 0 0 0 0 13Z", "M6.3 6.2a1.8 1.8 0 1 1 2.4 1.7c-.5.2-.7.6-.7 1.1v.3", "M8 11.3v.2"],
};
const STATUS_COLOR = {
  SUCCESS: "var(--st-green-color, #21a366)",
  ERROR: "var(--fx-red)",
  RUNNING: "var(--fx-primary)",
  UNKNOWN: "var(--fx-muted)",
};

// ── Formatting ────────────────────────────────────────────────────────────────────────────────

function fmtMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60000);
  const seconds = Math.round((ms % 60000) / 1000);
  if (minutes < 60) return `${minutes}m ${String(seconds).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

// A tick step of 1, 2 or 5 × 10^k ms (or whole seconds and minutes) at least `raw` long.
function niceStep(raw) {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000,
    300000, 600000, 900000, 1800000, 3600000];
  for (const step of steps) if (step >= raw) return step;
  return Math.ceil(raw / 3600000) * 3600000;
}

function fmtCost(cost) {
  if (!cost) return "—";
  if (cost >= 1) return `$${cost.toFixed(2)}`;
  const digits = Math.min(8, Math.max(2, 2 - Math.floor(Math.log10(cost))));
  return `$${cost.toFixed(digits)}`;
}

const counts = new Intl.NumberFormat("en-US");
function fmtTokens(tokens) {
  if (!tokens) return "—";
  if (tokens >= 1e6) return `${(tokens / 1e6).toFixed(1)}M`;
  if (tokens >= 1e4) return `${(tokens / 1e3).toFixed(1)}k`;
  return counts.format(tokens);
}

function fmtClock(epochMs) {
  if (!Number.isFinite(epochMs)) return "";
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString().replace("T", " ").replace("Z", " UTC");
}

function editable(node) {
  if (!node || !node.tagName) return false;
  const tag = node.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || node.isContentEditable;
}

// `/` focuses the search of the viewer last used (or the first one) when nothing has focus.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.composedPath()[0];
  if (editable(target)) return;
  let viewer = active && active.root.isConnected ? active : null;
  if (!viewer) for (const candidate of VIEWS.values()) if (candidate.root.isConnected) { viewer = candidate; break; }
  if (!viewer) return;
  event.preventDefault();
  viewer.focusSearch();
});

// ── The payload ───────────────────────────────────────────────────────────────────────────────

// b"<magic> <md5 hex> <JSON length, 10 digits>\n" + JSON + the rest (rows: the viewer's key; details:
// the steps' JSON): see trace/rows.py.
function frame(bytes) {
  const head = utf8.decode(bytes.subarray(0, HEADER_BYTES));
  return { magic: head.slice(0, 5), digest: head.slice(6, 38), length: parseInt(head.slice(39, 49), 10) };
}

function frameJson(bytes, length) {
  return JSON.parse(utf8.decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + length)));
}

// ── The viewer ────────────────────────────────────────────────────────────────────────────────

class Viewer {
  constructor(host) {
    this.host = host;
    this.view = null; // the Python key, from the payload
    this.digest = null;
    this.pool = [];
    this.visible = new Int32Array(0);
    this.count = 0;
    this.keep = null; // filter: 1 for matches and their ancestors, or null for no filter
    this.matches = [];
    this.cursor = -1; // pre-order index with the keyboard focus
    this.selected = -1; // pre-order index shown in the detail pane
    this.highlightCrit = true;
    this.highlightErr = true;
    this.query = "";
    this.errorsOnly = false;
    this.kindFilter = -1;
    this.minDuration = 0;
    this.frame = 0;
    this.searchTimer = 0;
    this.build();
  }

  // Static structure: built once per mount; rows are a recycled pool.
  build() {
    const root = (this.root = el("div", "fx hl-crit hl-err"));
    this.summary = el("div", "fx-summary");
    this.warnings = el("div", "fx-warnings");
    this.warnings.hidden = true;

    const toolbar = el("div", "fx-toolbar");
    const search = el("label", "fx-search");
    search.appendChild(icon(SEARCH)).classList.add("fx-icon");
    this.search = el("input");
    this.search.type = "search";
    this.search.setAttribute("aria-label", "Search steps");
    this.search.title = "Search (press / anywhere on the page)";
    this.search.spellcheck = false;
    this.searchCount = el("span", "fx-count");
    search.append(this.search, this.searchCount);
    this.errorsChip = this.chip("Errors only", "var(--fx-red)");
    this.kindSelect = el("select", "fx-select");
    this.kindSelect.setAttribute("aria-label", "Kind of step");
    this.durationSelect = el("select", "fx-select");
    this.durationSelect.setAttribute("aria-label", "Hide short steps");
    for (const [value, label] of MIN_DURATIONS) {
      const option = el("option", null, label);
      option.value = String(value);
      this.durationSelect.appendChild(option);
    }
    this.critChip = this.chip("Critical path", "var(--fx-crit)", true);
    this.critChip.title = "Highlight the chain of steps that ends last at every level";
    this.errChip = this.chip("Error path", "var(--fx-red)", true);
    this.errChip.title = "Highlight failed steps and the steps above them";
    this.prevError = el("button", "fx-btn err", "↑");
    this.prevError.title = "Previous failed step (Shift+N)";
    this.prevError.setAttribute("aria-label", "Previous error");
    this.nextError = el("button", "fx-btn err", "Next error");
    this.nextError.title = "Next failed step (N)";
    this.expandAll = el("button", "fx-btn", "Expand all");
    this.collapseAll = el("button", "fx-btn", "Collapse all");
    const errors = el("div", "fx-group");
    errors.append(this.prevError, this.nextError);
    toolbar.append(search, this.errorsChip, this.kindSelect, this.durationSelect, this.critChip, this.errChip,
      errors, el("div", "fx-spacer"), this.expandAll, this.collapseAll);

    const body = (this.body = el("div", "fx-body"));
    const main = el("div", "fx-main");
    const head = el("div", "fx-cols fx-head");
    head.append(el("div", null, "Step"), el("div", "num", "Total"), el("div", "num", "Self"),
      el("div", "num", "Cost"), el("div", "num", "Tokens"));
    this.axis = el("div", "fx-axis");
    head.appendChild(this.axis);
    this.tree = el("div", "fx-tree");
    this.tree.tabIndex = 0;
    this.tree.setAttribute("role", "treegrid");
    this.tree.setAttribute("aria-label", "Trace steps");
    this.spacer = el("div", "fx-spacer-y");
    this.rowsLayer = el("div", "fx-rows");
    this.empty = el("div", "fx-empty", "No step matches these filters.");
    this.empty.hidden = true;
    this.tree.append(this.spacer, this.rowsLayer, this.empty);
    this.footer = el("div", "fx-footer");
    main.append(head, this.tree, this.footer);
    this.detail = el("div", "fx-detail");
    this.detail.setAttribute("role", "region");
    this.detail.setAttribute("aria-label", "Step details");
    body.append(main, this.detail);
    root.append(this.summary, this.warnings, toolbar, body);
    this.host.appendChild(root);

    this.search.addEventListener("input", () => this.onSearchInput());
    this.search.addEventListener("keydown", (event) => this.onSearchKey(event));
    this.errorsChip.addEventListener("click", () => {
      this.errorsOnly = !this.errorsOnly;
      this.errorsChip.setAttribute("aria-pressed", String(this.errorsOnly));
      this.applyFilters(true);
    });
    this.kindSelect.addEventListener("change", () => {
      this.kindFilter = parseInt(this.kindSelect.value, 10);
      this.applyFilters(true);
    });
    this.durationSelect.addEventListener("change", () => {
      this.minDuration = parseInt(this.durationSelect.value, 10);
      this.applyFilters(true);
    });
    this.critChip.addEventListener("click", () => this.setHighlight("crit", !this.highlightCrit));
    this.errChip.addEventListener("click", () => this.setHighlight("err", !this.highlightErr));
    this.nextError.addEventListener("click", () => this.jumpToError(1));
    this.prevError.addEventListener("click", () => this.jumpToError(-1));
    this.expandAll.addEventListener("click", () => this.setAllExpanded(true));
    this.collapseAll.addEventListener("click", () => this.setAllExpanded(false));
    this.tree.addEventListener("scroll", () => this.schedule(), { passive: true });
    this.tree.addEventListener("keydown", (event) => this.onTreeKey(event));
    this.tree.addEventListener("click", (event) => this.onTreeClick(event));
    this.tree.addEventListener("dblclick", (event) => this.onTreeDoubleClick(event));
    root.addEventListener("pointerdown", () => { active = this; }, { capture: true });
    root.addEventListener("focusin", () => { active = this; });
    this.resize = new ResizeObserver(() => {
      this.root.classList.toggle("narrow", this.root.clientWidth < 1180);
      if (this.rows && Math.abs((this.axis.clientWidth || 0) - (this.axisWidth || 0)) > 40) this.renderAxis();
      this.schedule();
    });
    this.resize.observe(root);
  }

  chip(label, color, pressed = false) {
    const button = el("button", "fx-chip");
    const dot = el("span", "fx-dot");
    dot.style.background = color;
    button.append(dot, document.createTextNode(label));
    button.setAttribute("aria-pressed", String(pressed));
    return button;
  }

  // ── Data ──

  load(payload) {
    const { digest, length } = frame(payload);
    if (digest === this.digest) return; // Streamlit hands the same bytes again after other reruns
    const rows = frameJson(payload, length);
    const label = utf8.decode(payload.subarray(HEADER_BYTES + length)); // the viewer's key, after the rows
    const previous = this.digest === null ? SAVED.get(label) : this.snapshot();
    this.view = label;
    this.digest = digest;
    this.rows = rows;
    this.chunks = []; // details, as they arrive: {first, at (offsets into blob), blob, lower}
    this.lazy = false; // true: the details stay in Python and are asked for one step at a time
    this.nameLower = null;
    this.details = new Map();
    const n = (this.n = rows.n);
    const parent = (this.parent = Int32Array.from(rows.parent));
    this.depth = Int32Array.from(rows.depth);
    // Pre-order: a subtree is the run of indexes from a node to `subtreeEnd`.
    const end = (this.subtreeEnd = new Int32Array(n));
    for (let i = 0; i < n; i++) end[i] = i + 1;
    for (let i = n - 1; i > 0; i--) {
      const p = parent[i];
      if (p >= 0 && end[i] > end[p]) end[p] = end[i];
    }
    this.expanded = new Uint8Array(n);
    const errorStatus = rows.statuses.indexOf("ERROR");
    const failed = [];
    for (let i = 0; i < n; i++) if (rows.status[i] === errorStatus) failed.push(i);
    this.failed = failed;
    this.indexOf = null;
    this.renderSummary();
    this.renderKinds();
    this.renderAxis();
    this.renderFooter();
    // A short trace gets a short tree; a long one a fixed window (the body can be resized).
    const treeHeight = Math.max(150, Math.min(460, 30 + n * ROW_H + 34));
    this.root.style.setProperty("--fx-tree-height", `${treeHeight}px`);
    this.body.style.height = `${Math.max(420, Math.min(560, treeHeight))}px`;
    this.search.placeholder = "Search steps, inputs, outputs";
    if (!this.restore(previous)) this.initialView();
    this.applyFilters(false);
    if (this.selected >= 0) this.select(this.selected, false);
    else this.renderDetail();
    this.scrollTo(this.cursor, "center");
    const waiting = DETAILS.get(this.view);
    if (waiting && waiting.digest === digest) for (const chunk of waiting.chunks) this.receiveChunk(digest, chunk);
  }

  // Details of consecutive steps, arrived after the rows (see `details` below).
  receiveChunk(digest, chunk) {
    if (digest !== this.digest || this.chunks.some((c) => c.first === chunk.first)) return;
    this.chunks.push(chunk);
    this.chunks.sort((a, b) => a.first - b.first);
    if (this.query.trim()) this.applyFilters(false);
    const i = this.selected;
    if (i >= chunk.first && i < chunk.first + chunk.at.length - 1 && !this.details.has(i)) this.renderDetail();
  }

  chunkOf(i) {
    for (const chunk of this.chunks) if (i >= chunk.first && i < chunk.first + chunk.at.length - 1) return chunk;
    return null;
  }

  // Details stay in Python (too big to send): the search covers what the rows hold.
  detailsKeptByPython() {
    if (this.lazy) return;
    this.lazy = true;
    this.search.placeholder = "Search names, types, tools, errors";
  }

  // Open as many levels as fit a first screen, plus the way to the first failure; select the failure.
  initialView() {
    const { n, depth, rows } = this;
    let level = 1;
    for (const candidate of [2, 3]) {
      let shown = 0;
      for (let i = 0; i < n; i++) if (depth[i] <= candidate) shown++;
      if (shown > FIRST_VIEW_ROWS) break;
      level = candidate;
    }
    for (let i = 0; i < n; i++) if (depth[i] < level && this.hasChildren(i)) this.expanded[i] = 1;
    let cause = -1; // the deepest step on the first error path: where the first failure started
    for (let i = 0; i < n; i++) if (rows.flags[i] & F_FIRSTERR) cause = i;
    for (let p = cause >= 0 ? this.parent[cause] : -1; p >= 0; p = this.parent[p]) this.expanded[p] = 1;
    this.selected = this.cursor = cause >= 0 ? cause : n > 0 ? 0 : -1;
  }

  snapshot() {
    if (!this.rows) return null;
    const expandedIds = [];
    for (let i = 0; i < this.n; i++) if (this.expanded[i]) expandedIds.push(this.rows.id[i]);
    return {
      digest: this.digest,
      expanded: this.expanded,
      expandedIds,
      selected: this.selected >= 0 ? this.rows.id[this.selected] : null,
      cursor: this.cursor >= 0 ? this.rows.id[this.cursor] : null,
      scrollTop: this.tree.scrollTop,
      query: this.query, errorsOnly: this.errorsOnly, kind: this.kindSelect.value, minDuration: this.minDuration,
      crit: this.highlightCrit, err: this.highlightErr,
    };
  }

  // The same trace (or a newer version of it, e.g. a live run) keeps what the user opened and chose.
  restore(state) {
    if (!state) return false;
    if (state.digest === this.digest) this.expanded = state.expanded;
    else {
      const index = this.idIndex();
      for (const id of state.expandedIds) { const i = index.get(id); if (i !== undefined) this.expanded[i] = 1; }
    }
    const index = this.idIndex();
    this.selected = state.selected !== null && index.has(state.selected) ? index.get(state.selected) : -1;
    this.cursor = state.cursor !== null && index.has(state.cursor) ? index.get(state.cursor) : Math.max(this.selected, 0);
    this.query = this.search.value = state.query;
    this.errorsOnly = state.errorsOnly;
    this.errorsChip.setAttribute("aria-pressed", String(this.errorsOnly));
    if ([...this.kindSelect.options].some((o) => o.value === state.kind)) this.kindSelect.value = state.kind;
    this.kindFilter = parseInt(this.kindSelect.value, 10);
    this.minDuration = state.minDuration;
    this.durationSelect.value = String(state.minDuration);
    this.setHighlight("crit", state.crit);
    this.setHighlight("err", state.err);
    this.restoreScroll = state.scrollTop;
    return true;
  }

  idIndex() {
    if (!this.indexOf) {
      this.indexOf = new Map();
      const ids = this.rows.id;
      for (let i = 0; i < ids.length; i++) this.indexOf.set(ids[i], i);
    }
    return this.indexOf;
  }

  hasChildren(i) { return this.subtreeEnd[i] > i + 1; }

  // ── Header, filters, legend ──

  renderSummary() {
    const run = this.rows.run;
    this.summary.replaceChildren();
    const title = el("span", "fx-title", run.agent ? run.agent : "Trace");
    this.summary.appendChild(title);
    const stat = (label, value, bad = false) => {
      const node = el("span", bad ? "fx-stat bad" : "fx-stat");
      node.append(el("b", null, value), document.createTextNode(` ${label}`));
      this.summary.appendChild(node);
    };
    stat("", run.revision === null ? "draft" : `revision ${run.revision}`);
    stat(this.n === 1 ? "step" : "steps", counts.format(this.n));
    stat(run.errors === 1 ? "failed" : "failed", counts.format(run.errors), run.errors > 0);
    stat("", fmtMs(run.duration));
    stat("", fmtCost(run.cost));
    stat("tokens in / out", `${counts.format(run.tokensIn)} / ${counts.format(run.tokensOut)}`);
    if (run.orphans) stat(run.orphans === 1 ? "orphan step shown at the top" : "orphan steps shown at the top", counts.format(run.orphans));
    if (run.live) this.summary.appendChild(el("span", "fx-live", "● live"));
    this.warnings.replaceChildren(...run.warnings.map((line) => el("div", null, line)));
    this.warnings.hidden = run.warnings.length === 0;
    this.nextError.textContent = this.failed.length ? `Next error (${counts.format(this.failed.length)})` : "No errors";
    this.nextError.disabled = this.prevError.disabled = this.failed.length === 0;
  }

  renderKinds() {
    const { rows } = this;
    const seen = new Map();
    for (let i = 0; i < this.n; i++) seen.set(rows.kind[i], (seen.get(rows.kind[i]) || 0) + 1);
    const current = this.kindSelect.value;
    const all = el("option", null, "All kinds");
    all.value = "-1";
    const options = [all];
    for (const [kind, number] of [...seen.entries()].sort((a, b) => b[1] - a[1])) {
      const option = el("option", null, `${rows.kinds[kind]} (${counts.format(number)})`);
      option.value = String(kind);
      options.push(option);
    }
    this.kindSelect.replaceChildren(...options);
    this.kindSelect.value = options.some((o) => o.value === current) ? current : "-1";
    this.kindFilter = parseInt(this.kindSelect.value, 10);
  }

  // Ticks at a round step that leaves room for their labels; the rows draw matching gridlines.
  renderAxis() {
    const axis = this.rows.axis;
    this.axis.replaceChildren();
    if (!axis) return;
    const width = this.axis.clientWidth || 240;
    const step = niceStep(axis / Math.max(1, Math.floor(width / 72)));
    for (let t = 0; t < axis; t += step) {
      const label = fmtMs(t);
      if ((t / axis) * width + label.length * 6.5 + 6 > width) break; // its label would leave the column
      const tick = el("div", "fx-tick", label);
      tick.style.left = `${(t / axis) * 100}%`;
      this.axis.appendChild(tick);
    }
    this.root.style.setProperty("--fx-grid-step", `${(step / axis) * 100}%`);
    this.axisWidth = width;
  }

  renderFooter() {
    this.footer.replaceChildren();
    const used = new Set(this.rows.kind);
    for (const [index, kind] of this.rows.kinds.entries()) {
      if (!used.has(index)) continue;
      const item = el("span", "fx-legend");
      const swatch = el("i");
      swatch.style.setProperty("--kc", `var(--k-${kind})`);
      item.append(swatch, document.createTextNode(kind.toLowerCase()));
      this.footer.appendChild(item);
    }
    const crit = el("span", "fx-legend");
    crit.append(el("i", "crit"), document.createTextNode("critical path"));
    const err = el("span", "fx-legend");
    err.append(el("i", "err"), document.createTextNode("failed"));
    this.shown = el("span", "fx-keys");
    const keys = el("span", "fx-help", "↑↓ move · ←→ close/open · Enter details · / search · n next error");
    this.footer.append(crit, err, this.shown, keys);
  }

  setHighlight(which, on) {
    if (which === "crit") {
      this.highlightCrit = on;
      this.critChip.setAttribute("aria-pressed", String(on));
      this.root.classList.toggle("hl-crit", on);
    } else {
      this.highlightErr = on;
      this.errChip.setAttribute("aria-pressed", String(on));
      this.root.classList.toggle("hl-err", on);
    }
  }

  onSearchInput() {
    clearTimeout(this.searchTimer);
    const run = () => {
      this.query = this.search.value;
      this.applyFilters(true);
    };
    if (this.n > BIG) this.searchTimer = setTimeout(run, 250);
    else run();
  }

  onSearchKey(event) {
    event.stopPropagation();
    if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(this.searchTimer);
      if (this.query !== this.search.value) { this.query = this.search.value; this.applyFilters(true); }
      this.jumpToMatch(event.shiftKey ? -1 : 1);
    } else if (event.key === "Escape") {
      event.preventDefault();
      if (this.search.value) { this.search.value = ""; this.query = ""; this.applyFilters(true); }
      this.tree.focus();
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      this.tree.focus();
    }
  }

  // Which steps pass the filters: the matches, and their ancestors for context (opened).
  applyFilters(userChange) {
    const { n, rows } = this;
    const needle = this.query.trim().toLowerCase();
    const filtering = needle !== "" || this.errorsOnly || this.kindFilter >= 0 || this.minDuration > 0;
    this.matches = [];
    if (!filtering) {
      this.keep = null;
    } else {
      const match = new Uint8Array(n);
      const errorStatus = rows.statuses.indexOf("ERROR");
      for (let i = 0; i < n; i++) {
        if (this.errorsOnly && rows.status[i] !== errorStatus) continue;
        if (this.kindFilter >= 0 && rows.kind[i] !== this.kindFilter) continue;
        if (this.minDuration > 0 && rows.total[i] !== null && rows.total[i] < this.minDuration) continue;
        match[i] = 1;
      }
      if (needle) this.matchText(needle, match);
      const keep = new Uint8Array(n);
      const opened = new Uint8Array(n); // opened in this pass, and so are all its ancestors
      for (let i = 0; i < n; i++) {
        if (!match[i]) continue;
        this.matches.push(i);
        keep[i] = 1;
        for (let p = this.parent[i]; p >= 0 && !opened[p]; p = this.parent[p]) {
          opened[p] = 1;
          keep[p] = 1;
          this.expanded[p] = 1;
        }
      }
      this.keep = keep;
    }
    this.searchCount.textContent = filtering ? `${counts.format(this.matches.length)} of ${counts.format(n)}` : "";
    this.searchCount.hidden = !filtering;
    this.refresh();
    if (userChange && filtering && this.matches.length && (this.cursor < 0 || !this.keep[this.cursor])) {
      this.cursor = this.matches[0];
      this.refresh();
      this.scrollTo(this.cursor, "center");
    }
  }

  // Clears `match[i]` for steps whose labels (and, when details came along, payloads) lack the text.
  matchText(needle, match) {
    const { n, rows } = this;
    if (!this.nameLower) {
      this.nameLower = new Array(n);
      const types = rows.types.map((t) => t.toLowerCase());
      const statuses = rows.rawStatuses.map((t) => t.toLowerCase());
      const subs = rows.subs.map((t) => t.toLowerCase());
      for (let i = 0; i < n; i++) {
        const error = rows.error[i] || "";
        this.nameLower[i] = `${rows.name[i]}\n${rows.id[i]}\n${types[rows.type[i]]}\n${statuses[rows.rawStatus[i]]}\n${subs[rows.sub[i]]}\n${error}`.toLowerCase();
      }
    }
    const inPayload = new Uint8Array(n);
    // Details are ASCII JSON: look for the needle as JSON would spell it, chunk by chunk.
    const spelled = JSON.stringify(needle).slice(1, -1)
      .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    for (const chunk of this.chunks) {
      if (!chunk.lower) chunk.lower = utf8.decode(chunk.blob).toLowerCase();
      const at = chunk.at;
      let from = 0;
      while (spelled) {
        const found = chunk.lower.indexOf(spelled, from);
        if (found < 0) break;
        let lo = 0, hi = at.length - 2;
        while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (at[mid] <= found) lo = mid; else hi = mid - 1; }
        inPayload[chunk.first + lo] = 1;
        from = at[lo + 1];
      }
    }
    for (let i = 0; i < n; i++) if (match[i] && !inPayload[i] && !this.nameLower[i].includes(needle)) match[i] = 0;
  }

  // ── Visible rows and drawing ──

  refresh() {
    const { n, expanded, subtreeEnd, keep } = this;
    if (this.visible.length < n) this.visible = new Int32Array(n);
    const visible = this.visible;
    let count = 0;
    for (let i = 0; i < n;) {
      if (keep && !keep[i]) { i = subtreeEnd[i]; continue; }
      visible[count++] = i;
      i = expanded[i] ? i + 1 : subtreeEnd[i];
    }
    this.count = count;
    this.position = null;
    this.spacer.style.height = `${count * ROW_H}px`;
    this.empty.hidden = count > 0;
    this.shown.textContent = `${counts.format(count)} of ${counts.format(n)} rows shown`;
    this.version = (this.version || 0) + 1;
    if (this.restoreScroll !== undefined) { this.tree.scrollTop = this.restoreScroll; this.restoreScroll = undefined; }
    this.draw();
  }

  rowOf(index) {
    if (!this.position) {
      this.position = new Int32Array(this.n).fill(-1);
      for (let k = 0; k < this.count; k++) this.position[this.visible[k]] = k;
    }
    return this.position[index];
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
  }

  draw() {
    const top = this.tree.scrollTop;
    const height = this.tree.clientHeight || 500;
    // scrollTop can still be past the end for a moment after the rows shrank (a filter, a collapse).
    const first = Math.min(this.count, Math.max(0, Math.floor(top / ROW_H) - OVERSCAN));
    const last = Math.max(first, Math.min(this.count, Math.ceil((top + height) / ROW_H) + OVERSCAN));
    while (this.pool.length < last - first) this.pool.push(this.makeRow());
    for (let k = first; k < last; k++) this.fillRow(this.pool[k - first], k);
    for (let j = last - first; j < this.pool.length; j++) this.pool[j].hidden = true;
    if (this.cursor >= 0 && this.rowOf(this.cursor) >= 0) this.tree.setAttribute("aria-activedescendant", `fx-row-${this.rowOf(this.cursor)}`);
    else this.tree.removeAttribute("aria-activedescendant");
  }

  makeRow() {
    const row = el("div", "fx-row fx-cols");
    row.setAttribute("role", "row");
    const name = el("div", "fx-name-cell");
    name.setAttribute("role", "gridcell");
    const guides = el("span", "fx-guides");
    const toggle = el("button", "fx-toggle");
    toggle.tabIndex = -1;
    toggle.setAttribute("aria-label", "Expand or collapse");
    toggle.appendChild(icon(CHEVRON));
    const status = el("span", "fx-status");
    const kind = el("span", "fx-kind");
    const label = el("span", "fx-name");
    const sub = el("span", "fx-sub");
    const badge = el("span", "fx-badge");
    name.append(guides, toggle, status, kind, label, sub, badge);
    const total = el("div", "num strong");
    const self = el("div", "num");
    const cost = el("div", "num");
    const tokens = el("div", "num");
    const barCell = el("div", "fx-bar-cell");
    for (const cell of [total, self, cost, tokens, barCell]) cell.setAttribute("role", "gridcell");
    const bar = el("div", "fx-bar");
    const barLabel = el("span", "fx-bar-label");
    barCell.append(bar, barLabel);
    row.append(name, total, self, cost, tokens, barCell);
    row.parts = { guides, toggle, status, kind, label, sub, badge, total, self, cost, tokens, barCell, bar, barLabel };
    row.statusKey = null;
    this.rowsLayer.appendChild(row);
    return row;
  }

  fillRow(row, k) {
    const i = this.visible[k];
    row.hidden = false;
    row.style.transform = `translateY(${k * ROW_H}px)`;
    row.id = `fx-row-${k}`;
    row.index = i;
    if (row.drawnIndex !== i) row.setAttribute("data-step", this.rows.id[i]);
    const selected = i === this.selected;
    const cursor = i === this.cursor;
    if (row.drawnIndex === i && row.drawnVersion === this.version && row.drawnSelected === selected && row.drawnCursor === cursor) return;
    row.drawnIndex = i;
    row.drawnVersion = this.version;
    row.drawnSelected = selected;
    row.drawnCursor = cursor;
    const { rows } = this;
    const p = row.parts;
    const flags = rows.flags[i];
    const kind = rows.kinds[rows.kind[i]];
    const status = rows.statuses[rows.status[i]];
    const parent = this.hasChildren(i);
    const open = parent && this.expanded[i] === 1;
    const depth = this.depth[i];
    row.className = "fx-row fx-cols" + (selected ? " selected" : "") + (cursor ? " cursor" : "")
      + (status === "ERROR" ? " failed" : "") + (flags & F_CRIT ? " crit" : "") + (flags & F_ERRPATH ? " errpath" : "")
      + (flags & F_ORPHAN ? " orphan" : "") + (this.keep && !this.matchSet(i) ? " dim" : "");
    row.setAttribute("aria-level", String(depth + 1));
    row.setAttribute("aria-selected", String(selected));
    if (parent) row.setAttribute("aria-expanded", String(open));
    else row.removeAttribute("aria-expanded");
    row.style.setProperty("--kc", `var(--k-${kind})`);
    p.guides.style.width = `${depth * INDENT + 4}px`;
    p.guides.style.background = depth
      ? `repeating-linear-gradient(to right, transparent 0 ${INDENT / 2 + 3}px, var(--fx-border) ${INDENT / 2 + 3}px ${INDENT / 2 + 4}px, transparent ${INDENT / 2 + 4}px ${INDENT}px) 4px 0 / ${depth * INDENT}px 100% no-repeat`
      : "none";
    p.toggle.className = "fx-toggle" + (parent ? (open ? " open" : "") : " leaf");
    if (row.statusKey !== status) {
      row.statusKey = status;
      p.status.replaceChildren(icon(STATUS_ICON[status] || STATUS_ICON.UNKNOWN));
      p.status.style.color = STATUS_COLOR[status] || STATUS_COLOR.UNKNOWN;
      p.status.title = status.toLowerCase();
    }
    const type = rows.types[rows.type[i]];
    p.kind.textContent = kind === "UNKNOWN" ? type : kind;
    p.kind.title = type;
    p.label.textContent = rows.name[i];
    p.label.title = rows.name[i];
    const sub = rows.subs[rows.sub[i]];
    p.sub.textContent = sub;
    p.sub.hidden = !sub;
    const inside = rows.errors[i] - (status === "ERROR" ? 1 : 0);
    p.badge.hidden = !(inside > 0 && !open);
    if (inside > 0 && !open) p.badge.textContent = `${inside} failed inside`;
    p.total.textContent = fmtMs(rows.total[i]);
    p.self.textContent = parent ? fmtMs(rows.self[i]) : "";
    p.cost.textContent = fmtCost(rows.cost[i]);
    p.tokens.textContent = fmtTokens(rows.tokens[i]);
    this.fillBar(p, i, status, flags);
  }

  matchSet(i) {
    if (!this.matchFlags || this.matchFlagsVersion !== this.matches) {
      this.matchFlags = new Uint8Array(this.n);
      for (const m of this.matches) this.matchFlags[m] = 1;
      this.matchFlagsVersion = this.matches;
    }
    return this.matchFlags[i] === 1;
  }

  fillBar(p, i, status, flags) {
    const { rows } = this;
    const axis = rows.axis;
    const start = rows.start[i];
    if (!axis || start === null) {
      p.bar.hidden = true;
      p.barLabel.textContent = "";
      return;
    }
    const running = rows.end[i] === null;
    const end = running ? axis : rows.end[i];
    const left = Math.max(0, Math.min(1, start / axis));
    const width = Math.max(0, Math.min(1 - left, (end - start) / axis));
    p.bar.hidden = false;
    p.bar.className = "fx-bar" + (status === "ERROR" ? " failed" : "") + (running ? " running" : "")
      + (flags & F_CRIT ? " crit" : "") + (flags & F_ERRPATH ? " errpath" : "");
    p.bar.style.left = `${left * 100}%`;
    p.bar.style.width = `${width * 100}%`;
    const label = running ? "running" : fmtMs(rows.total[i] ?? end - start);
    p.barLabel.textContent = label;
    // Beside the bar where there is room (right first), else inside it.
    const cell = this.axisWidth || 240;
    const room = label.length * 6.5 + 8;
    const style = p.barLabel.style;
    p.barLabel.classList.toggle("inside", false);
    if ((1 - left - width) * cell >= room) {
      style.left = `calc(${(left + width) * 100}% + 5px)`;
      style.right = "";
    } else if (left * cell >= room) {
      style.left = "";
      style.right = `calc(${(1 - left) * 100}% + 5px)`;
    } else {
      style.left = "";
      style.right = `calc(${(1 - left - width) * 100}% + 5px)`;
      p.barLabel.classList.toggle("inside", true);
    }
  }

  scrollTo(index, how = "nearest") {
    const k = index >= 0 ? this.rowOf(index) : -1;
    if (k < 0) return;
    const top = k * ROW_H;
    const height = this.tree.clientHeight || 500;
    if (how === "center") this.tree.scrollTop = Math.max(0, top - height / 2 + ROW_H / 2);
    else if (top < this.tree.scrollTop) this.tree.scrollTop = top;
    else if (top + ROW_H > this.tree.scrollTop + height) this.tree.scrollTop = top + ROW_H - height;
    this.draw();
  }

  // ── Interaction ──

  moveCursor(index, how = "nearest") {
    if (index < 0) return;
    this.cursor = index;
    this.draw();
    this.scrollTo(index, how);
  }

  setExpanded(i, open) {
    if (!this.hasChildren(i) || (this.expanded[i] === 1) === open) return;
    this.expanded[i] = open ? 1 : 0;
    if (!open && this.cursor > i && this.cursor < this.subtreeEnd[i]) this.cursor = i; // keep it in sight
    this.refresh();
  }

  setAllExpanded(open) {
    for (let i = 0; i < this.n; i++) this.expanded[i] = open && this.hasChildren(i) ? 1 : 0;
    if (!open && this.cursor >= 0) {
      let root = this.cursor;
      while (this.parent[root] >= 0) root = this.parent[root];
      this.cursor = root;
    }
    this.refresh();
    this.scrollTo(this.cursor, "center");
  }

  reveal(i) {
    let changed = false;
    for (let p = this.parent[i]; p >= 0; p = this.parent[p]) if (!this.expanded[p]) { this.expanded[p] = 1; changed = true; }
    if (changed) this.refresh();
  }

  onTreeClick(event) {
    const row = event.target.closest(".fx-row");
    if (!row) return;
    const i = row.index;
    this.tree.focus({ preventScroll: true });
    if (event.target.closest(".fx-toggle")) {
      this.cursor = i;
      this.setExpanded(i, !this.expanded[i]);
      this.draw();
      return;
    }
    this.cursor = i;
    this.select(i);
  }

  onTreeDoubleClick(event) {
    const row = event.target.closest(".fx-row");
    if (row && !event.target.closest(".fx-toggle")) this.setExpanded(row.index, !this.expanded[row.index]);
  }

  onTreeKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || this.count === 0) return;
    const k = this.cursor >= 0 ? this.rowOf(this.cursor) : -1;
    const page = Math.max(1, Math.floor((this.tree.clientHeight || 500) / ROW_H) - 1);
    const at = (row) => this.visible[Math.max(0, Math.min(this.count - 1, row))];
    let handled = true;
    switch (event.key) {
      case "ArrowDown": this.moveCursor(at(k < 0 ? 0 : k + 1)); break;
      case "ArrowUp": this.moveCursor(at(k < 0 ? 0 : k - 1)); break;
      case "PageDown": this.moveCursor(at(k + page)); break;
      case "PageUp": this.moveCursor(at(k - page)); break;
      case "Home": this.moveCursor(at(0)); break;
      case "End": this.moveCursor(at(this.count - 1)); break;
      case "ArrowRight":
        if (this.cursor < 0) break;
        if (this.hasChildren(this.cursor) && !this.expanded[this.cursor]) this.setExpanded(this.cursor, true);
        else if (this.hasChildren(this.cursor) && k + 1 < this.count) this.moveCursor(at(k + 1));
        break;
      case "ArrowLeft":
        if (this.cursor < 0) break;
        if (this.hasChildren(this.cursor) && this.expanded[this.cursor]) this.setExpanded(this.cursor, false);
        else if (this.parent[this.cursor] >= 0 && this.rowOf(this.parent[this.cursor]) >= 0) this.moveCursor(this.parent[this.cursor]);
        break;
      case "Enter":
      case " ":
        if (this.cursor >= 0) this.select(this.cursor);
        break;
      case "/": this.focusSearch(); break;
      case "n": this.jumpToError(1); break;
      case "N": this.jumpToError(-1); break;
      case "Escape": this.tree.blur(); break;
      default: handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  focusSearch() {
    this.search.focus();
    this.search.select();
  }

  jumpTo(list, direction) {
    if (!list.length) return;
    const from = this.cursor;
    let target = list[direction > 0 ? 0 : list.length - 1];
    if (direction > 0) { for (const i of list) if (i > from) { target = i; break; } }
    else for (let j = list.length - 1; j >= 0; j--) if (list[j] < from) { target = list[j]; break; }
    this.reveal(target);
    this.cursor = target;
    this.select(target, false);
    this.scrollTo(target, "center");
    return target;
  }

  jumpToError(direction) {
    const list = this.keep ? this.failed.filter((i) => this.keep[i]) : this.failed;
    const target = this.jumpTo(list, direction);
    if (target !== undefined) {
      const position = list.indexOf(target) + 1;
      this.nextError.textContent = `Next error (${counts.format(position)} of ${counts.format(list.length)})`;
    }
    this.tree.focus({ preventScroll: true });
  }

  jumpToMatch(direction) {
    this.jumpTo(this.matches, direction);
  }

  // ── Detail pane ──

  select(i, scroll = true) {
    this.selected = i;
    this.draw();
    if (scroll) this.scrollTo(i);
    this.renderDetail();
  }

  detailOf(i) {
    if (this.details.has(i)) return this.details.get(i);
    const chunk = this.chunkOf(i);
    if (!chunk) return null;
    let detail = null;
    try {
      detail = JSON.parse(utf8.decode(chunk.blob.subarray(chunk.at[i - chunk.first], chunk.at[i - chunk.first + 1])));
    } catch (error) {
      detail = { unreadable: `This step's details could not be read: ${error.message}` };
    }
    this.details.set(i, detail);
    return detail;
  }

  // An answer from the detail feed: the step's detail as JSON text, or null when Python no longer
  // holds this trace's details (`gone`) or has no such step.
  receiveDetail(digest, id, text, gone) {
    if (digest !== this.digest) return;
    const i = this.idIndex().get(id);
    if (i === undefined) return;
    let detail;
    if (text === null) {
      detail = { unreadable: gone ? "This step's inputs and outputs are no longer kept for this page: reload it to see them."
        : "This step's inputs and outputs could not be found." };
    } else {
      try { detail = JSON.parse(text); } catch (error) { detail = { unreadable: String(error) }; }
    }
    this.details.set(i, detail);
    if (i === this.selected) this.renderDetail();
  }

  renderDetail() {
    const pane = this.detail;
    const i = this.selected;
    const scroll = pane.scrollTop;
    pane.replaceChildren();
    if (i < 0 || !this.rows) {
      pane.appendChild(el("div", "fx-d-empty", "Select a step to see its inputs, outputs and timing."));
      return;
    }
    const { rows } = this;
    const detail = this.detailOf(i);
    if (!detail && !this.details.has(i)) this.requestDetail(i);
    const kind = rows.kinds[rows.kind[i]];
    const status = rows.statuses[rows.status[i]];
    const flags = rows.flags[i];

    const head = el("div", "fx-d-head");
    const tags = el("div", "fx-d-tags");
    const kindTag = el("span", "fx-kind", kind === "UNKNOWN" ? rows.types[rows.type[i]] : kind);
    kindTag.style.setProperty("--kc", `var(--k-${kind})`);
    const statusTag = el("span", "fx-pill " + ({ SUCCESS: "ok", ERROR: "bad", RUNNING: "run" }[status] || ""),
      rows.rawStatuses[rows.rawStatus[i]].toLowerCase());
    tags.append(kindTag, statusTag);
    if (flags & F_CRIT) tags.appendChild(el("span", "fx-pill crit", "critical path"));
    if (flags & F_ORPHAN) tags.appendChild(el("span", "fx-pill", "orphan: parent missing"));
    if (kind !== "UNKNOWN" && rows.types[rows.type[i]] !== kind) tags.appendChild(el("span", "fx-pill", rows.types[rows.type[i]]));
    head.append(tags, el("div", "fx-d-name", detail && detail.name ? detail.name : rows.name[i]),
      el("div", "fx-d-id", rows.id[i]));
    pane.appendChild(head);

    const stats = el("div", "fx-d-stats");
    const stat = (label, value, note) => {
      const box = el("div", "fx-d-stat");
      const v = el("div", "v", value);
      if (note) v.append(" ", el("small", null, note));
      box.append(el("div", "k", label), v);
      stats.appendChild(box);
    };
    const total = rows.total[i];
    stat("Duration", rows.end[i] === null && rows.start[i] !== null ? "running" : fmtMs(total));
    if (this.hasChildren(i)) {
      const share = total ? ` (${Math.round((rows.self[i] / total) * 100)}%)` : "";
      stat("Self time", fmtMs(rows.self[i]), rows.self[i] !== null ? share : "");
    }
    if (rows.start[i] !== null) stat("Starts at", `+${fmtMs(rows.start[i])}`, fmtClock(rows.origin + rows.start[i]));
    if (detail && !detail.unreadable) {
      stat("Cost", fmtCost(detail.cost), this.hasChildren(i) ? `${fmtCost(rows.cost[i])} with steps below` : "");
      const own = detail.tokensIn + detail.tokensOut;
      stat("Tokens in / out", `${counts.format(detail.tokensIn)} / ${counts.format(detail.tokensOut)}`,
        this.hasChildren(i) && rows.tokens[i] !== own ? `${counts.format(rows.tokens[i])} with steps below` : "");
      if (detail.model) stat("Model", detail.model);
      if (detail.tool) stat("Tool", detail.tool);
    } else {
      stat("Cost (with steps below)", fmtCost(rows.cost[i]));
      stat("Tokens (with steps below)", fmtTokens(rows.tokens[i]));
    }
    if (rows.errors[i] > (status === "ERROR" ? 1 : 0)) stat("Failed below", counts.format(rows.errors[i] - (status === "ERROR" ? 1 : 0)));
    pane.appendChild(stats);

    const error = detail && detail.error ? detail.error : rows.error[i];
    if (error) pane.appendChild(el("div", "fx-d-error", error));
    if (!detail) {
      pane.appendChild(el("div", "fx-note loading", "Loading this step's inputs and outputs…"));
      return;
    }
    if (detail.unreadable) {
      pane.appendChild(el("div", "fx-note", detail.unreadable));
      return;
    }
    if (detail.messages && detail.messages.length) {
      const body = this.section(pane, "Messages", `${detail.messages.length}`, true);
      for (const message of detail.messages) {
        const box = el("div", "fx-msg");
        const role = String(message.role || "message");
        box.appendChild(el("div", `fx-msg-role ${role.toLowerCase()}`, role));
        box.appendChild(valueBlock(field(message, "content", detail.raw), "fx-text"));
        body.appendChild(box);
      }
    }
    if (has(detail, "arguments")) {
      const value = field(detail, "arguments", detail.raw);
      this.section(pane, "Tool arguments", detail.tool || "", true, value).appendChild(valueBlock(value));
    }
    if (has(detail, "result")) {
      const value = field(detail, "result", detail.raw);
      this.section(pane, "Result", typeof value === "string" ? "text" : "", true, value).appendChild(valueBlock(value));
    }
    if (has(detail, "approval")) {
      const value = field(detail, "approval", detail.raw);
      this.section(pane, "Human approval", "", true, value).appendChild(keyValues(value));
    }
    const raw = this.section(pane, "Raw step JSON", "as received, without its nested steps", false, detail.raw);
    raw.parentElement.addEventListener("toggle", () => {
      if (raw.parentElement.open && !raw.firstChild) raw.appendChild(jsonBlock(detail.raw));
    });
    pane.scrollTop = this.lastDetail === i ? scroll : 0;
    this.lastDetail = i;
  }

  section(pane, title, hint, open, copyValue) {
    const box = el("details", "fx-sec");
    box.open = open;
    const summary = el("summary", null, title);
    if (hint) summary.append(" ", el("span", "fx-hint", hint));
    if (copyValue !== undefined) {
      const copy = el("button", "fx-copy", "Copy");
      copy.addEventListener("click", (event) => {
        event.preventDefault();
        const text = typeof copyValue === "string" ? copyValue : JSON.stringify(copyValue, null, 2);
        navigator.clipboard?.writeText(text ?? "").then(() => { copy.textContent = "Copied"; },
          () => { copy.textContent = "Copy failed"; });
      });
      summary.appendChild(copy);
    }
    const body = el("div", "fx-sec-body");
    box.append(summary, body);
    pane.appendChild(box);
    return body;
  }

  feedReady() {
    this.detailsKeptByPython();
    const i = this.selected;
    if (i >= 0 && this.rows && !this.details.has(i)) this.requestDetail(i);
  }

  requestDetail(i) {
    const feed = FEEDS.get(this.view);
    if (feed) feed.request(this.digest, this.rows.id[i]);
  }

  destroy() {
    SAVED.delete(this.view);
    SAVED.set(this.view, this.snapshot());
    while (SAVED.size > 20) SAVED.delete(SAVED.keys().next().value);
    this.resize.disconnect();
    cancelAnimationFrame(this.frame);
    clearTimeout(this.searchTimer);
    if (VIEWS.get(this.view) === this) VIEWS.delete(this.view);
    if (active === this) active = null;
    this.root.remove();
  }
}

// ── Values in the detail pane ─────────────────────────────────────────────────────────────────

// A decoded value is either in the detail (`name`) or, when the raw node holds that very value,
// given as its path there (`nameAt`): nothing is sent twice.
function has(detail, name) { return name in detail || `${name}At` in detail; }

function field(holder, name, raw) {
  if (name in holder) return holder[name];
  let node = raw;
  for (const part of holder[`${name}At`] || []) node = node === null || node === undefined ? undefined : node[part];
  return node;
}


const JSON_TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g;
const COLOR_LIMIT = 200000; // characters: beyond this, plain text (colouring costs DOM nodes)

function jsonBlock(value) {
  const pre = el("pre", "fx-json");
  let text;
  try { text = JSON.stringify(value, null, 2); } catch { text = String(value); }
  if (text === undefined) text = String(value);
  if (text.length > COLOR_LIMIT) {
    pre.textContent = text;
    return pre;
  }
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(JSON_TOKEN)) {
    if (match.index > last) fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
    const cls = match[1] ? (match[2] ? "k" : "s") : match[3] ? "n" : "b";
    const span = el("span", cls, match[1] || match[3] || match[4]);
    fragment.appendChild(span);
    if (match[2]) fragment.appendChild(document.createTextNode(match[2]));
    last = match.index + match[0].length;
  }
  if (last < text.length) fragment.appendChild(document.createTextNode(text.slice(last)));
  pre.appendChild(fragment);
  return pre;
}

function valueBlock(value, textClass = "fx-text") {
  if (typeof value === "string") return el("pre", textClass, value);
  if (value === null || value === undefined) return el("div", "fx-note", "(none)");
  return jsonBlock(value);
}

function keyValues(value) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return jsonBlock(value);
  const grid = el("div", "fx-kv");
  for (const [key, item] of Object.entries(value)) {
    grid.appendChild(el("div", "k", key));
    const cell = el("div", "v");
    if (item !== null && typeof item === "object") cell.appendChild(jsonBlock(item));
    else cell.textContent = item === null ? "—" : String(item);
    grid.appendChild(cell);
  }
  return grid;
}

// ── Details instance: every step's details, sent after the rows ─────────────────────────────────

function details(bytes) {
  const { digest, length } = frame(bytes);
  const head = frameJson(bytes, length);
  let entry = DETAILS.get(head.label);
  if (!entry || entry.digest !== digest) entry = { digest, chunks: [] };
  if (entry.chunks.some((c) => c.first === head.first)) return undefined; // the same bytes again after a rerun
  const chunk = { first: head.first, at: head.at, blob: bytes.subarray(HEADER_BYTES + length), lower: null };
  entry.chunks.push(chunk);
  DETAILS.delete(head.label);
  DETAILS.set(head.label, entry);
  while (DETAILS.size > KEEP_DETAILS) DETAILS.delete(DETAILS.keys().next().value);
  const viewer = VIEWS.get(head.label);
  if (viewer) viewer.receiveChunk(digest, chunk);
  return undefined;
}

// ── Detail feed (lazy details for very large traces) ──────────────────────────────────────────

function feed(component) {
  const { data, setStateValue } = component;
  let entry = FEEDS.get(data.view);
  if (!entry) {
    entry = { seq: 0 };
    FEEDS.set(data.view, entry);
  }
  entry.request = (digest, id) => {
    entry.seq += 1;
    setStateValue("want", { digest, id, seq: entry.seq });
  };
  entry.digest = data.digest;
  const viewer = VIEWS.get(data.view);
  if (!viewer) return undefined; // the tree is not drawn yet: it looks for this feed when it is
  if (data.id !== null) viewer.receiveDetail(data.digest, data.id, data.detail, data.gone);
  joinFeed(viewer);
  return undefined;
}

// Whichever of the tree and its feed arrives second connects them (once per trace): the search
// says what it covers, and a step opened before the feed was there is asked for now.
function joinFeed(viewer) {
  const entry = FEEDS.get(viewer.view);
  if (entry && entry.digest === viewer.digest && !viewer.lazy) viewer.feedReady();
}

// ── Entry point ───────────────────────────────────────────────────────────────────────────────

export default function (component) {
  const { data, parentElement } = component;
  if (data && data.mode === "detail") return feed(component);
  if (!(data instanceof Uint8Array)) return undefined;
  if (frame(data).magic === "FXTD1") return details(data);
  const host = parentElement.querySelector(".fx-host") || parentElement;
  let viewer = BOUND.get(parentElement);
  if (!viewer) {
    viewer = new Viewer(host);
    BOUND.set(parentElement, viewer);
  }
  try {
    viewer.load(data);
  } catch (error) {
    host.replaceChildren(el("div", "fx-empty", `The trace could not be drawn: ${error.message}`));
    return undefined;
  }
  VIEWS.set(viewer.view, viewer);
  joinFeed(viewer);
  return () => {
    BOUND.delete(parentElement);
    viewer.destroy();
  };
}
