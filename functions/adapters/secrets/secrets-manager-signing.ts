/**
 * {@link SigningKeyProvider} over AWS Secrets Manager (`SEALPOST_SIGNING_SECRET_ARN`). The
 * secret is read once per container and cached; a failed read is retried on the next request
 * instead of being cached.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SigningKeyProvider, SigningMaterial } from '../../domain/ports.ts';
import { parseSigningSecret } from '../../domain/signing-material.ts';

/** Reads and caches the signing material secret. */
export class SecretsManagerSigningKeyProvider implements SigningKeyProvider {
  private cached: Promise<SigningMaterial> | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretArn: string,
  ) {}

  get(): Promise<SigningMaterial> {
    this.cached ??= this.load().catch((err: unknown) => {
      this.cached = undefined;
      throw err;
    });
    return this.cached;
  }

  private async load(): Promise<SigningMaterial> {
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretArn }));
    if (typeof out.SecretString !== 'string') throw new Error('signing secret has no string value');
    return parseSigningSecret(out.SecretString);
  }
}
