// Introducer dashboard: plain JavaScript, no build step, no third-party code.
// Data comes from the JSON API (one page at a time) and live changes from one server-sent-event stream
// (/api/events); the page never polls. Everything from the server is put in the DOM as text, never as HTML.
'use strict';

(function () {
  const TOKEN_KEY = 'introducer.token';
  const USER_KEY = 'introducer.user';
  const PAGE_SIZE = 25;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const $ = (id) => document.getElementById(id);
  const view = {
    sessions: { page: 1, pages: 1, total: 0, filter: { peer: '', app: '', state: '' }, rows: new Map(), fresh: new Set() },
    peers: { page: 1, pages: 1, total: 0, filter: { peer: '', app: '' }, lastTotal: null },
    events: null,
  };

  // ---------- authentication ----------
  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function showLogin(message) {
    if (view.events) { view.events.close(); view.events = null; }
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    $('app').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('login-username').focus();
  }

  async function login(event) {
    event.preventDefault();
    const username = $('login-username').value.trim();
    const password = $('login-password').value;
    const adminToken = $('login-token').value.trim();
    const body = adminToken ? { token: adminToken } : { username, password };
    $('login-error').textContent = '';
    try {
      const res = await fetch('/api/login', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      const data = await res.json();
      if (!res.ok) { $('login-error').textContent = data.error || ('login failed: ' + res.status); return; }
      sessionStorage.setItem(TOKEN_KEY, data.token);
      sessionStorage.setItem(USER_KEY, data.user);
      $('login-password').value = '';
      $('login-token').value = '';
      start();
    } catch (e) {
      $('login-error').textContent = 'cannot reach the node: ' + e.message;
    }
  }

  async function api(path, params) {
    const query = params ? '?' + new URLSearchParams(clean(params)).toString() : '';
    const res = await fetch(path + query, { headers: { Authorization: 'Bearer ' + token() } });
    if (res.status === 401) { showLogin('Your session ended: sign in again.'); throw new Error('unauthorized'); }
    const data = await res.json();
    if (!res.ok) { throw new Error(data.error || ('HTTP ' + res.status)); }
    return data;
  }

  function clean(params) {
    const out = {};
    for (const [k, v] of Object.entries(params)) { if (v !== '' && v !== null && v !== undefined) { out[k] = v; } }
    return out;
  }

  // ---------- formatting ----------
  const pad = (n) => String(n).padStart(2, '0');
  function time(ms) {
    if (ms === null || ms === undefined) { return '—'; }
    const d = new Date(ms);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }
  function millis(v) { return v === null || v === undefined ? '—' : v + ' ms'; }
  function micros(v) { return v === null || v === undefined ? '—' : (v / 1000).toFixed(v < 10000 ? 2 : 0) + ' ms'; }
  function bytes(v) {
    if (v === null || v === undefined) { return '—'; }
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0; let x = v;
    while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
    return (i === 0 ? x : x.toFixed(1)) + ' ' + units[i];
  }
  function percent(v) { return v === null || v === undefined ? '—' : Math.round(v * 100) + '%'; }

  /** A pending session past its report deadline is shown expired, as the server would now call it. */
  function shownState(s) { return s.state === 'pending' && Date.now() > s.reportDeadline ? 'expired' : s.state; }

  function cell(tr, text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) { td.className = className; }
    tr.appendChild(td);
    return td;
  }
  function badge(td, text) {
    const span = document.createElement('span');
    span.className = 'state ' + text;
    span.textContent = text;
    td.textContent = '';
    td.appendChild(span);
  }
  function emptyRow(tbody, columns, text) {
    const tr = document.createElement('tr');
    const td = cell(tr, text, 'empty-row');
    td.colSpan = columns;
    tbody.appendChild(tr);
  }

  // ---------- sessions ----------
  function sessionRow(s) {
    const tr = document.createElement('tr');
    fillSessionRow(tr, s);
    return tr;
  }

  function fillSessionRow(tr, s) {
    tr.textContent = '';
    tr.dataset.id = s.id;
    const state = shownState(s);
    tr.dataset.state = state;
    cell(tr, time(s.createdAt));
    cell(tr, s.app);
    cell(tr, s.initiator, 'initiator');
    cell(tr, s.responder, 'responder');
    cell(tr, s.initiatorNat + ' / ' + s.responderNat);
    cell(tr, s.strategy);
    badge(cell(tr, '', 'state-cell'), state);
    cell(tr, s.path || '—', 'path' + (s.path ? ' path-' + s.path : ''));
    cell(tr, millis(s.timeToConnectMillis), 'ttc');
    cell(tr, micros(s.rttMicros));
    cell(tr, s.bytesRelayed === null ? '—' : bytes(s.bytesRelayed) + ' / ' + s.packetsRelayed + ' pkts');
    cell(tr, s.failureReason || '', 'reason');
  }

  async function loadSessions() {
    const v = view.sessions;
    try {
      const data = await api('/api/sessions', { page: v.page, size: PAGE_SIZE, ...v.filter });
      v.pages = Math.max(1, data.pages);
      v.total = data.total;
      v.rows.clear();
      v.fresh.clear();
      const tbody = $('sessions').tBodies[0];
      tbody.textContent = '';
      for (const s of data.items) {
        const tr = sessionRow(s);
        v.rows.set(s.id, { tr, createdAt: s.createdAt });
        tbody.appendChild(tr);
      }
      if (data.items.length === 0) { emptyRow(tbody, 12, 'No sessions match.'); }
      $('sessions-error').textContent = '';
      renderNewBadge();
      renderPager('sessions-pager', v);
    } catch (e) {
      if (e.message !== 'unauthorized') { $('sessions-error').textContent = e.message; }
    }
  }

  function matchesFilter(s) {
    const f = view.sessions.filter;
    return (!f.app || s.app === f.app)
      && (!f.peer || s.initiator.includes(f.peer) || s.responder.includes(f.peer))
      && (!f.state || shownState(s) === f.state);
  }

  /** Live changes: rows on screen are updated in place; new sessions go on top of page 1, else into a counter. */
  function applySessions(list) {
    const v = view.sessions;
    const tbody = $('sessions').tBodies[0];
    for (const s of list) {
      const row = v.rows.get(s.id);
      if (row) {
        fillSessionRow(row.tr, s);
        flash(row.tr);
        continue;
      }
      if (!matchesFilter(s) || v.fresh.has(s.id)) { continue; }
      const newest = v.rows.size ? Math.max(...[...v.rows.values()].map((r) => r.createdAt)) : 0;
      if (s.createdAt < newest) { continue; } // an older session changed: not on this page
      v.fresh.add(s.id);
      v.total++;
      if (v.page === 1) {
        const empty = tbody.querySelector('td.empty-row');
        if (empty) { empty.parentElement.remove(); }
        const tr = sessionRow(s);
        tbody.insertBefore(tr, tbody.firstChild);
        v.rows.set(s.id, { tr, createdAt: s.createdAt });
        flash(tr);
        while (tbody.rows.length > PAGE_SIZE) {
          const last = tbody.rows[tbody.rows.length - 1];
          v.rows.delete(last.dataset.id);
          last.remove();
        }
      }
    }
    v.pages = Math.max(1, Math.ceil(v.total / PAGE_SIZE));
    renderNewBadge();
    renderPager('sessions-pager', v);
  }

  function flash(tr) {
    tr.classList.remove('flash');
    void tr.offsetWidth; // restart the animation
    tr.classList.add('flash');
  }

  function renderNewBadge() {
    const v = view.sessions;
    const button = $('new-sessions');
    const waiting = v.page === 1 ? 0 : v.fresh.size;
    button.hidden = waiting === 0;
    button.textContent = waiting + ' new — show';
  }

  // ---------- peers ----------
  async function loadPeers() {
    const v = view.peers;
    try {
      const data = await api('/api/peers', { page: v.page, size: PAGE_SIZE, ...v.filter });
      v.pages = Math.max(1, data.pages);
      v.total = data.total;
      const tbody = $('peers').tBodies[0];
      tbody.textContent = '';
      for (const p of data.items) {
        const tr = document.createElement('tr');
        cell(tr, p.app);
        cell(tr, p.peer);
        cell(tr, p.public);
        cell(tr, p.hostCandidates.join(', ') || '—');
        cell(tr, p.nat);
        relayCell(tr, p.relayRtts || []);
        cell(tr, time(p.registeredAt));
        cell(tr, time(p.expiresAt));
        tbody.appendChild(tr);
      }
      if (data.items.length === 0) { emptyRow(tbody, 8, 'No registered peers match.'); }
      $('peers-error').textContent = '';
      renderPager('peers-pager', v);
    } catch (e) {
      if (e.message !== 'unauthorized') { $('peers-error').textContent = e.message; }
    }
  }

  // The relay the peer measured fastest and its RTT (the API lists them fastest first); all of them in the tooltip.
  function relayCell(tr, rtts) {
    const td = cell(tr, '', 'relay-rtt');
    if (rtts.length === 0) { td.textContent = '—'; return td; }
    td.appendChild(document.createTextNode(rtts[0].relay + ' · ' + micros(rtts[0].rttMicros)));
    if (rtts.length > 1) {
      const more = document.createElement('span');
      more.className = 'more';
      more.textContent = '+' + (rtts.length - 1);
      td.appendChild(more);
    }
    td.title = rtts.map((r) => r.relay + '  ' + micros(r.rttMicros)).join('\n');
    return td;
  }

  function renderPager(id, v) {
    const pager = $(id);
    pager.querySelector('.pager-text').textContent = 'page ' + v.page + ' of ' + v.pages + ' · ' + v.total + ' total';
    pager.querySelector('[data-step="-1"]').disabled = v.page <= 1;
    pager.querySelector('[data-step="1"]').disabled = v.page >= v.pages;
  }

  // ---------- nodes and relays ----------
  function renderNodes(nodes) {
    const tbody = $('nodes').tBodies[0];
    tbody.textContent = '';
    for (const n of nodes) {
      const tr = document.createElement('tr');
      const name = cell(tr, n.name);
      if (n.self) {
        const you = document.createElement('span');
        you.className = 'you';
        you.textContent = '(this node)';
        name.appendChild(you);
      }
      cell(tr, n.address || '—');
      cell(tr, (n.roles || []).join(', ') || '—');
      cell(tr, n.http || '—');
      badge(cell(tr, ''), n.health);
      tbody.appendChild(tr);
    }
    if (nodes.length === 0) { emptyRow(tbody, 5, 'No nodes.'); }
    $('count-nodes').textContent = nodes.length;
  }

  function renderRelays(relays) {
    const tbody = $('relays').tBodies[0];
    tbody.textContent = '';
    for (const r of relays) {
      const tr = document.createElement('tr');
      cell(tr, r.id);
      cell(tr, r.address);
      cell(tr, r.capacity ? r.allocations + ' / ' + r.capacity : String(r.allocations));
      const load = cell(tr, '');
      if (r.load !== null && r.load !== undefined) {
        const meter = document.createElement('span');
        meter.className = 'meter';
        const fill = document.createElement('span');
        fill.style.width = Math.min(100, Math.round(r.load * 100)) + '%';
        meter.appendChild(fill);
        load.appendChild(meter);
        load.appendChild(document.createTextNode(percent(r.load)));
      } else {
        load.textContent = '—';
      }
      cell(tr, bytes(r.bytesRelayed) + ' / ' + r.packetsRelayed + ' pkts');
      tbody.appendChild(tr);
    }
    if (relays.length === 0) { emptyRow(tbody, 5, 'No relay role in this cluster yet.'); }
    $('count-relays').textContent = relays.length;
  }

  // ---------- charts (inline SVG) ----------
  function svg(tag, attrs, text) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) { el.setAttribute(k, v); }
    if (text !== undefined) { el.textContent = text; }
    return el;
  }
  function empty(container, text) {
    container.textContent = '';
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = text;
    container.appendChild(p);
  }

  function chartSuccess(groups) {
    const box = $('chart-success');
    if (!groups.length) { empty(box, 'No sessions yet.'); return; }
    // One row per group: its NAT pair and strategy on a line, then the success-rate bar and time to connect.
    const rowH = 44; const barW = 300; const width = 620;
    const root = svg('svg', { viewBox: '0 0 ' + width + ' ' + (groups.length * rowH + 4), role: 'img' });
    groups.forEach((g, i) => {
      const y = i * rowH;
      root.appendChild(svg('text', { x: 0, y: y + 13 }, g.initiatorNat + ' ↔ ' + g.responderNat + ' · ' + g.strategy));
      root.appendChild(svg('rect', { x: 0, y: y + 19, width: barW, height: 18, rx: 3, fill: '#e1e6ee' }));
      const rate = g.successRate;
      if (rate !== null) {
        const color = rate >= 0.9 ? '#1f9d55' : rate >= 0.6 ? '#d98a00' : '#d64545';
        root.appendChild(svg('rect', { x: 0, y: y + 19, width: Math.max(1, barW * rate), height: 18, rx: 3, fill: color }));
      }
      root.appendChild(svg('text', { x: 6, y: y + 32, fill: rate !== null && rate > 0.2 ? '#fff' : '#1d2430' },
        rate === null ? g.pending + ' pending' : percent(rate) + ' connected of ' + g.decided));
      const t = g.timeToConnectMillis;
      root.appendChild(svg('text', { x: barW + 12, y: y + 32, class: 'dim' },
        t ? 'time to connect p50 ' + t.p50 + ' ms · p90 ' + t.p90 + ' ms' : 'no connection yet'));
    });
    box.textContent = '';
    box.appendChild(root);
  }

  function chartPaths(paths) {
    const box = $('chart-paths');
    const total = paths.direct + paths.relay;
    const root = svg('svg', { viewBox: '0 0 240 150', role: 'img' });
    const cx = 70; const cy = 75; const r = 52; const w = 20;
    const ring = (color, from, to) => {
      if (to - from >= 0.9999) {
        return svg('circle', { cx, cy, r, fill: 'none', stroke: color, 'stroke-width': w });
      }
      const a0 = 2 * Math.PI * from - Math.PI / 2; const a1 = 2 * Math.PI * to - Math.PI / 2;
      const large = to - from > 0.5 ? 1 : 0;
      const d = 'M ' + (cx + r * Math.cos(a0)) + ' ' + (cy + r * Math.sin(a0))
        + ' A ' + r + ' ' + r + ' 0 ' + large + ' 1 ' + (cx + r * Math.cos(a1)) + ' ' + (cy + r * Math.sin(a1));
      return svg('path', { d, fill: 'none', stroke: color, 'stroke-width': w });
    };
    if (total === 0) {
      root.appendChild(svg('circle', { cx, cy, r, fill: 'none', stroke: '#e1e6ee', 'stroke-width': w }));
      root.appendChild(svg('text', { x: cx, y: cy + 4, 'text-anchor': 'middle', class: 'dim' }, 'none yet'));
    } else {
      const share = paths.direct / total;
      if (paths.direct > 0) { root.appendChild(ring('#1f9d55', 0, share)); }
      if (paths.relay > 0) { root.appendChild(ring('#d98a00', share, 1)); }
      root.appendChild(svg('text', { x: cx, y: cy + 5, 'text-anchor': 'middle', 'font-weight': 600 }, percent(share)));
    }
    root.appendChild(svg('rect', { x: 140, y: 52, width: 10, height: 10, fill: '#1f9d55' }));
    root.appendChild(svg('text', { x: 156, y: 61 }, 'direct ' + paths.direct));
    root.appendChild(svg('rect', { x: 140, y: 80, width: 10, height: 10, fill: '#d98a00' }));
    root.appendChild(svg('text', { x: 156, y: 89 }, 'relayed ' + paths.relay));
    box.textContent = '';
    box.appendChild(root);
  }

  function chartRelay(samples) {
    const box = $('chart-relay');
    if (!samples.length) { empty(box, 'No relay role in this cluster yet.'); return; }
    const W = 360; const H = 150; const left = 34; const bottom = 20; const top = 18;
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
    const t0 = samples[0].at; const t1 = Math.max(t0 + 1, samples[samples.length - 1].at);
    const x = (t) => left + (W - left - 8) * (t - t0) / (t1 - t0);
    const series = [
      { key: 'allocations', color: '#2f6fdf', label: 'allocations', fmt: (v) => String(v) },
      { key: 'bytesPerSecond', color: '#d98a00', label: 'bytes/s', fmt: (v) => bytes(Math.round(v)) + '/s' },
    ];
    root.appendChild(svg('line', { x1: left, y1: H - bottom, x2: W - 8, y2: H - bottom, stroke: '#e1e6ee' }));
    series.forEach((s, i) => {
      const max = Math.max(1, ...samples.map((p) => p[s.key]));
      const y = (v) => H - bottom - (H - bottom - top) * v / max;
      const points = samples.map((p) => x(p.at).toFixed(1) + ',' + y(p[s.key]).toFixed(1)).join(' ');
      root.appendChild(svg('polyline', { points, fill: 'none', stroke: s.color, 'stroke-width': 2 }));
      const last = samples[samples.length - 1][s.key];
      root.appendChild(svg('text', { x: left + i * 170, y: 12, fill: s.color }, s.label + ': ' + s.fmt(last) + ' (max ' + s.fmt(max) + ')'));
    });
    root.appendChild(svg('text', { x: left, y: H - 4, class: 'dim' }, time(t0)));
    root.appendChild(svg('text', { x: W - 8, y: H - 4, class: 'dim', 'text-anchor': 'end' }, time(t1)));
    box.textContent = '';
    box.appendChild(root);
  }

  // ---------- stats (pushed every few seconds while connected) ----------
  function renderStats(stats) {
    const byState = stats.sessions.byState;
    $('count-total').textContent = stats.sessions.total;
    for (const k of Object.keys(byState)) {
      const el = $('count-' + k);
      if (el) { el.textContent = byState[k]; }
    }
    $('count-peers').textContent = stats.peers.total;
    chartSuccess(stats.sessions.groups);
    chartPaths(stats.sessions.paths);
    chartRelay(stats.relayLoad);
    renderNodes(stats.nodes);
    renderRelays(stats.relays);
    // The registered-peer table follows the server's count rather than a timer.
    if (view.peers.lastTotal !== null && view.peers.lastTotal !== stats.peers.total) { loadPeers(); }
    view.peers.lastTotal = stats.peers.total;
  }

  // ---------- live stream ----------
  function connect() {
    if (view.events) { view.events.close(); }
    const f = view.sessions.filter;
    const params = new URLSearchParams(clean({ app: f.app, peer: f.peer, access_token: token() }));
    const es = new EventSource('/api/events?' + params.toString());
    view.events = es;
    const status = $('live-status');
    es.onopen = () => { status.textContent = 'live'; status.className = 'live on'; };
    es.onerror = () => {
      status.textContent = 'reconnecting'; status.className = 'live off';
      // One check (not a loop) whether the stream failed because the login expired; EventSource retries itself.
      api('/api/stats').catch(() => {});
    };
    es.addEventListener('sessions', (e) => applySessions(JSON.parse(e.data)));
    es.addEventListener('stats', (e) => renderStats(JSON.parse(e.data)));
    es.addEventListener('resync', () => loadSessions());
  }

  async function start() {
    $('login').hidden = true;
    $('app').hidden = false;
    $('who').textContent = sessionStorage.getItem(USER_KEY) || '';
    connect();
    await Promise.all([loadSessions(), loadPeers(), api('/api/stats').then(renderStats).catch(() => {})]);
  }

  // ---------- wiring ----------
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', () => showLogin(''));
  $('session-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = view.sessions.filter;
    f.peer = $('filter-peer').value.trim();
    f.app = $('filter-app').value.trim();
    f.state = $('filter-state').value;
    view.sessions.page = 1;
    connect();
    loadSessions();
  });
  $('peer-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    view.peers.filter.peer = $('peer-filter-peer').value.trim();
    view.peers.filter.app = $('peer-filter-app').value.trim();
    view.peers.page = 1;
    loadPeers();
  });
  $('new-sessions').addEventListener('click', () => { view.sessions.page = 1; loadSessions(); });
  for (const [id, v, load] of [['sessions-pager', view.sessions, loadSessions], ['peers-pager', view.peers, loadPeers]]) {
    $(id).addEventListener('click', (e) => {
      const step = Number(e.target.dataset && e.target.dataset.step);
      if (!step) { return; }
      v.page = Math.min(Math.max(1, v.page + step), v.pages);
      load();
    });
  }

  if (token()) { start(); } else { showLogin(''); }
}());
