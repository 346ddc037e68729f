import { DOMParser } from '@xmldom/xmldom';
import {
  ValidateInResponseTo,
  type CacheProvider,
  type Profile,
  type SamlConfig,
} from '@node-saml/node-saml';
import { randomUUID } from 'node:crypto';
import type { SsoConnection } from '../../database/schema.js';

/** How long an issued AuthnRequest may be answered (API.md: 10 minutes), single use. */
export const SAML_REQUEST_TTL_MS = 10 * 60_000;
/** Accepted clock difference with the IdP for NotBefore/NotOnOrAfter (API.md: 2 minutes). */
export const SAML_CLOCK_SKEW_MS = 2 * 60_000;
/** How long an assertion id is kept when the assertion names no NotOnOrAfter at all. */
const REPLAY_FALLBACK_MS = 24 * 60 * 60_000;

export const SAML_ROUTES_PATH = '/api/v1/auth/saml';
export const EMAIL_NAME_ID = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

/** The SP's URLs for one connection (the entity id is its metadata URL, as is usual). */
export interface SpUrls {
  entityId: string;
  acsUrl: string;
  metadataUrl: string;
}

export function spUrls(apiUrl: string, connectionId: number): SpUrls {
  const base = `${apiUrl}${SAML_ROUTES_PATH}/${connectionId}`;
  return { entityId: `${base}/metadata`, acsUrl: `${base}/acs`, metadataUrl: `${base}/metadata` };
}

/**
 * node-saml's options for a connection. Signatures: either the assertion or the whole response
 * must carry a valid signature by one of the connection's certificates (`wantAssertionsSigned`
 * and `wantAuthnResponseSigned` false make node-saml require the assertion's own signature
 * exactly when the response's is missing or invalid; it refuses a response with no valid
 * signature, with more than one assertion, and reads the assertion only from the signed XML).
 * Okta and Entra ID sign the assertion by default, ADFS often the response. InResponseTo
 * always (unsolicited responses refused) against `cacheProvider` (PostgreSQL, per connection).
 * No RequestedAuthnContext: Entra ID refuses PasswordProtectedTransport for passwordless users.
 */
export function samlConfig(
  connection: Pick<SsoConnection, 'idpSsoUrl' | 'idpCertificates'>,
  urls: SpUrls,
  cacheProvider: CacheProvider,
): SamlConfig {
  return {
    entryPoint: connection.idpSsoUrl,
    issuer: urls.entityId,
    callbackUrl: urls.acsUrl,
    audience: urls.entityId,
    idpCert: connection.idpCertificates,
    wantAssertionsSigned: false,
    wantAuthnResponseSigned: false,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    identifierFormat: EMAIL_NAME_ID,
    disableRequestedAuthnContext: true,
    acceptedClockSkewMs: SAML_CLOCK_SKEW_MS,
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: SAML_REQUEST_TTL_MS,
    cacheProvider,
    // An xs:ID must not start with a digit.
    generateUniqueId: () => `_${randomUUID()}`,
  };
}

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const SIGNATURE_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]);
const DIGEST_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);

/** A check node-saml leaves to its caller failed: the response is `sso.invalid_response`. */
export class SamlCheckError extends Error {}

/** What the ACS needs from a validated assertion. */
export interface CheckedAssertion {
  assertionId: string;
  nameId: string;
  inResponseTo: string;
  /** Until when the assertion id must be remembered (its latest NotOnOrAfter + skew). */
  keepUntil: Date;
}

type XmlJs = Record<string, unknown>;

function first(node: unknown, key: string): XmlJs | undefined {
  const list = (node as XmlJs | undefined)?.[key];
  return Array.isArray(list) ? (list[0] as XmlJs | undefined) : undefined;
}

function all(node: unknown, key: string): XmlJs[] {
  const list = (node as XmlJs | undefined)?.[key];
  return Array.isArray(list) ? (list as XmlJs[]) : [];
}

