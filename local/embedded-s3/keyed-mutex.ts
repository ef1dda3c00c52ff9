/**
 * One-at-a-time sections per name, in this process: what makes "check the precondition, then
 * replace the object" atomic (two racing `If-None-Match: *` PUTs: exactly one wins).
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(name: string, section: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((done) => {
      release = done;
    });
    const tail = previous.then(() => mine);
    this.tails.set(name, tail);
    await previous;
    try {
      return await section();
    } finally {
      release();
      // The last one out removes the entry, so the map holds only names in use.
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }
}
