import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

export class AddDomainDto {
  @ApiProperty({
    example: 'example.com',
    maxLength: 1024,
    description:
      'A host name the team uses for its email addresses. Stored in canonical form: Unicode NFKC, IDNA A-labels (`bücher.de` → `xn--bcher-kva.de`), lower-case, without a trailing dot. Refused (400 `domain.invalid`): IP addresses, single labels (`localhost`), schemes, paths, ports, `@`, `_`, spaces, labels over 63 and names over 232 characters (the challenge name `_nest-saas-challenge.<domain>` must fit in 253). A subdomain is a domain of its own: verifying `example.com` does not cover `eu.example.com` addresses.',
  })
  @IsString()
  @MaxLength(1024)
  domain!: string;
}

export class DomainDto {
  @ApiProperty({ type: 'integer', example: 4 }) id!: number;

  @ApiProperty({ example: 'example.com', description: 'Canonical form (lower-case A-labels)' })
  domain!: string;

  @ApiProperty({
    example: false,
    description: 'Whether the TXT challenge was proved for this team',
  })
  verified!: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  verifiedAt!: Date | null;

  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;

  @ApiProperty({
    example: '_nest-saas-challenge.example.com',
    description: "The name of the TXT record to create at the domain's DNS provider",
  })
  txtName!: string;

  @ApiProperty({
    example: 'nest-saas-verification=Vb2xk3nq9Jk0F3Vw5y1mR8cQwzT7aHuPpL4sD6eGiYo',
    description:
      'The value that TXT record must contain (other TXT records at the same name do no harm). Not a secret: it is published in DNS. Fixed for the life of this claim.',
  })
  txtValue!: string;
}

export class DomainPageDto {
  @ApiProperty({ type: [DomainDto] }) items!: DomainDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}
