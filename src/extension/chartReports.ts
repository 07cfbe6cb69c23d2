// Asking a webview what its charts hold and drew (core/chartReport.ts): the host posts a
// describe-charts message and the webview answers with a charts message. Used only by test
// hooks (testHooks.ts): the report comes from the chart objects themselves, so a test that
// reads it fails when a chart did not redraw.
import type { ChartReport } from '../core/chartReport';

export interface ChartsReport {
  charts: ChartReport[];
  cspViolations: string[];
  notice?: string;
}

export class ChartReports {
  private waiting: ((report: ChartsReport) => void)[] = [];

  /** Posts the request (through `ask`) and waits for the answer, at most `timeoutMs`. */
  request(ask: () => void, timeoutMs = 5000): Promise<ChartsReport | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== done);
        resolve(undefined);
      }, timeoutMs);
      const done = (report: ChartsReport) => {
        clearTimeout(timer);
        resolve(report);
      };
      this.waiting.push(done);
      ask();
    });
  }

  /** The webview's answer: every pending request gets it. */
  receive(report: ChartsReport): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w(report);
  }
}
