import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * A layer's code built on this machine at synthesis by `build(outputDir)`: no Docker, no network.
 * The asset hash is the output's, so a layer version is published only when what it ships changes;
 * given `assetHash` (the output's hash, known in advance) CDK hashes no file at all.
 */
export function locallyBundledCode(
  sourceDir: string,
  build: (outputDir: string) => void,
  assetHash?: string,
): lambda.Code {
  return lambda.Code.fromAsset(sourceDir, {
    ...(assetHash
      ? { assetHashType: AssetHashType.CUSTOM, assetHash }
      : { assetHashType: AssetHashType.OUTPUT }),
    bundling: {
      // Required by the API, never pulled: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
      local: {
        tryBundle(outputDir) {
          build(outputDir);
          return true;
        },
      },
    },
  });
}
