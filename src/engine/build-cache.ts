/**
 * The per-run cache of build facts (what depends only on a service's installed build: defaults,
 * algorithm lists, version), keyed by service id and build id. A fleet runs a few builds: the
 * first host of each reads them, every other host of that build skips those reads. Hosts of one
 * build get the very same facts object, so caches keyed by it serve them all. Pure, in memory.
 */

/** Build facts of every service, by service id and build id, for one run. */
export class BuildCache {
  private readonly builds = new Map<string, unknown>();
  /** Hints (server banners) whose first host is reading its build's facts now. */
  private readonly fetching = new Map<string, Promise<void>>();
  /** Hints some host already read the build facts of. */
  private readonly fetched = new Set<string>();

  private static key(service: string, buildId: string): string {
    return `${service}\n${buildId}`;
  }

  /** Build ids the cache holds for `service`: hosts of these builds need not read their facts. */
  known(service: string): string[] {
    const prefix = `${service}\n`;
    return [...this.builds.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  get(service: string, buildId: string): unknown {
    return this.builds.get(BuildCache.key(service, buildId));
  }

  /** Stores a build's facts; returns the cached object when the build was already stored, so all its hosts share one. */
  store(service: string, buildId: string, facts: unknown): unknown {
    const key = BuildCache.key(service, buildId);
    if (this.builds.has(key)) return this.builds.get(key);
    this.builds.set(key, facts);
    return facts;
  }

  /**
   * Waits while another host with the same `hint` (what the connection shows of the build before
   * any command runs, e.g. the server banner) reads build facts, so a build's facts are read by
   * one host at a time. Call the returned function when the host's facts are in (`read`: whether
   * they were), to let the hosts waiting go on with the cache filled.
   */
  async turn(hint: string): Promise<(read: boolean) => void> {
    for (let pending = this.fetching.get(hint); pending; pending = this.fetching.get(hint)) await pending;
    if (this.fetched.has(hint)) return () => undefined;
    let release: () => void = () => undefined;
    this.fetching.set(hint, new Promise<void>((resolve) => (release = resolve)));
    return (read) => {
      if (read) this.fetched.add(hint);
      this.fetching.delete(hint);
      release();
    };
  }
}

/**
 * Results a run computes once per key and shares between hosts (a service's shared fact records,
 * a candidate check's verdict): the first host with a key computes it while later ones wait for
 * it; when that fails, the next waiting host computes its own. Bounded: past `limit` keys the
 * oldest is dropped (a host whose key was dropped only computes it again). Pure, in memory.
 */
export class SharedResults<T> {
  private readonly done = new Map<string, T>();
  private readonly running = new Map<string, Promise<T | undefined>>();
  /** Keys computed here, and keys answered from the cache or another host's computation (for tests and the bench). */
  computed = 0;
  reused = 0;

  constructor(private readonly limit = 256) {}

  async get(key: string, compute: () => Promise<T>): Promise<T> {
    for (let pending = this.running.get(key); pending; pending = this.running.get(key)) {
      const value = await pending;
      if (value !== undefined) {
        this.reused++;
        return value;
      }
    }
    const stored = this.done.get(key);
    if (stored !== undefined) {
      this.reused++;
      return stored;
    }
    const mine = compute();
    // Stored (or given up) before any waiting host sees the outcome.
    this.running.set(
      key,
      mine.then(
        (value) => {
          this.running.delete(key);
          this.computed++;
          if (this.done.size >= this.limit) this.done.delete(this.done.keys().next().value as string);
          this.done.set(key, value);
          return value;
        },
        () => {
          this.running.delete(key);
          return undefined;
        },
      ),
    );
    return mine;
  }
}
