// gst-s2s benchmark report: reads <dir>/results.jsonl and machine.json
// (written by scripts/bench.sh), prints the table, writes <dir>/table.md and
// <dir>/cpu.svg (CPU per conversation against N, ours and the peer's; plain
// SVG, no plotting library).
//
// node report.mjs <dir>

import fs from 'node:fs';

const dir = process.argv[2];
const rows = fs.readFileSync(`${dir}/results.jsonl`, 'utf8').split('\n').filter(Boolean)
  .map((l) => JSON.parse(l)).filter((r) => !r.failed);
const machine = JSON.parse(fs.readFileSync(`${dir}/machine.json`, 'utf8')).machine;

const ns = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
const ours = [...new Set(rows.map((r) => r.client))].filter((c) => c !== 'floor' && c !== 'openai-node');
const get = (client, n) => rows.find((r) => r.client === client && r.n === n);
const f = (v, d = 3) => (v === undefined || v === null || v < 0 ? 'n/a' : v.toFixed(d));
const mib = (kib) => (kib === undefined || kib < 0 ? 'n/a' : (kib / 1024).toFixed(2));
const ratio = (a, b) => (a >= 0 && b > 0 ? (a / b).toFixed(2) : 'n/a');

const out = [];
out.push(`Machine: ${machine.nproc} cores, ${machine.cpu}; load average at start ${machine.loadavg}; ` +
  `${machine.date}, commit ${machine.commit}; ${machine.duration} s measured per point` +
  (machine.phase ? `; phase ${machine.phase}, driver sources ${machine.source}.` : '.'));
out.push('');
out.push('CPU is % of one core per live conversation (process CPU seconds / (N × measured seconds)); ' +
  'marginal = ours − floor. RSS in MiB per conversation = (RSS at the end − RSS before the first conversation) / N.');
out.push('');
for (const el of ours) {
  out.push(`### ${el}`);
  out.push('');
  out.push('| N | floor CPU % | ours CPU % | ours marginal % | peer CPU % | marginal / peer | ours / peer | ' +
    'emulator CPU % (ours / peer run) | ours RSS MiB/conv | floor RSS MiB/conv | peer RSS MiB/conv | ' +
    'in p50 / p99 ms | out p50 / p99 ms | late out | replies ours / peer | errors ours / peer |');
  out.push('|' + ' --- |'.repeat(16));
  for (const n of ns) {
    const fl = get('floor', n), o = get(el, n), p = get('openai-node', n);
    if (!o) continue;
    const marg = fl ? o.cpu_pct_per_conv - fl.cpu_pct_per_conv : -1;
    out.push(`| ${n} | ${f(fl?.cpu_pct_per_conv)} | ${f(o.cpu_pct_per_conv)} | ${f(marg)} | ` +
      `${f(p?.cpu_pct_per_conv)} | ${p ? ratio(marg, p.cpu_pct_per_conv) : 'n/a'} | ` +
      `${p ? ratio(o.cpu_pct_per_conv, p.cpu_pct_per_conv) : 'n/a'} | ` +
      `${f(o.emu_cpu_pct_per_conv)} / ${f(p?.emu_cpu_pct_per_conv)} | ` +
      `${mib(o.rss_per_conv_kib)} | ${mib(fl?.rss_per_conv_kib)} | ${mib(p?.rss_per_conv_kib)} | ` +
      `${f(o.lat_in_p50_ms)} / ${f(o.lat_in_p99_ms)} | ${f(o.lat_out_p50_ms)} / ${f(o.lat_out_p99_ms)} | ` +
      `${o.late_out ?? 'n/a'} | ${o.responses} / ${p?.responses ?? 'n/a'} | ${o.errors} / ${p?.errors ?? 'n/a'} |`);
  }
  out.push('');
  // RSS per added conversation from one N to the next (the slope)
  const slope = [];
  for (let i = 1; i < ns.length; i++) {
    const a = ns[i - 1], b = ns[i];
    const s = (c) => {
      const x = get(c, a), y = get(c, b);
      return x && y ? mib((y.rss_end_kib - x.rss_end_kib) / (b - a)) : 'n/a';
    };
    slope.push(`| ${a} → ${b} | ${s(el)} | ${s('floor')} | ${s('openai-node')} |`);
  }
  if (slope.length) {
    out.push('RSS per added conversation (slope of RSS at the end between runs), MiB:');
    out.push('');
    out.push('| N | ours | floor | peer |');
    out.push('| --- | --- | --- | --- |');
    out.push(...slope);
    out.push('');
  }
}
// Long run: RSS samples
for (const r of rows) {
  const s = r.rss_samples_kib;
  if (!s || s.length < 3) continue;
  const mid = s[Math.floor(s.length / 2)], last = s[s.length - 1], first = s[0];
  const minutes = r.duration / 60;
  out.push(`RSS over the run, ${r.client} N=${r.n}: first ${mib(first)} MiB, middle ${mib(mid)} MiB, ` +
    `last ${mib(last)} MiB (${((last - first) / 1024 / minutes).toFixed(3)} MiB/min overall, ` +
    `${((last - mid) / 1024 / (minutes / 2)).toFixed(3)} MiB/min over the second half; ` +
    `${((last - first) / r.n).toFixed(1)} KiB per conversation over the run).`);
}
const text = out.join('\n');
console.log(text);
fs.writeFileSync(`${dir}/table.md`, text + '\n');

