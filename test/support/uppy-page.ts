/**
 * The page of the Uppy browser test (bundled by esbuild in the test, run in Chromium): the real
 * @uppy/core, @uppy/dashboard and @uppy/golden-retriever with @stowage/uppy, five lines as the
 * README has them, plus a log of what Uppy reported for the test to read.
 */

import Stowage from '@stowage/uppy';
import Uppy, { type UppyFile } from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import GoldenRetriever from '@uppy/golden-retriever';

export interface UppyPageConfig {
  apiUrl: string;
  token: string;
  bucketId: string;
  references: { entityType: string; entityId: string }[];
  multipartThreshold: number;
  goldenRetriever: boolean;
  /** Golden Retriever keeps one saved session per Uppy id. */
  uppyId: string;
}

export interface UppyPageEvent {
  type: string;
  name: string;
  message?: string;
  code?: string;
  isRestriction?: boolean;
  body?: unknown;
  bytesUploaded?: number;
  partsStored?: number;
}

declare global {
  interface Window {
    startUppy(config: UppyPageConfig): void;
    uppy: Uppy;
    uppyEvents: UppyPageEvent[];
  }
}

window.uppyEvents = [];
window.startUppy = (config) => {
  const log = (e: UppyPageEvent) => window.uppyEvents.push(e);
  const name = (file: UppyFile<any, any> | undefined) => file?.name ?? '';
  const uppy = new Uppy({ id: config.uppyId })
    .use(Dashboard, { inline: true, target: '#uploads', height: 520 })
    .use(Stowage, {
      baseUrl: config.apiUrl,
      getToken: () => config.token,
      bucketId: config.bucketId,
      references: config.references,
      multipartThreshold: config.multipartThreshold,
    });
  if (config.goldenRetriever) uppy.use(GoldenRetriever);
  uppy.on('upload-success', (file, response) =>
    log({ type: 'upload-success', name: name(file), body: response.body }),
  );
  uppy.on('upload-error', (file, error) =>
    log({
      type: 'upload-error',
      name: name(file),
      message: error.message,
      code: (error as { code?: string }).code,
      isRestriction: (error as { isRestriction?: boolean }).isRestriction === true,
    }),
  );
  uppy.on('restriction-failed', (file, error) =>
    log({ type: 'restriction-failed', name: name(file), message: error.message }),
  );
  uppy.on('upload-progress', (file, progress) =>
    log({ type: 'upload-progress', name: name(file), bytesUploaded: progress.bytesUploaded }),
  );
  uppy.on('stowage:resumed', (file, resumed) =>
    log({ type: 'stowage:resumed', name: name(file), partsStored: resumed.partsStored }),
  );
  window.uppy = uppy;
};
