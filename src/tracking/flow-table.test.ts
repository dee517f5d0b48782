// Tests for FlowTable: randomized operations against a Map model, wrap-around deletes, and growth.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FlowTable, KEY_WORDS, hashKey } from './flow-table.js';
import { prng } from '../../test/support/prng.js';


const id = (k: Uint32Array): string => k.join(',');

/** Fisher–Yates shuffle of 0..n-1. */
function permutation(n: number, rnd: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * A pool of keys that differ from each other in few words (any of the ten), so that a lookup
 * comparing too few words would confuse them.
 */
function keyPool(n: number, rnd: () => number): Uint32Array[] {
  const base = Uint32Array.from([6, 0x1f900050, 0, 0, 0xffff, 0x0a000001, 0, 0, 0xffff, 0x0a000002]);
  const seen = new Set<string>();
  const out: Uint32Array[] = [];
  while (out.length < n) {
    const k = base.slice();
    const changes = 1 + Math.floor(rnd() * 2);
    for (let c = 0; c < changes; c++) {
      const w = Math.floor(rnd() * KEY_WORDS);
      k[w] = rnd() < 0.5 ? Math.floor(rnd() * 64) : Math.floor(rnd() * 2 ** 32);
    }
    if (seen.has(id(k))) continue;
    seen.add(id(k));
    out.push(k);
  }
  return out;
}

function checkAll(table: FlowTable<number>, model: Map<string, number>, pool: Uint32Array[]): void {
  assert.equal(table.size, model.size);
  for (const k of pool) assert.equal(table.get(k), model.get(id(k)), `get ${id(k)}`);
}

test('100k random set/delete/get operations agree with a Map', () => {
  const rnd = prng(0xf10f);
  const pool = keyPool(3000, rnd);
  const table = new FlowTable<number>(1); // start tiny so growth happens many times
  const model = new Map<string, number>();
  let grewTo = 0;
  for (let op = 0; op < 100_000; op++) {
    // Phases move the fill level up and down, so the table grows and then drains through deletes.
    const phase = Math.floor(op / 20_000) % 2;
    const k = pool[Math.floor(rnd() * pool.length)]!;
    const r = rnd();
    const setBias = phase === 0 ? 0.6 : 0.25;
    if (r < setBias) {
      // A fresh copy of the key: the table must compare contents, not identity.
      table.set(k.slice(), op);
      model.set(id(k), op);
    } else if (r < setBias + 0.3) {
      assert.equal(table.delete(k.slice()), model.delete(id(k)), `delete #${op}`);
    } else {
      assert.equal(table.get(k), model.get(id(k)), `get #${op}`);
    }
    assert.equal(table.size, model.size, `size after #${op}`);
    grewTo = Math.max(grewTo, model.size);
    if (op % 5000 === 4999) checkAll(table, model, pool);
  }
  checkAll(table, model, pool);
  assert.ok(grewTo > 1000, `the table held up to ${grewTo} entries`);
});

test('the table keeps its own copy of each key', () => {
  const table = new FlowTable<string>(4);
  const k = Uint32Array.from([17, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  table.set(k, 'a');
  const original = k.slice();
  k[5] = 99;
  assert.equal(table.get(original), 'a');
  assert.equal(table.get(k), undefined);
  table.set(original, 'b'); // replace keeps the size
  assert.equal(table.size, 1);
  assert.equal(table.get(original), 'b');
});

/** Finds `n` keys whose home slot in a table of `capacity` slots is `home`. */
function keysWithHome(home: number, capacity: number, n: number, tag: number): Uint32Array[] {
  const out: Uint32Array[] = [];
  for (let i = 0; out.length < n; i++) {
    const k = Uint32Array.from([17, tag, i, 0, 0xffff, 0xc0a80001, 0, 0, 0xffff, 0xc0a80002]);
    if ((hashKey(k) & (capacity - 1)) === home) out.push(k);
  }
  return out;
}

test('backward-shift deletion across the wrap-around of the slot array', () => {
  // FlowTable(8) has 16 slots and holds 8 entries before it grows.
  const capacity = 16;
  const keys = [
    ...keysWithHome(14, capacity, 2, 1), // slots 14, 15
    ...keysWithHome(15, capacity, 3, 2), // displaced past the end: 0, 1, 2
    ...keysWithHome(0, capacity, 2, 3), // 3, 4
    ...keysWithHome(2, capacity, 1, 4), // 5
  ];
  assert.equal(keys.length, 8);
  const rnd = prng(42);
  for (let round = 0; round < 3000; round++) {
    const table = new FlowTable<number>(8);
    // Insert in a random order (changes which key lands where), then delete in another.
    const order = permutation(keys.length, rnd);
    for (const i of order) table.set(keys[i]!, i);
    const live = new Set(order);
    const dels = permutation(keys.length, rnd);
    for (const i of dels) {
      assert.equal(table.delete(keys[i]!), true);
      assert.equal(table.delete(keys[i]!), false);
      live.delete(i);
      for (let j = 0; j < keys.length; j++) {
        assert.equal(table.get(keys[j]!), live.has(j) ? j : undefined, `round ${round}: key ${j} after deleting ${i}`);
      }
      assert.equal(table.size, live.size);
    }
    // Re-inserting into the emptied table still works.
    for (const i of order) table.set(keys[i]!, -i);
    for (const i of order) assert.equal(table.get(keys[i]!), -i);
  }
});

test('growth keeps every entry reachable and deletes still work afterwards', () => {
  const table = new FlowTable<number>(1);
  const keys: Uint32Array[] = [];
  for (let i = 0; i < 50_000; i++) {
    const k = Uint32Array.from([6, i & 0xffff, 0, 0, 0xffff, (0x0a000000 + (i >>> 8)) >>> 0, 0, 0, 0xffff, 0x08080808]);
    keys.push(k);
    table.set(k, i);
  }
  assert.equal(table.size, 50_000);
  for (let i = 0; i < keys.length; i++) assert.equal(table.get(keys[i]!), i);
  for (let i = 0; i < keys.length; i += 2) assert.equal(table.delete(keys[i]!), true);
  assert.equal(table.size, 25_000);
  for (let i = 0; i < keys.length; i++) assert.equal(table.get(keys[i]!), i % 2 === 0 ? undefined : i);
  table.clear();
  assert.equal(table.size, 0);
  assert.equal(table.get(keys[1]!), undefined);
  table.set(keys[1]!, 7);
  assert.equal(table.get(keys[1]!), 7);
  assert.equal(table.size, 1);
});
