// The page's clientside callbacks: the theme, and the cards' text, freshness and status
// line drawn from the numbers of the last answer. The server sends numbers only (a few
// dozen bytes per stock); this file writes them as text and keeps "2 s ago" current
// between ticks, and notices when answers stop arriving.
(function () {
  "use strict";
  var ET = new Intl.DateTimeFormat("en-US", {
    timeZone: "America/New_York", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hour12: false,
  });
  var received = { at: null, client: null }; // the last answer: server time, client time

  function money(value) {
    return "$" + value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function signed(value, digits) {
    var text = Math.abs(value).toLocaleString("en-US", {
      minimumFractionDigits: digits, maximumFractionDigits: digits,
    });
    return (value > 0 ? "+" : value < 0 ? "−" : "±") + text;
  }

  function change(row) {
    if (row[1] === null || row[2] === null) return ["No previous close yet", "card-change flat"];
    var arrow = row[1] > 0 ? "▲ " : row[1] < 0 ? "▼ " : "■ ";
    var kind = row[1] > 0 ? "up" : row[1] < 0 ? "down" : "flat";
    return [arrow + signed(row[1], 2) + " (" + signed(row[2], 2) + "%)", "card-change " + kind];
  }

  function ago(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 172800) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " days ago";
  }

  function fresh(row, open, every, serverNow) {
    if (row[3] === null) return ["No price yet", "card-fresh"];
    var age = serverNow - row[3];
    if (!open) return ["Market closed · " + ago(age), "card-fresh closed"];
    if (age > 3 * every) return ["Stale · " + ago(age), "card-fresh stale"];
    return [ago(age), "card-fresh"];
  }

  function h(type, props, children) {
    if (children !== undefined) props.children = children;
    return { type: type, namespace: "dash_html_components", props: props };
  }

  function span(className, text) {
    return h("Span", { className: className }, text);
  }

  // Each card from its frame [symbol, name, logo, colour, 52-week low, high]: a button
  // that shows or hides the stock; render() writes the numbers in.
  function cards(frames) {
    if (!frames) return window.dash_clientside.no_update;
    return frames.map(function (f) {
      var symbol = f[0], low = f[4], high = f[5];
      var logo = f[2]
        ? h("Img", { src: f[2], alt: "", className: "card-logo", width: 32, height: 32 })
        : h("Span", { className: "card-logo card-logo-none", "aria-hidden": "true" }, symbol[0]);
      var range = low === null || high === null
        ? h("Span", { className: "card-range card-range-none" }, "No 52-week range yet")
        : h("Span", { className: "card-range", title: "Where today's price sits in its 52-week range" }, [
          h("Span", { className: "card-range-bar" }, span("card-range-marker", "")),
          h("Span", { className: "card-range-low", title: "52-week low" }, money(low)),
          h("Span", { className: "card-range-label" }, "52-wk"),
          h("Span", { className: "card-range-high", title: "52-week high" }, money(high)),
        ]);
      return h("Button", {
        id: { type: "card", symbol: symbol }, className: "stock-card", type: "button",
        style: { "--accent": f[3] }, "aria-pressed": "true", "data-symbol": symbol,
        title: "Hide " + symbol + " on the chart",
      }, [
        logo,
        h("Span", { className: "card-head" }, [
          h("Span", { className: "card-symbol" }, symbol),
          h("Span", { className: "card-name" }, f[1]),
        ]),
        span("card-price", "—"),
        span("card-change", ""),
        range,
        span("card-fresh", ""),
      ]);
    });
  }

  // The numbers of the last answer, written into the page's text by write() at each answer
  // and by a plain timer every second ("2 s ago", stale, the "no updates" banner). The
  // elements written here are drawn once and never given new props by Dash, so React
  // leaves what this writes alone; going through Dash's callbacks every second cost
  // ~25 ms a second at 6 stocks and ~150 ms at 30.
  var last = { numbers: null, config: null };

  function set(el, prop, value) {
    if (el && el[prop] !== value) el[prop] = value;
  }

  function write() {
    var numbers = last.numbers, config = last.config;
    if (!numbers || !config) return;
    var serverNow = numbers.at + (Date.now() - received.client);
    var hidden = {};
    (numbers.hidden || []).forEach(function (s) { hidden[s] = true; });
    Array.prototype.forEach.call(document.querySelectorAll(".stock-card"), function (card) {
      var symbol = card.dataset.symbol, shown = !hidden[symbol], row = (numbers.cards || {})[symbol];
      card.setAttribute("aria-pressed", shown ? "true" : "false");
      set(card, "className", shown ? "stock-card" : "stock-card is-hidden");
      set(card, "title", (shown ? "Hide " : "Show ") + symbol + " on the chart");
      if (!row) return;
      var price = card.querySelector(".card-price"), moved = card.querySelector(".card-change");
      var marker = card.querySelector(".card-range-marker"), freshness = card.querySelector(".card-fresh");
      var delta = change(row), age = fresh(row, numbers.open, config.every, serverNow);
      set(price, "textContent", row[0] === null ? "—" : money(row[0]));
      set(moved, "textContent", delta[0]);
      set(moved, "className", delta[1]);
      if (marker) {
        marker.style.display = row[4] === null ? "none" : "";
        if (row[4] !== null) marker.style.left = (row[4] * 100).toFixed(1) + "%";
      }
      set(freshness, "textContent", age[0]);
      set(freshness, "className", age[1]);
    });
    var silent = Date.now() - received.client > 3 * config.refresh;
    var since = ET.format(new Date(numbers.at)) + " ET";
    var banner = document.getElementById("stale-banner");
    set(document.getElementById("updated"), "textContent", "Updated " + since);
    set(document.getElementById("market-status"), "textContent", numbers.market);
    set(banner, "textContent", silent
      ? "No updates since " + since + ": the server cannot be reached. Retrying; the page catches up by itself."
      : "");
    set(banner, "hidden", !silent);
    set(document.getElementById("mode-label"), "textContent", silent ? "Not updating since " + since
      : numbers.live ? "Following live" : "Custom range · live updates continue");
  }

  // Called by Dash when an answer brings numbers or the cards were drawn anew.
  function render(numbers, _cards, config) {
    if (numbers) {
      if (received.at !== numbers.at) received = { at: numbers.at, client: Date.now() };
      last = { numbers: numbers, config: config };
      write();
    }
    return window.dash_clientside.no_update;
  }
  window.setInterval(write, 1000);

  function theme(clicks, choice) {
    var triggered = (window.dash_clientside.callback_context.triggered || []).map(function (t) { return t.prop_id; });
    var system = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
    if (triggered.indexOf("theme-toggle.n_clicks") >= 0 && clicks) {
      var current = document.documentElement.dataset.theme || choice || system;
      choice = current === "dark" ? "light" : "dark";
    }
    var effective = choice === "dark" || choice === "light" ? choice : system;
    document.documentElement.dataset.theme = effective;
    // A phone (narrow, or touch only) gets the compact chart: no drag, labels inside.
    var compact = window.matchMedia && window.matchMedia("(max-width: 600px), (hover: none) and (pointer: coarse)").matches;
    return [choice || null, effective, effective === "dark" ? "true" : "false", compact ? "compact" : "wide"];
  }

  // Cards are redrawn when the stocks change: give the keyboard focus back to the card
  // that had it, so Tab/Enter users keep their place.
  var refocus = null;
  document.addEventListener("click", function (event) {
    var card = event.target.closest && event.target.closest(".stock-card");
    refocus = card && document.activeElement === card ? card.dataset.symbol : null;
  }, true);
  new MutationObserver(function () {
    if (!refocus) return;
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    var card = document.querySelector('.stock-card[data-symbol="' + refocus + '"]');
    if (card) { card.focus(); refocus = null; }
  }).observe(document.documentElement, { childList: true, subtree: true });

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    stockstreamer: { cards: cards, render: render, theme: theme },
  });
})();
