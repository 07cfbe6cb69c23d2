// The run the sidebar Dashboard follows (core/sidebarRun.ts chooses it), kept live: its record
// comes from the run index, its curves from metrics.jsonl once when it becomes the followed
// run, then from live epoch events, merged by the panel's CurveFeed and posted in batches.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { readMetricsAsync, readRunAsync } from '../core/runStore';
import type { RunRecord } from '../core/runRecord';
import type { RunEvent } from '../core/runEvents';
import { CurveFeed, emptyCurves, type CurvePoint } from '../core/dashboardMessages';
import type { DashboardViewRun, SidebarCurves } from '../core/dashboardViewMessages';
import { buildSidebarRun, chooseFollowedRun, emptySidebarCurves, latestRun, sidebarCurvesFrom } from '../core/sidebarRun';
import type { TreeNode } from './experimentsTree';
import type { LiveRun, RunManager } from './runManager';
import type { RunIndex } from './runIndex';
import { Disposable, toDisposable } from './disposable';

/** A few posts per second at most, however fast the trainer reports. */
const FLUSH_MS = 250;

interface Followed {
  readonly runDir: string;
  /** The live run while it trains; kept after it ends, with its final status. */
  live?: LiveRun;
  record?: RunRecord;
  curves: SidebarCurves;
  readonly feed: CurveFeed;
  /** The curves were re-read when the run ended: a slower first read must not replace them. */
  final?: boolean;
}

const same = (a: string | undefined, b: string | undefined) => !!a && !!b && path.resolve(a) === path.resolve(b);

export class SidebarRunFollower extends Disposable {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  /** The followed run, or what it says, changed (batched). */
  readonly onDidChange = this.changed.event;
  private followed: Followed | undefined;
  private kept: string | undefined;
  private selected: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runs: RunManager,
    private readonly index: RunIndex,
    treeView: vscode.TreeView<TreeNode>,
  ) {
    super();
    this._register(toDisposable(() => clearTimeout(this.timer)));
    this._register(treeView.onDidChangeSelection((e) => this.select(e.selection[0])));
    this._register(runs.onDidChangeRuns(() => this.choose()));
    this._register(runs.onDidEvent(({ run, event }) => this.onEvent(run, event)));
    this._register(index.onDidChange(() => this.onIndexChange()));
    this.choose();
  }

  /** What the sidebar shows of the followed run, or undefined when there is none. */
  current(): DashboardViewRun | undefined {
    const f = this.followed;
    if (!f) return undefined;
    return buildSidebarRun({ runDir: f.runDir, record: f.record, live: f.live ?? this.runs.byRunDir(f.runDir), curves: f.curves });
  }

  private select(node: TreeNode | undefined): void {
    // An experiment stands for its running or newest run; a study for none (its panel shows it).
    const dir = !node
      ? undefined
      : node.kind === 'run'
        ? node.dir
        : node.kind === 'study'
          ? undefined
          : (this.runs.running(node.uri.fsPath)?.runDir ?? this.index.forExperiment(node.uri.fsPath)[0]?.dir);
    this.selected = dir;
    this.kept = undefined;
    this.choose();
  }

  private choose(): void {
    const running = this.runs.active().flatMap((r) => (r.runDir ? [{ runDir: r.runDir, startedAt: r.startedAt, status: r.status }] : []));
    const dir = chooseFollowedRun({ running, kept: this.kept, selected: this.selected, latest: latestRun(this.index.all())?.dir });
    const live = dir ? this.runs.byRunDir(dir) : undefined;
    // A run followed while it trains stays shown when it ends.
    if (live?.status === 'running') this.kept = dir;
    if (same(dir, this.followed?.runDir)) {
      if (live && this.followed) this.followed.live = live;
      this.schedule();
      return;
    }
    this.followed = dir ? { runDir: dir, live, record: this.index.get(dir)?.record, curves: emptySidebarCurves(), feed: new CurveFeed() } : undefined;
    if (this.followed) void this.load(this.followed);
    this.schedule();
  }

  /** The history, read without blocking, once per followed run; live points after it follow on. */
  private async load(f: Followed): Promise<void> {
    const [record, metrics] = await Promise.all([f.record ? undefined : readRunAsync(f.runDir), readMetricsAsync(f.runDir)]);
    if (this.followed !== f) return;
    if (record?.ok) f.record ??= record.value;
    if (f.final) return;
    f.curves = sidebarCurvesFrom(metrics.records);
    f.feed.history({ ...emptyCurves(), ...f.curves });
    this.schedule();
  }

  private onIndexChange(): void {
    const f = this.followed;
    const entry = f && this.index.get(f.runDir);
    if (f && entry) f.record = entry.record;
    this.choose();
  }

  private onEvent(run: LiveRun, event: RunEvent): void {
    const f = this.followed;
    if (!f || !same(run.runDir, f.runDir) || event.type === 'batch') return;
    f.live = run;
    if (event.type === 'epoch') {
      const push = (key: keyof SidebarCurves, p: CurvePoint) => f.feed.push(key, p);
      push('epochLoss', { x: event.epoch, y: event.loss });
      push('epochAccuracy', { x: event.epoch, y: event.accuracy });
      push('valLoss', { x: event.epoch, y: event.valLoss });
      push('valAccuracy', { x: event.epoch, y: event.valAccuracy });
    } else if (event.type === 'finished') void this.reread(f);
    this.schedule();
  }

  /**
   * run.json and metrics.jsonl once more when the followed run ends: its test accuracy and
   * failure are in run.json, and the final curves come whole from the file, whatever of the
   * last burst of live events the batching took.
   */
  private async reread(f: Followed): Promise<void> {
    const [read, metrics] = await Promise.all([readRunAsync(f.runDir), readMetricsAsync(f.runDir)]);
    if (this.followed !== f) return;
    if (read.ok) f.record = read.value;
    f.final = true;
    f.curves = sidebarCurvesFrom(metrics.records);
    f.feed.take(); // what is pending is in the file
    f.feed.history({ ...emptyCurves(), ...f.curves });
    this.schedule();
  }

  private schedule(): void {
    if (!this.isDisposed) this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const f = this.followed;
    if (f) for (const [key, points] of Object.entries(f.feed.take()) as [keyof SidebarCurves, CurvePoint[]][]) f.curves[key] = [...f.curves[key], ...points];
    this.changed.fire();
  }
}
