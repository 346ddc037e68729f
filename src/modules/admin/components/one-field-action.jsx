import React, { useState } from 'react';
import { ApiClient, useNotice } from 'adminjs';
import { Box, Button, FormGroup, Label, Text } from '@adminjs/design-system';

const api = new ApiClient();

/**
 * State and submit handler of a record action form that posts one field (`field`) to the
 * action's handler and shows its notice; the field is cleared on success, `failure` is shown
 * when the request itself fails.
 */
export const useOneFieldAction = ({ record, resource, action, field, failure }) => {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const addNotice = useNotice();

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const data = new FormData();
      data.set(field, value);
      const response = await api.recordAction({
        resourceId: resource.id,
        recordId: record.id,
        actionName: action.name,
        method: 'post',
        data,
      });
      if (response.data.notice) addNotice(response.data.notice);
      if (response.data.notice && response.data.notice.type === 'success') setValue('');
    } catch (error) {
      addNotice({ message: failure, type: 'error' });
    } finally {
      setBusy(false);
    }
  };

  return { value, setValue, busy, submit };
};

/**
 * A one-field record action form: `intro`, then the labelled `Control` (Input or TextArea,
 * given `controlProps`) bound to the field, then the submit button.
 */
export const OneFieldForm = ({ intro, label, Control, controlProps, submitLabel, ...action }) => {
  const { value, setValue, busy, submit } = useOneFieldAction(action);
  return (
    <Box as="form" variant="container" onSubmit={submit}>
      <Text mb="lg">{intro}</Text>
      <FormGroup>
        <Label htmlFor={controlProps.id} required={controlProps.required}>
          {label}
        </Label>
        <Control
          name={action.field}
          {...controlProps}
          value={value}
          onChange={(event) => setValue(event.target.value)}
        />
      </FormGroup>
      <Button type="submit" variant="contained" disabled={busy}>
        {submitLabel}
      </Button>
    </Box>
  );
};