function attr(node: XmlJs | undefined, name: string): string | undefined {
  const value = (node?.$ as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

function text(node: XmlJs | undefined): string | undefined {
  const value = node?._;
  return typeof value === 'string' ? value.trim() : undefined;
}

/**
 * The checks API.md asks for that node-saml does not make, on what node-saml validated:
 * the assertion (`profile.getAssertion()`, parsed from the signed XML only) names the IdP's
 * entity id as Issuer and the ACS URL as the Recipient of every SubjectConfirmationData, and
 * its InResponseTo (if any) equals the response's; the response (the document's root: one
 * element, so a wrapped copy cannot stand in for it) has Destination = the ACS URL and, if it
 * names one, the same Issuer.
 */
export function checkAssertion(
  responseXml: string,
  profile: Profile,
  expected: { acsUrl: string; idpEntityId: string },
  now: Date,
): CheckedAssertion {
  const root = new DOMParser().parseFromString(responseXml, 'text/xml').documentElement;
  if (root === null || root.localName !== 'Response') throw new SamlCheckError('not a Response');
  if (root.getAttribute('Destination') !== expected.acsUrl) {
    throw new SamlCheckError('Destination is not the ACS URL');
  }
  // API.md: RSA-SHA256 signatures. A stronger SHA-2 is fine; SHA-1 (which xml-crypto still
  // accepts) is an IdP left on a weak setting and refused.
  for (const method of Array.from(root.getElementsByTagNameNS(DSIG, 'SignatureMethod'))) {
    if (!SIGNATURE_ALGORITHMS.has(method.getAttribute('Algorithm') ?? '')) {
      throw new SamlCheckError('a signature does not use RSA with SHA-256 or SHA-512');
    }
  }
  for (const method of Array.from(root.getElementsByTagNameNS(DSIG, 'DigestMethod'))) {
    if (!DIGEST_ALGORITHMS.has(method.getAttribute('Algorithm') ?? '')) {
      throw new SamlCheckError('a signature digest does not use SHA-256 or SHA-512');
    }
  }
  for (let node = root.firstChild; node !== null; node = node.nextSibling) {
    const element = node as Element;
    if (node.nodeType === 1 && element.localName === 'Issuer') {
      if ((element.textContent ?? '').trim() !== expected.idpEntityId) {
        throw new SamlCheckError('the response Issuer is not the IdP entity id');
      }
    }
  }
  const assertion = profile.getAssertion?.()?.Assertion as XmlJs | undefined;
  if (assertion === undefined) throw new SamlCheckError('no assertion');
  if (text(first(assertion, 'Issuer')) !== expected.idpEntityId) {
    throw new SamlCheckError('the assertion Issuer is not the IdP entity id');
  }
  const assertionId = attr(assertion, 'ID');
  if (assertionId === undefined || assertionId === '' || assertionId.length > 256) {
    throw new SamlCheckError('the assertion has no usable ID');
  }
  const inResponseTo = root.getAttribute('InResponseTo') ?? '';
  if (inResponseTo === '') throw new SamlCheckError('no InResponseTo');
  const subject = first(assertion, 'Subject');
  const confirmations = all(subject, 'SubjectConfirmation').flatMap((confirmation) =>
    all(confirmation, 'SubjectConfirmationData'),
  );
  if (confirmations.length === 0) throw new SamlCheckError('no SubjectConfirmationData');
  const expiries: number[] = [];
  for (const data of confirmations) {
    if (attr(data, 'Recipient') !== expected.acsUrl) {
      throw new SamlCheckError('Recipient is not the ACS URL');
    }
    const bound = attr(data, 'InResponseTo');
    if (bound !== undefined && bound !== inResponseTo) {
      throw new SamlCheckError('SubjectConfirmationData answers another request');
    }
    const until = attr(data, 'NotOnOrAfter');
    if (until !== undefined) expiries.push(Date.parse(until));
  }
  const conditionsUntil = attr(first(assertion, 'Conditions'), 'NotOnOrAfter');
  if (conditionsUntil !== undefined) expiries.push(Date.parse(conditionsUntil));
  const latest = Math.max(...expiries.filter((ms) => Number.isFinite(ms)));
  const keepUntil = new Date(
    Number.isFinite(latest) ? latest + SAML_CLOCK_SKEW_MS : now.getTime() + REPLAY_FALLBACK_MS,
  );
  const nameId = profile.nameID;
  if (typeof nameId !== 'string' || nameId.trim() === '') throw new SamlCheckError('no NameID');
  return { assertionId, nameId: nameId.trim(), inResponseTo, keepUntil };
}