// SVG: CPU % per conversation against N
const series = [
  ...ours.map((el, i) => ({ name: `${el} (total)`, client: el, color: ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b'][i % 4] })),
  ...ours.map((el, i) => ({ name: `${el} (marginal: − floor)`, client: el, marginal: true, dash: '6,4',
    color: ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b'][i % 4] })),
  { name: 'official openai client (Node)', client: 'openai-node', color: '#d62728' },
  { name: 'floor (source + fakesink)', client: 'floor', color: '#7f7f7f', dash: '2,3' },
];
for (const s of series) {
  s.points = ns.map((n) => {
    const r = get(s.client, n), fl = get('floor', n);
    if (!r) return null;
    const v = s.marginal ? (fl ? r.cpu_pct_per_conv - fl.cpu_pct_per_conv : null) : r.cpu_pct_per_conv;
    return v === null ? null : [n, Math.max(0, v)];
  }).filter(Boolean);
}
const W = 720, H = 420, L = 70, R = 250, T = 40, B = 50;
const xs = ns.map((n) => Math.log10(n));
const xmin = Math.min(...xs), xmax = Math.max(...xs, xmin + 1);
const ymax0 = Math.max(0.01, ...series.flatMap((s) => s.points.map((p) => p[1])));
const mag = 10 ** Math.floor(Math.log10(ymax0));
const ystep = [1, 2, 5, 10].map((k) => k * mag / 2).find((st) => ymax0 / st <= 8) || mag;
const ymax = Math.ceil(ymax0 / ystep) * ystep;
const X = (n) => L + (Math.log10(n) - xmin) / (xmax - xmin) * (W - L - R);
const Y = (v) => H - B - v / ymax * (H - T - B);
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const svg = [];
svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
svg.push(`<rect width="${W}" height="${H}" fill="white"/>`);
svg.push(`<text x="${L}" y="22" font-size="14">CPU per live conversation (% of one core) against N — ${esc(machine.cpu)}, ${machine.nproc} cores</text>`);
for (let v = 0; v <= ymax + 1e-9; v += ystep) {
  svg.push(`<line x1="${L}" x2="${W - R}" y1="${Y(v)}" y2="${Y(v)}" stroke="#ddd"/>`);
  svg.push(`<text x="${L - 6}" y="${Y(v) + 4}" text-anchor="end">${+v.toFixed(3)}</text>`);
}
for (const n of ns) {
  svg.push(`<line x1="${X(n)}" x2="${X(n)}" y1="${T}" y2="${H - B}" stroke="#eee"/>`);
  svg.push(`<text x="${X(n)}" y="${H - B + 16}" text-anchor="middle">${n}</text>`);
}
svg.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">concurrent conversations N (log scale)</text>`);
svg.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="black"/>`);
svg.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="black"/>`);
series.forEach((s, i) => {
  if (!s.points.length) return;
  const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ');
  svg.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
  for (const p of s.points)
    svg.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
  const ly = T + 10 + i * 20;
  svg.push(`<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
  svg.push(`<text x="${W - R + 45}" y="${ly + 4}">${esc(s.name)}</text>`);
});
svg.push('</svg>');
fs.writeFileSync(`${dir}/cpu.svg`, svg.join('\n') + '\n');
console.error(`wrote ${dir}/table.md and ${dir}/cpu.svg`);
