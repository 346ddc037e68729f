import React from 'react';
import { useSelector } from 'react-redux';
import { Box, Button, FormGroup, H5, Input, Label, MessageBox, Text } from '@adminjs/design-system';
import { useTranslation } from 'adminjs';

/**
 * The back-office login page: AdminJS's form (email, password) plus `code`, the TOTP or
 * recovery code that an admin with two-factor sign-in on must give (AdminAuthService).
 */
const Login = () => {
  const { action, errorMessage: message } = window.__APP_STATE__;
  const { translateComponent, translateMessage } = useTranslation();
  const branding = useSelector((state) => state.branding);

  return (
    <Box
      flex
      variant="grey"
      className="login__Wrapper"
      style={{
        alignItems: 'center',
        justifyContent: 'center',
        flexDirection: 'column',
        height: '100%',
      }}
    >
      <Box bg="white" flex boxShadow="login" width={[1, 2 / 3, 'auto']}>
        <Box
          as="form"
          action={action}
          method="POST"
          p="x3"
          flexGrow={1}
          width={['100%', '100%', '480px']}
        >
          <H5 marginBottom="xxl">{branding.companyName}</H5>
          {message && (
            <MessageBox
              my="lg"
              message={message.split(' ').length > 1 ? message : translateMessage(message)}
              variant="danger"
            />
          )}
          <FormGroup>
            <Label required>{translateComponent('Login.properties.email')}</Label>
            <Input name="email" placeholder={translateComponent('Login.properties.email')} />
          </FormGroup>
          <FormGroup>
            <Label required>{translateComponent('Login.properties.password')}</Label>
            <Input
              type="password"
              name="password"
              placeholder={translateComponent('Login.properties.password')}
              autoComplete="current-password"
            />
          </FormGroup>
          <FormGroup>
            <Label htmlFor="login-code">Two-factor code</Label>
            <Input
              id="login-code"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              placeholder="Only if two-factor sign-in is on: 6 digits, or a recovery code"
            />
          </FormGroup>
          <Text mt="xl" textAlign="center">
            <Button variant="contained">{translateComponent('Login.loginButton')}</Button>
          </Text>
        </Box>
      </Box>
    </Box>
  );
};

export default Login;
