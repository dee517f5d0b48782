// FlowTable: open-addressing hash table from a 10-word flow key to a value, with no per-lookup allocation.

/** Words in a key: [protocol, portA<<16|portB, addrA×4, addrB×4]. */
export const KEY_WORDS = 10;

/**
 * Linear probing with backward-shift deletion (no tombstones), keys stored inline in one
 * Uint32Array. Capacity is a power of two kept at least twice the number of entries.
 */
export class FlowTable<V> {
  private keys: Uint32Array;
  private values: (V | undefined)[];
  private mask: number;
  private count = 0;

  constructor(expectedEntries = 1024) {
    let cap = 16;
    while (cap < expectedEntries * 2) cap *= 2;
    this.keys = new Uint32Array(cap * KEY_WORDS);
    this.values = new Array<V | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  get(key: Uint32Array): V | undefined {
    const slot = this.find(key, hashKey(key));
    return slot < 0 ? undefined : this.values[slot];
  }

  /** Inserts or replaces. */
  set(key: Uint32Array, value: V): void {
    const h = hashKey(key);
    const found = this.find(key, h);
    if (found >= 0) {
      this.values[found] = value;
      return;
    }
    if ((this.count + 1) * 2 > this.mask + 1) {
      this.grow();
    }
    let i = h & this.mask;
    while (this.values[i] !== undefined) i = (i + 1) & this.mask;
    this.keys.set(key, i * KEY_WORDS);
    this.values[i] = value;
    this.count++;
  }

  delete(key: Uint32Array): boolean {
    let i = this.find(key, hashKey(key));
    if (i < 0) return false;
    const mask = this.mask;
    const keys = this.keys;
    const values = this.values;
    // Backward-shift: move later members of the probe run into the hole when their home allows it.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const v = values[j];
      if (v === undefined) break;
      const home = hashWords(keys, j * KEY_WORDS) & mask;
      // Can the entry at j move to i? Only if its home is not cyclically within (i, j].
      const fits = i <= j ? home <= i || home > j : home <= i && home > j;
      if (fits) {
        keys.copyWithin(i * KEY_WORDS, j * KEY_WORDS, j * KEY_WORDS + KEY_WORDS);
        values[i] = v;
        i = j;
      }
    }
    values[i] = undefined;
    this.count--;
    return true;
  }

  clear(): void {
    this.values.fill(undefined);
    this.count = 0;
  }

  private find(key: Uint32Array, h: number): number {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let i = h & mask;
    for (;;) {
      if (values[i] === undefined) return -1;
      const o = i * KEY_WORDS;
      if (keys[o] === key[0] && keys[o + 1] === key[1] && keys[o + 5] === key[5] && keys[o + 9] === key[9] &&
          keys[o + 2] === key[2] && keys[o + 3] === key[3] && keys[o + 4] === key[4] &&
          keys[o + 6] === key[6] && keys[o + 7] === key[7] && keys[o + 8] === key[8]) {
        return i;
      }
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const cap = (this.mask + 1) * 2;
    this.keys = new Uint32Array(cap * KEY_WORDS);
    this.values = new Array<V | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
    for (let s = 0; s < oldValues.length; s++) {
      const v = oldValues[s];
      if (v === undefined) continue;
      let i = hashWords(oldKeys, s * KEY_WORDS) & this.mask;
      while (this.values[i] !== undefined) i = (i + 1) & this.mask;
      this.keys.set(oldKeys.subarray(s * KEY_WORDS, s * KEY_WORDS + KEY_WORDS), i * KEY_WORDS);
      this.values[i] = v;
    }
  }
}

export function hashKey(key: Uint32Array): number {
  return hashWords(key, 0);
}

function hashWords(k: Uint32Array, o: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < KEY_WORDS; i++) h = Math.imul(h ^ k[o + i]!, 0x01000193);
  // murmur3 finaliser: spread the low bits the mask keeps.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
