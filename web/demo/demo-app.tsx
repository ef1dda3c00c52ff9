import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { isStowageApiError } from '../client/stowage-api-error.js';
import { createStowageClient } from '../client/stowage-client.js';
import type { Bucket } from '../client/types.js';
import { FileManager } from '../file-manager/file-manager.js';
import { describeRules } from '../file-manager/messages.js';
import { UploadTabs, UppyTab } from './uppy-tab.js';

type Role = 'admin' | 'member' | 'viewer';
interface Session {
  tenantId: string;
  userId: string;
  role: Role;
  token: string;
  mintedAt: number;
}

const MiB = 1024 * 1024;
/**
 * The API this page talks to: its own origin, or the one a page served elsewhere names in
 * `<meta name="stowage-api-url">` (a second origin, as a customer's app would be).
 */
const API_URL =
  document.querySelector('meta[name="stowage-api-url"]')?.getAttribute('content') || location.origin;
const message = (e: unknown) => (isStowageApiError(e) ? `${e.message} (${e.code})` : String(e));

async function mintToken(tenantId: string, userId: string, role: Role): Promise<string> {
  const res = await fetch(`${API_URL}/local/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId, userId, roles: [role] }),
  });
  const body = (await res.json()) as { token?: string; error?: { message: string } };
  if (!res.ok || !body.token) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
  return body.token;
}

/**
 * The local stack's page at `/`: a dev token for a tenant and user, a bucket, an entity, and
 * the FileManager for it.
 */
export function DemoApp() {
  const [tenantId, setTenantId] = useState('demo');
  const [userId, setUserId] = useState('alice');
  const [role, setRole] = useState<Role>('admin');
  const [session, setSession] = useState<Session | null>(null);
  const [buckets, setBuckets] = useState<Bucket[]>([]);
  const [bucketId, setBucketId] = useState('');
  const [entityType, setEntityType] = useState('ticket');
  const [entityId, setEntityId] = useState('T-1001');
  const [newBucket, setNewBucket] = useState({
    name: 'Ticket attachments',
    types: 'application/pdf, image/png, image/jpeg, text/plain',
    maxMb: '10',
    retentionDays: '30',
  });
  const [tab, setTab] = useState<'file-manager' | 'uppy'>('file-manager');
  const [status, setStatus] = useState('');
  const [problem, setProblem] = useState('');

  const sessionRef = useRef(session);
  sessionRef.current = session;
  // Dev tokens last an hour: mint a fresh one when this one is getting old.
  const getToken = useMemo(
    () => async () => {
      const s = sessionRef.current;
      if (!s) throw new Error('Not signed in.');
      if (Date.now() - s.mintedAt < 50 * 60_000) return s.token;
      const token = await mintToken(s.tenantId, s.userId, s.role);
      setSession({ ...s, token, mintedAt: Date.now() });
      return token;
    },
    [],
  );
  const client = useMemo(() => createStowageClient({ baseUrl: API_URL, getToken }), [getToken]);

  const signIn = async (e: FormEvent) => {
    e.preventDefault();
    setProblem('');
    try {
      const token = await mintToken(tenantId, userId, role);
      setSession({ tenantId, userId, role, token, mintedAt: Date.now() });
      setStatus(`Signed in as ${userId} (${role}) in tenant ${tenantId}.`);
    } catch (error) {
      setProblem(`Could not get a token: ${message(error)}`);
    }
  };

  // A fresh token for the same person keeps the list.
  const who = session ? `${session.tenantId}/${session.userId}/${session.role}` : null;
  useEffect(() => {
    if (!who) return;
    client
      .listBuckets({ limit: 100 })
      .then((page) => {
        setBuckets(page.items);
        setBucketId((current) =>
          page.items.some((b) => b.id === current) ? current : (page.items[0]?.id ?? ''),
        );
      })
      .catch((error: unknown) => setProblem(`Could not list buckets: ${message(error)}`));
  }, [client, who]);

  const createBucket = async (e: FormEvent) => {
    e.preventDefault();
    setProblem('');
    const types = newBucket.types
      .split(/[\s,]+/)
      .map((t) => t.trim())
      .filter(Boolean);
    try {
      const bucket = await client.createBucket({
        name: newBucket.name,
        allowedMimeTypes: types.length ? types : null,
        maxFileSize: Math.round(Number(newBucket.maxMb) * MiB),
        retentionDays: Number(newBucket.retentionDays),
      });
      setBuckets((list) => [...list, bucket]);
      setBucketId(bucket.id);
      setStatus(`Bucket “${bucket.name}” created.`);
    } catch (error) {
      setProblem(`Could not create the bucket: ${message(error)}`);
    }
  };

  const bucket = buckets.find((b) => b.id === bucketId);

  return (
    <main>
      <h1>Stowage local stack</h1>
      <p className="demo-intro">
        Try the service by hand: get a dev token, pick or create a bucket, then upload to an entity. The API
        is at <code>/v1</code>, described at <a href="/v1/openapi.json">/v1/openapi.json</a>.
      </p>

      <section className="demo-card" aria-labelledby="demo-who">
        <h2 id="demo-who">1. Who you are</h2>
        <form className="demo-row" onSubmit={signIn}>
          <label>
            Tenant
            <input name="tenant" value={tenantId} onChange={(e) => setTenantId(e.target.value)} required />
          </label>
          <label>
            User
            <input name="user" value={userId} onChange={(e) => setUserId(e.target.value)} required />
          </label>
          <label>
            Role
            <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              <option value="admin">admin</option>
              <option value="member">member</option>
              <option value="viewer">viewer</option>
            </select>
          </label>
          <button type="submit">{session ? 'Switch user' : 'Sign in'}</button>
        </form>
        <div aria-live="polite">
          {status && <p className="demo-status">{status}</p>}
          {problem && (
            <p className="demo-error" role="alert">
              {problem}
            </p>
          )}
        </div>
      </section>

      {session && (
        <section className="demo-card" aria-labelledby="demo-where">
          <h2 id="demo-where">2. Where the files go</h2>
          <div className="demo-row">
            <label>
              Bucket
              <select name="bucket" value={bucketId} onChange={(e) => setBucketId(e.target.value)}>
                {buckets.length === 0 && <option value="">No bucket yet: create one</option>}
                {buckets.map((b) => (
                  <option key={b.id} value={b.id}>
                    {b.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Entity type
              <input name="entityType" value={entityType} onChange={(e) => setEntityType(e.target.value)} />
            </label>
            <label>
              Entity id
              <input name="entityId" value={entityId} onChange={(e) => setEntityId(e.target.value)} />
            </label>
          </div>
          {bucket && <p className="demo-intro">{describeRules(bucket)}</p>}
          <details open={buckets.length === 0}>
            <summary>Create a bucket (admin)</summary>
            <form className="demo-row" onSubmit={createBucket}>
              <label>
                Name
                <input
                  name="bucketName"
                  value={newBucket.name}
                  onChange={(e) => setNewBucket({ ...newBucket, name: e.target.value })}
                  required
                />
              </label>
              <label>
                Allowed types (empty: any)
                <input
                  name="allowedTypes"
                  className="demo-wide"
                  value={newBucket.types}
                  onChange={(e) => setNewBucket({ ...newBucket, types: e.target.value })}
                />
              </label>
              <label>
                Max size (MB)
                <input
                  name="maxMb"
                  type="number"
                  min="0"
                  step="any"
                  value={newBucket.maxMb}
                  onChange={(e) => setNewBucket({ ...newBucket, maxMb: e.target.value })}
                />
              </label>
              <label>
                Restorable for (days)
                <input
                  name="retentionDays"
                  type="number"
                  min="0"
                  max="3650"
                  value={newBucket.retentionDays}
                  onChange={(e) => setNewBucket({ ...newBucket, retentionDays: e.target.value })}
                />
              </label>
              <button type="submit" className="demo-secondary">
                Create bucket
              </button>
            </form>
          </details>
        </section>
      )}

      {session && bucketId && entityType && entityId && (
        <UploadTabs tab={tab} onSelect={setTab}>
          {tab === 'uppy' && (
            <UppyTab
              key={`${session.tenantId}/${session.userId}/${session.role}/${bucketId}`}
              apiUrl={API_URL}
              getToken={getToken}
              bucketId={bucketId}
              entityType={entityType}
              entityId={entityId}
            />
          )}
        </UploadTabs>
      )}
      {session && bucketId && entityType && entityId && tab === 'file-manager' && (
        <div className="demo-card">
          <FileManager
            key={`${session.tenantId}/${session.userId}/${session.role}/${bucketId}/${entityType}/${entityId}`}
            bucketId={bucketId}
            entityType={entityType}
            entityId={entityId}
            userId={session.userId}
            getToken={getToken}
            apiUrl={API_URL}
            onUploadComplete={(file) => console.info('upload complete', file.id)}
            onDeleteComplete={(id) => console.info('delete complete', id)}
          />
        </div>
      )}
    </main>
  );
}
