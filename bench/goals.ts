/**
 * The performance targets, read off the bench's figures: one line per goal the run can judge, with
 * the measured value, the target, and whether it is met. Goals whose scenarios did not run are left out.
 */
import { divide, fixed, median, roundRatios, times, type Metrics } from './report.js';

/** Each goal's line, written once: the verdict, the figure's digits and the text all read it. */
const GOAL2_SPEED = 2;
const GOAL2_CPU = 0.5;
const GOAL3_RATIO = 0.8;

/** The goal lines, or in `--quick` mode one line saying they are not judged: too short a run to judge any of them by. */
export function goalSection(
  metrics: readonly Metrics[],
  o: { readonly quick: boolean; readonly windowSeconds: number; readonly maxWcu: string | undefined },
): string[] {
  if (o.quick)
    return [
      'Goals are not judged in --quick mode (too few rows and too short a run): run without --quick for verdicts.',
    ];
  return goalLines(metrics, o.windowSeconds, o.maxWcu);
}

export function goalLines(metrics: readonly Metrics[], windowSeconds: number, maxWcu: string | undefined): string[] {
  // A pair's row whatever its shown run did; `find` only when that run worked.
  const pair = (scenario: string, client: 'baseline' | 'dynaload'): Metrics | undefined =>
    metrics.find((m) => m.result.scenario.key === scenario && m.result.client === client);
  const find = (scenario: string, client: 'baseline' | 'dynaload'): Metrics | undefined => {
    const row = pair(scenario, client);
    return row?.result.problem === undefined ? row : undefined;
  };
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'n/a' : ok ? 'met' : 'NOT met');
  const lines: string[] = [];
  const goal3 = (ratio: number | undefined, detail: string): string =>
    `Goal 3 (20% withheld): dynaload items/s ${times(ratio, GOAL3_RATIO)} its fault-free figure${detail} (want >= ${GOAL3_RATIO}x): ${verdict(ratio === undefined ? undefined : ratio >= GOAL3_RATIO)}`;

  const fast = find('null', 'dynaload');
  if (fast && find('null', 'baseline')) {
    const ok =
      fast.speedRatio !== undefined && fast.cpuRatio !== undefined && fast.peakRssMb !== undefined
        ? fast.speedRatio >= GOAL2_SPEED && fast.cpuRatio <= GOAL2_CPU && fast.peakRssMb < 200
        : undefined;
    lines.push(
      `Goal 2 (null endpoint, ${fast.written} items): items/s ${times(fast.speedRatio, GOAL2_SPEED)} baseline (want >= ${GOAL2_SPEED}x), CPU per item ${times(fast.cpuRatio, GOAL2_CPU)} (want <= ${GOAL2_CPU}x), peak RSS ${fixed(fast.peakRssMb, 0)} MiB (want < 200): ${verdict(ok)}`,
    );
  }
  const withheld = find('withhold20', 'dynaload');
  // Every run counts here, the shown one failed or not: a round where both runs worked still compares.
  const fastRuns = pair('null', 'dynaload')?.result.runs;
  const withheldRuns = pair('withhold20', 'dynaload')?.result.runs;
  const medians = fast && withheld ? divide(withheld.itemsPerSecond, fast.itemsPerSecond) : undefined;
  if (fastRuns !== undefined && withheldRuns !== undefined) {
    // With rounds, judged on the runs paired by round (made back to back), not on the two median
    // runs, which may come from different rounds and so carry the machine's drift between them.
    const rounds = roundRatios(withheldRuns, fastRuns);
    const failed = withheldRuns.length - rounds.length;
    const detail = `, the median of ${rounds.length} rounds (${rounds.map((r) => times(r, GOAL3_RATIO)).join(', ')}${failed > 0 ? `; ${failed} failed` : ''}${medians === undefined ? '' : `; the two median runs: ${times(medians, GOAL3_RATIO)}`})`;
    lines.push(goal3(rounds.length === 0 ? undefined : median(rounds), detail));
  } else if (fast && withheld) {
    lines.push(goal3(medians, ''));
  }
  if (maxWcu !== undefined && maxWcu !== 'auto') {
    const windows = metrics.filter((m) => m.result.client === 'dynaload' && m.window !== undefined);
    const worst = windows.reduce<Metrics | undefined>(
      (w, m) => (w === undefined || Math.abs(m.window?.worst ?? 0) > Math.abs(w.window?.worst ?? 0) ? m : w),
      undefined,
    );
    if (worst?.window) {
      const ok = Math.abs(worst.window.worst) <= 0.05;
      lines.push(
        `Goal 4 (--max-wcu ${maxWcu}): worst ${windowSeconds}-s window ${(worst.window.worst * 100).toFixed(1)}% from the cap (${worst.result.scenario.key}, from second ${worst.window.at}; want within 5%): ${verdict(ok)}`,
      );
    } else {
      const refused = metrics.some((m) => m.result.problem?.startsWith('n/a'));
      lines.push(
        `Goal 4 (--max-wcu ${maxWcu}): n/a (${refused ? 'the CLI refused --max-wcu' : `no dynaload run had a full ${windowSeconds}-s window after the warm-up`})`,
      );
    }
  }
  lines.push(...distanceLines(find, verdict));
  const capped = find('capacity', 'dynaload');
  if (capped) {
    const ok =
      capped.capacityShare !== undefined && capped.wasted !== undefined
        ? capped.capacityShare >= 0.9 && capped.wasted < 0.1
        : undefined;
    lines.push(
      `Goal 5 (capacity ${capped.result.scenario.capacity} WCU/s): ${fixed((capped.capacityShare ?? Number.NaN) * 100, 1)}% of capacity (want >= 90%), wasted attempts ${fixed((capped.wasted ?? Number.NaN) * 100, 1)}% (want < 10%): ${verdict(ok)}`,
    );
  }
  return lines;
}

