import { ErrorBody, type RegisterRequest, RegisterResponse } from '@canopy/protocol';
import { CliError } from './errors';

const REGISTER_TIMEOUT_MS = 20_000;

/**
 * POST <cloud>/api/v1/agents/register: spends the enrollment key for this machine's agent token. Failures
 * come back as sentences; neither the key nor the token is ever in them.
 */
export async function register(
  cloudUrl: string,
  body: RegisterRequest & { name?: string },
  fetchImpl: typeof fetch = fetch,
): Promise<RegisterResponse> {
  const url = new URL('api/v1/agents/register', withSlash(cloudUrl)).toString();
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REGISTER_TIMEOUT_MS),
      redirect: 'error',
    });
  } catch (err) {
    throw new CliError(`Cannot reach the Canopy cloud at ${cloudUrl} (${networkReason(err)}).`);
  }
  const text = await res.text().catch(() => '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const error = ErrorBody.safeParse(json);
    if (error.success) throw new CliError(refusal(error.data.code, error.data.message, cloudUrl));
    throw new CliError(
      `The cloud at ${cloudUrl} answered ${res.status} ${res.statusText} to the registration: is this the address of your Canopy cloud?`,
    );
  }
  const parsed = RegisterResponse.safeParse(json);
  if (!parsed.success) {
    throw new CliError(
      `The cloud at ${cloudUrl} accepted the key but its answer is not a registration response: is this the address of your Canopy cloud?`,
    );
  }
  return parsed.data;
}

function refusal(code: string, message: string, cloudUrl: string): string {
  switch (code) {
    case 'ENROLLMENT_KEY_INVALID':
      return 'The cloud refused the enrollment key: it is unknown or was revoked. Make a new one on the Nodes page and run setup again.';
    case 'RATE_LIMITED':
      return 'The cloud refused: too many registration attempts. Wait a minute and try again.';
    case 'VALIDATION_ERROR':
      return `The cloud refused the registration as invalid: ${message}`;
    default:
      return `The cloud at ${cloudUrl} refused the registration (${code}): ${message}`;
  }
}

function networkReason(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `no answer within ${REGISTER_TIMEOUT_MS / 1000} s`;
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

const withSlash = (u: string) => (u.endsWith('/') ? u : `${u}/`);
