// Seeded randomness for the generated page tests: the same seed, the same
// values, so a failure printed with its seed can be replayed.

/** mulberry32: a tiny 32-bit generator, good enough to pick test inputs. */
export function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  return {
    next,
    /** 0 <= i < n. */
    int,
    pick: (items) => items[int(items.length)],
    chance: (p) => next() < p,
    /** A random 32-bit word. */
    word: () => int(4294967296) >>> 0,
  };
}
