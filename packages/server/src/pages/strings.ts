/**
 * Every user-facing string of the hosted pages, grouped by page, in one place: a translation is
 * one more object of the same shape (`satisfies PageStrings`), picked in `stringsFor`.
 * Views reach them as `it.s` (`it.s.signIn.submit`); routes through `pageStrings(request)`.
 * Strings that need a value are functions; they return plain text, which views escape.
 *
 * Groups for pages still to come (sign-in, register, mfa, consent, device, signOut, error) are
 * here already so every page string lives in this file from the start.
 *
 * TODO(hosted pages issue): pick the language from the account or Accept-Language; the
 * password-policy reasons (passwords/policy.ts) and the passkeys page script are English only.
 */
import { describeDuration } from '../mail/templates.ts'

const minutesOf = (seconds: number) => describeDuration(Math.max(1, Math.ceil(seconds / 60)))

export const en = {
  lang: 'en',
  /** Shared by the partials (pages/partials/) and every form. */
  common: {
    errorSummary: 'There is a problem',
    /** Prefixed to each field error for screen-reader users who land on the field. */
    errorPrefix: 'Error:',
    optional: '(optional)',
  },
  linkIncomplete: {
    title: 'This link is incomplete',
    body: 'The address you opened has no token in it. Open the link from the email again, or copy the whole address into your browser.',
  },
  signIn: {
    title: 'Sign in',
    continueTo: (clientName: string) => `to continue to ${clientName}`,
    email: 'Email address',
    password: 'Password',
    submit: 'Sign in',
    usePasskey: 'Sign in with a passkey',
    or: 'or',
    forgotPassword: 'Forgot your password?',
    noAccount: 'New here?',
    createAccount: 'Create an account',
    emailMissing: 'Enter your email address.',
    passwordMissing: 'Enter your password.',
    /** The same words whether or not the account exists. */
    invalidCredentials: 'The email address or password is not right.',
    tooManyAttempts: (retryAfterSeconds: number) =>
      `Too many attempts. Wait ${minutesOf(retryAfterSeconds)}, then try again.`,
    emailNotVerified: 'Confirm your email address first: open the link we emailed you, then sign in again.',
    passkeyFailed: 'The passkey could not be used. Try again, or sign in with your password.',
    accountDisabled: 'This account is disabled. Contact your administrator.',
    signInExpired: 'That sign-in took too long or had too many wrong codes. Sign in again.',
  },
  forgotPassword: {
    title: 'Reset your password',
    intro: 'Enter the email address of your account. We will send you a link to choose a new password.',
    email: 'Email address',
    submit: 'Send the link',
    emailInvalid: 'Enter an email address like name@example.com.',
    sentTitle: 'Check your email',
    sent: 'If an account uses this address, a link to reset its password is on its way. It works once, for a short time.',
  },
  register: {
    title: 'Create your account',
    name: 'Name',
    nameHint: 'How we greet you. You can leave it empty.',
    email: 'Email address',
    emailHint: 'We send a link to confirm it.',
    password: 'Password',
    passwordHint: (minLength: number) =>
      `At least ${minLength} characters. A long phrase is easiest to remember; no need for symbols.`,
    nameInvalid: 'Enter a name of at most 200 characters, or leave it empty.',
    submit: 'Create account',
    haveAccount: 'Already have an account?',
    signIn: 'Sign in',
    emailMissing: 'Enter your email address.',
    emailInvalid: 'Enter an email address like name@example.com.',
    emailTaken: 'An account with this email address already exists. Sign in instead.',
    passwordMissing: 'Choose a password.',
    /** `reason` comes from the password policy ("use between 8 and 256 characters"). */
    weakPassword: (reason: string) => `This password cannot be used: ${reason}.`,
    commonPassword: 'This password is one of the most commonly used, so it is easy to guess. Choose another.',
    checkEmailTitle: 'Check your email',
    checkEmail: 'We sent you a link to confirm your address. Open it, then come back here and sign in.',
  },
  mfa: {
    title: 'Confirm it’s you',
    intro: 'Your account is protected by a second step.',
    totpCode: 'Code from your authenticator app',
    totpHint: 'The 6-digit code your app shows now.',
    backupCode: 'Backup code',
    backupCodeHint: 'One of the codes you saved when you set up the second step. Each works once.',
    smsCode: 'Code from the text message',
    smsHint: 'The 6-digit code in the text message we sent you. A new text replaces it.',
    sendSms: 'Text me a code',
    resendSms: 'Text me a new code',
    smsSent: (maskedNumber: string) => `We texted a code to ${maskedNumber}.`,
    smsFailed: 'We could not send a text message just now. Try again in a moment, or choose another way.',
    submit: 'Continue',
    usePasskey: 'Use a passkey',
    useTotp: 'Use your authenticator app',
    useBackupCode: 'Use a backup code',
    noMethodHere:
      'Your second step cannot be used on this page. Sign in with the app or site that set it up, or ask an administrator for help.',
    codeMissing: 'Enter the code.',
    wrongCode: 'That code is not right, or has expired. Check it and try again.',
    passkeyFailed: 'The passkey could not be used. Try again, or choose another way.',
    tooManyAttempts: (retryAfterSeconds: number) =>
      `Too many attempts. Wait ${minutesOf(retryAfterSeconds)}, then try again.`,
  },
  consent: {
    title: (clientName: string) => `${clientName} wants to use your account`,
    intro: (clientName: string, productName: string) =>
      `${clientName} is asking for access to your ${productName} account. It will be able to see:`,
    signedInAs: (email: string) => `Signed in as ${email}.`,
    notYou: 'Not you? Sign out',
    /** The scopes in plain words; a scope without an entry shows its API's description or name. */
    scopes: {
      openid: 'Confirm it’s you',
      profile: 'Your name and profile',
      email: 'Your email address',
      offline_access: 'Stay signed in (access while you’re away)',
    } as Record<string, string>,
    remember: 'Remember this decision',
    allow: 'Allow',
    deny: 'Deny',
    policyLinks: 'Before you allow, read its',
    privacyPolicy: 'privacy policy',
    termsOfService: 'terms of service',
  },
  device: {
    title: 'Connect a device',
    enterCode: 'Enter the code shown on your device',
    codeLabel: 'Code',
    codeHint: 'It looks like ABCD-EFGH. Capitals and the dash are optional.',
    submit: 'Continue',
    confirmTitle: 'Connect this device?',
    confirm: (clientName: string) =>
      `${clientName} will get access to your account on that device. Only continue if you started this yourself and the code below is the one your device shows.`,
    confirmCode: 'Code on your device',
    confirmButton: 'Connect the device',
    cancel: 'Cancel',
    successTitle: 'Your device is connected',
    success: 'Go back to your device: it continues on its own. You can close this page.',
    cancelledTitle: 'The device was not connected',
    cancelled: 'Nothing was shared with it. You can close this page.',
    codeMissing: 'Enter the code shown on your device.',
    invalidCode:
      'This code is not valid or has expired. Check it, or start again on your device to get a new one.',
  },
  signOut: {
    title: 'Sign out?',
    body: (productName: string) => `You will be signed out of ${productName} in this browser.`,
    confirm: 'Sign out',
    stay: 'Stay signed in',
    doneTitle: 'You are signed out',
    done: 'You can close this page.',
  },
  error: {
    title: 'Something went wrong',
    body: 'We could not complete your request. Go back to the app you came from and try again.',
    /** Shown small beside the OAuth error code (`invalid_request`), for support. */
    codeLabel: 'Error code',
  },
  verifyEmail: {
    title: 'Confirm your email address',
    intro: (productName: string) =>
      `Press the button to confirm this address for your ${productName} account.`,
    button: 'Confirm my email address',
    doneTitle: 'Your email address is confirmed',
    done: (email: string) => `${email} is confirmed. You can close this page.`,
    invalidTitle: 'This confirmation link cannot be used',
    invalid: (validMinutes: number) =>
      `It has already been used, has expired (links work for ${describeDuration(validMinutes)}) or is not complete. ` +
      'If your address is not confirmed yet, sign in and ask for a new link.',
    emailTakenTitle: 'This address is already in use',
    emailTaken:
      'Another account now uses this email address, so it cannot be moved to yours. Your address is unchanged.',
  },
  resetPassword: {
    title: 'Choose a new password',
    intro: 'Every session of your account will end: you will sign in again everywhere with the new password.',
    newPassword: 'New password',
    newPasswordHint: (minLength: number) =>
      `At least ${minLength} characters. A long phrase is easiest to remember.`,
    confirmPassword: 'Confirm the new password',
    button: 'Change my password',
    passwordMissing: 'Enter a new password.',
    mismatch: 'The two passwords do not match.',
    weak: (reason: string) => `This password cannot be used: ${reason}.`,
    doneTitle: 'Your password has been changed',
    done: 'Every session of your account has ended, on all devices. Sign in again with your new password.',
    invalidTitle: 'This reset link cannot be used',
    invalid: (validMinutes: number) =>
      `It has already been used, has expired (links work for ${describeDuration(validMinutes)}) or is not complete. ` +
      'Ask for a new one from the sign-in page.',
  },
  passkeys: {
    title: 'Passkeys',
    notSignedIn: 'Not signed in.',
    signIn: 'Sign in',
    email: 'Email',
    password: 'Password',
    signInButton: 'Sign in',
    usePasskey: 'Sign in with a passkey',
    signedInAs: 'Signed in as',
    yourPasskeys: 'Your passkeys',
    passkeyName: 'Name',
    passkeyNamePlaceholder: 'e.g. Work laptop',
    addPasskey: 'Add a passkey',
    backupCodes: 'Your backup codes, shown only once. Keep them somewhere safe:',
    signOut: 'Sign out',
  },
  /** The friendly pages the form error handler (pages/forms.ts) shows. */
  forbidden: {
    title: 'This form was sent from another site',
    body: 'For your safety it was not accepted. Open the link from the email again and use the form on this page.',
  },
  tooManyRequests: {
    title: 'Too many attempts',
    body: 'Please wait a minute, then try again.',
  },
  badRequest: {
    title: 'This request could not be processed',
    body: 'Open the link from the email again and use the form on the page.',
  },
  serverError: {
    title: 'Something went wrong on our side',
    body: 'Nothing was changed. Please try again in a few minutes.',
  },
}

export type PageStrings = typeof en

/** A page that only says something: a title and one paragraph of plain text. */
export interface Message {
  title: string
  body: string
}

/**
 * The strings for a request's `Accept-Language`. Only English exists so far, so it always wins;
 * a translation adds its object here (and `lang` carries its BCP 47 tag to `<html lang>`).
 */
export function stringsFor(_acceptLanguage: string | undefined): PageStrings {
  return en
}
