// Formatters for the AG Grid tables (dashboard/grid.py): rows hold raw numbers and ISO times, so
// sorting is right; these show them in the viewer's locale (the <html lang> the server wrote).
(function () {
  const lang = () => (document.documentElement.lang === 'en' ? 'en' : 'zh-CN');
  const numberFormats = {};
  const fmt = (digits) => {
    const key = lang() + digits;
    numberFormats[key] = numberFormats[key] ||
      new Intl.NumberFormat(lang(), {minimumFractionDigits: digits, maximumFractionDigits: digits});
    return numberFormats[key];
  };
  const timeFormat = () => new Intl.DateTimeFormat(lang(), {month: 'short', day: 'numeric', hour: '2-digit',
                                                            minute: '2-digit', hour12: false});

  window.dashAgGridFunctions = Object.assign({}, window.dashAgGridFunctions, {
    PW: {
      number: (v, digits) => (v === null || v === undefined || v === '' ? '—' : fmt(digits).format(v)),
      percent: (v) => (v === null || v === undefined || v === '' ? '—' : fmt(1).format(v * 100) + '%'),
      minutes: (v) => {
        if (v === null || v === undefined) { return '—'; }
        const text = fmt(0).format(Math.abs(v)) + (lang() === 'en' ? ' min' : ' 分钟');
        return v < 0 ? (lang() === 'en' ? 'over by ' : '超出 ') + text : text;
      },
      time: (v) => (v ? timeFormat().format(new Date(v)) : '—'),
      // warning levels: the colour always sits next to the level's name in the cell
      levelClass: (params) => 'pw-level-cell pw-level-' + (params.data ? params.data.level : ''),
    },
  });
})();
