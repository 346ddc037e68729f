import { AsyncLocalStorage } from 'node:async_hooks';

/** What the current async call chain carries: one entry per ScopedValue set around it. */
type Scope = Readonly<Record<symbol, unknown>>;

/**
 * The app's one AsyncLocalStorage. Every value that follows an async call chain (the request
 * being served, for the request log; the open transaction, for TransactionHost) is a
 * ScopedValue kept in it, instead of each having a storage of its own.
 *
 * Why one: under Node 20 every enabled AsyncLocalStorage adds its own work to every promise
 * the process creates (an init hook stores its value on the promise). The bench measured a
 * second storage, enabled once the first transaction ran, at about a fifth of a read's CPU
 * (bench/RESULTS.md, item 16). Node 22's AsyncContextFrame, the default from Node 24, makes
 * the number of storages free; on Node 20 it is not.
 */
const storage = new AsyncLocalStorage<Scope>();

/**
 * A value bound to an async call chain: `run(value, fn)` makes `get()` return `value` in fn
 * and in everything fn starts (callbacks, promises, timers), and leaves any other
 * ScopedValue set around it as it was.
 */
export class ScopedValue<T> {
  private readonly key: symbol;

  constructor(name: string) {
    this.key = Symbol(name);
  }

  /** The value set by the innermost `run` around the caller, if any. */
  get(): T | undefined {
    return storage.getStore()?.[this.key] as T | undefined;
  }

  run<R>(value: T, fn: () => R): R {
    const outer = storage.getStore();
    return storage.run(
      outer === undefined ? { [this.key]: value } : { ...outer, [this.key]: value },
      fn,
    );
  }
}
