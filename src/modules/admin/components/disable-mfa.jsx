import React from 'react';
import { TextArea } from '@adminjs/design-system';
import { OneFieldForm } from './one-field-action.jsx';

const MIN_REASON = 10;

/**
 * "Disable MFA" record action: switches off the user's two-factor sign-in after an identity
 * check. The reason is required (10 to 500 characters) and kept in the activity log.
 */
const DisableMfa = (props) => (
  <OneFieldForm
    {...props}
    field="reason"
    failure="Could not disable two-factor sign-in"
    intro={
      <>
        Switches off two-factor sign-in for {props.record.title} (for a lost device). Do this only
        after checking the person&apos;s identity another way, and say how.
      </>
    }
    label={<>Reason and identity check made (at least {MIN_REASON} characters)</>}
    Control={TextArea}
    controlProps={{
      id: 'disable-mfa-reason',
      minLength: MIN_REASON,
      maxLength: 500,
      required: true,
      rows: 4,
      width: '100%',
    }}
    submitLabel="Disable MFA"
  />
);

export default DisableMfa;