/** Far from the table: the delayed endpoints' items/s against the no-delay run, and the capacity 50 ms away. */
function distanceLines(
  find: (scenario: string, client: 'baseline' | 'dynaload') => Metrics | undefined,
  verdict: (ok: boolean | undefined) => string,
): string[] {
  const lines: string[] = [];
  const near = find('null', 'dynaload');
  for (const [key, want] of [
    ['delay50', 0.8],
    ['delay100', 0.8],
    ['delay50w20', 0.7],
  ] as const) {
    const far = find(key, 'dynaload');
    if (far === undefined || near === undefined) continue;
    const ratio = divide(far.itemsPerSecond, near.itemsPerSecond);
    const rssOk = far.peakRssMb === undefined ? undefined : far.peakRssMb < 200;
    const ok = ratio === undefined || rssOk === undefined ? undefined : ratio >= want && rssOk;
    lines.push(
      `Distance (${key}): items/s ${times(ratio, want)} the no-delay run (want >= ${want}x), peak RSS ${fixed(far.peakRssMb, 0)} MiB (want < 200): ${verdict(ok)}`,
    );
  }
  const capped = find('capacity50', 'dynaload');
  if (capped) {
    const ok =
      capped.capacityShare !== undefined && capped.wasted !== undefined
        ? capped.capacityShare >= 0.9 && capped.wasted < 0.1
        : undefined;
    lines.push(
      `Distance (capacity ${capped.result.scenario.capacity} WCU/s, 50 ms away): ${fixed((capped.capacityShare ?? Number.NaN) * 100, 1)}% of capacity (want >= 90%), wasted ${fixed((capped.wasted ?? Number.NaN) * 100, 1)}% (want < 10%): ${verdict(ok)}`,
    );
  }
  return lines;
}

/**
 * Every run of the capacity-limited pairs, one line each (utilisation, wasted, outcome), then for
 * each pair how many runs met the goal: at least 90% of the capacity used, under 10% of the writes
 * wasted, every row written. Run by run, so a failed run is never hidden behind a median.
 */
export function perRunLines(
  pairs: readonly { label: string; rows: number; runs: readonly Metrics[] }[],
  busy: number,
): string[] {
  const lines: string[] = [];
  for (const pair of pairs) {
    let met = 0;
    pair.runs.forEach((m, i) => {
      const report = m.result.report;
      const outcome =
        m.result.problem ?? `exit ${report?.exitCode ?? '?'}${report?.error ? ` ${report.error.code}` : ''}`;
      const ok =
        m.result.problem === undefined &&
        report?.exitCode === 0 &&
        m.written === pair.rows &&
        m.capacityShare !== undefined &&
        m.capacityShare >= 0.9 &&
        m.wasted !== undefined &&
        m.wasted < 0.1;
      if (ok) met++;
      lines.push(
        `${pair.label} run ${i + 1}: ${fixed((m.capacityShare ?? Number.NaN) * 100, 1)}% of capacity, ${fixed((m.wasted ?? Number.NaN) * 100, 1)}% wasted, ${m.written} of ${pair.rows} rows, ${outcome}`,
      );
    });
    lines.push(
      `${pair.label}${busy > 0 ? ` with ${busy} busy process(es)` : ''}: ${met} of ${pair.runs.length} runs wrote every row at >= 90% of capacity with < 10% wasted: ${met === pair.runs.length ? 'met' : 'NOT met'}`,
    );
  }
  return lines;
}
