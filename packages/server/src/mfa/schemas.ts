import { type Static, Type } from 'typebox'

export const SecondFactorMethod = Type.Union([
  Type.Literal('totp'),
  Type.Literal('backup_code'),
  Type.Literal('passkey'),
  Type.Literal('sms'),
])
export type SecondFactorMethod = Static<typeof SecondFactorMethod>

export const OtpCode = Type.String({ minLength: 6, maxLength: 32 })

/** Proof of a second factor: a code, or a WebAuthn assertion (JSON from @simplewebauthn/browser). */
export const FactorProof = Type.Object(
  {
    method: SecondFactorMethod,
    code: Type.Optional(OtpCode),
    credential: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
)
export type FactorProof = Static<typeof FactorProof>

export const MfaMethodInfo = Type.Object(
  {
    id: Type.String(),
    type: Type.Union([Type.Literal('totp'), Type.Literal('sms'), Type.Literal('passkey')]),
    label: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { additionalProperties: false },
)
export type MfaMethodInfo = Static<typeof MfaMethodInfo>

export const MfaStatus = Type.Object(
  {
    enabled: Type.Boolean(),
    methods: Type.Array(MfaMethodInfo),
    backupCodesRemaining: Type.Integer(),
  },
  { additionalProperties: false },
)
export type MfaStatus = Static<typeof MfaStatus>

export const TotpEnrolment = Type.Object(
  {
    factorId: Type.String(),
    secret: Type.String({ description: 'base32, for manual entry' }),
    uri: Type.String({ description: 'otpauth:// URI' }),
    qrCode: Type.String({ description: 'SVG data URL of the URI' }),
  },
  { additionalProperties: false },
)

export const TotpVerifyBody = Type.Object(
  { code: OtpCode, label: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  { additionalProperties: false },
)

export const BackupCodes = Type.Object(
  { backupCodes: Type.Array(Type.String(), { description: 'shown once; store them safely' }) },
  { additionalProperties: false },
)

export const FactorActivated = Type.Object(
  {
    factorId: Type.String(),
    backupCodes: Type.Optional(
      Type.Array(Type.String(), { description: 'only when this is the first factor' }),
    ),
  },
  { additionalProperties: false },
)

export const MfaRequired = Type.Object(
  {
    mfaRequired: Type.Literal(true),
    mfaToken: Type.String({ description: 'opaque; valid 5 minutes, for POST /v1/auth/mfa only' }),
    methods: Type.Array(SecondFactorMethod),
  },
  { $id: 'MfaRequired', additionalProperties: false },
)
export type MfaRequired = Static<typeof MfaRequired>

// Passkeys (WebAuthn)

/**
 * A `PublicKeyCredential` as JSON, the output of @simplewebauthn/browser's startRegistration()
 * or startAuthentication(). Its inner fields are checked by @simplewebauthn/server.
 */
export const PasskeyCredential = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 1400 }),
    rawId: Type.String({ minLength: 1, maxLength: 1400 }),
    type: Type.Literal('public-key'),
    response: Type.Record(Type.String(), Type.Unknown()),
    clientExtensionResults: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
)
export type PasskeyCredential = Static<typeof PasskeyCredential>

export const PasskeyLabel = Type.String({ minLength: 1, maxLength: 100 })

export const Passkey = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    label: PasskeyLabel,
    deviceType: Type.Union([Type.Literal('singleDevice'), Type.Literal('multiDevice')], {
      description: 'multiDevice: a synced passkey',
    }),
    backedUp: Type.Boolean(),
    transports: Type.Array(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { additionalProperties: false },
)
export type Passkey = Static<typeof Passkey>

export const PasskeyList = Type.Object({ passkeys: Type.Array(Passkey) }, { additionalProperties: false })

export const PasskeyAdded = Type.Object(
  {
    passkey: Passkey,
    backupCodes: Type.Optional(
      Type.Array(Type.String(), { description: 'only when this is the first second factor; shown once' }),
    ),
  },
  { additionalProperties: false },
)

export const RegisterPasskeyBody = Type.Object(
  { credential: PasskeyCredential, label: Type.Optional(PasskeyLabel) },
  { additionalProperties: false },
)

export const RenamePasskeyBody = Type.Object({ label: PasskeyLabel }, { additionalProperties: false })

export const PasskeyParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)

/** WebAuthn options JSON for navigator.credentials.create()/get(), as @simplewebauthn/browser takes them. */
export const WebAuthnOptions = Type.Record(Type.String(), Type.Unknown(), {
  description: 'PublicKeyCredentialCreationOptionsJSON or PublicKeyCredentialRequestOptionsJSON',
})
export type WebAuthnOptions = Static<typeof WebAuthnOptions>

export const MfaPasskeyOptionsBody = Type.Object(
  { mfaToken: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
)

export const PasskeySignInOptions = Type.Object(
  {
    challengeId: Type.String({ description: 'send it back with the assertion; single use, valid 5 minutes' }),
    options: WebAuthnOptions,
  },
  { additionalProperties: false },
)

export const PasskeySignInBody = Type.Object(
  { challengeId: Type.String({ format: 'uuid' }), credential: PasskeyCredential },
  { additionalProperties: false },
)

// SMS codes

export const PhoneNumber = Type.String({
  pattern: '^\\+[1-9]\\d{6,14}$',
  description: 'E.164, e.g. +15551234567',
})

export const SmsEnrolBody = Type.Object({ phoneNumber: PhoneNumber }, { additionalProperties: false })

export const SmsVerifyBody = Type.Object({ code: OtpCode }, { additionalProperties: false })

export const SmsSignInCodeBody = Type.Object(
  { mfaToken: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
)

export const SmsCodeSent = Type.Object(
  {
    sentTo: Type.String({ description: 'the masked phone number, e.g. +•••••••4567' }),
    expiresIn: Type.Integer({ description: 'seconds the code stays valid' }),
  },
  { additionalProperties: false },
)
