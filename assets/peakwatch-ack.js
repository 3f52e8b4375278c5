// Acknowledge a warning (dashboard/callbacks/ack.py): a same-origin POST with the session's CSRF
// token in a header; the server checks role, scope, origin and token (dashboard/security/acks.py).
(function () {
  const fmt = (s, vals) => s.replace(/\{(\w+)\}/g, (_, k) => (k in vals ? vals[k] : ''));
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    peakwatchAck: {
      submit: async function (_n, comment, target, i18n) {
        if (!target || !i18n) { return window.dash_clientside.no_update; }
        try {
          const resp = await fetch('/api/v1/warnings/ack', {
            method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': target.csrf},
            body: JSON.stringify({code: target.code, level: target.level, comment: comment || ''}),
          });
          const body = await resp.json();
          return resp.status === 201 ? i18n.ack_done : fmt(i18n.ack_failed, {why: body.error || resp.status});
        } catch (err) {
          return fmt(i18n.ack_failed, {why: String(err)});
        }
      },
    },
  });
})();
