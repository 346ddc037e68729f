import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inflateRawSync } from 'node:zlib';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { generate as generateCertificate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';

/**
 * A SAML 2.0 identity provider for the tests, on a loopback port.
 *
 * It plays what Okta or Entra ID do after the person has logged in: `GET /sso` takes an
 * AuthnRequest over the HTTP-Redirect binding and answers the HTML page whose form posts a
 * signed `<samlp:Response>` to the request's ACS URL (HTTP-POST binding). Tests read the form
 * fields through `signIn()` / `lastForm()` and post them to the ACS as a browser would.
 *
 * The XML is built with `@xmldom/xmldom` and signed with `xml-crypto` (enveloped XML-DSig,
 * RSA-SHA256, exclusive c14n), the libraries `@node-saml/node-saml` itself uses; no signature
 * code is written here. The key pair and self-signed certificate are generated at start with
 * `selfsigned` (no fixture files to expire or leak into a real configuration).
 *
 * Every sign-in takes knobs (`SamlSignInOptions`) that turn the honest response into the
 * forgeries a service provider must refuse: unsigned, foreign key, signature wrapping, the
 * comment-in-NameID trick, wrong audience/recipient/destination/issuer, unsolicited, expired,
 * replayed assertion id, an address outside the verified domain.
 */

const NS = {
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
} as const;
const BINDING_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const CONFIRMATION_BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const AUTHN_CONTEXT_PASSWORD = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';
const ATTRNAME_BASIC = 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** What the IdP read from an SP's AuthnRequest (HTTP-Redirect binding). */
export interface SamlAuthnRequest {
  id: string;
  /** The SP entity id (`<saml:Issuer>`). */
  issuer: string;
  acsUrl: string | undefined;
  destination: string | undefined;
  relayState: string | undefined;
  /** Whether the redirect carried a `Signature` (the stand-in does not check it). */
  signed: boolean;
  xml: string;
}

/** The fields of the auto-submit form a browser would post to the SP's ACS. */
export interface SamlPostForm {
  action: string;
  SAMLResponse: string;
  RelayState?: string;
}

/** The person who "logged in" at the IdP, and how the response about them is spoiled. */
export interface SamlSignInOptions {
  /** NameID (format emailAddress) and the `email` attribute. */
  email: string;
  givenName?: string;
  surname?: string;

  /** What carries the signature: the assertion (default; what Okta and Entra ID do), the whole
   *  response, or both. */
  sign?: 'assertion' | 'response' | 'both';
  /** Attack: no signature at all (an SP that only checks signatures when present). */
  unsigned?: boolean;
  /** Attack: signed by a second key pair that is NOT in the metadata, its certificate embedded
   *  in `<ds:KeyInfo>` (an SP that trusts the certificate inside the message). */
  signWithOtherKey?: boolean;
  /**
   * Attack: XML signature wrapping. The honest assertion stays signed and intact; an unsigned
   * copy naming `email` is added so that an SP which verifies one element but reads another
   * signs in the attacker.
   * - `before` (classic): the evil assertion comes first in the Response, the signed one
   *   after it (a naive SP reads `Assertion[1]`).
   * - `inside`: the evil assertion is the Response's only assertion and the signed one is
   *   tucked into its `<saml:Advice>` (an SP that finds "a valid signature somewhere").
   * Only with the assertion signature (`sign: 'assertion'`).
   */
  wrapping?: { email: string; placement?: 'before' | 'inside' };
  /**
   * Attack: the XML comment trick (Duo, 2018). After signing, a comment `<!---->` is put into
   * the NameID right after this prefix of `email`, e.g. email `user@evil.com.example.com` and
   * prefix `user@evil.com`. Exclusive c14n drops comments, so the signature still holds, and an
   * SP reading only the first text node sees `user@evil.com`.
   */
  commentInNameId?: string;

  /** Attack: `<saml:Audience>` for another SP (default: the AuthnRequest's Issuer). */
  audience?: string;
  /** Attack: SubjectConfirmationData `Recipient` (default: the ACS URL). */
  recipient?: string;
  /** Attack: the Response's `Destination` (default: the ACS URL). */
  destination?: string;
  /** Attack: `<saml:Issuer>` of the Response and Assertion (default: this IdP's entity id). */
  issuer?: string;
  /** Where the form posts (default: the AuthnRequest's ACS URL). */
  acsUrl?: string;
  /** Attack: `InResponseTo` of another request, or `null` to omit it (unsolicited). */
  inResponseTo?: string | null;
  /** RelayState sent back (default: the one that came with the request). */
  relayState?: string;

  /** Attack (stale or future assertion): moves every timestamp by this many ms (e.g.
   *  `-10 * 60_000` makes an assertion that expired 5 minutes ago). */
  shiftMs?: number;
  /** Exact `IssueInstant` (Response, Assertion, AuthnInstant); default now + shiftMs. */
  issueInstant?: Date;
  /** Exact `Conditions/@NotBefore`; default issueInstant. */
  notBefore?: Date;
  /** Exact `NotOnOrAfter` (Conditions and SubjectConfirmationData); default issueInstant + 5 min. */
  notOnOrAfter?: Date;
  /** Attack (replay): a fixed assertion ID, to send the same assertion id twice. */
  assertionId?: string;
}

export interface TestSamlIdp {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** `<baseUrl>/metadata`, also served there. */
  entityId: string;
  /** `<baseUrl>/sso` (HTTP-Redirect binding). */
  ssoUrl: string;
  /** EntityDescriptor with IDPSSODescriptor, signing certificate and SSO URL. */
  metadataXml: string;
  /** The signing certificate, PEM. */
  certificatePem: string;
  /** The signing certificate, base64 DER (as in metadata and `idpCert`). */
  certificate: string;
  /** Every AuthnRequest received, oldest first. */
  requests: SamlAuthnRequest[];
  lastRequest(): SamlAuthnRequest | undefined;
  /** The form of the last `/sso` answer. */
  lastForm(): SamlPostForm | undefined;
  /** The person (and knobs) the next `/sso` requests sign in; for browser-driven tests. */
  loginAs(options: SamlSignInOptions): void;
  /** Follows the SP's redirect URL to `/sso` as the browser would and returns the form. */
  signIn(redirectUrl: string, options: SamlSignInOptions): Promise<SamlPostForm>;
  /** IdP-initiated: a response that answers no AuthnRequest (no InResponseTo). */
  unsolicited(options: SamlSignInOptions & { acsUrl: string; audience: string }): SamlPostForm;
  /** Builds the XML of a response (what `SAMLResponse` carries, decoded), for inspection. */
  buildResponseXml(request: ResponseTarget, options: SamlSignInOptions): string;
  close(): Promise<void>;
}

/** Where a response goes: taken from an AuthnRequest or given (unsolicited). */
export interface ResponseTarget {
  acsUrl: string;
  audience: string;
  inResponseTo: string | undefined;
}

interface KeyPair {
  privateKeyPem: string;
  certificatePem: string;
}

async function newKeyPair(commonName: string): Promise<KeyPair> {
  const now = Date.now();
  const pems = await generateCertificate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60 * 60_000),
    notAfterDate: new Date(now + 365 * 24 * 60 * 60_000),
  });
  return { privateKeyPem: pems.private, certificatePem: pems.cert };
}

function pemBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

function newId(): string {
  // An xs:ID must not start with a digit.
  return `_${randomBytes(16).toString('hex')}`;
}

function parseXml(xml: string): Document {
  const fail = (message: string) => {
    throw new Error(`invalid XML: ${message}`);
  };
  return new DOMParser({ errorHandler: { error: fail, fatalError: fail } }).parseFromString(
    xml,
    'text/xml',
  );
}

const serialize = (node: Node) => new XMLSerializer().serializeToString(node);

type Child = Element | string | undefined;

/** `el(doc, 'saml:Issuer', {}, ['x'])`: an element in the namespace its prefix names. */
function el(
  doc: Document,
  qname: `${keyof typeof NS}:${string}`,
  attributes: Record<string, string | undefined> = {},
  children: Child[] = [],
): Element {
  const prefix = qname.split(':')[0] as keyof typeof NS;
  const element = doc.createElementNS(NS[prefix], qname);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === undefined) continue;
    element.appendChild(typeof child === 'string' ? doc.createTextNode(child) : child);
  }
  return element;
}

/** Direct children of `parent` in namespace `ns` with local name `name`. */
function children(parent: Element, ns: string, name: string): Element[] {
  return Array.from(parent.childNodes).filter(
    (n): n is Element =>
      n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === name,
  );
}

