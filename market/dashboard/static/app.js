// The live dashboard of one market. It loads the current state from the engine's JSON API,
// then follows the market over Server-Sent Events, reconnecting by itself. Plain browser
// JavaScript, no build step: the engine serves this file as it is.
'use strict';

(() => {
  const MAX_TICKS = 300;
  const MAX_GIBBS = 50;
  const $ = (id) => document.getElementById(id);

  const state = {
    market: null,          // the latest /api/market answer
    marketAt: 0,           // performance.now() when it arrived
    ticks: [],             // oldest first, at most MAX_TICKS
    gibbs: [],             // newest first, at most MAX_GIBBS
    board: [],             // the latest leaderboard
    phase: 'pending',
  };

  // ---- formatting ----------------------------------------------------------------------

  const num = (s) => (s === undefined || s === null || s === '' ? NaN : Number(s));
  const fixed = (s, d) => { const v = num(s); return Number.isFinite(v) ? v.toFixed(d) : '—'; };
  const signed = (v, d) => (v > 0 ? '+' : v < 0 ? '−' : '±') + Math.abs(v).toFixed(d);

  function clockText(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
    return (h > 0 ? h + ':' : '') + mm + ':' + String(sec).padStart(2, '0');
  }

  // parseDuration reads a Go duration ("1s", "1m30s", "100ms", "1h0m0s") in milliseconds.
  function parseDuration(s) {
    if (!s || typeof s !== 'string') return 0;
    const units = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
    let total = 0;
    const re = /([0-9.]+)(ns|us|µs|ms|s|m|h)/g;
    let m;
    while ((m = re.exec(s)) !== null) total += parseFloat(m[1]) * units[m[2]];
    return total;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- market, clock and phase ---------------------------------------------------------

  function setPhase(phase) {
    if (!phase) return;
    state.phase = phase;
    const p = $('phase');
    p.textContent = phase;
    p.dataset.phase = phase;
    document.body.dataset.phase = phase;
    $('board').closest('.card').querySelector('h2').firstChild.textContent =
      phase === 'closed' ? 'Final ranking ' : 'Leaderboard ';
  }

  function applyMarket(m) {
    if (!m || typeof m !== 'object') return;
    state.market = m;
    state.marketAt = performance.now();
    if (m.market) {
      $('market-name').textContent = 'market ' + m.market;
      document.title = 'Monkonomy — ' + m.market;
    }
    setPhase(m.phase);
    if (typeof m.traders === 'number') {
      $('traders-count').textContent = m.traders + (m.traders === 1 ? ' trader' : ' traders');
    }
    if (m.tick !== undefined) $('tick').textContent = m.tick;
    updateClock();
  }

  function marketTimeMs() {
    const m = state.market;
    if (!m) return 0;
    let t = Number(m.marketTimeMs) || 0;
    // Between two answers the clock runs on while the market is open.
    if (state.phase === 'open') t += Math.min(performance.now() - state.marketAt, 2 * tickMs() + 1000);
    return t;
  }

  function tickMs() {
    return parseDuration(state.market && state.market.tickInterval) || 1000;
  }

  function updateClock() {
    const m = state.market;
    const dur = parseDuration(m && m.duration);
    const t = marketTimeMs();
    if (dur > 0) {
      const left = Math.max(0, dur - t);
      $('clock-label').textContent = state.phase === 'closed' ? 'Played' : 'Time left';
      $('clock').textContent = state.phase === 'closed' ? clockText(Math.min(t, dur)) : clockText(left);
      $('progress').hidden = false;
      $('progress-bar').style.width = (state.phase === 'closed' ? 100 : Math.min(100, (100 * t) / dur)).toFixed(2) + '%';
    } else {
      $('clock-label').textContent = 'Market time';
      $('clock').textContent = clockText(t);
      $('progress').hidden = true;
    }
  }

  let marketLoading = false;
  async function loadMarket() {
    if (marketLoading) return;
    marketLoading = true;
    try {
      applyMarket(await getJSON('api/market'));
    } catch (e) {
      // The next tick or reconnect asks again.
    } finally {
      marketLoading = false;
    }
  }

  // ---- ticks and the chart -------------------------------------------------------------

  function addTick(t, redraw) {
    if (!t || t.seq === undefined) return;
    const seq = Number(t.seq);
    const last = state.ticks[state.ticks.length - 1];
    if (last && seq <= Number(last.seq)) {
      if (seq === Number(last.seq)) state.ticks[state.ticks.length - 1] = t;
      else return;
    } else {
      state.ticks.push(t);
    }
    if (state.ticks.length > MAX_TICKS) state.ticks.splice(0, state.ticks.length - MAX_TICKS);
    if (redraw) showQuote();
  }

  function showQuote() {
    const n = state.ticks.length;
    if (n === 0) return;
    const t = state.ticks[n - 1];
    const prev = n > 1 ? state.ticks[n - 2] : null;
    $('price').textContent = fixed(t.price, 4);
    $('ema').textContent = fixed(t.ema, 4);
    $('forecast').textContent = fixed(t.forecast, 4);
    $('hype').textContent = fixed(t.hype, 2);
    $('tick').textContent = t.seq;
    const burst = Number(t.burst) || 0;
    $('burst').textContent = burst > 0 ? 'step ' + burst + ' / 10' : 'none';
    $('burst').classList.toggle('on', burst > 0);
    const change = $('change');
    change.classList.remove('up', 'down');
    if (prev) {
      // Rounded as shown, so that a change too small to see shows no direction.
      const d = Math.round((num(t.price) - num(prev.price)) * 1e4) / 1e4;
      const pct = num(prev.price) > 0 ? (100 * d) / num(prev.price) : 0;
      const dir = d > 0 ? 'up' : d < 0 ? 'down' : '';
      if (dir) change.classList.add(dir);
      change.textContent = (d > 0 ? '▲ ' : d < 0 ? '▼ ' : '') + signed(d, 4) + ' (' + signed(pct, 2) + '%)';
    } else {
      change.textContent = '';
    }
    if (t.phase) setPhase(t.phase);
    $('chart-empty').hidden = true;
    scheduleDraw();
  }

  const chart = $('chart');
  let drawPending = false;
  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; drawChart(); });
  }

  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  function drawChart() {
    const dpr = window.devicePixelRatio || 1;
    const w = chart.clientWidth, h = chart.clientHeight;
    if (w === 0 || h === 0) return;
    if (chart.width !== Math.round(w * dpr) || chart.height !== Math.round(h * dpr)) {
      chart.width = Math.round(w * dpr);
      chart.height = Math.round(h * dpr);
    }
    const ctx = chart.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    if (state.ticks.length === 0) return;

    const fontPx = Math.max(12, Math.min(20, Math.round(w / 70)));
    // A narrow screen shows fewer ticks, so that each stays readable.
    const ticks = state.ticks.slice(-Math.max(30, Math.floor(w / 4)));
    const font = fontPx + 'px system-ui, "Liberation Sans", "DejaVu Sans", sans-serif';
    const axisW = fontPx * 5;
    const left = 4, right = w - axisW;
    const hypeH = Math.max(40, Math.round(h * 0.22));
    const priceTop = fontPx * 0.8, priceBottom = h - hypeH - fontPx * 1.6;
    const hypeTop = h - hypeH, hypeBottom = h - fontPx * 0.4;

    const first = Number(ticks[0].seq), last = Number(ticks[ticks.length - 1].seq);
    const span = Math.max(last - first, 30);
    const x = (seq) => left + ((seq - first) / span) * (right - left - fontPx);

    let lo = Infinity, hi = -Infinity;
    for (const t of ticks) {
      for (const v of [num(t.price), num(t.ema)]) {
        if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      }
    }
    if (hi - lo < 0.02) { const mid = (hi + lo) / 2; lo = mid - 0.01; hi = mid + 0.01; }
    const pad = (hi - lo) * 0.1; lo -= pad; hi += pad;
    const y = (v) => priceBottom - ((v - lo) / (hi - lo)) * (priceBottom - priceTop);

    const colors = {
      line: cssVar('--line'), muted: cssVar('--muted'), banana: cssVar('--banana'),
      ema: cssVar('--ema'), hype: cssVar('--hype'), burst: cssVar('--burst'), text: cssVar('--text'),
    };

    // Bursts: a band while one runs, and a marked line at each step (numbered when there
    // is room for the number).
    let prevBurst = 0, lastLabel = -Infinity;
    const half = Math.max(1, (x(first + 1) - x(first)) / 2);
    ctx.font = 'bold ' + fontPx * 0.8 + 'px system-ui, "Liberation Sans", sans-serif';
    ctx.textAlign = 'center';
    for (const t of ticks) {
      const b = Number(t.burst) || 0;
      const cx = x(Number(t.seq));
      if (b > 0) {
        ctx.fillStyle = 'rgba(255, 93, 93, 0.10)';
        ctx.fillRect(cx - half, priceTop, half * 2, hypeBottom - priceTop);
      }
      if (b > 0 && b !== prevBurst) {
        ctx.strokeStyle = colors.burst;
        ctx.lineWidth = 1.5;
        ctx.setLineDash([4, 4]);
        ctx.beginPath(); ctx.moveTo(cx, priceTop); ctx.lineTo(cx, hypeBottom); ctx.stroke();
        ctx.setLineDash([]);
        if (cx - lastLabel > fontPx * 1.3) {
          lastLabel = cx;
          ctx.fillStyle = colors.burst;
          ctx.beginPath(); ctx.arc(cx, priceTop + fontPx * 0.4, fontPx * 0.55, 0, Math.PI * 2); ctx.fill();
          ctx.fillStyle = '#fff';
          ctx.textBaseline = 'middle';
          ctx.fillText(String(b), cx, priceTop + fontPx * 0.42);
        }
      }
      prevBurst = b;
    }

    // Price axis: grid lines and labels on the right, but for those the last price's tag
    // would cover.
    const lp = num(ticks[ticks.length - 1].price);
    const ly = y(lp), lx = x(last), tagH = fontPx * 1.5;
    ctx.font = font;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.lineWidth = 1;
    const steps = 4;
    for (let i = 0; i <= steps; i++) {
      const v = lo + ((hi - lo) * i) / steps;
      const yy = Math.round(y(v)) + 0.5;
      ctx.strokeStyle = colors.line;
      ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(right, yy); ctx.stroke();
      ctx.fillStyle = colors.muted;
      if (Math.abs(yy - ly) > tagH) ctx.fillText(v.toFixed(3), right + 8, yy);
    }

    const series = (key, yf, color, width, dash) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.setLineDash(dash || []);
      ctx.lineJoin = 'round';
      ctx.beginPath();
      let started = false;
      for (const t of ticks) {
        const v = num(t[key]);
        if (!Number.isFinite(v)) continue;
        const px = x(Number(t.seq)), py = yf(v);
        if (started) ctx.lineTo(px, py); else { ctx.moveTo(px, py); started = true; }
      }
      ctx.stroke();
      ctx.setLineDash([]);
    };

    // Price: a soft fill under the line, then the line; the EMA dashed on top.
    const grad = ctx.createLinearGradient(0, priceTop, 0, priceBottom);
    grad.addColorStop(0, 'rgba(255, 210, 63, 0.22)');
    grad.addColorStop(1, 'rgba(255, 210, 63, 0)');
    ctx.fillStyle = grad;
    ctx.beginPath();
    ctx.moveTo(x(first), priceBottom);
    for (const t of ticks) ctx.lineTo(x(Number(t.seq)), y(num(t.price)));
    ctx.lineTo(x(last), priceBottom);
    ctx.closePath();
    ctx.fill();
    series('price', y, colors.banana, Math.max(2, fontPx / 6));
    series('ema', y, colors.ema, Math.max(1.5, fontPx / 9), [8, 6]);

    // The last price, labelled on the axis.
    ctx.fillStyle = colors.banana;
    ctx.beginPath(); ctx.arc(lx, ly, Math.max(3, fontPx / 4), 0, Math.PI * 2); ctx.fill();
    ctx.fillRect(right + 2, ly - tagH / 2, axisW - 4, tagH);
    ctx.fillStyle = '#1a1400';
    ctx.font = 'bold ' + font;
    ctx.fillText(lp.toFixed(4), right + 7, ly);

    // Hype: its own panel below, filled from zero.
    let hmax = 0.05, hmin = 0;
    for (const t of ticks) {
      const v = num(t.hype);
      if (Number.isFinite(v)) { hmax = Math.max(hmax, v); hmin = Math.min(hmin, v); }
    }
    const hy = (v) => hypeBottom - ((v - hmin) / (hmax - hmin)) * (hypeBottom - hypeTop - fontPx * 0.6);
    ctx.strokeStyle = colors.line;
    ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(left, hypeTop - fontPx * 0.3); ctx.lineTo(right, hypeTop - fontPx * 0.3); ctx.stroke();
    ctx.fillStyle = 'rgba(196, 144, 255, 0.25)';
    ctx.beginPath();
    ctx.moveTo(x(first), hy(0));
    for (const t of ticks) ctx.lineTo(x(Number(t.seq)), hy(num(t.hype) || 0));
    ctx.lineTo(x(last), hy(0));
    ctx.closePath();
    ctx.fill();
    series('hype', hy, colors.hype, Math.max(1.5, fontPx / 8));
    ctx.font = font;
    ctx.fillStyle = colors.hype;
    ctx.textAlign = 'left';
    ctx.fillText(fixed(ticks[ticks.length - 1].hype, 2), right + 8, hy(num(ticks[ticks.length - 1].hype) || 0));
    ctx.font = 'bold ' + fontPx * 0.75 + 'px system-ui, "Liberation Sans", sans-serif';
    ctx.fillText('HYPE', left + 4, hypeTop + fontPx * 0.3);
    ctx.font = font;
    ctx.fillStyle = colors.muted;
    ctx.textAlign = 'right';
    ctx.fillText('tick ' + first + ' – ' + last, right - 4, hypeTop + fontPx * 0.3);

    // Gibbs that moved the hype: a mark on the hype panel at their tick.
    for (const g of state.gibbs) {
      const seq = Number(g.tick);
      if (!(seq >= first && seq <= last) || !Number(g.points)) continue;
      const gx = x(seq), gy = hy(num(g.hype) || 0);
      ctx.fillStyle = g.burst ? colors.burst : Number(g.points) > 0 ? cssVar('--up') : cssVar('--down');
      ctx.beginPath(); ctx.arc(gx, gy, Math.max(3, fontPx / 4), 0, Math.PI * 2); ctx.fill();
    }
  }

  new ResizeObserver(scheduleDraw).observe(chart);

  // ---- leaderboard ---------------------------------------------------------------------

  const rowsEl = $('board-rows');
  const rowByTrader = new Map();
  const columns = [
    ['c-score', 'score', 'Score'],
    ['c-fed', 'fed', 'Monkeys'],
    ['c-coins', 'coins', 'Coins'],
    ['c-shares', 'shares', 'Shares'],
    ['c-bail', 'bailouts', 'Bailouts'],
    ['c-fly', 'inflight', 'In flight'],
  ];

  function makeRow(trader) {
    const row = el('div', 'row');
    row.setAttribute('role', 'row');
    row.dataset.trader = trader;
    row.append(el('span', 'c-rank'));
    const who = el('span', 'c-who');
    who.append(el('span', 'team'), el('span', 'trader'));
    row.append(who);
    for (const [cls, , label] of columns) {
      const c = el('span', cls);
      c.dataset.label = label;
      row.append(c);
    }
    return row;
  }

  function cellText(key, v) {
    if (key === 'coins') return fixed(v, 2);
    return v === undefined || v === null ? '—' : String(v);
  }

  function applyBoard(list) {
    if (!Array.isArray(list)) return;
    list = list.slice().sort((a, b) => (a.rank || 0) - (b.rank || 0));
    state.board = list;
    // FLIP: remember where every row was, put them in their new order, then slide each
    // from its old place to the new one.
    const before = new Map();
    for (const [name, row] of rowByTrader) before.set(name, row.getBoundingClientRect().top);
    const seen = new Set();
    for (const s of list) {
      seen.add(s.trader);
      let row = rowByTrader.get(s.trader);
      const fresh = !row;
      if (fresh) { row = makeRow(s.trader); rowByTrader.set(s.trader, row); }
      const oldRank = Number(row.dataset.rank) || 0;
      row.dataset.rank = s.rank;
      row.children[0].textContent = s.rank;
      row.children[1].children[0].textContent = s.team || s.trader;
      row.children[1].children[1].textContent = s.trader;
      columns.forEach(([, key], i) => {
        const c = row.children[2 + i];
        const text = cellText(key, s[key]);
        if (c.textContent !== text) {
          if (!fresh && (key === 'score' || key === 'fed') && Number(s[key]) > Number(c.textContent)) {
            c.classList.remove('bump'); void c.offsetWidth; c.classList.add('bump');
          }
          c.textContent = text;
        }
      });
      row.children[6].classList.toggle('some', Number(s.bailouts) > 0);
      row.children[7].classList.toggle('some', Number(s.inflight) > 0);
      row.title = s.trader + ' — net worth ' + fixed(s.netWorth, 2) + ' coins';
      if (!fresh && oldRank && oldRank !== Number(s.rank)) {
        row.classList.remove('rose', 'fell'); void row.offsetWidth;
        row.classList.add(Number(s.rank) < oldRank ? 'rose' : 'fell');
      }
      rowsEl.append(row);
    }
    for (const [name, row] of rowByTrader) {
      if (!seen.has(name)) { row.remove(); rowByTrader.delete(name); }
    }
    for (const [name, row] of rowByTrader) {
      const was = before.get(name);
      if (was === undefined) continue;
      const dy = was - row.getBoundingClientRect().top;
      if (Math.abs(dy) < 1) continue;
      row.style.transition = 'none';
      row.style.transform = 'translateY(' + dy + 'px)';
      row.classList.add('moving');
      requestAnimationFrame(() => {
        row.style.transition = 'transform 0.7s cubic-bezier(0.2, 0.8, 0.2, 1)';
        row.style.transform = '';
        row.addEventListener('transitionend', () => row.classList.remove('moving'), { once: true });
      });
    }
    $('board-empty').hidden = list.length > 0;
    $('traders-count').textContent = list.length + (list.length === 1 ? ' trader' : ' traders');
  }

  // ---- gibbs ---------------------------------------------------------------------------

  const feedEl = $('feed');

  function gibbText(text) {
    // Highlight the words that move the hype: "banana" and the hashtag.
    const frag = document.createDocumentFragment();
    const re = /(banana|#?mktd)/gi;
    let at = 0, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > at) frag.append(text.slice(at, m.index));
      frag.append(el('mark', '', m[0]));
      at = m.index + m[0].length;
    }
    if (at < text.length) frag.append(text.slice(at));
    return frag;
  }

  function gibbItem(g, fresh) {
    const li = el('li');
    li.dataset.seq = g.seq;
    const pts = Number(g.points) || 0;
    const burst = g.burst === true || g.burst === 1 || g.burst === '1' || g.burst === 'true';
    if (pts > 0) li.classList.add('pos');
    if (pts < 0) li.classList.add('neg');
    if (burst) li.classList.add('burst');
    if (fresh) li.classList.add('new');
    const meta = el('div', 'meta');
    meta.append(el('span', 'author', g.author || 'someone'), el('span', '', 'tick ' + (g.tick ?? '—')));
    if (g.time) {
      const d = new Date(g.time);
      if (!isNaN(d)) meta.append(el('span', '', d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })));
    }
    const p = el('p', 'text');
    p.append(gibbText(String(g.text || '')));
    const fx = el('div', 'effects');
    fx.append(el('span', 'chip ' + (pts > 0 ? 'pos' : pts < 0 ? 'neg' : ''), (pts > 0 ? '+' : '') + pts + (Math.abs(pts) === 1 ? ' point' : ' points')));
    fx.append(el('span', 'chip hype', 'hype ' + fixed(g.hype, 2)));
    if (burst) fx.append(el('span', 'chip burst', 'BURST STARTED'));
    li.append(meta, p, fx);
    return li;
  }

  function addGibb(g, fresh) {
    if (!g || g.seq === undefined) return;
    if (state.gibbs.some((x) => Number(x.seq) === Number(g.seq))) return;
    state.gibbs.push(g);
    state.gibbs.sort((a, b) => Number(b.seq) - Number(a.seq));
    if (state.gibbs.length > MAX_GIBBS) state.gibbs.length = MAX_GIBBS;
    renderFeed(fresh ? Number(g.seq) : -1);
  }

  function renderFeed(freshSeq) {
    const items = state.gibbs.map((g) => {
      const old = feedEl.querySelector('li[data-seq="' + g.seq + '"]');
      return old || gibbItem(g, Number(g.seq) === freshSeq);
    });
    feedEl.replaceChildren(...items);
    $('feed-empty').hidden = state.gibbs.length > 0;
    scheduleDraw();
  }

  // ---- posting a gibb ------------------------------------------------------------------

  const form = $('post'), author = $('gibb-author'), text = $('gibb-text'), msg = $('gibb-msg');
  try { author.value = localStorage.getItem('monkonomy.author') || ''; } catch (e) { /* private mode */ }

  function showCount() {
    const left = 280 - text.value.length;
    $('gibb-count').textContent = left;
    $('gibb-count').classList.toggle('low', left < 20);
  }
  text.addEventListener('input', showCount);

  function say(kind, s) {
    msg.className = 'post-msg ' + kind;
    msg.textContent = s;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { author: author.value.trim(), text: text.value.trim() };
    if (!body.author || !body.text) { say('error', 'Write your name and a gibb.'); return; }
    try { localStorage.setItem('monkonomy.author', body.author); } catch (e) { /* private mode */ }
    $('gibb-send').disabled = true;
    say('', 'Posting…');
    try {
      const res = await fetch('api/gibbs', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      let data = {};
      try { data = await res.json(); } catch (e) { /* an empty or plain-text body */ }
      if (res.ok) {
        const g = data.gibb || data;
        text.value = '';
        showCount();
        const pts = Number(g.points) || 0;
        say('ok', 'Posted: ' + (pts > 0 ? '+' : '') + pts + ' points, hype now ' + fixed(g.hype, 2) + (g.burst ? ' — and a burst started!' : '.'));
        addGibb(g, true);
      } else if (res.status === 401 || res.status === 403) {
        say('error', data.error || 'Posting here needs the organiser\'s token.');
      } else if (res.status === 429) {
        say('error', data.error || 'One gibb per tick: wait a moment and post again.');
      } else {
        say('error', data.error || 'The market refused the gibb (HTTP ' + res.status + ').');
      }
    } catch (e) {
      say('error', 'The market cannot be reached; check the connection and try again.');
    } finally {
      $('gibb-send').disabled = false;
    }
  });
  showCount();

  // ---- loading and live updates --------------------------------------------------------

  async function getJSON(path) {
    const res = await fetch(path, { cache: 'no-store' });
    if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
    return res.json();
  }

  async function loadAll() {
    const [market, ticks, board, gibbs] = await Promise.allSettled([
      getJSON('api/market'), getJSON('api/ticks?n=' + MAX_TICKS), getJSON('api/leaderboard'), getJSON('api/gibbs?n=' + MAX_GIBBS),
    ]);
    if (market.status === 'fulfilled') applyMarket(market.value);
    if (ticks.status === 'fulfilled' && Array.isArray(ticks.value)) {
      // Ticks that came over the stream while the request ran are newer: keep them.
      const last = ticks.value.length ? Number(ticks.value[ticks.value.length - 1].seq) : -1;
      const newer = state.ticks.filter((t) => Number(t.seq) > last);
      state.ticks = [];
      for (const t of ticks.value.concat(newer)) addTick(t, false);
      showQuote();
    }
    if (board.status === 'fulfilled') applyBoard(board.value);
    if (gibbs.status === 'fulfilled' && Array.isArray(gibbs.value)) {
      const top = gibbs.value.length ? Number(gibbs.value[0].seq) : -1;
      const newer = state.gibbs.filter((g) => Number(g.seq) > top);
      state.gibbs = [];
      feedEl.replaceChildren();
      for (const g of gibbs.value.concat(newer)) addGibb(g, false);
    }
  }

  function setConn(s, text) {
    $('conn').dataset.state = s;
    $('conn-text').textContent = text || s;
  }

  let es = null, retry = 0, retryTimer = 0, lastEvent = 0;

  function parse(e) { try { return JSON.parse(e.data); } catch (err) { return null; } }

  function connect() {
    clearTimeout(retryTimer);
    if (es) es.close();
    setConn(retry ? 'reconnecting' : 'connecting', retry ? 'reconnecting' : 'connecting');
    es = new EventSource('api/events');
    es.onopen = () => {
      retry = 0;
      lastEvent = performance.now();
      setConn('live', 'live');
      loadAll();
    };
    es.onerror = () => {
      // The browser retries by itself while the stream is CONNECTING; once CLOSED (an HTTP
      // error, a proxy cut) it is up to us, with a growing pause.
      if (es.readyState === EventSource.CLOSED) {
        setConn('offline', 'offline — retrying');
        retry++;
        retryTimer = setTimeout(connect, Math.min(15000, 500 * 2 ** Math.min(retry, 5)));
      } else {
        setConn('reconnecting', 'reconnecting');
      }
    };
    const on = (name, fn) => es.addEventListener(name, (e) => {
      lastEvent = performance.now();
      if ($('conn').dataset.state !== 'live') setConn('live', 'live');
      const d = parse(e);
      if (d !== null) fn(d);
    });
    on('tick', (t) => {
      addTick(t, true);
      if (state.market) { state.market.tick = t.seq; }
      if (t.phase && t.phase !== state.phase) setPhase(t.phase);
      // The market's clock and trader count come with /api/market: ask at most once a
      // second, the clock runs on by itself in between.
      if (performance.now() - state.marketAt > 1000) loadMarket();
    });
    on('gibb', (g) => addGibb(g, true));
    on('leaderboard', applyBoard);
    // A phase event carries the whole market summary.
    on('phase', (p) => {
      if (typeof p === 'string') { setPhase(p); loadMarket(); } else applyMarket(p);
    });
  }

  // A stream that says nothing while the market is open is stale (a sleeping laptop, a
  // proxy that buffers): start again.
  setInterval(() => {
    updateClock();
    if (state.phase === 'open' && es && es.readyState === EventSource.OPEN &&
        performance.now() - lastEvent > Math.max(10000, 5 * tickMs())) {
      retry++;
      connect();
    }
  }, 250);

  window.addEventListener('resize', scheduleDraw);
  connect();
})();
