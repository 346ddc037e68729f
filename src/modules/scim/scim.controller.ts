import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../../common/decorators/public.decorator.js';
import { SCIM_ROOT_PATH } from '../../common/http/scim-path.js';
import { CurrentScimClient, ScimAuthGuard } from './scim-auth.guard.js';
import {
  listResponse,
  resourceTypes,
  schemas,
  serviceProviderConfig,
  type ScimResource,
} from './scim-resources.js';
import type { ScimClient } from './scim-tokens.service.js';
import { ScimErrors } from './scim.errors.js';
import { ScimService, type ScimListQuery } from './scim.service.js';

/** The query parameters as strings, names matched ignoring case (`startindex` = `startIndex`). */
function listQuery(raw: Record<string, unknown>): ScimListQuery {
  const read = (name: string): string | undefined => {
    for (const [key, value] of Object.entries(raw)) {
      if (key.toLowerCase() !== name.toLowerCase()) continue;
      const first: unknown = Array.isArray(value) ? value[0] : value;
      return typeof first === 'string' ? first : undefined;
    }
    return undefined;
  };
  return {
    filter: read('filter'),
    startIndex: read('startIndex'),
    count: read('count'),
    attributes: read('attributes'),
    excludedAttributes: read('excludedAttributes'),
  };
}

function withLocation(reply: FastifyReply, resource: ScimResource): ScimResource {
  const meta = resource.meta as { location?: string } | undefined;
  if (meta?.location !== undefined) void reply.header('Location', meta.location);
  return resource;
}

/**
 * The SCIM 2.0 service (RFC 7644) at /scim/v2, outside the API's prefix and its OpenAPI
 * document (docs/scim.md describes it). Bodies are `application/scim+json` (or JSON) in and
 * `application/scim+json` out; errors are SCIM error bodies (common/http/scim-path.ts).
 */
@ApiExcludeController()
@Public()
@UseGuards(ScimAuthGuard)
@Controller(SCIM_ROOT_PATH.slice(1))
export class ScimController {
  constructor(private readonly scim: ScimService) {}

  @Get('ServiceProviderConfig')
  serviceProviderConfig(): Record<string, unknown> {
    return serviceProviderConfig(this.scim.baseUrl());
  }

  @Get('ResourceTypes')
  resourceTypes(): Record<string, unknown> {
    const all = resourceTypes(this.scim.baseUrl());
    return listResponse(all, all.length, 1);
  }

  @Get('ResourceTypes/:name')
  resourceType(@Param('name') name: string): Record<string, unknown> {
    const found = resourceTypes(this.scim.baseUrl()).find(
      (r) => String(r.id).toLowerCase() === name.toLowerCase(),
    );
    if (!found) throw ScimErrors.notFound();
    return found;
  }

  @Get('Schemas')
  schemas(): Record<string, unknown> {
    const all = schemas(this.scim.baseUrl());
    return listResponse(all, all.length, 1);
  }

  @Get('Schemas/:id')
  schema(@Param('id') id: string): Record<string, unknown> {
    const found = schemas(this.scim.baseUrl()).find(
      (s) => String(s.id).toLowerCase() === id.toLowerCase(),
    );
    if (!found) throw ScimErrors.notFound();
    return found;
  }

  @Get('Users')
  listUsers(
    @CurrentScimClient() client: ScimClient,
    @Query() query: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.scim.listUsers(client, listQuery(query));
  }

  @Post('Users')
  async createUser(
    @CurrentScimClient() client: ScimClient,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ScimResource> {
    return withLocation(reply, await this.scim.createUser(client, body));
  }

  @Get('Users/:id')
  getUser(
    @CurrentScimClient() client: ScimClient,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<ScimResource> {
    return this.scim.getUser(client, id, listQuery(query));
  }

  @Put('Users/:id')
  replaceUser(
    @CurrentScimClient() client: ScimClient,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<ScimResource> {
    return this.scim.replaceUser(client, id, body);
  }

  @Patch('Users/:id')
  patchUser(
    @CurrentScimClient() client: ScimClient,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<ScimResource> {
    return this.scim.patchUser(client, id, body);
  }

  @Delete('Users/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  deleteUser(@CurrentScimClient() client: ScimClient, @Param('id') id: string): Promise<void> {
    return this.scim.deleteUser(client, id);
  }

  @Get('Groups')
  listGroups(
    @CurrentScimClient() client: ScimClient,
    @Query() query: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.scim.listGroups(client, listQuery(query));
  }

  @Post('Groups')
  async createGroup(
    @CurrentScimClient() client: ScimClient,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ScimResource> {
    return withLocation(reply, await this.scim.createGroup(client, body));
  }

  @Get('Groups/:id')
  getGroup(
    @CurrentScimClient() client: ScimClient,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<ScimResource> {
    return this.scim.getGroup(client, id, listQuery(query));
  }

  @Put('Groups/:id')
  replaceGroup(
    @CurrentScimClient() client: ScimClient,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<ScimResource> {
    return this.scim.replaceGroup(client, id, body);
  }

  @Patch('Groups/:id')
  patchGroup(
    @CurrentScimClient() client: ScimClient,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<ScimResource> {
    return this.scim.patchGroup(client, id, body);
  }

  @Delete('Groups/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  deleteGroup(@CurrentScimClient() client: ScimClient, @Param('id') id: string): Promise<void> {
    return this.scim.deleteGroup(client, id);
  }
}
