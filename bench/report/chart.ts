/**
 * The doc's chart, drawn as plain SVG (no dependencies): append→client latency percentiles
 * against connections at a steady rate (log scale), and delivered messages per second as fast
 * as clients receive, statuscast beside the raw `ws` ceiling and Socket.IO.
 */
export interface ChartSeries {
  readonly system: string;
  readonly label: string;
  readonly color: string;
  /** Per x position (connections): p50, p99 and max latency (ms) at the steady rate, burst deliveries/s. */
  readonly points: readonly { readonly connections: number; readonly p50: number; readonly p99: number; readonly max: number; readonly deliveredPerSecond: number }[];
}

const WIDTH = 1100;
const HEIGHT = 500;
const PANEL_W = 470;
const PANEL_H = 300;
const TOP = 125;
const LEFT_A = 80;
const LEFT_B = 620;

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const n = (x: number) => Math.round(x * 10) / 10;

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${n(x)}" y="${n(y)}" ${attrs}>${escape(content)}</text>`;
}

function compact(value: number): string {
  if (value >= 1e6) return `${n(value / 1e6)}M`;
  if (value >= 1e3) return `${n(value / 1e3)}k`;
  return String(value);
}

export function renderChart(series: readonly ChartSeries[], title: string, subtitle: string): string {
  const sizes = [...new Set(series.flatMap((s) => s.points.map((p) => p.connections)))].sort((a, b) => a - b);
  const xOf = (left: number, index: number) => left + ((index + 0.5) / sizes.length) * PANEL_W;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="13" fill="#1f2937">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    text(WIDTH / 2, 28, title, 'text-anchor="middle" font-size="18" font-weight="600"'),
    text(WIDTH / 2, 50, subtitle, 'text-anchor="middle" font-size="12" fill="#4b5563"'),
  );

  // Legend: one entry per system, plus the line styles.
  let lx = 130;
  for (const s of series) {
    parts.push(`<rect x="${lx}" y="70" width="14" height="14" rx="2" fill="${s.color}"/>`, text(lx + 20, 82, s.label));
    lx += 30 + s.label.length * 7.2;
  }
  parts.push(
    `<line x1="${lx + 10}" y1="77" x2="${lx + 40}" y2="77" stroke="#374151" stroke-width="2.5"/>`,
    `<circle cx="${lx + 25}" cy="77" r="4" fill="#374151"/>`,
    text(lx + 46, 82, 'p99'),
    `<line x1="${lx + 90}" y1="77" x2="${lx + 120}" y2="77" stroke="#374151" stroke-width="2" stroke-dasharray="6 4"/>`,
    `<circle cx="${lx + 105}" cy="77" r="3.5" fill="#ffffff" stroke="#374151" stroke-width="2"/>`,
    text(lx + 126, 82, 'p50'),
  );

  // Panel A: latency, log scale.
  const latencies = series.flatMap((s) => s.points.flatMap((p) => [p.p50, p.p99])).filter((v) => v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.max(0.01, Math.min(...latencies, 1)))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...latencies, 10))));
  const yA = (ms: number) => TOP + PANEL_H - ((Math.log10(Math.max(ms, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * PANEL_H;
  parts.push(text(LEFT_A + PANEL_W / 2, TOP - 8, 'Append→client latency at the steady rate (ms, log scale)', 'text-anchor="middle" font-weight="600"'));
  for (let v = lo; v <= hi * 1.0001; v *= 10) {
    const y = yA(v);
    parts.push(`<line x1="${LEFT_A}" y1="${n(y)}" x2="${LEFT_A + PANEL_W}" y2="${n(y)}" stroke="#e5e7eb"/>`);
    parts.push(text(LEFT_A - 8, y + 4, v >= 1 ? compact(v) : String(v), 'text-anchor="end" fill="#4b5563"'));
  }
  const budget = yA(50);
  if (50 > lo && 50 < hi) {
    parts.push(`<line x1="${LEFT_A}" y1="${n(budget)}" x2="${LEFT_A + PANEL_W}" y2="${n(budget)}" stroke="#dc2626" stroke-dasharray="2 3"/>`);
    parts.push(text(LEFT_A + PANEL_W - 4, budget - 5, 'p99 target 50 ms', 'text-anchor="end" fill="#dc2626" font-size="11"'));
  }
  for (const s of series) {
    for (const [key, dash, width] of [['p99', '', 2.5], ['p50', ' stroke-dasharray="6 4"', 2]] as const) {
      const pts = sizes
        .map((size, i) => ({ i, p: s.points.find((q) => q.connections === size) }))
        .filter((x) => x.p && x.p[key] > 0)
        .map(({ i, p }) => `${n(xOf(LEFT_A, i))},${n(yA(p![key]))}`);
      if (pts.length > 1) parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="${width}"${dash}/>`);
      for (const pt of pts) {
        const [x, y] = pt.split(',');
        parts.push(key === 'p99' ? `<circle cx="${x}" cy="${y}" r="4" fill="${s.color}"/>` : `<circle cx="${x}" cy="${y}" r="3.5" fill="#ffffff" stroke="${s.color}" stroke-width="2"/>`);
      }
      if (key === 'p99') {
        sizes.forEach((size, i) => {
          const p = s.points.find((q) => q.connections === size);
          if (p && p.p99 > 0) parts.push(text(xOf(LEFT_A, i) + 8, yA(p.p99) + 4, p.p99 >= 100 ? compact(Math.round(p.p99)) : String(n(p.p99)), `font-size="11" fill="${s.color}"`));
        });
      }
    }
  }
  parts.push(`<line x1="${LEFT_A}" y1="${TOP + PANEL_H}" x2="${LEFT_A + PANEL_W}" y2="${TOP + PANEL_H}" stroke="#9ca3af"/>`);
  sizes.forEach((size, i) => parts.push(text(xOf(LEFT_A, i), TOP + PANEL_H + 20, `${size.toLocaleString('en-US')}`, 'text-anchor="middle"')));
  parts.push(text(LEFT_A + PANEL_W / 2, TOP + PANEL_H + 42, 'connections (statuscast: half SignalR WebSockets, half SSE)', 'text-anchor="middle" fill="#4b5563"'));

  // Panel B: deliveries per second, grouped bars.
  const rates = series.flatMap((s) => s.points.map((p) => p.deliveredPerSecond));
  const maxRate = niceCeil(Math.max(...rates, 1));
  const yB = (v: number) => TOP + PANEL_H - (v / maxRate) * PANEL_H;
  parts.push(text(LEFT_B + PANEL_W / 2, TOP - 8, 'Delivered per second, as fast as clients receive', 'text-anchor="middle" font-weight="600"'));
  for (let k = 0; k <= 5; k++) {
    const v = (maxRate * k) / 5;
    const y = yB(v);
    parts.push(`<line x1="${LEFT_B}" y1="${n(y)}" x2="${LEFT_B + PANEL_W}" y2="${n(y)}" stroke="#e5e7eb"/>`);
    parts.push(text(LEFT_B - 8, y + 4, compact(v), 'text-anchor="end" fill="#4b5563"'));
  }
  const group = PANEL_W / sizes.length;
  const barW = Math.min(40, (group * 0.75) / series.length);
  sizes.forEach((size, i) => {
    const start = LEFT_B + i * group + (group - barW * series.length) / 2;
    series.forEach((s, j) => {
      const p = s.points.find((q) => q.connections === size);
      if (!p) return;
      const x = start + j * barW;
      const y = yB(p.deliveredPerSecond);
      parts.push(`<rect x="${n(x + 2)}" y="${n(y)}" width="${n(barW - 4)}" height="${n(TOP + PANEL_H - y)}" fill="${s.color}" rx="2"/>`);
      parts.push(text(x + barW / 2, y - 5, compact(p.deliveredPerSecond), 'text-anchor="middle" font-size="11" fill="#374151"'));
    });
    parts.push(text(LEFT_B + (i + 0.5) * group, TOP + PANEL_H + 20, `${size.toLocaleString('en-US')}`, 'text-anchor="middle"'));
  });
  parts.push(`<line x1="${LEFT_B}" y1="${TOP + PANEL_H}" x2="${LEFT_B + PANEL_W}" y2="${TOP + PANEL_H}" stroke="#9ca3af"/>`);
  parts.push(text(LEFT_B + PANEL_W / 2, TOP + PANEL_H + 42, 'connections (one event to one client = one delivery)', 'text-anchor="middle" fill="#4b5563"'));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function niceCeil(value: number): number {
  const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}
