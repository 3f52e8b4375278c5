// Clientside callbacks of the shell: the version tick, tile ages, the stale/unreachable banner.
// The tick is one small GET; when no dataset version changed, nothing else is sent or rendered.
(function () {
  const noUpdate = () => window.dash_clientside.no_update;
  const fmt = (s, vals) => s.replace(/\{(\w+)\}/g, (_, k) => (k in vals ? vals[k] : ''));
  const sameVersions = (a, b) => JSON.stringify(a || {}) === JSON.stringify(b || {});
  // Server time now, estimated from the last heartbeat plus the time since it arrived.
  const serverNow = (hb) => new Date(hb.now.replace(' ', 'T')).getTime() + (Date.now() - hb.at);
  const ageSeconds = (hb, ds) => {
    const asOf = hb.as_of && hb.as_of[ds];
    return asOf ? Math.max(0, Math.round((serverNow(hb) - new Date(asOf).getTime()) / 1000)) : null;
  };
  const isStale = (hb, ds) => {
    const age = ageSeconds(hb, ds), limit = hb.stale_after && hb.stale_after[ds];
    return age === null || (limit != null && age > limit);
  };
  // The URL scheme (dashboard/scope.py): /<page>/<code>; the overview's node view is /region/<code>.
  const SCOPED = /^\/(region|load|repairs|outages|warnings|keycustomers|sensitive|wall)\/([A-Za-z0-9_-]+)/;
  const nodeOf = (pathname) => { const m = SCOPED.exec(pathname); return m ? m[2] : null; };
  const pageUrl = (page, code) => (page === 'overview' ? '/region/' : '/' + page + '/') +
    encodeURIComponent(code) + window.location.search;
  // Server times are naive China Standard Time and parse as the browser's local time: show them
  // with the local getters (toISOString would shift them by the browser's UTC offset).
  const hhmmss = (d) => [d.getHours(), d.getMinutes(), d.getSeconds()].map((x) => String(x).padStart(2, '0')).join(':');
  const isKiosk = () => document.documentElement.classList.contains('pw-kiosk');
  // Server callbacks Dash has asked for and not yet applied (its store is window.store).
  const PENDING = ['requested', 'prioritized', 'blocked', 'executing', 'watched', 'executed'];
  const serverCallbacksPending = () => {
    const callbacks = window.store && window.store.getState && window.store.getState().callbacks;
    return !!callbacks && PENDING.some((k) => (callbacks[k] || []).some(
      (cb) => cb.callback && !cb.callback.clientside_function));
  };
  // kiosk state, kept for the life of the page (a reload starts it afresh)
  const wall = {loadedAt: Date.now(), position: -1, enteredAt: 0, wasAway: false};
  let lastGood = null;   // the last heartbeat that reached the server, kept across failures
  // The tick state this page holds (versions, as_of, stale limits) and its ETag: the server
  // answers 304 when it is current, or sends only the keys that moved (dashboard/tick.py).
  const tickState = {etag: null, state: null};
  const applyDelta = (state, delta) => {
    const next = {};
    ['v', 'as_of', 'stale_after'].forEach((section) => {
      next[section] = Object.assign({}, state[section]);
      Object.entries(delta[section] || {}).forEach(([k, val]) => {
        if (val === null) { delete next[section][k]; } else { next[section][k] = val; }
      });
    });
    return next;
  };

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    peakwatch: {
      tick: async function (_n, versions) {
        try {
          const resp = await fetch('/api/v1/versions', {cache: 'no-store', headers: tickState.etag ? {'If-None-Match': tickState.etag} : {}});
          if (resp.status === 401) {
            // signed out, session expired or kiosk token revoked: no more data, go to the sign-in page
            window.location.assign('/login?next=' + encodeURIComponent(window.location.pathname + window.location.search));
            return [noUpdate(), noUpdate()];
          }
          let now;
          if (resp.status === 304) {
            now = resp.headers.get('X-Now');             // nothing moved: only the clock advances
          } else {
            const body = await resp.json();
            if (!body.ok) {
              const hb = Object.assign({}, lastGood || {now: body.now, as_of: {}}, {ok: false, redis: false});
              return [noUpdate(), hb];
            }
            now = body.now;
            tickState.state = body.delta ? applyDelta(tickState.state, body.delta) : body;
            tickState.etag = resp.headers.get('ETag');
          }
          const state = tickState.state;
          const moved = !sameVersions(state.v, versions);
          const hb = {ok: true, at: Date.now(), now: now, as_of: state.as_of, stale_after: state.stale_after,
                      moved: moved};
          lastGood = hb;
          return [moved ? state.v : noUpdate(), hb];
        } catch (err) {
          // The server is unreachable: keep the last values and say so; the next tick retries.
          return [noUpdate(), Object.assign({}, lastGood || {now: new Date().toISOString(), at: Date.now(), as_of: {}},
                                            {ok: false, unreachable: true})];
        }
      },

      ages: function (hb, i18n) {
        const outs = window.dash_clientside.callback_context.outputs_list[0];
        if (!hb || !i18n) { return [outs.map(noUpdate), outs.map(noUpdate)]; }
        const text = [], cls = [];
        outs.forEach((o) => {
          const ds = o.id.dataset, age = ageSeconds(hb, ds);
          text.push(age === null ? i18n.no_data
                    : age < 120 ? fmt(i18n.updated_ago, {n: age}) : fmt(i18n.updated_min_ago, {n: Math.round(age / 60)}));
          cls.push('pw-age' + (isStale(hb, ds) || hb.unreachable ? ' pw-age-stale' : ''));
        });
        return [text, cls];
      },

      banner: function (hb, i18n) {
        if (!hb || !i18n) { return [noUpdate(), noUpdate(), noUpdate()]; }
        const clock = hb.now ? hhmmss(new Date(serverNow(hb))) : '';
        const since = (ds) => (hb.as_of && hb.as_of[ds] ? hb.as_of[ds].replace('T', ' ').slice(0, 16) : '—');
        if (hb.unreachable) {
          return [fmt(i18n.unreachable, {since: hb.now ? hb.now.replace('T', ' ').slice(0, 16) : '—'}),
                  'pw-banner pw-banner-down', noUpdate()];
        }
        if (hb.redis === false) { return [i18n.redis_down, 'pw-banner pw-banner-down', clock]; }
        const stale = ['load', 'orders', 'outages'].filter((ds) => isStale(hb, ds));
        if (stale.length) {
          const what = stale.map((ds) => i18n['dataset_' + ds]).join('、');
          const oldest = stale.map(since).sort()[0];
          return [fmt(i18n.stale_since, {what: what, since: oldest}), 'pw-banner pw-banner-stale', clock];
        }
        return ['', 'pw-banner', clock];
      },

      // ---- the overview's children table (dashboard/callbacks/overview.py sends its columns) ----
      childrenTable: function (data, i18n) {
        if (!data || !data.nodes || !i18n) { return noUpdate(); }
        const el = (namespace, type, props) => ({namespace: namespace, type: type, props: props});
        const cell = (children) => el('dash_html_components', 'Td', {children: children});
        // the formats of dashboard/i18n.py: number() "1,234.5" and percent() "85.3%"
        const num = (x, digits) => (x === null || x === undefined ? '—'
          : Number(x).toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits}));
        const pct = (x) => (x === null || x === undefined ? '—' : (x * 100).toFixed(1) + '%');
        const at = (ds, i) => (data[ds] && data[ds][i]) || [null, null];
        const head = el('dash_html_components', 'Thead', {children: el('dash_html_components', 'Tr', {
          children: ['name', 'load_mw', 'load_rate', 'repair_today', 'open_repair', 'outages_active', 'outage_customers']
            .map((k) => el('dash_html_components', 'Th', {children: i18n[k]}))})});
        const rows = data.nodes.map(([code, name], i) => el('dash_html_components', 'Tr', {children: [
          cell(el('dash_core_components', 'Link', {children: name, href: '/region/' + code})),
          cell(num(at('load', i)[0], 1)), cell(pct(at('load', i)[1])),
          cell(num(at('orders', i)[0], 0)), cell(num(at('orders', i)[1], 0)),
          cell(num(at('outages', i)[0], 0)), cell(num(at('outages', i)[1], 0))]}));
        return el('dash_bootstrap_components', 'Table', {
          children: [head, el('dash_html_components', 'Tbody', {children: rows})],
          hover: true, size: 'sm', className: 'pw-table'});
      },

      // ---- the wall (dashboard/callbacks/wall.py) ----
      viewportWidth: function () { return window.innerWidth; },

      wallClock: function (hb, lang) {
        if (!hb || !hb.now) { return noUpdate(); }
        const now = new Date(serverNow(hb));
        const locale = lang === 'en' ? 'en' : 'zh-CN';
        const date = new Intl.DateTimeFormat(locale, {year: 'numeric', month: 'long', day: 'numeric', weekday: 'short'});
        return [hhmmss(now), {namespace: 'dash_html_components', type: 'Div',
                props: {children: date.format(now), className: 'pw-wall-date'}}];
      },

      kioskTick: function (playlist) {
        return isKiosk() && playlist && playlist.tick_ms ? playlist.tick_ms : noUpdate();
      },

      // Walk the playlist; reload on schedule and after the server was unreachable, but only
      // while it answers, so a reload never leaves the screen on a browser error page.
      rotate: function (hb, playlist) {
        if (!isKiosk() || !playlist || !playlist.screens || !playlist.screens.length) { return noUpdate(); }
        const now = Date.now();
        const reachable = hb && hb.ok !== false && !hb.unreachable;
        if (hb && hb.unreachable) { wall.wasAway = true; }
        if (reachable && (wall.wasAway || now - wall.loadedAt >= playlist.reload_ms)) {
          window.location.reload();
          return noUpdate();
        }
        const screens = playlist.screens;
        if (wall.position < 0) {
          const here = window.location.pathname + window.location.search;
          wall.position = Math.max(0, screens.findIndex((s) => s.url === here));
          wall.enteredAt = now;
        }
        if (now - wall.enteredAt < screens[wall.position].dwell_ms) { return noUpdate(); }
        // Only on a quiet tick: Dash applies a refresh's Patch that answers after the page changed
        // to a component the next page lacks, and throws "Cannot patch undefined".
        if (hb && (hb.moved || serverCallbacksPending())) { return noUpdate(); }
        wall.position = (wall.position + 1) % screens.length;
        wall.enteredAt = now;
        return screens[wall.position].url;
      },

      // ---- navigation (dashboard/callbacks/nav.py) ----
      drillChart: function () {
        const trig = window.dash_clientside.callback_context.triggered[0];
        const point = trig && trig.value && trig.value.points && trig.value.points[0];
        if (!point || !point.customdata) { return noUpdate(); }
        const code = Array.isArray(point.customdata) ? point.customdata[0] : point.customdata;
        return pageUrl(JSON.parse(trig.prop_id.split('.')[0]).page, code);
      },

      drillGrid: function () {
        const trig = window.dash_clientside.callback_context.triggered[0];
        const node = trig && trig.value && trig.value.rowId ? String(trig.value.rowId).split('|')[0] : '';
        if (!node) { return noUpdate(); }
        return pageUrl(JSON.parse(trig.prop_id.split('.')[0]).page, node);
      },

      hoursFromZoom: function () {
        const trig = window.dash_clientside.callback_context.triggered[0];
        const r = (trig && trig.value) || {};
        const params = new URLSearchParams(window.location.search);
        if (r['xaxis.autorange']) {
          params.delete('hours');
        } else if (r['xaxis.range[0]'] !== undefined) {
          const from = Math.max(0, Math.floor(r['xaxis.range[0]']));
          const to = Math.min(24, Math.ceil(r['xaxis.range[1]']));
          if (to > from) { params.set('hours', from + '-' + to); }
        } else {
          return;
        }
        const query = params.toString();
        window.history.replaceState(window.history.state, '', window.location.pathname + (query ? '?' + query : ''));
      },

      exportCsv: function (n) { return n ? true : noUpdate(); },

      navLinks: function (pathname, search) {
        const outs = window.dash_clientside.callback_context.outputs_list;
        const code = nodeOf(pathname || '/');
        return outs.map((o) => {
          const page = o.id.page;
          if (page === 'ops') { return '/ops'; }
          const base = page === 'overview' ? (code ? '/region/' + code : '/') : '/' + page + (code ? '/' + code : '');
          return base + (search || '');
        });
      },

      toggleTheme: function () {
        const dark = document.documentElement.getAttribute('data-pw-theme') === 'dark';
        document.cookie = 'pw_theme=' + (dark ? 'light' : 'dark') + '; path=/; max-age=31536000; SameSite=Lax';
        window.location.reload();
      },

      toggleLanguage: function (_n, lang) {
        const next = lang === 'en' ? 'zh' : 'en';
        document.cookie = 'pw_lang=' + next + '; path=/; max-age=31536000; SameSite=Lax';
        window.location.reload();
        return next;
      },
    },
  });
})();
