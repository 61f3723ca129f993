/**
 * Every user-facing string of the mailed-link pages (`/verify-email`, `/reset-password`), in one
 * place so a translation is one more object of the same shape.
 *
 * TODO(hosted pages issue): pick the language from the account or Accept-Language; the
 * password-policy reasons (passwords/policy.ts) are still English only.
 */
import { describeDuration } from '../mail/templates.ts'

export const en = {
  lang: 'en',
  linkIncomplete: {
    title: 'This link is incomplete',
    body: 'The address you opened has no token in it. Open the link from the email again, or copy the whole address into your browser.',
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
    errorSummary: 'There is a problem',
    /** Prefixed to each field error for screen-reader users who land on the field. */
    errorPrefix: 'Error:',
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
