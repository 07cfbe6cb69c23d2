// A run that ended before its first epoch: the dashboard shows its error and what to do in
// place of three empty charts; a running run, or one with any point, keeps its charts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { neverTrainedNote } from '../../webview/lib/neverTrained';

const ENOTFOUND = 'Cannot download mobilenet_v2_1.0_224: getaddrinfo ENOTFOUND storage.googleapis.com. Check the network connection.';

test('a failed run with no metrics gets its error and the next step instead of charts', () => {
  const note = neverTrainedNote({ status: 'failed', message: ENOTFOUND }, 0);
  assert.ok(note);
  assert.match(note.title, /failed before its first epoch/);
  assert.equal(note.message, ENOTFOUND);
  assert.match(note.next, /run the experiment again/);
  // No message recorded: say where the log is rather than nothing.
  assert.match(neverTrainedNote({ status: 'failed' }, 0)!.message!, /output channel/);
  assert.match(neverTrainedNote({ status: 'cancelled' }, 0)!.title, /stopped before its first epoch/);
});

test('a running run, a finished one, or one with any point keeps its charts', () => {
  assert.equal(neverTrainedNote({ status: 'running' }, 0), undefined, 'still starting: the charts wait for data');
  assert.equal(neverTrainedNote({ status: 'succeeded' }, 0), undefined);
  assert.equal(neverTrainedNote({ status: 'failed', message: 'out of memory' }, 12), undefined, 'failed later: its curves matter');
});
