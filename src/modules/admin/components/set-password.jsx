import React from 'react';
import { Input } from '@adminjs/design-system';
import { OneFieldForm } from './one-field-action.jsx';

/** "Set password" record action: the server hashes it (argon2id) and revokes the user's sessions. */
const SetPassword = (props) => (
  <OneFieldForm
    {...props}
    field="password"
    failure="Could not set the password"
    intro={
      <>
        Sets a new password for {props.record.title}. Every signed-in session of this user is
        revoked.
      </>
    }
    label="New password (8 to 128 characters)"
    Control={Input}
    controlProps={{
      id: 'new-password',
      type: 'password',
      autoComplete: 'new-password',
      minLength: 8,
      maxLength: 128,
      required: true,
    }}
    submitLabel="Set password"
  />
);

export default SetPassword;
