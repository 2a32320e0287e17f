// The S3 request signer against AWS's own worked example (Amazon S3 API reference, "Signature Version 4:
// authenticating requests", example GET Object: the first 10 bytes of examplebucket/test.txt). The S3 store
// built on it (server/s3.ts) has not been run against a real bucket here: no S3-compatible server is available
// to the tests. Its configuration is checked.
import { describe, expect, it } from 'vitest';
import { s3ConfigFromEnv, signV4 } from '../../server/s3';

describe('S3: SigV4 signing and configuration', () => {
  it('signs AWS\'s GET Object example to the published signature', () => {
    const h = signV4({
      method: 'GET', url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'), headers: { range: 'bytes=0-9' },
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', date: new Date('2013-05-24T00:00:00Z'),
      region: 'us-east-1', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    });
    expect(h.authorization).toBe('AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,'
      + 'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
    expect(h['x-amz-date']).toBe('20130524T000000Z');
  });

  it('configuration from the environment: off when unset, a clear error when half set', () => {
    expect(s3ConfigFromEnv({})).toBeNull();
    expect(() => s3ConfigFromEnv({ LAB_S3_ENDPOINT: 'http://127.0.0.1:9000', LAB_S3_BUCKET: 'b' })).toThrow(/AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY are not/);
    expect(s3ConfigFromEnv({ LAB_S3_ENDPOINT: 'http://127.0.0.1:9000', LAB_S3_BUCKET: 'b', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' }))
      .toEqual({ endpoint: 'http://127.0.0.1:9000', bucket: 'b', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's', prefix: undefined });
  });
});
