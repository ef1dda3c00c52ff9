import { performance } from 'node:perf_hooks';

/**
 * Times every call of `target[method]` into `sink` under `label` until the returned function
 * puts the original back. For breakdowns of a real call path, without changing its code.
 */
export function instrument<T extends object>(
  target: T,
  method: keyof T & string,
  label: string,
  sink: Map<string, number[]>,
): () => void {
  const original = target[method] as unknown as (...args: unknown[]) => Promise<unknown>;
  if (typeof original !== 'function') throw new Error(`${method} is not a method.`);
  const samples = sink.get(label) ?? [];
  sink.set(label, samples);
  const timed = async function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      samples.push(performance.now() - started);
    }
  };
  (target as Record<string, unknown>)[method] = timed;
  return () => {
    (target as Record<string, unknown>)[method] = original;
  };
}
