// Preloaded into the benchmarked process: reports wall time and peak RSS on exit (to stderr, one JSON line).
const started = process.hrtime.bigint();
process.on('exit', () => {
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const maxRssKb = process.resourceUsage().maxRSS;
  process.stderr.write(`BENCH ${JSON.stringify({ wallMs, maxRssKb })}\n`);
});
