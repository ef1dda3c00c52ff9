import type { StowageClient, StowageFile } from '@stowage/client';
import { type FormEvent, useId, useState } from 'react';
import { explainError } from './messages.js';
import type { FileListState } from './use-file-list.js';

/** The expiries a share link is offered with (API.md 13.4 allows 60 s to 30 days). */
export const LINK_EXPIRIES = [
  { label: '1 hour', seconds: 3_600 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 604_800 },
  { label: '30 days', seconds: 2_592_000 },
] as const;

interface ShareLinkProps {
  client: StowageClient;
  file: StowageFile;
  onError: (message: string) => void;
  onAnnounce: (message: string) => void;
  onClose: () => void;
}

// The field takes focus when the form opens, so the person types the new name at once.
const focusOnMount = (el: HTMLInputElement | null) => {
  el?.focus();
};

/** Rename in place (API.md 13.3): the name the service answers is the one shown. */
export function RenameForm({
  file,
  rename,
  onClose,
}: {
  file: StowageFile;
  rename: FileListState['rename'];
  onClose: () => void;
}) {
  const id = useId();
  const [name, setName] = useState(file.originalName);
  const [saving, setSaving] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (name === file.originalName) return onClose();
    setSaving(true);
    const renamed = await rename(file, name);
    setSaving(false);
    if (renamed) onClose();
  };
  return (
    <form className="sfm-inline" onSubmit={submit}>
      <label htmlFor={id}>New name for “{file.originalName}”</label>{' '}
      <input
        id={id}
        value={name}
        onChange={(e) => setName(e.target.value)}
        maxLength={255}
        required
        ref={focusOnMount}
      />{' '}
      <button type="submit" disabled={saving}>
        Save
      </button>{' '}
      <button type="button" onClick={onClose}>
        Cancel
      </button>
    </form>
  );
}

/**
 * A share link with an expiry choice (API.md 13.4). Its URL is shown once, as the service
 * keeps only the token's hash; Copy puts it on the clipboard where the page may.
 */
export function ShareLinkForm({ client, file, onError, onAnnounce, onClose }: ShareLinkProps) {
  const id = useId();
  const [seconds, setSeconds] = useState<number>(LINK_EXPIRIES[1].seconds);
  const [link, setLink] = useState<{ url: string; expiresAt: string } | null>(null);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const created = await client.createShareLink(file.id, { expiresInSeconds: seconds });
      setLink({ url: created.url, expiresAt: created.expiresAt });
      onAnnounce(`Share link for “${file.originalName}” created.`);
    } catch (error) {
      onError(explainError(error, `share “${file.originalName}”`));
    }
  };
  const copy = async () => {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link.url);
      onAnnounce('Link copied.');
    } catch {
      onAnnounce('Copy the link from the field: this page may not use the clipboard.');
    }
  };
  if (link)
    return (
      <div className="sfm-inline">
        <label htmlFor={id}>Share link for “{file.originalName}”</label>{' '}
        <input id={id} value={link.url} readOnly onFocus={(e) => e.currentTarget.select()} />{' '}
        <button type="button" onClick={copy}>
          Copy
        </button>{' '}
        <button type="button" onClick={onClose}>
          Done
        </button>
        <p className="sfm-hint">
          Works until <time dateTime={link.expiresAt}>{new Date(link.expiresAt).toLocaleString()}</time>.
        </p>
      </div>
    );
  return (
    <form className="sfm-inline" onSubmit={create}>
      <label htmlFor={id}>Link to “{file.originalName}” expires after</label>{' '}
      <select id={id} value={seconds} onChange={(e) => setSeconds(Number(e.target.value))}>
        {LINK_EXPIRIES.map((option) => (
          <option key={option.seconds} value={option.seconds}>
            {option.label}
          </option>
        ))}
      </select>{' '}
      <button type="submit">Create link</button>{' '}
      <button type="button" onClick={onClose}>
        Cancel
      </button>
    </form>
  );
}
