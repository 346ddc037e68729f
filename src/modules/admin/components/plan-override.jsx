import React from 'react';
import { TextArea } from '@adminjs/design-system';
import { OneFieldForm } from './one-field-action.jsx';

/**
 * "Plan override" record action on a team: limits for a deal made outside Stripe, as JSON with
 * the keys of a Stripe product's metadata. They win over the product's and the free plan's
 * limits; an empty field clears the override. Lowering limits never removes anything.
 */
const PlanOverride = (props) => {
  const { record } = props;
  const current = record.params.planOverrideJson;
  return (
    <OneFieldForm
      {...props}
      field="planOverride"
      failure="Could not change the plan override"
      intro={
        <>
          Current override of {record.title}: {current ? <code>{current}</code> : 'none'}. Limits in
          force: {record.params.planLimits || 'unknown'}.
        </>
      }
      label={
        <>
          {'New override, e.g. {"max_members": 50, "max_api_keys": 10, "max_webhooks": null}'}
          (null: unlimited; leave empty to clear the override)
        </>
      }
      Control={TextArea}
      controlProps={{ id: 'plan-override', maxLength: 500, rows: 4, width: '100%' }}
      submitLabel="Save override"
    />
  );
};

export default PlanOverride;
