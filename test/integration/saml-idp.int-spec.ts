import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SAML, ValidateInResponseTo, type CacheProvider } from '@node-saml/node-saml';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { startSamlIdp, type SamlPostForm, type TestSamlIdp } from '../support/saml-idp.js';

/**
 * The SAML stand-in is only useful if a real service provider library judges its responses the
 * way it would judge Okta's: the honest one is accepted, each forgery refused. Here
 * `@node-saml/node-saml` (the library the app uses) plays the SP, with no app around it.
 */

const SP_ENTITY_ID = 'https://app.example.test/saml/sp';
const ACS_URL = 'https://app.example.test/api/v1/auth/saml/1/acs';

/** node-saml's request-id store (InResponseTo): single use, like the app's. */
class MapCache implements CacheProvider {
  private readonly items = new Map<string, { value: string; createdAt: number }>();
  saveAsync(key: string, value: string) {
    if (this.items.has(key)) return Promise.resolve(null);
    const item = { value, createdAt: Date.now() };
    this.items.set(key, item);
    return Promise.resolve(item);
  }
  getAsync(key: string) {
    return Promise.resolve(this.items.get(key)?.value ?? null);
  }
  removeAsync(key: string | null) {
    if (key === null || !this.items.has(key)) return Promise.resolve(null);
    this.items.delete(key);
    return Promise.resolve(key);
  }
}

function serviceProvider(
  idp: TestSamlIdp,
  overrides: Partial<ConstructorParameters<typeof SAML>[0]> = {},
) {
  return new SAML({
    entryPoint: idp.ssoUrl,
    issuer: SP_ENTITY_ID,
    callbackUrl: ACS_URL,
    audience: SP_ENTITY_ID,
    idpCert: idp.certificate,
    idpIssuer: idp.entityId,
    // Okta and Entra ID sign the assertion, not the response (STACK-NOTES).
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: 10 * 60_000,
    acceptedClockSkewMs: 2 * 60_000,
    cacheProvider: new MapCache(),
    ...overrides,
  });
}

function decode(form: SamlPostForm): Document {
  return new DOMParser().parseFromString(
    Buffer.from(form.SAMLResponse, 'base64').toString('utf8'),
    'text/xml',
  );
}

/**
 * Whether the first `<ds:Signature>` in the response is cryptographically sound under `cert`
 * (xml-crypto alone, no SAML rules): the forgeries below must be refused for their structure,
 * not because the stand-in broke the signature by accident.
 */
function signatureHolds(form: SamlPostForm, cert: string): boolean {
  const xml = Buffer.from(form.SAMLResponse, 'base64').toString('utf8');
  const signature = new DOMParser()
    .parseFromString(xml, 'text/xml')
    .getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0];
  if (!signature) return false;
  const verifier = new SignedXml({ publicCert: cert });
  verifier.loadSignature(signature);
  try {
    return verifier.checkSignature(xml);
  } catch {
    return false;
  }
}

const pem = (base64: string) => `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----`;

function attr(doc: Document, localName: string, name: string): string | null {
  // xmldom 0.8's getAttribute answers '' for a missing attribute.
  const el = doc.getElementsByTagNameNS('*', localName)[0];
  return el?.hasAttribute(name) ? el.getAttribute(name) : null;
}

