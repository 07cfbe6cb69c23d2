// The wizard's backbone step marks a not-downloaded entry whose host does not answer, waits
// only briefly for the probes (a slow one leaves its entry unmarked), and never marks what is here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKBONE_CATALOG } from '../../src/core/backboneCatalog';
import type { Availability, Reachability } from '../../src/extension/backboneChoices';
import type { BackboneItem } from '../../src/extension/backbonePicker';
import { flagUnreachable, unreachableEntries } from '../../src/extension/offlineFlags';

const downloads = BACKBONE_CATALOG.filter((e) => e.source.kind !== 'bundled').slice(0, 4);
const bundled = BACKBONE_CATALOG.find((e) => e.source.kind === 'bundled')!;

test('only not-downloaded entries whose probe says unreachable within the wait are marked', async () => {
  const [down, up, slow, cached] = downloads;
  const answers: Record<string, Promise<Reachability>> = {
    [down.id]: Promise.resolve({ reachable: false, reason: 'getaddrinfo ENOTFOUND storage.googleapis.com' }),
    [up.id]: Promise.resolve({ reachable: true }),
    [slow.id]: new Promise((resolve) => setTimeout(() => resolve({ reachable: false, reason: 'late' }), 400)),
    [cached.id]: Promise.resolve({ reachable: false, reason: 'offline' }),
    [bundled.id]: Promise.resolve({ reachable: false, reason: 'offline' }),
  };
  const asked: string[] = [];
  const probes = {
    urlOf: (e: { id: string }) => `https://host/${e.id}`,
    probe: (url: string) => (asked.push(url), answers[url.slice('https://host/'.length)]),
  };
  const availability = new Map<string, Availability>([
    [down.id, 'download'],
    [up.id, 'download'],
    [slow.id, 'download'],
    [cached.id, 'cached'],
  ]);
  const started = Date.now();
  const flagged = await unreachableEntries([down, up, slow, cached, bundled], availability, probes, 100);
  assert.ok(Date.now() - started < 350, 'did not wait for the slow probe');
  assert.deepEqual([...flagged], [[down.id, 'getaddrinfo ENOTFOUND storage.googleapis.com']]);
  assert.ok(!asked.some((u) => u.endsWith(cached.id) || u.endsWith(bundled.id)), 'what is here is never probed');

  const items: BackboneItem[] = [
    { label: down.id, detail: '$(cloud-download) downloads 14 MB', entry: down },
    { label: up.id, detail: 'x', entry: up },
    { label: 'Local model file…', ask: 'file' },
  ];
  const shown = flagUnreachable(items, flagged);
  assert.match(shown[0].detail!, /^\$\(cloud-offline\) offline: cannot be downloaded now \(getaddrinfo ENOTFOUND .*\) · \$\(cloud-download\)/);
  assert.equal(shown[1].detail, 'x');
  assert.equal(shown[2], items[2]);
});
