import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { EmailAddress } from '../../common/email.js';
import { EMAIL_PROPERTY } from '../../common/openapi/schema-rules.js';
import type { SsoConnection } from '../../database/schema.js';
import type { SpUrls } from './saml-sp.js';

const METADATA_MAX = 90_000;

const METADATA_PROPERTY = {
  description:
    'The identity provider\'s SAML 2.0 metadata XML (Okta: the app\'s "Metadata URL" document; Entra ID: "Federation Metadata XML"): its entity id, a SingleSignOnService with the HTTP-Redirect binding and the signing certificate(s) are read from it',
  maxLength: METADATA_MAX,
  example:
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://www.okta.com/exk1">…</md:EntityDescriptor>',
};

export class CreateSsoConnectionDto {
  @ApiProperty(METADATA_PROPERTY)
  @IsString()
  @IsNotEmpty()
  @MaxLength(METADATA_MAX)
  idpMetadataXml!: string;
}

export class UpdateSsoConnectionDto {
  @ApiPropertyOptional(METADATA_PROPERTY)
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(METADATA_MAX)
  idpMetadataXml?: string;

  @ApiPropertyOptional({
    description:
      "Block password sign-in and reset for addresses in the team's verified domains; `true` needs at least one verified domain (409 `sso.domain_required`)",
  })
  @IsOptional()
  @IsBoolean()
  enforced?: boolean;
}

export class SsoConnectionDto {
  @ApiProperty({
    type: 'integer',
    example: 7,
    description: 'Also the {connectionId} of the SP URLs',
  })
  id!: number;

  @ApiProperty({
    format: 'uri',
    example: 'https://api.example.com/api/v1/auth/saml/7/metadata',
    description: 'Our SP entity id (Okta: Audience URI; Entra ID: Identifier (Entity ID))',
  })
  spEntityId!: string;

  @ApiProperty({
    format: 'uri',
    example: 'https://api.example.com/api/v1/auth/saml/7/acs',
    description: 'Assertion Consumer Service URL (Okta: Single sign-on URL; Entra ID: Reply URL)',
  })
  acsUrl!: string;

  @ApiProperty({
    format: 'uri',
    example: 'https://api.example.com/api/v1/auth/saml/7/metadata',
    description: 'Our SP metadata XML, for IdPs that import it',
  })
  spMetadataUrl!: string;

  @ApiProperty({ example: 'http://www.okta.com/exk1' })
  idpEntityId!: string;

  @ApiProperty({ format: 'uri', description: "The IdP's SSO URL (HTTP-Redirect binding)" })
  idpSsoUrl!: string;

  @ApiProperty()
  enforced!: boolean;

  @ApiProperty({
    description:
      'A back-office admin disabled the connection: it signs nobody in and enforces nothing',
  })
  disabled!: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt!: Date;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: Date;

  static from(connection: SsoConnection, urls: SpUrls): SsoConnectionDto {
    return {
      id: connection.id,
      spEntityId: urls.entityId,
      acsUrl: urls.acsUrl,
      spMetadataUrl: urls.metadataUrl,
      idpEntityId: connection.idpEntityId,
      idpSsoUrl: connection.idpSsoUrl,
      enforced: connection.enforced,
      disabled: connection.disabledAt !== null,
      createdAt: connection.createdAt,
      updatedAt: connection.updatedAt,
    };
  }
}

export class SsoStartQueryDto {
  @ApiProperty(EMAIL_PROPERTY)
  @EmailAddress()
  email!: string;
}
