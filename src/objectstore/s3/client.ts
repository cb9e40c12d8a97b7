import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** Static S3 credentials. Never logged (the logger redacts `secretAccessKey`). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** How the S3 client connects. Every field documents its default. */
export interface S3ConnectionOptions {
  /** Region. Default `us-east-1`. */
  region?: string;
  /** Endpoint URL for S3-compatible stores (MinIO, Ceph, moto). Default: AWS S3 for the region. */
  endpoint?: string;
  /** Path-style URLs (`<endpoint>/<bucket>/<key>`), needed by most S3-compatible stores. Default false. */
  forcePathStyle?: boolean;
  /**
   * Credentials. Default: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (/ `AWS_SESSION_TOKEN`)
   * from `env` when set, otherwise the SDK's default provider chain (web identity, profiles,
   * instance metadata) for in-cluster use. Tests always pass explicit credentials.
   */
  credentials?: S3Credentials;
  /**
   * When the SDK adds request checksums (`x-amz-checksum-*`). Default `WHEN_REQUIRED` when an
   * `endpoint` is set (many S3-compatible stores reject the newer checksum headers), else the
   * SDK default `WHEN_SUPPORTED`.
   */
  requestChecksumCalculation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** When the SDK validates response checksums. Default: same rule as `requestChecksumCalculation`. */
  responseChecksumValidation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** Retry attempts per request. Default 3 (the SDK default). */
  maxAttempts?: number;
}

/** Static credentials from environment variables, or undefined when they are not set. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): S3Credentials | undefined {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (
    accessKeyId === undefined ||
    accessKeyId === '' ||
    secretAccessKey === undefined ||
    secretAccessKey === ''
  ) {
    return undefined;
  }
  const sessionToken = env['AWS_SESSION_TOKEN'];
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** The S3Client configuration for {@link S3ConnectionOptions} (credentials resolved as documented). */
export function s3ClientConfig(
  opts: S3ConnectionOptions,
  env: NodeJS.ProcessEnv = process.env,
): S3ClientConfig {
  const compatible = opts.endpoint !== undefined;
  const checksum = compatible ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  const credentials = opts.credentials ?? credentialsFromEnv(env);
  return {
    region: opts.region ?? 'us-east-1',
    forcePathStyle: opts.forcePathStyle ?? false,
    requestChecksumCalculation: opts.requestChecksumCalculation ?? checksum,
    responseChecksumValidation:
      opts.responseChecksumValidation ?? opts.requestChecksumCalculation ?? checksum,
    maxAttempts: opts.maxAttempts ?? 3,
    ...(opts.endpoint === undefined ? {} : { endpoint: opts.endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
  };
}

/** Creates an S3Client for {@link S3ConnectionOptions}. */
export function createS3Client(opts: S3ConnectionOptions, env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client(s3ClientConfig(opts, env));
}
