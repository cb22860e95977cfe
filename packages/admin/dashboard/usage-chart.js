// Usage charts (docs/reference.md §9): admitted vs refused verifications per bucket, drawn by hand as SVG —
// the chart of the Usage panel and the 7-day sparkline of each row. A charting library would cost more
// bytes than this whole file and most set inline styles, which the page's CSP (no inline script or style)
// refuses; bars only need rects and a scale. Colours come from classes in the stylesheet, so both themes
// and print apply. Every chart has a table alternative; a sparkline says its numbers in text.

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

/** @typedef {import('./api.js').UsageBucket} UsageBucket */

/**
 * The refused verifications of a bucket, every code together.
 * @param {{ refused: Record<string, number> }} bucket
 */
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
 * Admitted and refused verifications of `data` in all.
 * @param {UsageBucket[]} data
 */
export function usageTotals(data) {
  return {
    admitted: data.reduce((sum, b) => sum + b.admitted, 0),
    refused: data.reduce((sum, b) => sum + refusedTotal(b), 0),
  };
}

/**
 * Stacked bars of `data` in an SVG `width` × `height` (admitted at the bottom, refused on top), no text.
 * @param {UsageBucket[]} data
 * @param {{ width: number, height: number, gap: number, label: string, className: string }} options
 */
function bars(data, { width, height, gap, label, className }) {
  const max = Math.max(1, ...data.map((b) => b.admitted + refusedTotal(b)));
  const step = width / Math.max(1, data.length);
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: className,
    role: 'img',
    'aria-label': label,
    preserveAspectRatio: 'none',
    focusable: 'false',
  });
  data.forEach((bucket, i) => {
    const x = i * step + step * gap;
    const w = Math.max(1, step * (1 - 2 * gap));
    const admittedHeight = (bucket.admitted / max) * height;
    const refusedHeight = (refusedTotal(bucket) / max) * height;
    if (admittedHeight > 0) {
      chart.append(
        svg('rect', {
          x,
          y: height - admittedHeight,
          width: w,
          height: admittedHeight,
          class: 'kw-bar-admitted',
        }),
      );
    }
    if (refusedHeight > 0) {
      chart.append(
        svg('rect', {
          x,
          y: height - admittedHeight - refusedHeight,
          width: w,
          height: refusedHeight,
          class: 'kw-bar-refused',
        }),
      );
    }
  });
  // A baseline, so that an empty chart still reads as a chart.
  chart.append(svg('line', { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: 'kw-chart-axis' }));
  return chart;
}

/**
 * A row's 7-day sparkline: one bar per day, and its numbers in text ("12 · 3 refused") for everyone.
 * @param {UsageBucket[]} data
 * @returns {HTMLElement}
 */
export function sparkline(data) {
  const { admitted, refused } = usageTotals(data);
  const label = `Last 7 days: ${admitted} admitted, ${refused} refused`;
  return h(
    'span',
    { class: 'kw-spark', title: label },
    bars(data, { width: 56, height: 16, gap: 0.12, label, className: 'kw-spark-chart' }),
    h(
      'span',
      { class: 'kw-spark-text', 'aria-hidden': 'true' },
      String(admitted),
      refused > 0 && h('span', { class: 'kw-spark-refused' }, ` · ${refused} refused`),
    ),
  );
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
  const { admitted, refused } = usageTotals(data);
  const summary = `${title}: ${admitted} admitted, ${refused} refused.`;
  const chart = bars(data, { width: 600, height: 160, gap: 0.1, label: summary, className: 'kw-chart' });
  const codes = [...new Set(data.flatMap((b) => Object.keys(b.refused)))];
  const byCode = byCount(
    codes.map((code) => ({ code, n: data.reduce((sum, b) => sum + (b.refused[code] ?? 0), 0) })),
  );
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
        { class: 'kw-data-table' },
        h('caption', {}, title),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, usage.granularity === 'day' ? 'Day (UTC)' : 'Hour (UTC)'),
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
                  byCount(Object.entries(b.refused).map(([code, n]) => ({ code, n })))
                    .map(({ code, n }) => `${REFUSAL_LABELS[code] ?? code}: ${n}`)
                    .join(', ') || '0',
                ),
              ),
            ),
        ),
      ),
    ),
  );
}

/**
 * Refusal counts in reading order: the most frequent first, then by label.
 * @param {Array<{ code: string, n: number }>} counts
 */
function byCount(counts) {
  const label = (/** @type {string} */ code) => REFUSAL_LABELS[code] ?? code;
  return [...counts].sort((a, b) => b.n - a.n || label(a.code).localeCompare(label(b.code), 'en'));
}
