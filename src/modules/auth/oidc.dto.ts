import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class OidcProviderDto {
  @ApiProperty({
    example: 'google',
    description: 'The `:provider` of /auth/oidc/{provider}/authorize (an OIDC_PROVIDERS entry)',
  })
  id!: string;

  @ApiProperty({ example: 'Google', description: 'Label for the button (OIDC_<ID>_NAME)' })
  name!: string;
}

export class OidcExchangeDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 200,
    description:
      'The `code` parameter of the callback redirect (APP_URL/auth/callback?code=…); single use, valid 60 seconds',
  })
  @IsString()
  @Length(1, 200)
  code!: string;
}
