/**
 * {@link VapidKeyProvider} over AWS Secrets Manager (`SEALPOST_VAPID_SECRET_ARN`). The secret is
 * read once per container and cached; a failed read is retried on the next use instead of
 * being cached.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseVapidSecret, type VapidKeyProvider, type VapidKeys } from '../webpush/vapid-keys.ts';

/**
 * Reads and caches the VAPID key secret.
 *
 * @example const keys = new SecretsManagerVapidKeys(new SecretsManagerClient({}), arn);
 */
export class SecretsManagerVapidKeys implements VapidKeyProvider {
  private cached: Promise<VapidKeys> | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretArn: string,
  ) {}

  /**
   * @throws {RangeError} if the secret is not the contract JSON of a matching pair.
   */
  get(): Promise<VapidKeys> {
    this.cached ??= this.load().catch((err: unknown) => {
      this.cached = undefined;
      throw err;
    });
    return this.cached;
  }

  private async load(): Promise<VapidKeys> {
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretArn }));
    if (typeof out.SecretString !== 'string') throw new Error('VAPID secret has no string value');
    return parseVapidSecret(out.SecretString);
  }
}
