import React from 'react';
import { Box, Button, FormGroup, Label, Text, TextArea } from '@adminjs/design-system';
import { useOneFieldAction } from './one-field-action.jsx';

/**
 * "Plan override" record action on a team: limits for a deal made outside Stripe, as JSON with
 * the keys of a Stripe product's metadata. They win over the product's and the free plan's
 * limits; an empty field clears the override. Lowering limits never removes anything.
 */
const PlanOverride = ({ record, resource, action }) => {
  const { value, setValue, busy, submit } = useOneFieldAction({
    record,
    resource,
    action,
    field: 'planOverride',
    failure: 'Could not change the plan override',
  });
  const current = record.params.planOverrideJson;

  return (
    <Box as="form" variant="container" onSubmit={submit}>
      <Text mb="lg">
        Current override of {record.title}: {current ? <code>{current}</code> : 'none'}. Limits in
        force: {record.params.planLimits || 'unknown'}.
      </Text>
      <FormGroup>
        <Label htmlFor="plan-override">
          {'New override, e.g. {"max_members": 50, "max_api_keys": 10, "max_webhooks": null}'}
          (null: unlimited; leave empty to clear the override)
        </Label>
        <TextArea
          id="plan-override"
          name="planOverride"
          maxLength={500}
          rows={4}
          width="100%"
          value={value}
          onChange={(event) => setValue(event.target.value)}
        />
      </FormGroup>
      <Button type="submit" variant="contained" disabled={busy}>
        Save override
      </Button>
    </Box>
  );
};

export default PlanOverride;
