import React from 'react';
import { Box, Button, FormGroup, Input, Label, Text } from '@adminjs/design-system';
import { useOneFieldAction } from './one-field-action.jsx';

/** "Set password" record action: the server hashes it (argon2id) and revokes the user's sessions. */
const SetPassword = ({ record, resource, action }) => {
  const {
    value: password,
    setValue: setPassword,
    busy,
    submit,
  } = useOneFieldAction({
    record,
    resource,
    action,
    field: 'password',
    failure: 'Could not set the password',
  });

  return (
    <Box as="form" variant="container" onSubmit={submit}>
      <Text mb="lg">
        Sets a new password for {record.title}. Every signed-in session of this user is revoked.
      </Text>
      <FormGroup>
        <Label htmlFor="new-password" required>
          New password (8 to 128 characters)
        </Label>
        <Input
          id="new-password"
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={8}
          maxLength={128}
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      </FormGroup>
      <Button type="submit" variant="contained" disabled={busy}>
        Set password
      </Button>
    </Box>
  );
};

export default SetPassword;
