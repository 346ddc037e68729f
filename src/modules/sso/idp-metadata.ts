import { DOMParser } from '@xmldom/xmldom';
import { X509Certificate } from 'node:crypto';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const HTTP_REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

/** What a connection needs from an identity provider's metadata. */
export interface IdpMetadata {
  entityId: string;
  /** SingleSignOnService Location for the HTTP-Redirect binding. */
  ssoUrl: string;
  /** Signing certificates as PEM (KeyDescriptor use="signing" or without `use`). */
  certificates: string[];
}

/** Why metadata was refused: the message of the 400 `sso.invalid_metadata`. */
export class InvalidMetadataError extends Error {}

function children(parent: Element, ns: string, localName: string): Element[] {
  const found: Element[] = [];
  for (let node = parent.firstChild; node !== null; node = node.nextSibling) {
    if (node.nodeType !== 1) continue;
    const element = node as Element;
    if (element.namespaceURI === ns && element.localName === localName) found.push(element);
  }
  return found;
}

function descendants(parent: Element, ns: string, localName: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS(ns, localName));
}

/** A base64 DER certificate (whitespace allowed) as PEM, if Node can parse it as X.509. */
function certificatePem(text: string): string {
  const base64 = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    throw new InvalidMetadataError('A signing certificate is not base64');
  }
  const lines = base64.match(/.{1,64}/g) ?? [];
  const pem = `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
  try {
    new X509Certificate(pem);
  } catch {
    throw new InvalidMetadataError('A signing certificate is not a valid X.509 certificate');
  }
  return pem;
}

function httpUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidMetadataError(`${what} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidMetadataError(`${what} must use https://`);
  }
  return url.href;
}

/**
 * Reads an IdP's SAML 2.0 metadata (an EntityDescriptor, or an EntitiesDescriptor holding one
 * IdP) with @xmldom/xmldom, the parser node-saml itself uses: the entity id, the SSO URL of the
 * HTTP-Redirect binding and the signing certificates (Okta's and Entra ID's "metadata XML"
 * downloads, ADFS's FederationMetadata). Namespaces are matched by URI, not by prefix. Nothing
 * is fetched (no URLs followed, no external entities: xmldom resolves none).
 */
export function parseIdpMetadata(xml: string): IdpMetadata {
  const problems: string[] = [];
  const doc = new DOMParser({
    errorHandler: {
      warning: () => undefined,
      error: (message: string) => problems.push(message),
      fatalError: (message: string) => problems.push(message),
    },
  }).parseFromString(xml, 'text/xml');
  const root = doc?.documentElement;
  if (problems.length > 0 || root === null || root === undefined) {
    throw new InvalidMetadataError('The metadata is not well-formed XML');
  }
  const entities =
    root.namespaceURI === MD && root.localName === 'EntityDescriptor'
      ? [root]
      : descendants(root, MD, 'EntityDescriptor');
  const candidates = entities.filter((entity) =>
    children(entity, MD, 'IDPSSODescriptor').some((idp) =>
      (idp.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(PROTOCOL),
    ),
  );
  if (candidates.length !== 1) {
    throw new InvalidMetadataError(
      candidates.length === 0
        ? 'No SAML 2.0 identity provider (IDPSSODescriptor) in the metadata'
        : 'The metadata describes more than one identity provider',
    );
  }
  const entity = candidates[0]!;
  const entityId = entity.getAttribute('entityID')?.trim() ?? '';
  if (entityId === '' || entityId.length > 1024) {
    throw new InvalidMetadataError('The EntityDescriptor has no entityID');
  }
  const idp = children(entity, MD, 'IDPSSODescriptor')[0]!;
  const redirect = children(idp, MD, 'SingleSignOnService').find(
    (service) => service.getAttribute('Binding') === HTTP_REDIRECT_BINDING,
  );
  const location = redirect?.getAttribute('Location')?.trim();
  if (location === undefined || location === '') {
    throw new InvalidMetadataError(
      'The identity provider offers no SingleSignOnService with the HTTP-Redirect binding',
    );
  }
  const certificates = children(idp, MD, 'KeyDescriptor')
    .filter((key) => {
      const use = key.getAttribute('use');
      return use === null || use === '' || use === 'signing';
    })
    .flatMap((key) => descendants(key, DS, 'X509Certificate'))
    .map((cert) => certificatePem(cert.textContent ?? ''));
  if (certificates.length === 0) {
    throw new InvalidMetadataError('The identity provider names no signing certificate');
  }
  return {
    entityId,
    ssoUrl: httpUrl(location, 'The SingleSignOnService Location'),
    certificates: [...new Set(certificates)],
  };
}
