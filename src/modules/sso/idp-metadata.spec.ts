import { beforeAll, describe, expect, it } from '@jest/globals';
import { generate } from 'selfsigned';
import { InvalidMetadataError, parseIdpMetadata } from './idp-metadata.js';

let certA: string;
let certB: string;

const base64Of = (pem: string) =>
  pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');

beforeAll(async () => {
  const make = async (cn: string) =>
    base64Of((await generate([{ name: 'commonName', value: cn }], { keySize: 2048 })).cert);
  [certA, certB] = await Promise.all([make('idp-a'), make('idp-b')]);
});

/** Okta's shape: `md:` prefixes, signing key, both bindings. */
function okta(options: { cert?: string; redirect?: boolean; extraKeys?: string } = {}): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://www.okta.com/exk1">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>
${(options.cert ?? certA).replace(/(.{64})/g, '$1\n')}
      </ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>${options.extraKeys ?? ''}
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://corp.okta.com/app/x/sso/saml"/>
    ${options.redirect === false ? '' : '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://corp.okta.com/app/x/sso/saml?x=1"/>'}
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}

/** Entra ID's shape: default namespace, WS-Fed RoleDescriptors first, an encryption key. */
function entra(): string {
  return `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" ID="_abc" entityID="https://sts.windows.net/tenant-id/">
  <RoleDescriptor xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706"/>
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${certA}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${certB}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <KeyDescriptor use="encryption"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${certB}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/tenant-id/saml2"/>
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/tenant-id/saml2"/>
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://login.microsoftonline.com/tenant-id/saml2"/>
  </IDPSSODescriptor>
</EntityDescriptor>`;
}

const pemOf = (base64: string) => expect.stringContaining(base64.slice(0, 64));

describe('parseIdpMetadata', () => {
  it("reads Okta's metadata: entity id, the HTTP-Redirect SSO URL, the signing certificate as PEM", () => {
    const metadata = parseIdpMetadata(okta());
    expect(metadata).toEqual({
      entityId: 'http://www.okta.com/exk1',
      ssoUrl: 'https://corp.okta.com/app/x/sso/saml?x=1',
      certificates: [pemOf(certA)],
    });
    expect(metadata.certificates[0]).toMatch(
      /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/,
    );
  });

  it("reads Entra ID's metadata: default namespace, both signing keys, not the encryption key", () => {
    const metadata = parseIdpMetadata(entra());
    expect(metadata.entityId).toBe('https://sts.windows.net/tenant-id/');
    expect(metadata.ssoUrl).toBe('https://login.microsoftonline.com/tenant-id/saml2');
    expect(metadata.certificates).toEqual([pemOf(certA), pemOf(certB)]);
  });

  it('reads an EntitiesDescriptor holding one identity provider', () => {
    const wrapped = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${okta().replace(/^<\?xml[^>]*>/, '')}</md:EntitiesDescriptor>`;
    expect(parseIdpMetadata(wrapped).entityId).toBe('http://www.okta.com/exk1');
  });

  it('keeps a key without `use` (signing and encryption) and drops duplicates', () => {
    const extra = `<md:KeyDescriptor><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${certA}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
    expect(parseIdpMetadata(okta({ extraKeys: extra })).certificates).toHaveLength(1);
  });

  it.each([
    ['not XML', 'this is not <xml', 'not well-formed'],
    ['another document', '<html><body/></html>', 'No SAML 2.0 identity provider'],
    ['no HTTP-Redirect binding', 'NO_REDIRECT', 'HTTP-Redirect'],
    ['a certificate that is not X.509', 'BAD_CERT', 'not a valid X.509'],
    ['a certificate that is not base64', 'NOT_BASE64', 'not base64'],
    ['two identity providers', 'TWO', 'more than one'],
    ['an SSO URL that is not http(s)', 'FTP', 'https://'],
  ])('refuses %s', (_name, input, message) => {
    const xml =
      input === 'NO_REDIRECT'
        ? okta({ redirect: false })
        : input === 'BAD_CERT'
          ? okta({ cert: Buffer.from('not a certificate at all').toString('base64') })
          : input === 'NOT_BASE64'
            ? okta({ cert: 'not*base64' })
            : input === 'TWO'
              ? `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${okta().replace(/^<\?xml[^>]*>/, '')}${okta()
                  .replace(/^<\?xml[^>]*>/, '')
                  .replace('exk1', 'exk2')}</md:EntitiesDescriptor>`
              : input === 'FTP'
                ? okta().replace(
                    'https://corp.okta.com/app/x/sso/saml?x=1',
                    'ftp://corp.okta.com/sso',
                  )
                : input;
    expect(() => parseIdpMetadata(xml)).toThrow(InvalidMetadataError);
    expect(() => parseIdpMetadata(xml)).toThrow(message);
  });

  it('does not resolve external entities', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${okta()
      .replace(/^<\?xml[^>]*>/, '')
      .replace('http://www.okta.com/exk1', '&e;')}`;
    let entityId: string | undefined;
    try {
      entityId = parseIdpMetadata(xxe).entityId;
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidMetadataError);
    }
    expect(entityId ?? '').not.toContain('root:');
  });
});
