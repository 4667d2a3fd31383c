/**
 * Credentials never reach logs, reports or run history (reliability promise 5). funnelcredit reads
 * Google credentials only through the standard application-default chain (google-auth-library:
 * GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file, the metadata server) and never prints them;
 * secrets handed over in the environment (a CRM push token, an API key) are registered with the
 * logger, which redacts them from every line it writes.
 */
import { registerSecret } from "../util/logger.ts";

/** Environment variables whose values are secrets, by name. */
const SECRET_ENV_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_KEY|CREDENTIALS_JSON)$/i;

/** Register every secret-looking environment value with the logger; returns the names registered. */
export function registerEnvironmentSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  const names: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value && SECRET_ENV_NAME.test(name)) {
      registerSecret(value);
      names.push(name);
    }
  }
  return names.sort();
}