function only(parent: Element, ns: string, name: string): Element {
  const [found] = children(parent, ns, name);
  if (!found) throw new Error(`no ${name} in ${parent.localName}`);
  return found;
}

/** Enveloped signature over the element with this ID, placed right after its `<Issuer>`. */
function signElement(xml: string, localName: string, id: string, key: KeyPair): string {
  const sig = new SignedXml({
    privateKey: key.privateKeyPem,
    publicCert: key.certificatePem,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  const target = `//*[local-name(.)='${localName}' and @ID='${id}']`;
  sig.addReference({ xpath: target, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: SHA256 });
  sig.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `${target}/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return sig.getSignedXml();
}

function buildMetadata(entityId: string, ssoUrl: string, certificate: string): string {
  const doc = parseXml(`<md:EntityDescriptor xmlns:md="${NS.md}"/>`);
  const root = doc.documentElement;
  root.setAttribute('entityID', entityId);
  root.appendChild(
    el(
      doc,
      'md:IDPSSODescriptor',
      { WantAuthnRequestsSigned: 'false', protocolSupportEnumeration: NS.samlp },
      [
        el(doc, 'md:KeyDescriptor', { use: 'signing' }, [
          el(doc, 'ds:KeyInfo', {}, [
            el(doc, 'ds:X509Data', {}, [el(doc, 'ds:X509Certificate', {}, [certificate])]),
          ]),
        ]),
        el(doc, 'md:NameIDFormat', {}, [NAMEID_EMAIL]),
        el(doc, 'md:SingleSignOnService', { Binding: BINDING_REDIRECT, Location: ssoUrl }),
      ],
    ),
  );
  return serialize(doc);
}

/** Decodes and parses `?SAMLRequest=` (HTTP-Redirect binding: base64 of raw DEFLATE). */
function parseAuthnRequest(query: URLSearchParams): SamlAuthnRequest {
  const encoded = query.get('SAMLRequest');
  if (!encoded) throw new Error('SAMLRequest missing');
  const xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
  const root = parseXml(xml).documentElement;
  if (!root || root.namespaceURI !== NS.samlp || root.localName !== 'AuthnRequest') {
    throw new Error('not a samlp:AuthnRequest');
  }
  const id = root.getAttribute('ID');
  const issuer = children(root, NS.saml, 'Issuer')[0]?.textContent?.trim();
  if (!id || !issuer) throw new Error('AuthnRequest without ID or Issuer');
  return {
    id,
    issuer,
    acsUrl: root.getAttribute('AssertionConsumerServiceURL') || undefined,
    destination: root.getAttribute('Destination') || undefined,
    relayState: query.get('RelayState') ?? undefined,
    signed: query.has('Signature'),
    xml,
  };
}

function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** The page an IdP answers after login: a form that posts itself to the ACS. */
function autoSubmitPage(form: SamlPostForm): string {
  const field = (name: string, value: string | undefined) =>
    value === undefined ? '' : `<input type="hidden" name="${name}" value="${escapeHtml(value)}"/>`;
  return [
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signing in…</title></head>',
    '<body onload="document.forms[0].submit()">',
    `<form method="post" action="${escapeHtml(form.action)}">`,
    field('SAMLResponse', form.SAMLResponse),
    field('RelayState', form.RelayState),
    '<noscript><button type="submit">Continue</button></noscript>',
    '</form></body></html>',
  ].join('');
}

export async function startSamlIdp(): Promise<TestSamlIdp> {
  const [key, otherKey] = await Promise.all([
    newKeyPair('nest-saas test IdP'),
    newKeyPair('attacker'),
  ]);
  const certificate = pemBody(key.certificatePem);

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entityId = `${baseUrl}/metadata`;
  const ssoUrl = `${baseUrl}/sso`;
  const metadataXml = buildMetadata(entityId, ssoUrl, certificate);

  const requests: SamlAuthnRequest[] = [];
  let lastForm: SamlPostForm | undefined;
  let account: SamlSignInOptions | undefined;

  function buildResponseXml(target: ResponseTarget, o: SamlSignInOptions): string {
    const sign = o.sign ?? 'assertion';
    if (o.wrapping && (o.unsigned || sign !== 'assertion')) {
      throw new Error('wrapping models the assertion signature: use it with sign "assertion"');
    }
    const issueInstant = o.issueInstant ?? new Date(Date.now() + (o.shiftMs ?? 0));
    const notBefore = o.notBefore ?? issueInstant;
    const notOnOrAfter = o.notOnOrAfter ?? new Date(issueInstant.getTime() + 5 * 60_000);
    const inResponseTo =
      o.inResponseTo === null ? undefined : (o.inResponseTo ?? target.inResponseTo);
    const issuer = o.issuer ?? entityId;
    const responseId = newId();
    const assertionId = o.assertionId ?? newId();
    const attribute = (name: string, value: string | undefined) =>
      value === undefined
        ? undefined
        : el(doc, 'saml:Attribute', { Name: name, NameFormat: ATTRNAME_BASIC }, [
            el(doc, 'saml:AttributeValue', {}, [value]),
          ]);

    const doc = parseXml(`<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}"/>`);
    const response = doc.documentElement;
    for (const [name, value] of Object.entries({
      ID: responseId,
      Version: '2.0',
      IssueInstant: issueInstant.toISOString(),
      Destination: o.destination ?? target.acsUrl,
      InResponseTo: inResponseTo,
    })) {
      if (value !== undefined) response.setAttribute(name, value);
    }
    response.appendChild(el(doc, 'saml:Issuer', {}, [issuer]));
    response.appendChild(
      el(doc, 'samlp:Status', {}, [el(doc, 'samlp:StatusCode', { Value: STATUS_SUCCESS })]),
    );
    response.appendChild(
      el(
        doc,
        'saml:Assertion',
        { ID: assertionId, Version: '2.0', IssueInstant: issueInstant.toISOString() },
        [
          el(doc, 'saml:Issuer', {}, [issuer]),
          el(doc, 'saml:Subject', {}, [
            el(doc, 'saml:NameID', { Format: NAMEID_EMAIL }, [o.email]),
            el(doc, 'saml:SubjectConfirmation', { Method: CONFIRMATION_BEARER }, [
              el(doc, 'saml:SubjectConfirmationData', {
                Recipient: o.recipient ?? target.acsUrl,
                InResponseTo: inResponseTo,
                NotOnOrAfter: notOnOrAfter.toISOString(),
              }),
            ]),
          ]),
          el(
            doc,
            'saml:Conditions',
            { NotBefore: notBefore.toISOString(), NotOnOrAfter: notOnOrAfter.toISOString() },
            [
              el(doc, 'saml:AudienceRestriction', {}, [
                el(doc, 'saml:Audience', {}, [o.audience ?? target.audience]),
              ]),
            ],
          ),
          el(
            doc,
            'saml:AuthnStatement',
            { AuthnInstant: issueInstant.toISOString(), SessionIndex: newId() },
            [
              el(doc, 'saml:AuthnContext', {}, [
                el(doc, 'saml:AuthnContextClassRef', {}, [AUTHN_CONTEXT_PASSWORD]),
              ]),
            ],
          ),
          el(doc, 'saml:AttributeStatement', {}, [
            attribute('email', o.email),
            attribute('givenName', o.givenName),
            attribute('surname', o.surname),
          ]),
        ],
      ),
    );

    let xml = serialize(doc);
    if (!o.unsigned) {
      const signer = o.signWithOtherKey ? otherKey : key;
      if (sign !== 'response') xml = signElement(xml, 'Assertion', assertionId, signer);
      if (sign !== 'assertion') xml = signElement(xml, 'Response', responseId, signer);
    }
    if (o.commentInNameId !== undefined || o.wrapping) xml = tamper(xml, o);
    return xml;
  }

  /** What an attacker does to a signed response on its way through the browser. */
  function tamper(xml: string, o: SamlSignInOptions): string {
    const doc = parseXml(xml);
    const response = doc.documentElement;
    const signed = only(response, NS.saml, 'Assertion');

    if (o.commentInNameId !== undefined) {
      if (!o.email.startsWith(o.commentInNameId) || o.email === o.commentInNameId) {
        throw new Error('commentInNameId must be a proper prefix of email');
      }
      const nameId = only(only(signed, NS.saml, 'Subject'), NS.saml, 'NameID');
      while (nameId.firstChild) nameId.removeChild(nameId.firstChild);
      nameId.appendChild(doc.createTextNode(o.commentInNameId));
      nameId.appendChild(doc.createComment(''));
      nameId.appendChild(doc.createTextNode(o.email.slice(o.commentInNameId.length)));
    }

    if (o.wrapping) {
      // The evil twin: same assertion, no signature, a fresh ID, the attacker's address.
      const evil = signed.cloneNode(true) as Element;
      for (const signature of children(evil, NS.ds, 'Signature')) evil.removeChild(signature);
      evil.setAttribute('ID', newId());
      const nameId = only(only(evil, NS.saml, 'Subject'), NS.saml, 'NameID');
      nameId.textContent = o.wrapping.email;
      for (const value of Array.from(evil.getElementsByTagNameNS(NS.saml, 'AttributeValue'))) {
        const attribute = value.parentNode as Element;
        if (attribute.getAttribute('Name') === 'email') value.textContent = o.wrapping.email;
      }
      if ((o.wrapping.placement ?? 'before') === 'before') {
        response.insertBefore(evil, signed);
      } else {
        response.replaceChild(evil, signed);
        const conditions = only(evil, NS.saml, 'Conditions');
        evil.insertBefore(el(doc, 'saml:Advice', {}, [signed]), conditions.nextSibling);
      }
    }
    return serialize(doc);
  }

  function respond(target: ResponseTarget, o: SamlSignInOptions, relayState?: string) {
    const xml = buildResponseXml(target, o);
    const form: SamlPostForm = {
      action: o.acsUrl ?? target.acsUrl,
      SAMLResponse: Buffer.from(xml, 'utf8').toString('base64'),
      ...((o.relayState ?? relayState) !== undefined
        ? { RelayState: o.relayState ?? relayState }
        : {}),
    };
    lastForm = form;
    return form;
  }

  function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', baseUrl);
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': `${type}; charset=utf-8` });
      res.end(body);
    };
    if (req.method === 'GET' && url.pathname === '/metadata') {
      return send(200, 'application/samlmetadata+xml', metadataXml);
    }
    if (req.method !== 'GET' || url.pathname !== '/sso')
      return send(404, 'text/plain', 'not found');

    let request: SamlAuthnRequest;
    try {
      request = parseAuthnRequest(url.searchParams);
    } catch (err) {
      return send(400, 'text/plain', `bad AuthnRequest: ${(err as Error).message}`);
    }
    requests.push(request);
    if (!account) return send(500, 'text/plain', 'saml-idp: loginAs() was not called');
    const acsUrl = account.acsUrl ?? request.acsUrl;
    if (!acsUrl) return send(400, 'text/plain', 'AuthnRequest without AssertionConsumerServiceURL');
    const form = respond(
      { acsUrl, audience: request.issuer, inResponseTo: request.id },
      account,
      request.relayState,
    );
    send(200, 'text/html', autoSubmitPage(form));
  }

  server.on('request', (req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`saml-idp: ${(err as Error).stack}`);
    }
  });

  return {
    baseUrl,
    entityId,
    ssoUrl,
    metadataXml,
    certificatePem: key.certificatePem,
    certificate,
    requests,
    lastRequest: () => requests.at(-1),
    lastForm: () => lastForm,
    loginAs(options) {
      account = options;
    },
    async signIn(redirectUrl, options) {
      if (!redirectUrl.startsWith(`${ssoUrl}?`)) {
        throw new Error(`not a redirect to this IdP (${ssoUrl}): ${redirectUrl}`);
      }
      account = options;
      lastForm = undefined;
      const res = await fetch(redirectUrl, { redirect: 'manual' });
      const body = await res.text();
      if (res.status !== 200 || !lastForm) {
        throw new Error(`saml-idp answered ${res.status}: ${body}`);
      }
      return lastForm;
    },
    unsolicited(options) {
      return respond(
        { acsUrl: options.acsUrl, audience: options.audience, inResponseTo: undefined },
        { ...options, inResponseTo: options.inResponseTo ?? null },
      );
    },
    buildResponseXml,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
