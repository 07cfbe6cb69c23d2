// The lifecycle base every resource owner of the extension uses: what it registers is
// disposed once, last first, even when one of them throws, and late registrations do not leak.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Disposable, DisposableStore, toDisposable } from '../../src/extension/disposable';

class Owner extends Disposable {
  own(fn: () => void) {
    return this._register(toDisposable(fn));
  }
}

test('Disposable disposes what it registered in reverse order', () => {
  const order: string[] = [];
  const owner = new Owner();
  owner.own(() => order.push('first'));
  owner.own(() => order.push('second'));
  owner.own(() => order.push('third'));
  assert.equal(owner.isDisposed, false);
  owner.dispose();
  assert.deepEqual(order, ['third', 'second', 'first']);
  assert.equal(owner.isDisposed, true);
});

test('Disposable.dispose is idempotent: each registration is disposed once', () => {
  let count = 0;
  const owner = new Owner();
  owner.own(() => count++);
  owner.dispose();
  owner.dispose();
  assert.equal(count, 1);
});

test('one registration that throws does not stop the others, and the error is logged', () => {
  const order: string[] = [];
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    const owner = new Owner();
    owner.own(() => order.push('first'));
    owner.own(() => {
      throw new Error('boom');
    });
    owner.own(() => order.push('third'));
    assert.doesNotThrow(() => owner.dispose());
    assert.deepEqual(order, ['third', 'first']);
    assert.equal(logged.length, 1);
    assert.ok(logged[0].some((a) => a instanceof Error && a.message === 'boom'));
  } finally {
    console.error = original;
  }
});

test('registering after dispose disposes at once, and _register returns what it was given', () => {
  const owner = new Owner();
  owner.dispose();
  let disposed = false;
  const d = toDisposable(() => (disposed = true));
  const store = new DisposableStore();
  store.dispose();
  assert.equal(store.add(d), d);
  assert.equal(disposed, true);
  let late = false;
  owner.own(() => (late = true));
  assert.equal(late, true);
});

test('a DisposableStore disposes what was added, once', () => {
  const order: number[] = [];
  const store = new DisposableStore();
  const a = store.add(toDisposable(() => order.push(1)));
  store.add(toDisposable(() => order.push(2)));
  assert.equal(typeof a.dispose, 'function');
  store.dispose();
  store.dispose();
  assert.deepEqual(order, [2, 1]);
});
