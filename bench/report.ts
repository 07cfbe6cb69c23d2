// What `npm run bench` prints and writes: the rows as a table with ratios and targets, the
// zoo table, and bench-results/*.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { OneDnnChoice } from '../src/core/protocol';
import { env, ratioOf, root, type Row } from './harness';
import { formatZooTable, type ZooRow } from './zoo';

export interface Report {
  rows: Row[];
  results: Record<string, unknown>[];
  zooRows?: ZooRow[];
  reps: number;
  quick: boolean;
  kerasVersion?: Record<string, unknown>;
  policyOneDnn: OneDnnChoice;
}

const fmt = (v: number | undefined, unit: string) =>
  v === undefined ? '-' : unit === 'bytes' ? `${(v / 2 ** 20).toFixed(0)} MB` : unit === 's' ? `${v.toFixed(1)} s` : `${v.toFixed(1)} img/s`;

/** The cells of one row of the main table. */
function cells(r: Row): string[] {
  const ratio = ratioOf(r);
  return [
    r.workload,
    r.config,
    fmt(r.ours, r.unit),
    r.workload.startsWith('decode')
      ? `${fmt(r.keras, r.unit)} (fwd)`
      : r.workload.endsWith('oneDNN') && r.keras !== undefined
        ? `${fmt(r.keras, r.unit)} (on)`
        : fmt(r.keras, r.unit),
    ratio === undefined ? '-' : `${ratio.toFixed(2)}x`,
    r.target?.text ?? '',
    r.target && ratio !== undefined ? (ratio >= r.target.ratio ? 'yes' : 'NO') : '',
  ];
}

function printRows(rows: Row[], heading: string): void {
  console.log(heading);
  const header = ['workload', 'config', 'ours', 'Keras', 'ratio', 'target', 'met'];
  const table = rows.map(cells);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  console.log(header.map((h, i) => h.padEnd(widths[i])).join(' | '));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i])).join(' | '));
  console.log('\nratio: ours / Keras for img/s, Keras / ours for seconds and memory (above 1 is better for us).');
  for (const r of rows.filter((r) => r.note)) console.log(`note: ${r.workload}, ${r.config}: ${r.note}`);
}

/** Prints the tables; returns what the JSON files record about the machine and the kernels. */
export function printReport(report: Report): { machine: string; kernels: string } {
  const { rows, zooRows, reps, kerasVersion, policyOneDnn } = report;
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} x ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${kerasVersion ? `TensorFlow (Python) ${kerasVersion.tensorflow}` : 'no Keras'}`;
  const kernels = `kernels: TF_ENABLE_ONEDNN_OPTS=${env.TF_ENABLE_ONEDNN_OPTS} on both sides (the oneDNN rows set their own); the trainer's policy for a model with no remembered crash: oneDNN ${policyOneDnn.enabled ? 'on' : 'off'}`;
  if (rows.length > 0) {
    printRows(
      rows,
      `\nTransfer Lab bench (${machine}); medians of ${reps} interleaved repetitions, one process per measurement; MobileNetV2 1.0 random weights\n${kernels}\n`,
    );
  }
  if (zooRows) {
    console.log(
      `\nZoo rows (${machine}); medians of ${reps} interleaved repetitions, one process per measurement; Keras Applications, include_top=False, random weights, saved by Keras as .keras\n${kernels}\n`,
    );
    console.log(formatZooTable(zooRows));
  }
  return { machine, kernels };
}

/** Writes bench-results/*.json for the sections that ran; returns the files written. */
export function writeReport(report: Report, ran: { mobileNet: boolean; oneDnn: boolean }, about: { machine: string; kernels: string }): string[] {
  const { rows, results, zooRows, reps, quick } = report;
  const { machine, kernels } = about;
  const written: string[] = [];
  const write = (name: string, value: object) => {
    const out = path.join(root, 'bench-results', name);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(value, null, 2));
    written.push(out);
  };
  if (!ran.mobileNet && ran.oneDnn) write('bench-onednn.json', { machine, kernels, reps, rows: rows.map((r) => ({ ...r, ratio: ratioOf(r) })), raw: results });
  if (ran.mobileNet) write('bench.json', { machine, kernels, reps, quick, rows: rows.map((r) => ({ ...r, ratio: ratioOf(r) })), raw: results, zoo: zooRows });
  if (zooRows)
    write('bench-zoo.json', {
      machine,
      kernels,
      reps,
      quick,
      targets: { forward: '>= 1.0x Keras', step: '>= 0.8x Keras', memory: '<= 1.5x Keras (peak RSS of the fine-tune process)' },
      rows: zooRows,
    });
  return written;
}
