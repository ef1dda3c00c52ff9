import { createStowageClient, type StowageClient } from '@stowage/client';
import { useMemo, useRef } from 'react';

export interface UseStowageClientOptions {
  /** A valid bearer token, asked for before each call. */
  getToken: () => string | Promise<string>;
  /** The API's origin; default the page's own. */
  apiUrl?: string;
}

/**
 * One client per API origin for the life of the component. `getToken` may change on every
 * render (an inline arrow): the client always asks the latest one, so it is not rebuilt.
 */
export function useStowageClient({ getToken, apiUrl }: UseStowageClientOptions): StowageClient {
  const tokenRef = useRef(getToken);
  tokenRef.current = getToken;
  const baseUrl = apiUrl ?? globalThis.location?.origin ?? '';
  return useMemo(() => createStowageClient({ baseUrl, getToken: () => tokenRef.current() }), [baseUrl]);
}
