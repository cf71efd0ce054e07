// Work the page does in slices, so that a tap or a key is never queued behind a long draw: a
// loop calls `breathe()` between items, and it yields to the browser (input first) once the
// slice has run for SLICE ms. Counted, so tests can see a big draw was cut into slices.
const SLICE = 12; // ms of work before input gets its turn (a frame is ~16 ms)
let began = performance.now();
export const slices = { yielded: 0 };

// scheduler.yield() resumes ahead of other tasks once input has run; elsewhere a macrotask.
const yieldNow = () => (globalThis.scheduler?.yield
  ? globalThis.scheduler.yield()
  : new Promise((resolve) => setTimeout(resolve, 0)));

export async function breathe() {
  if (performance.now() - began < SLICE) return;
  slices.yielded += 1;
  await yieldNow();
  began = performance.now();
}

// A fresh slice begins (a handler that just got its turn).
export function fresh() {
  began = performance.now();
}

// At most `limit` of `jobs` (functions returning promises) under way at once.
export async function pooled(jobs, limit) {
  const results = new Array(jobs.length);
  let next = 0;
  async function worker() {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
