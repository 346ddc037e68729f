import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../../common/errors/app-error.js';

export const PlanErrors = defineErrors({
  // API.md v1.2: details [{limit, max, used}]; lowering a plan only stops new additions.
  limitReached: {
    code: 'plan.limit_reached',
    status: HttpStatus.PAYMENT_REQUIRED,
    message: "The team's plan has no room for this",
  },
  // @RequiresFeature: details [{feature}], the entitlement lookup key the route needs.
  featureRequired: {
    code: 'plan.feature_required',
    status: HttpStatus.FORBIDDEN,
    message: "The team's plan does not include this feature",
  },
});
