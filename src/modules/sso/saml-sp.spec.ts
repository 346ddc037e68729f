import { describe, expect, it } from '@jest/globals';
import { ValidateInResponseTo, type CacheProvider, type Profile } from '@node-saml/node-saml';
import { checkAssertion, SamlCheckError, samlConfig, spUrls } from './saml-sp.js';

const urls = spUrls('https://api.example.com', 7);
const ACS = 'https://api.example.com/api/v1/auth/saml/7/acs';
const IDP = 'http://www.okta.com/exk1';
const NOW = new Date('2026-12-08T10:00:00Z');

describe('spUrls', () => {
  it('derives entity id, ACS and metadata URLs from API_URL and the connection id', () => {
    expect(urls).toEqual({
      entityId: 'https://api.example.com/api/v1/auth/saml/7/metadata',
      acsUrl: ACS,
      metadataUrl: 'https://api.example.com/api/v1/auth/saml/7/metadata',
    });
  });
});

describe('samlConfig', () => {
  it("asks node-saml for everything it checks, against the connection's certificates", () => {
    const cache = {} as CacheProvider;
    const config = samlConfig(
      { idpSsoUrl: 'https://idp.example/sso', idpCertificates: ['PEM1', 'PEM2'] },
      urls,
      cache,
    );
    expect(config).toMatchObject({
      entryPoint: 'https://idp.example/sso',
      issuer: urls.entityId,
      audience: urls.entityId,
      callbackUrl: ACS,
      idpCert: ['PEM1', 'PEM2'],
      // Either the assertion or the response must be signed (node-saml then insists on the
      // assertion's own signature whenever the response's is missing or invalid).
      wantAssertionsSigned: false,
      wantAuthnResponseSigned: false,
      signatureAlgorithm: 'sha256',
      acceptedClockSkewMs: 120_000,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: 600_000,
      cacheProvider: cache,
    });
    expect(config.generateUniqueId?.()).toMatch(/^_[0-9a-f-]{36}$/);
  });
});

/** node-saml's profile of a validated assertion (xml2js shapes, prefixes stripped). */
function profile(
  options: {
    issuer?: string;
    recipients?: (string | undefined)[];
    subjectInResponseTo?: string;
    notOnOrAfter?: string;
    nameID?: string;
    id?: string;
  } = {},
): Profile {
  const confirmations = (options.recipients ?? [ACS]).map((recipient) => ({
    $: { Method: 'urn:oasis:names:tc:SAML:2.0:cm:bearer' },
    SubjectConfirmationData: [
      {
        $: {
          ...(recipient === undefined ? {} : { Recipient: recipient }),
          NotOnOrAfter: options.notOnOrAfter ?? '2026-12-08T10:05:00Z',
          ...(options.subjectInResponseTo === undefined
            ? { InResponseTo: '_req1' }
            : { InResponseTo: options.subjectInResponseTo }),
        },
      },
    ],
  }));
  const assertion = {
    Assertion: {
      $: { ID: options.id ?? '_assert1', IssueInstant: '2026-12-08T10:00:00Z' },
      Issuer: [{ _: options.issuer ?? IDP }],
      Subject: [{ NameID: [{ _: 'ada@corp.example' }], SubjectConfirmation: confirmations }],
      Conditions: [
        { $: { NotBefore: '2026-12-08T10:00:00Z', NotOnOrAfter: '2026-12-08T10:04:00Z' } },
      ],
    },
  };
  return {
    issuer: options.issuer ?? IDP,
    nameID: options.nameID ?? 'ada@corp.example',
    nameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    getAssertion: () => assertion,
    getAssertionXml: () => '',
    getSamlResponseXml: () => '',
  };
}

function response(
  attributes: { destination?: string | null; issuer?: string; signature?: string } = {},
): string {
  const destination =
    attributes.destination === null ? '' : ` Destination="${attributes.destination ?? ACS}"`;
  const issuer =
    attributes.issuer === undefined
      ? ''
      : `<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${attributes.issuer}</saml:Issuer>`;
  const signature =
    attributes.signature === undefined
      ? ''
      : `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-${attributes.signature}"/><ds:Reference URI="#_r"><ds:DigestMethod Algorithm="${attributes.signature === 'sha1' ? 'http://www.w3.org/2000/09/xmldsig#sha1' : `http://www.w3.org/2001/04/xmlenc#${attributes.signature}`}"/></ds:Reference></ds:SignedInfo></ds:Signature>`;
  return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" InResponseTo="_req1"${destination}>${issuer}${signature}</samlp:Response>`;
}

const expected = { acsUrl: ACS, idpEntityId: IDP };

describe('checkAssertion (what node-saml leaves to us)', () => {
  it('answers the assertion id, NameID, InResponseTo and how long to remember the id', () => {
    expect(checkAssertion(response({ issuer: IDP }), profile(), expected, NOW)).toEqual({
      assertionId: '_assert1',
      nameId: 'ada@corp.example',
      inResponseTo: '_req1',
      // The later of the two NotOnOrAfter, plus the 2 minutes of skew.
      keepUntil: new Date('2026-12-08T10:07:00Z'),
    });
  });

  it('accepts RSA-SHA256 and RSA-SHA512 signatures', () => {
    for (const signature of ['sha256', 'sha512']) {
      expect(checkAssertion(response({ signature }), profile(), expected, NOW).assertionId).toBe(
        '_assert1',
      );
    }
  });

  it.each([
    ['an RSA-SHA1 signature', response({ signature: 'sha1' }), profile()],
    ['a Destination that is not the ACS URL', response({ destination: `${ACS}x` }), profile()],
    ['no Destination', response({ destination: null }), profile()],
    ['a response Issuer of another IdP', response({ issuer: 'https://evil' }), profile()],
    ['an assertion Issuer of another IdP', response(), profile({ issuer: 'https://evil' })],
    [
      'a Recipient that is not the ACS URL',
      response(),
      profile({ recipients: ['https://evil/acs'] }),
    ],
    [
      'one of two Recipients elsewhere',
      response(),
      profile({ recipients: [ACS, 'https://evil/acs'] }),
    ],
    ['no Recipient', response(), profile({ recipients: [undefined] })],
    ['no SubjectConfirmationData', response(), profile({ recipients: [] })],
    ['a subject bound to another request', response(), profile({ subjectInResponseTo: '_other' })],
    ['no NameID', response(), profile({ nameID: ' ' })],
    ['no assertion ID', response(), profile({ id: '' })],
  ])('refuses %s', (_name, xml, validated) => {
    expect(() => checkAssertion(xml, validated, expected, NOW)).toThrow(SamlCheckError);
  });
});
