/**
 * The targets of issue 4, read off the bench's figures: one line per goal the run can judge, with
 * the measured value, the target, and whether it is met. Goals whose scenarios did not run are left out.
 */
import { divide, fixed, median, roundRatios, times, type Metrics } from './report.js';

export function goalLines(metrics: readonly Metrics[], windowSeconds: number, maxWcu: string | undefined): string[] {
  const find = (scenario: string, client: 'baseline' | 'dynaload'): Metrics | undefined =>
    metrics.find((m) => m.result.scenario.key === scenario && m.result.client === client && m.result.problem === undefined);
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'n/a' : ok ? 'met' : 'NOT met');
  const lines: string[] = [];

  const fast = find('null', 'dynaload');
  if (fast && find('null', 'baseline')) {
    const ok = fast.speedRatio !== undefined && fast.cpuRatio !== undefined && fast.peakRssMb !== undefined
      ? fast.speedRatio >= 2 && fast.cpuRatio <= 0.5 && fast.peakRssMb < 200 : undefined;
    lines.push(`Goal 2 (null endpoint, ${fast.written} items): items/s ${times(fast.speedRatio)} baseline (want >= 2x), CPU per item ${times(fast.cpuRatio)} (want <= 0.5x), peak RSS ${fixed(fast.peakRssMb, 0)} MiB (want < 200): ${verdict(ok)}`);
  }
  const withheld = find('withhold20', 'dynaload');
  if (fast && withheld) {
    const ratio = divide(withheld.itemsPerSecond, fast.itemsPerSecond);
    const rounds = roundRatios(withheld.result.runs, fast.result.runs);
    if (rounds.length < 2) {
      lines.push(`Goal 3 (20% withheld): dynaload items/s ${times(ratio)} its fault-free figure (want >= 0.8x): ${verdict(ratio === undefined ? undefined : ratio >= 0.8)}`);
    } else {
      // Judged on the runs paired by round (made minutes apart at most), not on the two medians,
      // which may come from different rounds and so carry the machine's drift between them.
      const paired = median(rounds);
      lines.push(`Goal 3 (20% withheld): dynaload items/s ${times(paired)} its fault-free figure, the median of ${rounds.length} rounds (${rounds.map(times).join(', ')}; the two median runs: ${times(ratio)}) (want >= 0.8x): ${verdict(paired >= 0.8)}`);
    }
  }
  if (maxWcu !== undefined && maxWcu !== 'auto') {
    const windows = metrics.filter((m) => m.result.client === 'dynaload' && m.window !== undefined);
    const worst = windows.reduce<Metrics | undefined>((w, m) => (w === undefined || Math.abs(m.window?.worst ?? 0) > Math.abs(w.window?.worst ?? 0) ? m : w), undefined);
    if (worst?.window) {
      const ok = Math.abs(worst.window.worst) <= 0.05;
      lines.push(`Goal 4 (--max-wcu ${maxWcu}): worst ${windowSeconds}-s window ${(worst.window.worst * 100).toFixed(1)}% from the cap (${worst.result.scenario.key}, from second ${worst.window.at}; want within 5%): ${verdict(ok)}`);
    } else {
      const refused = metrics.some((m) => m.result.problem?.startsWith('n/a'));
      lines.push(`Goal 4 (--max-wcu ${maxWcu}): n/a (${refused ? 'the CLI refused --max-wcu' : `no dynaload run had a full ${windowSeconds}-s window after the warm-up`})`);
    }
  }
  const capped = find('capacity', 'dynaload');
  if (capped) {
    const ok = capped.capacityShare !== undefined && capped.wasted !== undefined ? capped.capacityShare >= 0.9 && capped.wasted < 0.1 : undefined;
    lines.push(`Goal 5 (capacity ${capped.result.scenario.provisioned} WCU/s): ${fixed((capped.capacityShare ?? Number.NaN) * 100, 1)}% of capacity (want >= 90%), wasted attempts ${fixed((capped.wasted ?? Number.NaN) * 100, 1)}% (want < 10%): ${verdict(ok)}`);
  }
  return lines;
}
