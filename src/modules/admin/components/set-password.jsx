import React, { useState } from 'react';
import { Box, Button, FormGroup, Input, Label, Text } from '@adminjs/design-system';
import { ApiClient, useNotice } from 'adminjs';

const api = new ApiClient();

/** "Set password" record action: the server hashes it (argon2id) and revokes the user's sessions. */
const SetPassword = ({ record, resource, action }) => {
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const addNotice = useNotice();

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const data = new FormData();
      data.set('password', password);
      const response = await api.recordAction({
        resourceId: resource.id,
        recordId: record.id,
        actionName: action.name,
        method: 'post',
        data,
      });
      if (response.data.notice) addNotice(response.data.notice);
      if (response.data.notice && response.data.notice.type === 'success') setPassword('');
    } catch (error) {
      addNotice({ message: 'Could not set the password', type: 'error' });
    } finally {
      setBusy(false);
    }
  };

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
