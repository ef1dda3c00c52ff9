import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { Logger } from '../shared/ports/logger.js';

export interface DynamoStreamPollerOptions {
  /** A client of the table's server (DynamoDB Local serves the Streams API on the same endpoint). */
  client: DynamoDBStreamsClient;
  streamArn: string;
  /** Where the position is kept across restarts (the data directory). */
  checkpointFile: string;
  /** The Lambda handler the event source mapping calls in AWS; a failed record is read again. */
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;
  logger: Logger;
  /** How often the stream is read when nobody pokes. @default 1000 */
  intervalMs?: number;
  /** Records per GetRecords. @default 100 */
  batchSize?: number;
}

interface Checkpoint {
  streamArn: string;
  /** Per shard: the last sequence number handled, and whether the shard was read to its end. */
  shards: Record<string, { after?: string; closed?: boolean }>;
}

/**
 * The local stand-in for a DynamoDB stream event source mapping: reads the table's stream
 * shard by shard (a child after its parent), hands each batch to the handler, and writes the
 * position to `checkpointFile` after every handled batch. A restart resumes after the last
 * handled record, so an event written just before a crash is still handed over: at least once
 * (a batch handled but not yet checkpointed comes again), as in AWS.
 */
export function createDynamoStreamPoller(opts: DynamoStreamPollerOptions) {
  const { client, streamArn, logger } = opts;
  const intervalMs = opts.intervalMs ?? 1000;
  const batchSize = opts.batchSize ?? 100;
  let checkpoint: Checkpoint = { streamArn, shards: {} };
  const iterators = new Map<string, string>();
  let stopped = false;
  let poked = false;
  let wake: (() => void) | null = null;
  let started = 0;
  let finished = 0;
  const waiters: { round: number; done: () => void }[] = [];
  /** The shard list, described again when a shard ends (its children appear) or it is old. */
  let described: { at: number; shards: Shard[] } | null = null;

  const save = async () => {
    await mkdir(dirname(opts.checkpointFile), { recursive: true });
    const temporary = `${opts.checkpointFile}.tmp`;
    await writeFile(temporary, JSON.stringify(checkpoint));
    await rename(temporary, opts.checkpointFile);
  };

  const load = async () => {
    try {
      const saved = JSON.parse(await readFile(opts.checkpointFile, 'utf8')) as Checkpoint;
      // Another table (a new in-memory database, a re-created table) starts from its beginning.
      if (saved.streamArn === streamArn && typeof saved.shards === 'object') checkpoint = saved;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  };

  const listShards = async (): Promise<Shard[]> => {
    const shards: Shard[] = [];
    let from: string | undefined;
    do {
      const { StreamDescription } = await client.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: from }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      from = StreamDescription?.LastEvaluatedShardId;
    } while (from);
    return shards;
  };

  const iteratorOf = async (shardId: string): Promise<string> => {
    const after = checkpoint.shards[shardId]?.after;
    try {
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      return ShardIterator as string;
    } catch (error) {
      if ((error as Error).name !== 'TrimmedDataAccessException' || !after) throw error;
      // Stopped for longer than the stream keeps records (24 h): what is left is all there is.
      logger.error('stream records lost while the stack was stopped', { shardId, after });
      delete checkpoint.shards[shardId];
      return iteratorOf(shardId);
    }
  };

  /** Reads one shard up to what is there now; false when the handler failed a record. */
  const drain = async (shardId: string): Promise<boolean> => {
    for (;;) {
      const iterator = iterators.get(shardId) ?? (await iteratorOf(shardId));
      let answer: GetRecordsCommandOutput;
      try {
        answer = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }));
      } catch (error) {
        iterators.delete(shardId);
        if ((error as Error).name === 'ExpiredIteratorException') continue;
        throw error;
      }
      const records = answer.Records ?? [];
      const state = checkpoint.shards[shardId] ?? {};
      checkpoint.shards[shardId] = state;
      if (records.length > 0) {
        const { batchItemFailures } = await opts.handler({ Records: records.map(asLambdaRecord) });
        const failed = batchItemFailures[0]?.itemIdentifier;
        const upTo =
          failed === undefined ? records.length : records.findIndex((r) => sequenceOf(r) === failed);
        const last = upTo > 0 ? records[upTo - 1] : undefined;
        if (last) {
          state.after = sequenceOf(last);
          await save();
        }
        if (failed !== undefined) {
          // The next round starts again at the failed record.
          iterators.delete(shardId);
          return false;
        }
      }
      if (!answer.NextShardIterator) {
        state.closed = true;
        iterators.delete(shardId);
        described = null;
        await save();
        return true;
      }
      iterators.set(shardId, answer.NextShardIterator);
      if (records.length === 0) return true;
    }
  };

  const round = async () => {
    if (!described || Date.now() - described.at > SHARD_LIST_MAX_AGE_MS)
      described = { at: Date.now(), shards: await listShards() };
    const { shards } = described;
    const known = new Set(shards.map((s) => s.ShardId));
    // Shards gone from the stream (past its retention) leave the checkpoint too.
    for (const id of Object.keys(checkpoint.shards)) if (!known.has(id)) delete checkpoint.shards[id];
    for (const shard of shards) {
      const id = shard.ShardId as string;
      if (checkpoint.shards[id]?.closed) continue;
      const parent = shard.ParentShardId;
      // Records of one item stay in order: a child shard waits until its parent is read to the end.
      if (parent && known.has(parent) && !checkpoint.shards[parent]?.closed) continue;
      if (!(await drain(id))) return;
    }
  };

  const loop = async () => {
    while (!stopped) {
      const current = ++started;
      poked = false;
      try {
        await round();
      } catch (error) {
        logger.error('stream read failed', { error: String(error) });
      }
      finished = current;
      for (const waiter of waiters.splice(0)) {
        if (waiter.round <= finished) waiter.done();
        else waiters.push(waiter);
      }
      if (stopped || poked) continue;
      await new Promise<void>((done) => {
        const timer = setTimeout(done, intervalMs);
        wake = () => {
          clearTimeout(timer);
          done();
        };
      });
      wake = null;
    }
  };

  let running: Promise<void> = Promise.resolve();
  return {
    async start(): Promise<void> {
      await load();
      running = loop();
    },
    /** Something was written: read the stream now rather than at the next interval. */
    poke(): void {
      poked = true;
      wake?.();
    },
    /** Resolves after a whole read of the stream that began after this call. */
    idle(): Promise<void> {
      if (stopped) return Promise.resolve();
      const round = started + 1;
      const done = new Promise<void>((resolve) => waiters.push({ round, done: resolve }));
      this.poke();
      return done;
    },
    async stop(): Promise<void> {
      stopped = true;
      wake?.();
      await running;
      for (const waiter of waiters.splice(0)) waiter.done();
    },
  };
}

const SHARD_LIST_MAX_AGE_MS = 10_000;

const sequenceOf = (record: _Record) => record.dynamodb?.SequenceNumber as string;

/**
 * The SDK's record as the Lambda event carries it (the same JSON, typed by another package),
 * except that the Streams client reads an empty map as `{}`, which unmarshall refuses.
 */
function asLambdaRecord(record: _Record): DynamoDBRecord {
  const image = record.dynamodb?.NewImage;
  if (!image) return record as unknown as DynamoDBRecord;
  const fixed = Object.fromEntries(
    Object.entries(image).map(([name, value]) => [name, emptyMapsKept(value)]),
  );
  return { ...record, dynamodb: { ...record.dynamodb, NewImage: fixed } } as unknown as DynamoDBRecord;
}

function emptyMapsKept(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const v = value as Record<string, unknown>;
  if (Object.keys(v).length === 0) return { M: {} };
  if (v.M && typeof v.M === 'object')
    return { M: Object.fromEntries(Object.entries(v.M).map(([k, inner]) => [k, emptyMapsKept(inner)])) };
  if (Array.isArray(v.L)) return { L: v.L.map(emptyMapsKept) };
  return v;
}
