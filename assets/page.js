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

  function dynamic(kind, symbol, className, text) {
    return h("Span", { id: { type: kind, symbol: symbol }, className: className }, text);
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
          h("Span", { className: "card-range-bar" }, dynamic("card-marker", symbol, "card-range-marker", "")),
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
        dynamic("card-price", symbol, "card-price", "—"),
        dynamic("card-change", symbol, "card-change", ""),
        range,
        dynamic("card-fresh", symbol, "card-fresh", ""),
      ]);
    });
  }

  function render(numbers, _clock, _cards, config) {
    var no = window.dash_clientside.no_update;
    var outputs = window.dash_clientside.callback_context.outputs_list;
    var triggered = window.dash_clientside.callback_context.triggered || [];
    if (!numbers) return outputs.map(function (o) { return Array.isArray(o) ? o.map(function () { return no; }) : no; });
    if (triggered.some(function (t) { return t.prop_id === "numbers.data"; }) || received.at !== numbers.at) {
      received = { at: numbers.at, client: Date.now() };
    }
    var serverNow = numbers.at + (Date.now() - received.client);
    var rows = numbers.cards || {};
    function each(index, fn) {
      return outputs[index].map(function (o) {
        var row = rows[o.id.symbol];
        return row ? fn(row) : no;
      });
    }
    var hidden = {};
    (numbers.hidden || []).forEach(function (s) { hidden[s] = true; });
    function card(index, fn) {
      return outputs[index].map(function (o) { return fn(o.id.symbol, !hidden[o.id.symbol]); });
    }
    var silent = Date.now() - received.client > 3 * config.refresh;
    var since = ET.format(new Date(numbers.at)) + " ET";
    var mode = silent ? "Not updating since " + since
      : numbers.live ? "Following live" : "Custom range · live updates continue";
    return [
      card(0, function (s, shown) { return shown ? "true" : "false"; }),
      card(1, function (s, shown) { return shown ? "stock-card" : "stock-card is-hidden"; }),
      card(2, function (s, shown) { return (shown ? "Hide " : "Show ") + s + " on the chart"; }),
      each(3, function (r) { return r[0] === null ? "—" : money(r[0]); }),
      each(4, function (r) { return change(r)[0]; }),
      each(5, function (r) { return change(r)[1]; }),
      each(6, function (r) { return r[4] === null ? { display: "none" } : { left: (r[4] * 100).toFixed(1) + "%" }; }),
      each(7, function (r) { return fresh(r, numbers.open, config.every, serverNow)[0]; }),
      each(8, function (r) { return fresh(r, numbers.open, config.every, serverNow)[1]; }),
      "Updated " + since,
      numbers.market,
      silent ? "No updates since " + since + ": the server cannot be reached. Retrying; the page catches up by itself." : "",
      !silent,
      mode,
    ];
  }

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
