/**
 * A Lambda handler built on first use: composition (env, SDK clients) happens once per cold
 * start, never at import, so tests can import modules and pass their own dependencies.
 */
export function lazy<E, R, C>(build: () => (event: E, context: C) => Promise<R>) {
  let built: ((event: E, context: C) => Promise<R>) | undefined;
  return (event: E, context: C): Promise<R> => {
    built ??= build();
    return built(event, context);
  };
}
