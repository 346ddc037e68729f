import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { and, eq } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import { teamDomains, teamMembers } from '../../src/database/schema.js';
import { DomainsService } from '../../src/modules/domains/domains.service.js';
import { activityRows } from '../support/activity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bearer, signUp, signUpVerified, type SignedUp } from '../support/auth.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';

interface Domain {
  id: number;
  domain: string;
  verified: boolean;
  verifiedAt: string | null;
  createdAt: string;
  txtName: string;
  txtValue: string;
}

/** A domain no other test uses (the database lives for the whole run). */
const freshDomain = (): string => `d${randomBytes(5).toString('hex')}.example`;

describe('verified domains (e2e, loopback DNS server)', () => {
  let t: TestApp;
  let dns: TestDnsServer;

  beforeAll(async () => {
    dns = await startDnsServer();
    t = await createTestApp({ env: { DNS_SERVERS: dns.address, DNS_TIMEOUT_MS: '200' } });
  });

  afterAll(async () => {
    await t.close();
    await dns.close();
  });

  const base = (teamId: number): string => `/api/v1/teams/${teamId}/domains`;

  async function add(owner: SignedUp, domain: string): Promise<Domain> {
    const res = await t.http
      .post(base(owner.team.id))
      .set('Authorization', bearer(owner.accessToken))
      .send({ domain });
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
    return res.body as Domain;
  }

  function verify(owner: SignedUp, domainId: number, teamId = owner.team.id) {
    return t.http
      .post(`${base(teamId)}/${domainId}/verify`)
      .set('Authorization', bearer(owner.accessToken));
  }

  it('adds a domain with its TXT challenge, verifies it from DNS, logs both', async () => {
    dns.mode = 'answer';
    const owner = await signUpVerified(t);
    const name = freshDomain();
    const added = await add(owner, `  ${name.toUpperCase()}.  `);
    expect(added).toEqual({
      id: expect.any(Number),
      domain: name,
      verified: false,
      verifiedAt: null,
      createdAt: expect.any(String),
      txtName: `_nest-saas-challenge.${name}`,
      txtValue: expect.stringMatching(/^nest-saas-verification=[A-Za-z0-9_-]{43}$/),
    });

    // Another record at the name, and the value split across two strings of one record.
    const half = Math.floor(added.txtValue.length / 2);
    dns.setTxt(added.txtName, 'v=spf1 -all', [
      added.txtValue.slice(0, half),
      added.txtValue.slice(half),
    ]);
    const res = await verify(owner, added.id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...added, verified: true, verifiedAt: expect.any(String) });
    expect(dns.queries.at(-1)).toMatchObject({ name: added.txtName, type: 16 });

    const list = await t.http
      .get(base(owner.team.id))
      .set('Authorization', bearer(owner.accessToken));
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ items: [res.body], nextCursor: null });

    const service = t.app.get(DomainsService);
    expect(await service.verifiedDomains(owner.team.id)).toEqual([name]);
    expect(await service.teamVerifying(name.toUpperCase())).toBe(owner.team.id);
    expect(await service.isVerifiedBy(owner.team.id, `Jane@${name.toUpperCase()}`)).toBe(true);
    expect(await service.isVerifiedBy(owner.team.id, `jane@eu.${name}`)).toBe(false);
    expect(await service.isVerifiedBy(owner.team.id + 1, `jane@${name}`)).toBe(false);

    const actions = (await activityRows(t.db, { teamId: owner.team.id })).map((r) => [
      r.action,
      r.userId,
    ]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['ADD_DOMAIN', owner.user.id],
        ['VERIFY_DOMAIN', owner.user.id],
      ]),
    );

    // Verifying again answers 200 without a lookup and without another row.
    const queries = dns.queries.length;
    const again = await verify(owner, added.id);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    expect(dns.queries.length).toBe(queries);
    expect(
      await activityRows(t.db, { teamId: owner.team.id, action: 'VERIFY_DOMAIN' }),
    ).toHaveLength(1);
  });

  it('stores internationalized domains as A-labels', async () => {
    const owner = await signUpVerified(t);
    const label = randomBytes(3).toString('hex');
    const added = await add(owner, `Bücher-${label}.example`);
    expect(added.domain).toMatch(/^xn--bcher-[a-z0-9-]+\.example$/);
    expect(added.txtName).toBe(`_nest-saas-challenge.${added.domain}`);
  });

  it('answers 409 domain.not_verified, saying why, while the TXT record is missing or wrong', async () => {
    dns.mode = 'answer';
    const owner = await signUpVerified(t);
    const added = await add(owner, freshDomain());

    const missing = await verify(owner, added.id);
    expect(missing.status).toBe(409);
    expect(missing.body).toMatchObject({
      code: 'domain.not_verified',
      details: [{ field: 'txtName', message: expect.stringContaining('No TXT record found') }],
    });

    dns.setTxt(added.txtName, 'nest-saas-verification=someone-elses-value');
    const wrong = await verify(owner, added.id);
    expect(wrong.status).toBe(409);
    expect(wrong.body).toMatchObject({
      code: 'domain.not_verified',
      details: [{ message: expect.stringContaining('do not contain the expected value') }],
    });

    // The record at the bare domain does not count: only the challenge name does.
    dns.setTxt(added.domain, added.txtValue);
    expect((await verify(owner, added.id)).status).toBe(409);

    const [row] = await t.db.select().from(teamDomains).where(eq(teamDomains.id, added.id));
    expect(row?.verifiedAt).toBeNull();
    expect(
      await activityRows(t.db, { teamId: owner.team.id, action: 'VERIFY_DOMAIN' }),
    ).toHaveLength(0);

    // Once the record appears, the same call succeeds.
    dns.setTxt(added.txtName, added.txtValue);
    expect((await verify(owner, added.id)).status).toBe(200);
  });

  it('answers a quick 409 when the DNS server fails or does not answer', async () => {
    const owner = await signUpVerified(t);
    const added = await add(owner, freshDomain());
    dns.setTxt(added.txtName, added.txtValue);
    try {
      dns.mode = 'servfail';
      const failed = await verify(owner, added.id);
      expect(failed.status).toBe(409);
      expect(failed.body).toMatchObject({
        code: 'domain.not_verified',
        details: [{ message: expect.stringContaining('ESERVFAIL') }],
      });

      dns.mode = 'drop';
      const started = Date.now();
      const dead = await verify(owner, added.id);
      const took = Date.now() - started;
      expect(dead.status).toBe(409);
      expect(dead.body).toMatchObject({
        code: 'domain.not_verified',
        details: [{ message: expect.stringMatching(/lookup .* failed \((ETIMEOUT|ECANCELLED)\)/) }],
      });
      // DNS_TIMEOUT_MS=200, two attempts: well under the resolver's default of a minute.
      expect(took).toBeLessThan(2000);
    } finally {
      dns.mode = 'answer';
    }
    expect((await verify(owner, added.id)).status).toBe(200);
  });

  it('lets one of two teams racing to verify the same domain win; the other gets 409 domain.taken', async () => {
    dns.mode = 'answer';
    const a = await signUpVerified(t);
    const b = await signUpVerified(t);
    const name = freshDomain();
    // Both may claim a domain no team has verified; both publish their challenge.
    const claimA = await add(a, name);
    const claimB = await add(b, name);
    expect(claimA.txtValue).not.toBe(claimB.txtValue);
    dns.setTxt(claimA.txtName, claimA.txtValue, claimB.txtValue);

    const [resA, resB] = await Promise.all([verify(a, claimA.id), verify(b, claimB.id)]);
    const statuses = [resA.status, resB.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = resA.status === 409 ? resA : resB;
    expect(loser.body).toMatchObject({ code: 'domain.taken' });

    const verified = await t.db.select().from(teamDomains).where(eq(teamDomains.domain, name));
    expect(verified.filter((row) => row.verifiedAt !== null)).toHaveLength(1);
    const winner = resA.status === 200 ? a : b;
    expect(await t.app.get(DomainsService).teamVerifying(name)).toBe(winner.team.id);

    // A third team cannot even claim it now.
    const c = await signUpVerified(t);
    const refused = await t.http
      .post(base(c.team.id))
      .set('Authorization', bearer(c.accessToken))
      .send({ domain: name });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'domain.taken' });

    // Once the winner removes it, the loser can verify its own claim.
    const winnerClaim = winner === a ? claimA : claimB;
    const loserTeam = winner === a ? b : a;
    const loserClaim = winner === a ? claimB : claimA;
    const removed = await t.http
      .delete(`${base(winner.team.id)}/${winnerClaim.id}`)
      .set('Authorization', bearer(winner.accessToken));
    expect(removed.status).toBe(204);
    expect((await verify(loserTeam, loserClaim.id)).status).toBe(200);
  });

  it('answers 409 domain.taken when another team verified the domain during the lookup (the unique index decides)', async () => {
    const a = await signUpVerified(t);
    const b = await signUpVerified(t);
    const name = freshDomain();
    const claimA = await add(a, name);
    const claimB = await add(b, name);
    dns.setTxt(claimB.txtName, claimB.txtValue);
    dns.delayMs = 300;
    try {
      const pending = verify(b, claimB.id).then((res) => res);
      // While B's lookup waits for DNS, A's claim becomes verified (as by a request of A's).
      await new Promise((resolve) => setTimeout(resolve, 100));
      await t.db
        .update(teamDomains)
        .set({ verifiedAt: new Date() })
        .where(eq(teamDomains.id, claimA.id));
      const res = await pending;
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'domain.taken' });
    } finally {
      dns.delayMs = 0;
    }
    const [rowB] = await t.db.select().from(teamDomains).where(eq(teamDomains.id, claimB.id));
    expect(rowB?.verifiedAt).toBeNull();
    expect(await activityRows(t.db, { teamId: b.team.id, action: 'VERIFY_DOMAIN' })).toEqual([]);
  });

  it('refuses to add a domain twice to one team (409 domain.already_added)', async () => {
    const owner = await signUpVerified(t);
    const name = freshDomain();
    const first = await add(owner, name);
    const res = await t.http
      .post(base(owner.team.id))
      .set('Authorization', bearer(owner.accessToken))
      .send({ domain: name.toUpperCase() });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'domain.already_added' });
    const rows = await t.db
      .select()
      .from(teamDomains)
      .where(and(eq(teamDomains.teamId, owner.team.id), eq(teamDomains.domain, name)));
    expect(rows.map((r) => r.txtValue)).toEqual([first.txtValue]);
  });

  it.each([
    ['', 'must not be empty'],
    ['localhost', 'at least two labels'],
    ['10.0.0.1', 'not an IP address'],
    ['https://example.com/x', 'host name like example.com'],
    ['under_score.example', 'host name like example.com'],
    [`${'a'.repeat(64)}.example`, 'at most'],
    [`${'abcdefghi.'.repeat(23)}example`, 'challenge name fits'],
  ])('answers 400 for the domain %j', async (domain, message) => {
    const owner = await signUpVerified(t);
    const res = await t.http
      .post(base(owner.team.id))
      .set('Authorization', bearer(owner.accessToken))
      .send({ domain });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      statusCode: 400,
      details: [{ field: 'domain', message: expect.stringContaining(message) }],
    });
  });

  it('answers 400 for a body without a string domain or with unknown fields', async () => {
    const owner = await signUpVerified(t);
    for (const body of [{}, { domain: 42 }, { domain: 'a.example', extra: true }]) {
      const res = await t.http
        .post(base(owner.team.id))
        .set('Authorization', bearer(owner.accessToken))
        .send(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
  });

  it("removes a domain with REMOVE_DOMAIN; another team's domain is a 404", async () => {
    dns.mode = 'answer';
    const owner = await signUpVerified(t);
    const other = await signUpVerified(t);
    const added = await add(owner, freshDomain());
    dns.setTxt(added.txtName, added.txtValue);
    expect((await verify(owner, added.id)).status).toBe(200);

    // The other team's owner, on their own team with this id: domain.not_found.
    const foreignVerify = await verify(other, added.id);
    expect(foreignVerify.status).toBe(404);
    expect(foreignVerify.body).toMatchObject({ code: 'domain.not_found' });
    const foreignDelete = await t.http
      .delete(`${base(other.team.id)}/${added.id}`)
      .set('Authorization', bearer(other.accessToken));
    expect(foreignDelete.status).toBe(404);
    expect(foreignDelete.body).toMatchObject({ code: 'domain.not_found' });
    // On the owner's team, where they are no member: team.not_found.
    const outsider = await t.http
      .get(base(owner.team.id))
      .set('Authorization', bearer(other.accessToken));
    expect(outsider.status).toBe(404);
    expect(outsider.body).toMatchObject({ code: 'team.not_found' });

    const res = await t.http
      .delete(`${base(owner.team.id)}/${added.id}`)
      .set('Authorization', bearer(owner.accessToken));
    expect(res.status).toBe(204);
    expect(await t.app.get(DomainsService).verifiedDomains(owner.team.id)).toEqual([]);
    expect(
      await activityRows(t.db, { teamId: owner.team.id, action: 'REMOVE_DOMAIN' }),
    ).toMatchObject([{ userId: owner.user.id }]);

    const gone = await t.http
      .delete(`${base(owner.team.id)}/${added.id}`)
      .set('Authorization', bearer(owner.accessToken));
    expect(gone.status).toBe(404);
    expect((await verify(owner, added.id)).status).toBe(404);
  });

  it('is for owners only: a member gets 403 on every route', async () => {
    const owner = await signUpVerified(t);
    const member = await signUpVerified(t);
    await t.db
      .insert(teamMembers)
      .values({ teamId: owner.team.id, userId: member.user.id, role: 'member' });
    const added = await add(owner, freshDomain());
    const auth = bearer(member.accessToken);
    const teamId = owner.team.id;
    const responses = await Promise.all([
      t.http.get(base(teamId)).set('Authorization', auth),
      t.http.post(base(teamId)).set('Authorization', auth).send({ domain: freshDomain() }),
      t.http.post(`${base(teamId)}/${added.id}/verify`).set('Authorization', auth),
      t.http.delete(`${base(teamId)}/${added.id}`).set('Authorization', auth),
    ]);
    expect(responses.map((r) => [r.status, (r.body as { code?: string }).code])).toEqual(
      Array.from({ length: 4 }, () => [403, 'team.forbidden']),
    );
    expect(await activityRows(t.db, { teamId, action: 'REMOVE_DOMAIN' })).toHaveLength(0);
  });

  it('asks an owner with an unverified email to verify it before adding a domain', async () => {
    const owner = await signUp(t);
    const res = await t.http
      .post(base(owner.team.id))
      .set('Authorization', bearer(owner.accessToken))
      .send({ domain: freshDomain() });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'email.unverified' });
  });

  it('pages the list newest first', async () => {
    const owner = await signUpVerified(t);
    const first = await add(owner, freshDomain());
    const second = await add(owner, freshDomain());
    const page1 = await t.http
      .get(`${base(owner.team.id)}?limit=1`)
      .set('Authorization', bearer(owner.accessToken));
    expect(page1.body).toMatchObject({
      items: [{ id: second.id }],
      nextCursor: expect.any(String),
    });
    const page2 = await t.http
      .get(
        `${base(owner.team.id)}?limit=1&cursor=${(page1.body as { nextCursor: string }).nextCursor}`,
      )
      .set('Authorization', bearer(owner.accessToken));
    expect(page2.body).toEqual({ items: [first], nextCursor: null });
  });
});
