// Usage charts (contract §9): admitted vs refused verifications per bucket, drawn by hand as SVG. A
// charting library would cost more bytes than this whole file and most inject inline styles, which the
// page's CSP (no inline script or style) refuses; bars only need rects and a scale. Colours come from
// classes in the stylesheet, so both themes and print apply. Every chart has a table alternative.

import { h } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';

/** Refusal codes as people read them. */
export const REFUSAL_LABELS = /** @type {Record<string, string>} */ ({
  disabled_api_key: 'Disabled',
  expired_api_key: 'Expired',
  insufficient_scope: 'Missing scope',
  secret_key_required: 'Secret key required',
  ip_not_allowed: 'IP not allowed',
  origin_not_allowed: 'Origin not allowed',
  rate_limited: 'Rate limited',
  credits_exhausted: 'Out of credits',
});

/** @typedef {{ at: string, admitted: number, refused: Record<string, number> }} UsageBucket */

/** @param {UsageBucket} bucket */
export function refusedTotal(bucket) {
  return Object.values(bucket.refused).reduce((sum, n) => sum + n, 0);
}

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attributes
 * @returns {SVGElement}
 */
function svg(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/**
 * A bar chart of `data`: per bucket, admitted (bottom) and refused (top) stacked, with a legend, a
 * summary for assistive technology and the numbers as a table under "Show as table".
 *
 * @param {{ data: UsageBucket[], granularity: string }} usage
 * @param {{ title: string }} options
 * @returns {HTMLElement}
 */
export function usageChart(usage, { title }) {
  const { data } = usage;
  const admitted = data.reduce((sum, b) => sum + b.admitted, 0);
  const refused = data.reduce((sum, b) => sum + refusedTotal(b), 0);
  const max = Math.max(1, ...data.map((b) => b.admitted + refusedTotal(b)));
  const width = 600;
  const height = 160;
  const step = width / Math.max(1, data.length);
  const summary = `${title}: ${admitted} admitted, ${refused} refused.`;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'kw-chart',
    role: 'img',
    'aria-label': summary,
    preserveAspectRatio: 'none',
  });
  data.forEach((bucket, i) => {
    const x = i * step + step * 0.1;
    const w = Math.max(1, step * 0.8);
    const admittedHeight = (bucket.admitted / max) * height;
    const refusedHeight = (refusedTotal(bucket) / max) * height;
    if (admittedHeight > 0)
      chart.append(
        svg('rect', {
          x,
          y: height - admittedHeight,
          width: w,
          height: admittedHeight,
          class: 'kw-bar-admitted',
        }),
      );
    if (refusedHeight > 0)
      chart.append(
        svg('rect', {
          x,
          y: height - admittedHeight - refusedHeight,
          width: w,
          height: refusedHeight,
          class: 'kw-bar-refused',
        }),
      );
  });
  const codes = [...new Set(data.flatMap((b) => Object.keys(b.refused)))];
  const byCode = codes.map((code) => ({ code, n: data.reduce((sum, b) => sum + (b.refused[code] ?? 0), 0) }));
  return h(
    'figure',
    { class: 'kw-usage-figure' },
    h('figcaption', { class: 'kw-usage-caption' }, summary),
    chart,
    h(
      'ul',
      { class: 'kw-usage-legend' },
      h('li', { class: 'kw-legend-admitted' }, `Admitted: ${admitted}`),
      h('li', { class: 'kw-legend-refused' }, `Refused: ${refused}`),
      byCode.map(({ code, n }) =>
        h('li', { class: 'kw-legend-code' }, `${REFUSAL_LABELS[code] ?? code}: ${n}`),
      ),
    ),
    h(
      'details',
      { class: 'kw-usage-table' },
      h('summary', {}, 'Show as table'),
      h(
        'table',
        { class: 'kw-table' },
        h('caption', {}, title),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, usage.granularity === 'day' ? 'Day' : 'Hour (UTC)'),
            h('th', { scope: 'col' }, 'Admitted'),
            h('th', { scope: 'col' }, 'Refused'),
          ),
        ),
        h(
          'tbody',
          {},
          data
            .filter((b) => b.admitted > 0 || refusedTotal(b) > 0)
            .map((b) =>
              h(
                'tr',
                {},
                h(
                  'th',
                  { scope: 'row' },
                  b.at.slice(0, usage.granularity === 'day' ? 10 : 16).replace('T', ' '),
                ),
                h('td', {}, String(b.admitted)),
                h(
                  'td',
                  {},
                  Object.entries(b.refused)
                    .map(([code, n]) => `${REFUSAL_LABELS[code] ?? code}: ${n}`)
                    .join(', ') || '0',
                ),
              ),
            ),
        ),
      ),
    ),
  );
}
