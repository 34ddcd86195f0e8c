// The move37 web board: draws the server's board views as SVG and sends clicks as moves.
// The server decides what is legal; this script only turns a click into the move text the
// view gives for that cell.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const PIECES = { K: "\u2654", Q: "\u2655", R: "\u2656", B: "\u2657", N: "\u2658", P: "\u2659",
                 k: "\u265A", q: "\u265B", r: "\u265C", b: "\u265D", n: "\u265E", p: "\u265F" };
const CELL = { grid: 100, columns: 70, go: 34, chess: 60 };
let config = null;
let current = null;    // the last snapshot from the server
let chessFrom = null;  // the square a chess move starts from

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function say(text) { $("message").textContent = text || ""; }

function el(name, attrs, parent, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

// --- drawing --------------------------------------------------------------------------------

function draw(snapshot) {
  const view = snapshot.view, kind = view.kind, c = CELL[kind];
  const margin = kind === "go" ? c : 20;
  const svg = $("board");
  svg.innerHTML = "";
  const span = kind === "go" ? c * (view.cols - 1) : c * view.cols;  // Go: lines, not cells
  svg.setAttribute("width", span + 2 * margin);
  svg.setAttribute("height", span * view.rows / view.cols + 2 * margin);
  svg.dataset.kind = kind;
  const g = el("g", { transform: `translate(${margin},${margin})` }, svg);
  const centre = (r, col) => [col * c + c / 2, r * c + c / 2];
  if (kind === "go") drawGoGrid(g, view, c); else drawSquares(g, view, c);
  // The analysis of this position, or of the one before it when the agent just moved.
  const heat = $("heat").checked && snapshot.analysis ? snapshot.analysis.heat : null;
  for (let r = 0; r < view.rows; r++) {
    for (let col = 0; col < view.cols; col++) {
      const [x, y] = kind === "go" ? [col * c, r * c] : centre(r, col);
      if (heat && heat[r][col] !== null && heat[r][col] > 0) {
        el("circle", { cx: x, cy: y, r: c * 0.45, fill: "#e4572e",
                       "fill-opacity": (0.15 + 0.6 * heat[r][col]).toFixed(3),
                       class: "heat" }, g);
      }
      drawPiece(g, kind, view.cells[r][col], x, y, c);
      const rect = el("rect", { x: x - c / 2, y: y - c / 2, width: c, height: c,
                                class: "cell", "data-move": view.texts[r][col] }, g);
      rect.addEventListener("click", () => clicked(view.texts[r][col]));
    }
  }
  if (view.last) {
    const [x, y] = kind === "go" ? [view.last[1] * c, view.last[0] * c]
                                 : centre(view.last[0], view.last[1]);
    el("circle", { cx: x, cy: y, r: 5, fill: "#1e88e5", class: "last" }, g);
  }
  if (chessFrom && kind === "chess") {
    const [r, col] = findCell(view, chessFrom);
    el("rect", { x: col * c, y: r * c, width: c, height: c, fill: "none",
                 stroke: "#1e88e5", "stroke-width": 4, "pointer-events": "none" }, g);
  }
}

function drawSquares(g, view, c) {
  const kind = view.kind;
  for (let r = 0; r < view.rows; r++) {
    for (let col = 0; col < view.cols; col++) {
      let fill = "#fff";
      if (kind === "chess") fill = (r + col) % 2 ? "#b58863" : "#f0d9b5";
      if (kind === "columns") fill = "#1f5fbf";
      el("rect", { x: col * c, y: r * c, width: c, height: c, fill, stroke: "#555" }, g);
      if (kind === "columns") {
        el("circle", { cx: col * c + c / 2, cy: r * c + c / 2, r: c * 0.38, fill: "#fff" }, g);
      }
    }
  }
  if (kind === "chess") {
    for (let i = 0; i < 8; i++) {
      el("text", { x: i * c + c / 2, y: 8 * c + 14, "text-anchor": "middle",
                   "font-size": 12 }, g, "abcdefgh"[i]);
      el("text", { x: -12, y: i * c + c / 2 + 4, "font-size": 12 }, g, String(8 - i));
    }
  }
}

function drawGoGrid(g, view, c) {
  const n = view.rows;
  el("rect", { x: -c / 2, y: -c / 2, width: n * c, height: n * c, fill: "#dcb35c" }, g);
  for (let i = 0; i < n; i++) {
    el("line", { x1: 0, y1: i * c, x2: (n - 1) * c, y2: i * c, stroke: "#333" }, g);
    el("line", { x1: i * c, y1: 0, x2: i * c, y2: (n - 1) * c, stroke: "#333" }, g);
    el("text", { x: i * c, y: -c * 0.6, "text-anchor": "middle", "font-size": 11 }, g,
       view.texts[0][i].replace(/\d+$/, ""));
    el("text", { x: -c * 0.8, y: i * c + 4, "text-anchor": "middle", "font-size": 11 }, g,
       String(n - i));
  }
  const edge = n >= 13 ? 3 : 2, mid = (n - 1) / 2;
  const stars = n >= 9 ? [edge, n - 1 - edge].concat(n % 2 ? [mid] : []) : [];
  for (const r of stars) for (const col of stars) {
    el("circle", { cx: col * c, cy: r * c, r: 3, fill: "#333" }, g);
  }
}

function drawPiece(g, kind, piece, x, y, c) {
  if (!piece) return;
  if (kind === "grid") {
    el("text", { x, y: y + c * 0.22, "text-anchor": "middle", "font-size": c * 0.6,
                 fill: piece === "X" ? "#c62828" : "#1565c0", class: "piece" }, g, piece);
  } else if (kind === "columns") {
    el("circle", { cx: x, cy: y, r: c * 0.38, fill: piece === "X" ? "#d32f2f" : "#fbc02d",
                   class: "piece" }, g);
  } else if (kind === "go") {
    el("circle", { cx: x, cy: y, r: c * 0.47, fill: piece === "b" ? "#111" : "#fafafa",
                   stroke: "#111", class: "piece" }, g);
  } else {
    el("text", { x, y: y + c * 0.28, "text-anchor": "middle", "font-size": c * 0.8,
                 class: "piece" }, g, PIECES[piece]);
  }
}

function findCell(view, text) {
  for (let r = 0; r < view.rows; r++) {
    for (let col = 0; col < view.cols; col++) if (view.texts[r][col] === text) return [r, col];
  }
  return [0, 0];
}

// --- the side panels ------------------------------------------------------------------------

const SIDES = { tictactoe: ["X", "O"], connect4: ["red", "yellow"], go: ["Black", "White"],
                chess: ["White", "Black"] };

function show(snapshot) {
  current = snapshot;
  draw(snapshot);
  const sides = SIDES[snapshot.game];
  $("title").textContent = snapshot.title || "";
  if (snapshot.outcome) $("status").textContent = snapshot.outcome.text;
  else if (snapshot.mode === "replay") $("status").textContent = `${sides[snapshot.to_play]} to move`;
  else $("status").textContent = snapshot.to_play === snapshot.human
    ? `Your move (${sides[snapshot.human]})` : "The agent is thinking...";
  if (snapshot.message) say(snapshot.message);
  $("replay-nav").style.display = snapshot.mode === "replay" ? "flex" : "none";
  $("ply").textContent = `move ${snapshot.ply} / ${snapshot.plies}`;
  $("pass").style.display = snapshot.view.pass_text ? "" : "none";
  const moves = $("moves");
  moves.innerHTML = "";
  snapshot.moves.forEach((m) => { const li = document.createElement("li"); li.textContent = m;
                                  moves.appendChild(li); });
  showAnalysis(snapshot);
}

function showAnalysis(snapshot) {
  const a = snapshot.analysis, box = $("analysis");
  if (!a) { box.textContent = "No analysis yet."; return; }
  const side = SIDES[snapshot.game][a.side];
  const rows = a.candidates.map((m) => `<tr><td>${m.move}</td><td>${m.visits ?? ""}</td>` +
    `<td>${(100 * m.share).toFixed(1)}%</td>` +
    `<td>${m.win_prob === undefined ? "" : (100 * m.win_prob).toFixed(1) + "%"}</td></tr>`);
  box.innerHTML =
    `<p><b>${a.by}</b> at move ${a.ply}${a.simulations ? `, ${a.simulations} simulations` : ""}` +
    ` (${a.seconds}s): win probability for ${side} <b class="winprob">` +
    `${(100 * a.win_prob).toFixed(1)}%</b>; plays <b>${a.move}</b>.</p>` +
    `<table><tr><th>move</th><th>visits</th><th>share</th><th>win prob</th></tr>` +
    `${rows.join("")}</table>`;
}

// --- actions --------------------------------------------------------------------------------

async function clicked(text) {
  if (!current) return;
  if (current.mode === "replay") { say("This is a replay: start a new game to play."); return; }
  if (current.view.kind === "chess") {
    if (!chessFrom) { chessFrom = text; draw(current); return; }
    const from = chessFrom;
    chessFrom = null;
    if (from === text) { draw(current); return; }
    text = from + text;
  }
  await send(text);
}

async function send(text) {
  say("");
  $("status").textContent = "The agent is thinking...";
  try { show(await api("POST", `/api/games/${current.id}/move`, { move: text })); }
  catch (error) { say(error.message); show(current); say(error.message); }
}

let newGames = 0;  // only the latest "new game" request's answer is shown

async function newGame() {
  say("");
  chessFrom = null;
  const mine = ++newGames;
  const body = { game: $("game").value, player: Number($("player").value),
                 human: Number($("human").value), moves: $("start-moves").value };
  if (body.game === "go") body.size = Number($("size").value);
  $("status").textContent = "Starting...";
  try {
    const snapshot = await api("POST", "/api/games", body);
    if (mine === newGames) show(snapshot);
  } catch (error) { if (mine === newGames) say(error.message); }
}

async function loadPlayers() {
  const game = $("game").value;
  $("size-label").style.display = game === "go" ? "" : "none";
  const query = game === "go" ? `&size=${$("size").value}` : "";
  const data = await api("GET", `/api/players?game=${game}${query}`);
  const select = $("player"), previous = select.value;
  select.innerHTML = "";
  for (const p of data.players) {
    if (p.why_not) continue;
    const option = document.createElement("option");
    option.value = p.index;
    option.textContent = p.name;
    select.appendChild(option);
  }
  if ([...select.options].some((o) => o.value === previous)) select.value = previous;
}

async function step(ply) {
  if (!current) return;
  ply = Math.max(0, Math.min(current.plies, ply));
  try { show(await api("GET", `/api/games/${current.id}?ply=${ply}`)); }
  catch (error) { say(error.message); }
}

async function exportGame(form) {
  if (!current) return;
  try { $("export").value = (await api("GET", `/api/games/${current.id}/export?format=${form}`)).text; }
  catch (error) { say(error.message); }
}

async function loadRunFiles() {
  const run = $("run").value, select = $("record-file");
  select.innerHTML = "";
  if (run === "") return;
  const data = await api("GET", `/api/runs/${run}/games`);
  for (const name of data.files) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    select.appendChild(option);
  }
}

