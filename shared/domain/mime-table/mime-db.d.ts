// mime-db ships no types: its export is the database object.
declare module 'mime-db' {
  const db: Record<
    string,
    { source?: string; extensions?: string[]; compressible?: boolean; charset?: string }
  >;
  export default db;
}