describe('SAML identity provider stand-in (judged by @node-saml/node-saml)', () => {
  let idp: TestSamlIdp;
  let sp: SAML;

  beforeAll(async () => {
    idp = await startSamlIdp();
  });
  afterAll(async () => {
    await idp.close();
  });

  /** SP-initiated round trip: node-saml's redirect → /sso → form fields. */
  async function signIn(
    options: Parameters<TestSamlIdp['signIn']>[1],
    saml = serviceProvider(idp),
  ) {
    sp = saml;
    const redirect = await sp.getAuthorizeUrlAsync('relay-42', undefined, {});
    return idp.signIn(redirect, options);
  }

  const validate = (form: SamlPostForm) =>
    sp.validatePostResponseAsync({
      SAMLResponse: form.SAMLResponse,
      RelayState: form.RelayState ?? '',
    });

  it('serves metadata with the signing certificate and the HTTP-Redirect SSO URL', async () => {
    const res = await fetch(`${idp.baseUrl}/metadata`);
    expect(res.status).toBe(200);
    const xml = await res.text();
    expect(xml).toBe(idp.metadataXml);
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    expect(doc.documentElement.getAttribute('entityID')).toBe(idp.entityId);
    expect(attr(doc, 'KeyDescriptor', 'use')).toBe('signing');
    expect(doc.getElementsByTagNameNS('*', 'X509Certificate')[0]!.textContent).toBe(
      idp.certificate,
    );
    expect(attr(doc, 'SingleSignOnService', 'Binding')).toBe(
      'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
    );
    expect(attr(doc, 'SingleSignOnService', 'Location')).toBe(idp.ssoUrl);
  });

  it('answers the auto-submit page and remembers the AuthnRequest', async () => {
    sp = serviceProvider(idp);
    const redirect = await sp.getAuthorizeUrlAsync('relay-7', undefined, {});
    idp.loginAs({ email: 'ada@example.com' });
    const res = await fetch(redirect);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    const form = idp.lastForm()!;
    expect(html).toContain(`action="${ACS_URL}"`);
    expect(html).toContain(`name="SAMLResponse" value="${form.SAMLResponse}"`);
    expect(html).toContain('name="RelayState" value="relay-7"');
    const request = idp.lastRequest()!;
    expect(request).toMatchObject({
      issuer: SP_ENTITY_ID,
      acsUrl: ACS_URL,
      destination: idp.ssoUrl,
      relayState: 'relay-7',
      signed: false,
    });
    expect(request.id).toMatch(/^_/);
  });

  it('refuses a garbled SAMLRequest with 400', async () => {
    const res = await fetch(`${idp.ssoUrl}?SAMLRequest=${encodeURIComponent('bm90IGRlZmxhdGU=')}`);
    expect(res.status).toBe(400);
  });

  it('an honest response (assertion signed) is accepted with the right NameID', async () => {
    const form = await signIn({ email: 'ada@example.com', givenName: 'Ada', surname: 'Lovelace' });
    expect(form).toMatchObject({ action: ACS_URL, RelayState: 'relay-42' });
    const doc = decode(form);
    const request = idp.lastRequest()!;
    expect(attr(doc, 'Response', 'InResponseTo')).toBe(request.id);
    expect(attr(doc, 'Response', 'Destination')).toBe(ACS_URL);
    expect(attr(doc, 'SubjectConfirmationData', 'Recipient')).toBe(ACS_URL);
    expect(doc.getElementsByTagNameNS('*', 'Audience')[0]!.textContent).toBe(SP_ENTITY_ID);

    expect(signatureHolds(form, idp.certificatePem)).toBe(true);
    const { profile } = await validate(form);
    expect(profile).toMatchObject({
      issuer: idp.entityId,
      nameID: 'ada@example.com',
      nameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      inResponseTo: request.id,
      email: 'ada@example.com',
      givenName: 'Ada',
      surname: 'Lovelace',
    });
  });

  it('the same form posted twice is refused the second time (request id used up)', async () => {
    const form = await signIn({ email: 'ada@example.com' });
    await expect(validate(form)).resolves.toMatchObject({ profile: { nameID: 'ada@example.com' } });
    await expect(validate(form)).rejects.toThrow(/InResponseTo/);
  });

  it('a response signed as a whole, or both, is accepted by an SP that wants that', async () => {
    const both = await signIn({ email: 'ada@example.com', sign: 'both' });
    await expect(validate(both)).resolves.toMatchObject({ profile: { nameID: 'ada@example.com' } });

    const responseOnly = serviceProvider(idp, {
      wantAssertionsSigned: false,
      wantAuthnResponseSigned: true,
    });
    const form = await signIn({ email: 'ada@example.com', sign: 'response' }, responseOnly);
    await expect(validate(form)).resolves.toMatchObject({ profile: { nameID: 'ada@example.com' } });
    // ...and refused where the assertion itself must be signed.
    const strict = await signIn({ email: 'ada@example.com', sign: 'response' });
    await expect(validate(strict)).rejects.toThrow(/signature/i);
  });

  it('refuses an unsigned response', async () => {
    const form = await signIn({ email: 'ada@example.com', unsigned: true });
    expect(decode(form).getElementsByTagNameNS('*', 'Signature')).toHaveLength(0);
    await expect(validate(form)).rejects.toThrow(/signature/i);
  });

  it('refuses a response signed by a key that is not in the metadata', async () => {
    const form = await signIn({ email: 'ada@example.com', signWithOtherKey: true });
    const embedded = decode(form).getElementsByTagNameNS('*', 'X509Certificate')[0]!.textContent;
    expect(embedded).not.toBe(idp.certificate);
    expect(signatureHolds(form, pem(embedded))).toBe(true);
    expect(signatureHolds(form, idp.certificatePem)).toBe(false);
    await expect(validate(form)).rejects.toThrow(/signature/i);
  });

  it('refuses signature wrapping: an evil assertion before the signed one', async () => {
    const form = await signIn({
      email: 'ada@example.com',
      wrapping: { email: 'mallory@example.com' },
    });
    const doc = decode(form);
    const assertions = doc.getElementsByTagNameNS('*', 'Assertion');
    expect(assertions).toHaveLength(2);
    // The first (what a naive SP reads) names the attacker and carries no signature.
    expect(assertions[0]!.getElementsByTagNameNS('*', 'NameID')[0]!.textContent).toBe(
      'mallory@example.com',
    );
    expect(assertions[0]!.getElementsByTagNameNS('*', 'Signature')).toHaveLength(0);
    expect(assertions[1]!.getElementsByTagNameNS('*', 'Signature')).toHaveLength(1);
    expect(signatureHolds(form, idp.certificatePem)).toBe(true);
    await expect(validate(form)).rejects.toThrow(/signature/i);
  });

  it('refuses signature wrapping: the signed assertion hidden in the evil one', async () => {
    const form = await signIn({
      email: 'ada@example.com',
      wrapping: { email: 'mallory@example.com', placement: 'inside' },
    });
    const doc = decode(form);
    expect(doc.getElementsByTagNameNS('*', 'Advice')).toHaveLength(1);
    expect(doc.getElementsByTagNameNS('*', 'NameID')[0]!.textContent).toBe('mallory@example.com');
    expect(signatureHolds(form, idp.certificatePem)).toBe(true);
    await expect(validate(form)).rejects.toThrow(/signature/i);
  });

  it('the comment trick does not make node-saml read the shortened address', async () => {
    const form = await signIn({
      email: 'user@evil.com.example.com',
      commentInNameId: 'user@evil.com',
    });
    const xml = Buffer.from(form.SAMLResponse, 'base64').toString('utf8');
    expect(xml).toContain('>user@evil.com<!---->.example.com</saml:NameID>');
    expect(signatureHolds(form, idp.certificatePem)).toBe(true);
    // The signature still holds (c14n drops comments): node-saml accepts it, reading the full
    // signed text, never the part before the comment.
    const { profile } = await validate(form);
    expect(profile?.nameID).toBe('user@evil.com.example.com');
  });

  it('refuses the wrong audience', async () => {
    const form = await signIn({ email: 'ada@example.com', audience: 'https://other-sp.test' });
    await expect(validate(form)).rejects.toThrow(/audience/i);
  });

  it("writes another issuer (node-saml reports it; comparing it is the app's job)", async () => {
    const form = await signIn({ email: 'ada@example.com', issuer: 'https://evil-idp.test' });
    const doc = decode(form);
    const issuers = Array.from(doc.getElementsByTagNameNS('*', 'Issuer')).map((i) => i.textContent);
    expect(issuers).toEqual(['https://evil-idp.test', 'https://evil-idp.test']);
    const { profile } = await validate(form);
    expect(profile?.issuer).toBe('https://evil-idp.test');
  });

  it('writes the given recipient and destination (node-saml leaves these to the app)', async () => {
    const form = await signIn({
      email: 'ada@example.com',
      recipient: 'https://other-sp.test/acs',
      destination: 'https://other-sp.test/acs2',
    });
    const doc = decode(form);
    expect(attr(doc, 'SubjectConfirmationData', 'Recipient')).toBe('https://other-sp.test/acs');
    expect(attr(doc, 'Response', 'Destination')).toBe('https://other-sp.test/acs2');
    expect(form.action).toBe(ACS_URL);
  });

  it('refuses an expired assertion, and one not yet valid', async () => {
    const expired = await signIn({ email: 'ada@example.com', shiftMs: -10 * 60_000 });
    // The bearer confirmation's NotOnOrAfter is the first condition node-saml finds broken.
    await expect(validate(expired)).rejects.toThrow(/no valid subject confirmation/i);
    const justExpired = await signIn({
      email: 'ada@example.com',
      notOnOrAfter: new Date(Date.now() - 3 * 60_000),
    });
    await expect(validate(justExpired)).rejects.toThrow(/no valid subject confirmation/i);
    const future = await signIn({
      email: 'ada@example.com',
      notBefore: new Date(Date.now() + 10 * 60_000),
    });
    await expect(validate(future)).rejects.toThrow(/not yet valid/i);
  });

  it('refuses an InResponseTo of a request the SP never issued, or none', async () => {
    const other = await signIn({ email: 'ada@example.com', inResponseTo: '_never-issued' });
    await expect(validate(other)).rejects.toThrow(/InResponseTo/);
    const omitted = await signIn({ email: 'ada@example.com', inResponseTo: null });
    expect(attr(decode(omitted), 'Response', 'InResponseTo')).toBeNull();
    await expect(validate(omitted)).rejects.toThrow(/InResponseTo/);
  });

  it('builds IdP-initiated (unsolicited) responses, refused by a strict SP', async () => {
    sp = serviceProvider(idp);
    const form = idp.unsolicited({
      email: 'ada@example.com',
      acsUrl: ACS_URL,
      audience: SP_ENTITY_ID,
    });
    expect(form.action).toBe(ACS_URL);
    expect(form.RelayState).toBeUndefined();
    const doc = decode(form);
    expect(attr(doc, 'Response', 'InResponseTo')).toBeNull();
    expect(attr(doc, 'SubjectConfirmationData', 'InResponseTo')).toBeNull();
    await expect(validate(form)).rejects.toThrow(/InResponseTo/);
    // It is otherwise genuine: an SP that allows IdP-initiated sign-in takes it.
    sp = serviceProvider(idp, { validateInResponseTo: ValidateInResponseTo.ifPresent });
    await expect(validate(form)).resolves.toMatchObject({ profile: { nameID: 'ada@example.com' } });
  });

  it('repeats a fixed assertion id across sign-ins (replay)', async () => {
    const first = await signIn({ email: 'ada@example.com', assertionId: '_replayed-1' });
    await validate(first);
    const second = await signIn({ email: 'ada@example.com', assertionId: '_replayed-1' });
    expect(attr(decode(first), 'Assertion', 'ID')).toBe('_replayed-1');
    expect(attr(decode(second), 'Assertion', 'ID')).toBe('_replayed-1');
    // node-saml keeps no assertion-id history: refusing this is the app's job.
    const { profile } = await validate(second);
    expect(profile?.getAssertionXml?.()).toContain('ID="_replayed-1"');
  });

  it('signs any address it is told to, e.g. outside the verified domain', async () => {
    const form = await signIn({ email: 'someone@not-verified.test' });
    await expect(validate(form)).resolves.toMatchObject({
      profile: { nameID: 'someone@not-verified.test' },
    });
  });
});