async function replay() {
  say("");
  try {
    show(await api("POST", "/api/replays", { run: Number($("run").value),
      file: $("record-file").value, index: Number($("record-index").value) }));
  } catch (error) { say(error.message); }
}

async function showPlots() {
  const box = $("plots");
  box.innerHTML = "";
  if ($("run").value === "") return;
  try {
    const data = await api("GET", `/api/runs/${$("run").value}/plots`);
    for (const name of data.plots) {
      const img = document.createElement("img");
      img.src = `/api/runs/${$("run").value}/plots/${name}`;
      img.alt = name;
      box.appendChild(img);
    }
    if (!data.plots.length) box.textContent = "This run logged nothing to plot yet.";
  } catch (error) { say(error.message); }
}

async function start() {
  config = await api("GET", "/api/config");
  for (const name of config.games) $("game").add(new Option(name, name));
  for (const size of config.go_sizes) $("size").add(new Option(`${size}x${size}`, size));
  $("game").value = config.default_game;
  if (config.runs.length === 0) $("runs").textContent = "No runs: start with --checkpoint or --run.";
  else for (const run of config.runs) $("run").add(new Option(run.name, run.index));
  $("game").onchange = async () => { await loadPlayers(); await newGame(); };
  $("size").onchange = async () => { await loadPlayers(); await newGame(); };
  $("new").onclick = newGame;
  $("undo").onclick = async () => {
    try { show(await api("POST", `/api/games/${current.id}/undo`)); } catch (e) { say(e.message); }
  };
  $("analyse").onclick = async () => {
    try { show(await api("POST", `/api/games/${current.id}/analyse`)); } catch (e) { say(e.message); }
  };
  $("pass").onclick = () => send("pass");
  $("heat").onchange = () => current && draw(current);
  $("first").onclick = () => step(0);
  $("prev").onclick = () => step(current.ply - 1);
  $("next").onclick = () => step(current.ply + 1);
  $("last").onclick = () => step(current.plies);
  $("export-record").onclick = () => exportGame("record");
  $("export-moves").onclick = () => exportGame("moves");
  if (config.runs.length) {
    $("run").onchange = loadRunFiles;
    $("replay").onclick = replay;
    $("show-plots").onclick = showPlots;
    await loadRunFiles();
  }
  await loadPlayers();
  await newGame();
}

start().catch((error) => say(error.message));
