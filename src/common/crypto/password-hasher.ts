import { Injectable } from '@nestjs/common';
import argon2 from 'argon2';

/** OWASP's minimum for argon2id (m=19 MiB, t=2, p=1). */
export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/** Limits how many hashes run at once so a flood of sign-ins cannot take every libuv thread. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * argon2id hashing shared by the API, the admin panel and the seed. At most two hashes run
 * at once (libuv has four threads; the others stay free for pg, fs and crypto).
 */
@Injectable()
export class PasswordHasher {
  private readonly gate = new Semaphore(2);
  private dummyHash: Promise<string> | undefined;

  hash(password: string): Promise<string> {
    return this.gate.run(() => argon2.hash(password, ARGON2_OPTIONS));
  }

  /** False for a wrong password and for a hash that is not argon2 (never throws on bad input). */
  verify(hash: string, password: string): Promise<boolean> {
    return this.gate.run(async () => {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    });
  }

  /** Spends the same time as a real verify, for accounts that do not exist (no user enumeration). */
  async verifyDummy(password: string): Promise<false> {
    this.dummyHash ??= argon2.hash('not-a-real-password', ARGON2_OPTIONS);
    await this.verify(await this.dummyHash, password);
    return false;
  }

  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, ARGON2_OPTIONS);
    } catch {
      return true;
    }
  }
}
