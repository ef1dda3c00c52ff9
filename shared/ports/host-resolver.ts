/** One answer of a name lookup. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Name resolution (DNS in production). A port so that the endpoint check at creation and the
 * guard at connect time share one resolver, and a test can make a name answer differently the
 * second time (DNS rebinding) without a DNS server.
 */
export interface HostResolver {
  /** Every address the name resolves to; rejects when it does not resolve. */
  resolve(hostname: string): Promise<ResolvedAddress[]>;
}
