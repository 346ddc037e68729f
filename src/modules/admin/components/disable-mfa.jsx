import React from 'react';
import { Box, Button, FormGroup, Label, Text, TextArea } from '@adminjs/design-system';
import { useOneFieldAction } from './one-field-action.jsx';

const MIN_REASON = 10;

/**
 * "Disable MFA" record action: switches off the user's two-factor sign-in after an identity
 * check. The reason is required (10 to 500 characters) and kept in the activity log.
 */
const DisableMfa = ({ record, resource, action }) => {
  const {
    value: reason,
    setValue: setReason,
    busy,
    submit,
  } = useOneFieldAction({
    record,
    resource,
    action,
    field: 'reason',
    failure: 'Could not disable two-factor sign-in',
  });

  return (
    <Box as="form" variant="container" onSubmit={submit}>
      <Text mb="lg">
        Switches off two-factor sign-in for {record.title} (for a lost device). Do this only after
        checking the person&apos;s identity another way, and say how.
      </Text>
      <FormGroup>
        <Label htmlFor="disable-mfa-reason" required>
          Reason and identity check made (at least {MIN_REASON} characters)
        </Label>
        <TextArea
          id="disable-mfa-reason"
          name="reason"
          minLength={MIN_REASON}
          maxLength={500}
          required
          rows={4}
          width="100%"
          value={reason}
          onChange={(event) => setReason(event.target.value)}
        />
      </FormGroup>
      <Button type="submit" variant="contained" disabled={busy}>
        Disable MFA
      </Button>
    </Box>
  );
};

export default DisableMfa;
