import { ReleaseError, redact } from '@nixrel/core';

/** The service a sigstore-js InternalError code points at. */
const SERVICE_BY_CODE: Record<string, string> = {
  CA_CREATE_SIGNING_CERTIFICATE_ERROR: 'Fulcio',
  TLOG_CREATE_ENTRY_ERROR: 'Rekor',
  TLOG_FETCH_ENTRY_ERROR: 'Rekor',
  TSA_CREATE_TIMESTAMP_ERROR: 'the timestamp authority',
  IDENTITY_TOKEN_READ_ERROR: 'the identity provider',
  IDENTITY_TOKEN_PARSE_ERROR: 'the identity provider',
};

/**
 * sigstore-js errors name the step ("error creating signing certificate") and
 * keep the HTTP failure as the cause; fold both into one SIGNING_ERROR naming
 * the service and its URL. Messages pass through redact: a token must never
 * survive into an error.
 */
export function signingError(e: unknown, urls: Record<string, string | undefined>): ReleaseError {
  const err = e as { code?: string; message?: string; cause?: { message?: string } };
  const service = (err.code && SERVICE_BY_CODE[err.code]) ?? 'signing';
  const url = service === 'Fulcio' ? urls.fulcio : service === 'Rekor' ? urls.rekor : service.includes('timestamp') ? urls.tsa : undefined;
  const cause = err.cause?.message ? `: ${err.cause.message}` : '';
  const message = `${service}${url ? ` at ${url}` : ''} failed: ${err.message ?? String(e)}${cause}`;
  return new ReleaseError('SIGNING_ERROR', redact(message));
}
