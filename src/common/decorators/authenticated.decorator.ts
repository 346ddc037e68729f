import { ApiBearerAuth } from '@nestjs/swagger';

/**
 * Documents what the global default-deny guard enforces on every route that is not
 * @Public(): a bearer access token. The 401 without a valid one is added to every operation
 * with bearer security when the document is built (see finalizeOpenApiDocument).
 */
export const Authenticated = (): MethodDecorator & ClassDecorator => ApiBearerAuth();
