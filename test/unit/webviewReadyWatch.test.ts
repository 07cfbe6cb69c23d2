// A page that never starts is loaded again, counting only the time it is on screen; its
// 'ready', or its owner going, ends the watch; it reloads a few times at most.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { watchWebviewReady, type WatchedWebview } from '../../src/extension/webviewReadyWatch';

function fakeWebview() {
  let listener: ((m: unknown) => void) | undefined;
  const webview: WatchedWebview = {
    onDidReceiveMessage(l) {
      listener = l;
      return { dispose: () => (listener = undefined) };
    },
  };
  return { webview, post: (m: unknown) => listener?.(m), listening: () => listener !== undefined };
}

/** A clock the test moves by hand (Node 20's mock timers keep running an interval cleared inside its own callback). */
let clock: { fn: () => void; ms: number } | undefined;
function tick(ms: number): void {
  for (let t = 0; t < ms;) {
    const c = clock;
    if (!c) return; // the watch ended
    c.fn();
    t += c.ms;
  }
}

function watch(opts: { shown?: () => boolean; gone?: () => boolean } = {}) {
  const w = fakeWebview();
  const reloads: number[] = [];
  const lines: string[] = [];
  const handle = watchWebviewReady(w.webview, 'Dashboard', {
    shown: opts.shown ?? (() => true),
    gone: opts.gone ?? (() => false),
    reload: () => reloads.push(reloads.length + 1),
    log: (l) => lines.push(l),
    silentMs: 10_000,
    tickMs: 500,
    every: (fn, ms) => {
      const me = (clock = { fn, ms });
      return { dispose: () => clock === me && (clock = undefined) };
    },
  });
  return { ...w, reloads, lines, handle };
}

test('a page silent for 10 s on screen is loaded again, at most twice, and the output says so', () => {
  const w = watch();
  tick(9_500);
  assert.equal(w.reloads.length, 0, 'not before 10 s');
  tick(500);
  assert.equal(w.reloads.length, 1);
  assert.match(w.lines[0], /^Dashboard: the page said nothing in 10 s on screen; loading it again \(1 of 2\)\.$/);
  tick(10_000);
  assert.equal(w.reloads.length, 2);
  tick(60_000);
  assert.equal(w.reloads.length, 2, 'no third reload');
  assert.equal(w.listening(), false, 'the watch has ended');
});

test('a page that posts its ready is left alone', () => {
  const w = watch();
  tick(3_000);
  w.post({ type: 'ready' });
  assert.equal(w.listening(), false);
  tick(60_000);
  assert.equal(w.reloads.length, 0);
});

test('time hidden does not count, and a page whose owner is gone is never reloaded', () => {
  let shown = false;
  const hidden = watch({ shown: () => shown });
  tick(60_000);
  assert.equal(hidden.reloads.length, 0, 'hidden: a page does not load, nothing to retry');
  shown = true;
  tick(9_500);
  assert.equal(hidden.reloads.length, 0);
  tick(500);
  assert.equal(hidden.reloads.length, 1, 'ten seconds on screen');

  let gone = false;
  const closed = watch({ gone: () => gone });
  tick(5_000);
  gone = true;
  tick(60_000);
  assert.equal(closed.reloads.length, 0);
  assert.equal(closed.listening(), false, 'the watch ended with its owner');
});

test('a page reloaded by new options is watched again once rearmed, with its reloads counted afresh', () => {
  const w = watch();
  w.post({ type: 'ready' });
  assert.equal(w.listening(), false, 'at rest after the first message');
  tick(60_000);
  w.handle.rearm();
  assert.equal(w.listening(), true);
  tick(10_000);
  assert.equal(w.reloads.length, 1, 'the reloaded page said nothing: loaded again');
  w.post({ type: 'ready' });
  tick(60_000);
  assert.equal(w.reloads.length, 1);
});

test("after a reload by new options, a late message of the old page does not end the watch: only the new page's ready does", () => {
  const w = watch();
  w.post({ type: 'ready' });
  w.handle.rearm();
  w.post({ type: 'rendered', rows: 0 }); // the page being replaced, answering the state posted before the reload
  assert.equal(w.listening(), true, 'still watching');
  tick(10_000);
  assert.equal(w.reloads.length, 1, 'the new page never said ready: loaded again');
  w.post({ type: 'ready' });
  assert.equal(w.listening(), false);
});
