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
  let lastGood = null;   // the last heartbeat that reached the server, kept across failures

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    peakwatch: {
      tick: async function (_n, versions) {
        try {
          const resp = await fetch('/api/v1/versions', {cache: 'no-store'});
          const body = await resp.json();
          if (!body.ok) {
            const hb = Object.assign({}, lastGood || {now: body.now, as_of: {}}, {ok: false, redis: false});
            return [noUpdate(), hb];
          }
          const hb = {ok: true, at: Date.now(), now: body.now, as_of: body.as_of, stale_after: body.stale_after};
          lastGood = hb;
          return [sameVersions(body.v, versions) ? noUpdate() : body.v, hb];
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
        const clock = hb.now ? new Date(serverNow(hb)).toISOString().slice(11, 19) : '';
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

      toggleLanguage: function (_n, lang) {
        const next = lang === 'en' ? 'zh' : 'en';
        document.cookie = 'pw_lang=' + next + '; path=/; max-age=31536000; SameSite=Lax';
        window.location.reload();
        return next;
      },
    },
  });
})();
