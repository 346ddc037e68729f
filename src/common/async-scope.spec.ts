import { describe, expect, it } from '@jest/globals';
import { setImmediate as tick } from 'node:timers/promises';
import { ScopedValue } from './async-scope.js';

describe('ScopedValue', () => {
  it('is set inside run, across awaits and timers, and unset outside', async () => {
    const value = new ScopedValue<string>('probe');
    expect(value.get()).toBeUndefined();
    const seen = await value.run('a', async () => {
      await tick();
      const inTimer = await new Promise((resolve) => setTimeout(() => resolve(value.get()), 1));
      return [value.get(), inTimer];
    });
    expect(seen).toEqual(['a', 'a']);
    expect(value.get()).toBeUndefined();
  });

  it('keeps the other values set around it, and an inner run of the same value shadows it', async () => {
    const request = new ScopedValue<string>('request');
    const transaction = new ScopedValue<number>('transaction');
    await request.run('req-1', async () => {
      await transaction.run(7, async () => {
        await tick();
        expect([request.get(), transaction.get()]).toEqual(['req-1', 7]);
        await request.run('req-2', async () => {
          await tick();
          expect([request.get(), transaction.get()]).toEqual(['req-2', 7]);
        });
        expect(request.get()).toBe('req-1');
      });
      expect([request.get(), transaction.get()]).toEqual(['req-1', undefined]);
    });
  });

  it('keeps concurrent chains apart, and two values of the same name apart', async () => {
    const a = new ScopedValue<number>('same');
    const b = new ScopedValue<number>('same');
    const chain = (n: number) =>
      a.run(n, async () => {
        await tick();
        await tick();
        return [a.get(), b.get()];
      });
    expect(await Promise.all([chain(1), chain(2)])).toEqual([
      [1, undefined],
      [2, undefined],
    ]);
  });
});
