// The treemap of the layer report: the final filesystem and the wasted bytes, coloured by layer.
// Every string from the image reaches the page through textContent only, never as markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var report = data.report, tree = data.tree;
  var canvas = document.getElementById("treemap");
  var tip = document.getElementById("tip");
  var crumbs = document.getElementById("crumbs");

  function colour(layer) {
    // The same golden-angle palette as the tables' swatches (trimdock.report.html.layer_colour).
    if (layer < 0) { return "hsl(0, 0%, 62%)"; }
    return "hsl(" + (Math.round((210 + layer * 137.508) * 10) % 3600) / 10 + ", 62%, 58%)";
  }
  function human(n) {
    var units = ["B", "kB", "MB", "GB", "TB"], i = 0;
    while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + units[i];
  }
  function instruction(layer) {
    var item = report.layers[layer];
    return item ? (item.instruction || "(no instruction recorded)") : "";
  }

  // -- the nodes: the kept filesystem tree, and a "wasted" branch from the wasted paths ------
  function node(name, size, layer, kind, parent) {
    var made = { name: name, size: size, layer: layer, kind: kind, parent: parent, kids: [] };
    if (parent) { parent.kids.push(made); }
    return made;
  }
  var top = node("image", report.totals.size_bytes, -1, "dir", null);
  var nodes = [];
  for (var i = 0; i < tree.names.length; i++) {
    var parent = i === 0 ? top : nodes[tree.parents[i]];
    nodes.push(node(i === 0 ? "/" : tree.names[i], tree.sizes[i], tree.layers[i], tree.kinds[i], parent));
    nodes[i].files = tree.files[i];
    if (data.reclaimable && data.reclaimable[i]) { nodes[i].reclaimable = data.reclaimable[i]; }
  }
  var fsRoot = nodes[0];
  fsRoot.label = "final filesystem";
  var wasted = node("(wasted: shipped, then hidden)", report.totals.wasted_bytes, -1, "dir", top);
  wasted.wasted = true;
  var shown = 0;
  report.wasted_paths.forEach(function (item) {
    var made = node(item.path, item.bytes, item.shipped_in, "wasted", wasted);
    made.wasted = true; made.item = item; made.files = item.files;
    shown += item.bytes;
  });
  if (report.totals.wasted_bytes > shown) {
    var rest = node("(" + (report.wasted_paths_total - report.wasted_paths.length) + " more wasted paths)",
      report.totals.wasted_bytes - shown, -1, "rest", wasted);
    rest.wasted = true;
  }
  function finish(n) {
    n.kids.sort(function (a, b) { return b.size - a.size; });
    var best = n.kids.length ? n.kids[0] : null;
    n.kids.forEach(finish);
    // A directory too small to open is painted in the colour of its largest part.
    n.paint = best ? best.paint : n.layer;
  }
  finish(top);

  function path(n) {
    if (n.wasted) { return n.item ? n.item.path : n.name; }
    var parts = [];
    for (var at = n; at && at !== fsRoot && at !== top; at = at.parent) { parts.unshift(at.name); }
    return "/" + parts.join("/");
  }

  // -- squarified layout ---------------------------------------------------------------------
  function worst(row, sum, side) {
    var max = row[0].area, min = row[row.length - 1].area, s2 = sum * sum, w2 = side * side;
    return Math.max(w2 * max / s2, s2 / (w2 * min));
  }
  function layout(kids, x, y, w, h) {
    var total = 0;
    kids.forEach(function (k) { total += k.size; });
    var placed = [];
    if (total <= 0 || w <= 0 || h <= 0) { return placed; }
    var items = kids.filter(function (k) { return k.size > 0; })
      .map(function (k) { return { node: k, area: k.size * w * h / total }; });
    var start = 0;
    while (start < items.length) {
      var side = Math.min(w, h), row = [items[start]], sum = items[start].area, end = start + 1;
      while (end < items.length) {
        var next = row.concat([items[end]]);
        if (worst(next, sum + items[end].area, side) > worst(row, sum, side)) { break; }
        row = next; sum += items[end].area; end++;
      }
      var offset = 0;
      if (w >= h) {
        var width = sum / h;
        row.forEach(function (it) {
          var height = it.area / width;
          placed.push([it.node, x, y + offset, width, height]); offset += height;
        });
        x += width; w -= width;
      } else {
        var tall = sum / w;
        row.forEach(function (it) {
          var wide = it.area / tall;
          placed.push([it.node, x + offset, y, wide, tall]); offset += wide;
        });
        y += tall; h -= tall;
      }
      start = end;
    }
    return placed;
  }

  // -- drawing -------------------------------------------------------------------------------
  var ctx = canvas.getContext("2d");
  var hits = [], focus = top, drawn = 0, hatch = null;
  function hatchPattern() {
    var tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    var t = tile.getContext("2d");
    t.strokeStyle = "rgba(180, 35, 24, 0.85)"; t.lineWidth = 2;
    t.beginPath(); t.moveTo(0, 8); t.lineTo(8, 0); t.stroke();
    return ctx.createPattern(tile, "repeat");
  }
  function label(text, x, y, w) {
    if (w < 24) { return; }
    ctx.fillStyle = "#1d232b";
    var shown = text;
    while (shown.length > 1 && ctx.measureText(shown).width > w - 4) { shown = shown.slice(0, -2); }
    if (shown !== text) { shown = shown.slice(0, -1) + "\u2026"; }
    ctx.fillText(shown, x + 2, y + 11);
  }
  function draw(n, x, y, w, h, depth) {
    if (w < 1 || h < 1) { return; }
    hits.push([x, y, w, h, n]);
    drawn++;
    var open = n.kids.length && w > 12 && h > 12 && depth < 40;
    if (!open) {
      ctx.fillStyle = colour(n.paint);
      ctx.fillRect(x, y, w, h);
      if (n.wasted) { ctx.fillStyle = hatch; ctx.fillRect(x, y, w, h); }
      ctx.strokeStyle = n.wasted ? "#b42318" : "rgba(255,255,255,0.9)";
      ctx.lineWidth = 1;
      ctx.strokeRect(x + 0.5, y + 0.5, Math.max(w - 1, 0), Math.max(h - 1, 0));
      if (n.reclaimable && w > 3 && h > 3) {
        // Reclaimable content: an orange outline, as wide as the share that could go allows.
        ctx.strokeStyle = "#e07b00";
        ctx.lineWidth = n.reclaimable * 2 >= n.size ? 3 : 1.5;
        ctx.strokeRect(x + 2, y + 2, Math.max(w - 4, 0), Math.max(h - 4, 0));
        ctx.lineWidth = 1;
      }
      if (h > 14) { label(n.name, x, y, w); }
      return;
    }
    ctx.fillStyle = n.wasted ? "#fbe9e7" : "#e9edf1";
    ctx.fillRect(x, y, w, h);
    ctx.strokeStyle = n.wasted ? "#b42318" : "#9aa5b1";
    ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
    var head = h > 40 && w > 40 ? 14 : 0;
    if (head) { label(n.label || n.name, x, y, w); }
    layout(n.kids, x + 2, y + 2 + head, w - 4, h - 4 - head).forEach(function (p) {
      draw(p[0], p[1], p[2], p[3], p[4], depth + 1);
    });
  }
  function render() {
    var ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth || 800, height = canvas.clientHeight || 520;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.font = "11px system-ui, sans-serif";
    ctx.clearRect(0, 0, width, height);
    hatch = hatch || hatchPattern();
    hits = []; drawn = 0;
    draw(focus, 0, 0, width, height, 0);
    canvas.setAttribute("data-drawn", String(drawn));
    showCrumbs();
  }
  function showCrumbs() {
    while (crumbs.firstChild) { crumbs.removeChild(crumbs.firstChild); }
    var chain = [];
    for (var at = focus; at; at = at.parent) { chain.unshift(at); }
    chain.forEach(function (n) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = (n.label || n.name) + " (" + human(n.size) + ")";
      button.addEventListener("click", function () { focus = n; render(); });
      crumbs.appendChild(button);
    });
    if (focus === top) {
      // The two halves of the image, one click away however small one of them is.
      top.kids.forEach(function (n) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "part";
        button.textContent = "\u2192 " + (n.label || n.name) + " (" + human(n.size) + ")";
        button.addEventListener("click", function () { focus = n; render(); });
        crumbs.appendChild(button);
      });
    }
  }
  function hit(event) {
    var box = canvas.getBoundingClientRect();
    var px = event.clientX - box.left, py = event.clientY - box.top;
    for (var k = hits.length - 1; k >= 0; k--) {
      var r = hits[k];
      if (px >= r[0] && py >= r[1] && px < r[0] + r[2] && py < r[1] + r[3]) { return r[4]; }
    }
    return null;
  }
  function line(text, bold) {
    var el = document.createElement(bold ? "b" : "div");
    el.textContent = text;
    tip.appendChild(el);
  }
  canvas.addEventListener("mousemove", function (event) {
    var n = hit(event);
    if (!n) { tip.style.display = "none"; return; }
    while (tip.firstChild) { tip.removeChild(tip.firstChild); }
    line(n.label || path(n), true);
    line(human(n.size) + " (" + n.size + " bytes)" + (n.files ? ", " + n.files + " files" : ""));
    if (n.item) {
      line(n.item.kind + ": shipped by #" + n.item.shipped_in + " " + instruction(n.item.shipped_in));
      line("hidden by #" + n.item.hidden_by + " " + n.item.hidden_by_instruction);
    } else if (n.layer >= 0 && n.kind !== "dir") {
      line("layer #" + n.layer + " " + instruction(n.layer));
    }
    if (n.reclaimable) { line("reclaimable: " + human(n.reclaimable)); }
    var panel = tip.parentNode.getBoundingClientRect();
    tip.style.left = Math.min(event.clientX - panel.left + 12, panel.width - 300) + "px";
    tip.style.top = (event.clientY - panel.top + 16) + "px";
    tip.style.display = "block";
  });
  canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  canvas.addEventListener("click", function (event) {
    var n = hit(event);
    while (n && !n.kids.length) { n = n.parent; }
    if (n && n !== focus) { focus = n; render(); }
  });
  canvas.tabIndex = 0;
  canvas.addEventListener("keydown", function (event) {
    // Escape or Backspace: back to the enclosing directory.
    if ((event.key === "Escape" || event.key === "Backspace") && focus.parent) {
      event.preventDefault();
      focus = focus.parent;
      render();
    }
  });
  window.addEventListener("resize", render);

  // What the browser computed from the data, for readers and for the tests: the visible bytes
  // are the sum of the tree's leaves, not a copy of the printed total.
  var leaves = 0, reclaimLeaves = 0;
  (function sum(n) {
    if (!n.kids.length) { leaves += n.size; reclaimLeaves += n.reclaimable || 0; }
    n.kids.forEach(sum);
  })(fsRoot);
  var summary = document.getElementById("treemap-summary");
  summary.setAttribute("data-visible-bytes", String(leaves));
  if (data.reclaimable) { summary.setAttribute("data-reclaimable-bytes", String(reclaimLeaves)); }
  summary.setAttribute("data-wasted-bytes", String(wasted.size));
  render();
  document.documentElement.setAttribute("data-treemap", "ready");
  // Milliseconds from the start of navigation to a drawn treemap (bench/html_bench.py).
  document.documentElement.setAttribute("data-ready-ms", String(Math.round(performance.now())));
})();
